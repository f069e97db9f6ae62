//! The GPU side of deep zoom: the reference orbit and the BLA table in storage buffers, and
//! the per-sample uniform block. The reference is kept across frames while it stays valid (the
//! view stays near it, its precision and length still suffice), so a zoom flight computes a
//! new one only now and then; the table is rebuilt when the frame's extent changes much.

use std::time::{Duration, Instant};

use bytemuck::{Pod, Zeroable};

use crate::deep::bla::{BlaGpu, BlaTable};
use crate::deep::floatexp::FloatExp;
use crate::deep::reference::ReferenceOrbit;
use crate::deep::{DeepFrame, precise};
use crate::error::{Error, Result};
use crate::frame::Sample;

/// Twin of `FractalParams` in shaders/fractals/mandelbrot-deep.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct DeepUniform {
    pub offset: [f32; 2],
    pub axis_x: [f32; 2],
    pub axis_y: [f32; 2],
    pub unit_exp: i32,
    pub iterations: u32,
    pub orbit_last: u32,
    pub levels: u32,
    pub bailout2: f32,
    pub julia: u32,
    pub derivative: u32,
    pub _pad: [u32; 3],
    pub level_start: [[u32; 4]; 8],
}

/// Twin of `OrbitPoint` in shaders/fractals/mandelbrot-deep.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct OrbitPoint {
    pub z: [f32; 2],
    pub m: [f32; 2],
    pub e: i32,
    pub _pad: i32,
}

/// Twin of `OrbitPoint` with `real = f64`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct OrbitPoint64 {
    pub z: [f64; 2],
    pub m: [f64; 2],
    pub e: i32,
    pub _pad: [i32; 3],
}

impl OrbitPoint64 {
    pub fn new(z: glam::DVec2) -> Self {
        let c = crate::deep::floatexp::ComplexExp::from_f64(z.x, z.y);
        OrbitPoint64 {
            z: [z.x, z.y],
            m: [c.re, c.im],
            e: c.exp as i32,
            _pad: [0; 3],
        }
    }
}

impl OrbitPoint {
    pub fn new(z: glam::DVec2) -> Self {
        let c = crate::deep::floatexp::ComplexExp::from_f64(z.x, z.y);
        OrbitPoint {
            z: [z.x as f32, z.y as f32],
            m: [c.re as f32, c.im as f32],
            e: c.exp as i32,
            _pad: 0,
        }
    }
}

/// A reference stays in use while views are within this many image heights of it.
const REUSE_HEIGHTS: f64 = 4.0;
/// Extra bits a new reference gets, so a zoom flight can go 2^32 deeper on it.
const SPARE_BITS: i64 = 32;

/// What preparing the last deep frame cost (for `--verbose` and benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct DeepStats {
    pub references: u32,
    pub reference_time: Duration,
    pub tables: u32,
    pub table_time: Duration,
}

impl std::fmt::Display for DeepStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deep zoom: {} reference orbit(s) in {:.1} ms, {} BLA table(s) in {:.1} ms",
            self.references,
            self.reference_time.as_secs_f64() * 1e3,
            self.tables,
            self.table_time.as_secs_f64() * 1e3
        )
    }
}

pub struct DeepState {
    pub orbit: wgpu::Buffer,
    pub bla: wgpu::Buffer,
    reference: Option<ReferenceOrbit>,
    table: Option<BlaTable>,
    level_start: Vec<u32>,
    /// Whether the buffers hold f64 mantissas.
    f64: bool,
    pub stats: DeepStats,
    /// Set while rendering a small pass over a larger frame's view (the count measure): that
    /// frame's height, so the reference gets the precision the frame will need and serves it.
    pub precision_height: Option<u32>,
}

fn storage(device: &wgpu::Device, label: &str, size: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size.max(32),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

impl DeepState {
    pub fn new(device: &wgpu::Device) -> Self {
        DeepState {
            orbit: storage(device, "reference orbit", 32),
            bla: storage(device, "bla table", 32),
            reference: None,
            table: None,
            level_start: Vec::new(),
            f64: false,
            stats: DeepStats::default(),
            precision_height: None,
        }
    }

    /// Makes the reference and table valid for every sample and returns each sample's
    /// uniform block; `f64`: for the shader with f64 mantissas.
    pub fn prepare(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        samples: &[Sample<'_>],
        (width, height): (u32, u32),
        f64: bool,
    ) -> Result<Vec<Vec<u8>>> {
        if f64 != self.f64 {
            // The buffers' layout changes with the mantissas.
            self.reference = None;
            self.table = None;
            self.f64 = f64;
        }
        let scene = samples[0].scene;
        let mut iteration = scene
            .fractal
            .plane()
            .and_then(|p| p.perturbation())
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "`{}` has no deep zoom; zoom out to where f64 resolves the view",
                    scene.fractal.kind()
                ))
            })?;
        // Samples at other times (motion blur) may have keyed iteration counts.
        for s in samples {
            if let Some(it) = s.scene.fractal.plane().and_then(|p| p.perturbation()) {
                iteration.iterations = iteration.iterations.max(it.iterations);
                iteration.bailout = iteration.bailout.max(it.bailout);
            }
        }
        let deepest = samples
            .iter()
            .map(|s| s.scene.plane.zoom)
            .fold(scene.plane.zoom, FloatExp::min);
        let fine = self.precision_height.unwrap_or(height).max(height) as f64;
        let bits = precise::precision_for(deepest.scale(1.0 / fine));
        let limits = device.limits();

        let frames = |reference: &ReferenceOrbit| -> Vec<DeepFrame> {
            samples
                .iter()
                .map(|s| {
                    let center = s.scene.plane.precise_center(reference.bits);
                    DeepFrame::new(
                        &s.scene.plane,
                        &center,
                        &reference.point,
                        reference.bits,
                        width,
                        height,
                    )
                })
                .collect()
        };
        // The samples placed against the current reference, where it still serves them.
        let kept = self
            .reference
            .as_ref()
            .filter(|r| {
                r.bits >= bits && r.covers(iteration.iterations) && r.julia == iteration.julia
            })
            .map(frames)
            .filter(|placed| {
                placed
                    .iter()
                    .all(|f| f.offset.length() <= REUSE_HEIGHTS * height as f64 * f.axis_x.length())
            });
        if kept.is_none() {
            let started = Instant::now();
            let spare =
                precise::precision_for(deepest.scale(1.0 / fine) * FloatExp::new(1.0, -SPARE_BITS));
            let point = scene.plane.precise_center(spare);
            let reference = ReferenceOrbit::compute(
                point,
                spare,
                iteration.iterations,
                iteration.bailout.max(2.0),
                iteration.julia,
                None,
            );
            let packed: Vec<u8> = if f64 {
                let points: Vec<OrbitPoint64> = reference
                    .orbit
                    .iter()
                    .map(|&z| OrbitPoint64::new(z))
                    .collect();
                bytemuck::cast_slice(&points).to_vec()
            } else {
                let points: Vec<OrbitPoint> = reference
                    .orbit
                    .iter()
                    .map(|&z| OrbitPoint::new(z))
                    .collect();
                bytemuck::cast_slice(&points).to_vec()
            };
            let size = packed.len() as u64;
            if size > limits.max_storage_buffer_binding_size {
                return Err(Error::Gpu(format!(
                    "a reference orbit of {} iterations ({size} bytes) exceeds this GPU's \
                     storage buffer limit; lower `iterations`",
                    reference.len()
                )));
            }
            if self.orbit.size() < size {
                self.orbit = storage(device, "reference orbit", size.next_power_of_two());
            }
            queue.write_buffer(&self.orbit, 0, &packed);
            self.reference = Some(reference);
            self.table = None;
            self.stats.references += 1;
            self.stats.reference_time += started.elapsed();
        }
        let reference = self.reference.as_ref().expect("just ensured");
        let frames = kept.unwrap_or_else(|| frames(reference));
        let dc_max = frames
            .iter()
            .map(|f| f.dc_max)
            .fold(FloatExp::ZERO, FloatExp::max);

        // Radii for a larger extent are smaller (still valid); rebuild when the frame outgrows
        // the table or has shrunk so much that longer skips are on offer.
        let table_fits = self.table.as_ref().is_some_and(|t| {
            dc_max.total_cmp(t.dc_max).is_le() && dc_max.scale(16.0).total_cmp(t.dc_max).is_ge()
        });
        if !table_fits {
            let started = Instant::now();
            let table = BlaTable::build(
                &reference.orbit,
                dc_max.scale(2.0),
                iteration.julia.is_some(),
                crate::deep::bla::epsilon(f64),
            );
            let (flat, level_start) = if f64 {
                let (flat, starts) = table.to_gpu64();
                (bytemuck::cast_slice(&flat).to_vec(), starts)
            } else {
                let (flat, starts) = table.to_gpu();
                (bytemuck::cast_slice::<BlaGpu, u8>(&flat).to_vec(), starts)
            };
            let size = flat.len() as u64;
            if size > limits.max_storage_buffer_binding_size {
                return Err(Error::Gpu(format!(
                    "the BLA table for {} iterations ({size} bytes) exceeds this GPU's storage \
                     buffer limit; lower `iterations`",
                    reference.len()
                )));
            }
            if self.bla.size() < size {
                self.bla = storage(device, "bla table", size.next_power_of_two());
            }
            if !flat.is_empty() {
                queue.write_buffer(&self.bla, 0, &flat);
            }
            self.level_start = level_start;
            self.table = Some(table);
            self.stats.tables += 1;
            self.stats.table_time += started.elapsed();
        }

        let mut level_start = [[0u32; 4]; 8];
        for (k, start) in self.level_start.iter().take(32).enumerate() {
            level_start[k / 4][k % 4] = *start;
        }
        let look = &scene.look;
        Ok(frames
            .iter()
            .zip(samples)
            .map(|(f, s)| {
                let it = s
                    .scene
                    .fractal
                    .plane()
                    .and_then(|p| p.perturbation())
                    .unwrap_or(iteration);
                let uniform = DeepUniform {
                    offset: [f.offset.x as f32, f.offset.y as f32],
                    axis_x: [f.axis_x.x as f32, f.axis_x.y as f32],
                    axis_y: [f.axis_y.x as f32, f.axis_y.y as f32],
                    unit_exp: f.unit_exp.clamp(i32::MIN as i64 / 4, i32::MAX as i64 / 4) as i32,
                    iterations: it.iterations,
                    orbit_last: reference.len() as u32,
                    levels: self.level_start.len().min(32) as u32,
                    bailout2: (it.bailout * it.bailout) as f32,
                    julia: it.julia.is_some() as u32,
                    derivative: (look.edges > 0.0 || look.relief > 0.0 || look.band_limit) as u32,
                    _pad: [0; 3],
                    level_start,
                };
                bytemuck::bytes_of(&uniform).to_vec()
            })
            .collect())
    }
}
