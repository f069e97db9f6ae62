//! The GPU side of deep zoom: the reference orbit and the BLA table (in textures for f32
//! mantissas, in storage buffers for f64), the series approximation (in the uniform block),
//! and the per-sample uniform block. The reference is kept across frames while it stays valid
//! (the view stays near it, its precision and length still suffice), so a zoom flight computes
//! a new one only now and then; the table and the series are rebuilt when the frame's extent
//! changes much.

use std::time::{Duration, Instant};

use bytemuck::{Pod, Zeroable};

use crate::deep::bla::{BlaGpu, BlaTable};
use crate::deep::floatexp::{FloatExp, ldexp};
use crate::deep::reference::ReferenceOrbit;
use crate::deep::series::{self, Series};
use crate::deep::{DeepFrame, precise};
use crate::error::{Error, Result};
use crate::frame::Sample;
use crate::gpu::GpuContext;

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
    /// The series approximation (`deep::series::Series`): iterations skipped (0: none), terms,
    /// the exponent shared by the coefficients, and 1 / dc_max in units of 2^unit_exp.
    pub series_skip: u32,
    pub series_terms: u32,
    pub series_exp: i32,
    pub series_inverse_extent: f32,
    pub _pad: [u32; 3],
    pub level_start: [[u32; 4]; 8],
    /// Coefficient mantissas, two per row (k = 1, 2 in the first).
    pub series: [[f32; 4]; SERIES_ROWS],
}

/// Rows of `DeepUniform::series`.
pub const SERIES_ROWS: usize = series::TERMS.div_ceil(2);

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
    pub series_time: Duration,
    /// Iterations the latest series approximation skips.
    pub series_skip: u32,
}

impl std::fmt::Display for DeepStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deep zoom: {} reference orbit(s) in {:.1} ms, {} BLA table(s) in {:.1} ms, \
             series approximation in {:.1} ms (skips {} iterations)",
            self.references,
            self.reference_time.as_secs_f64() * 1e3,
            self.tables,
            self.table_time.as_secs_f64() * 1e3,
            self.series_time.as_secs_f64() * 1e3,
            self.series_skip
        )
    }
}

/// Entries per row of the deep textures: 2^`DEEP_TEXTURE_SHIFT` of
/// shaders/fractals/deep-textures.wgsl.
const TEXTURE_WIDTH: u32 = 1 << 12;

/// How shaders read the textures of [`DeepTextures`]. As read-only storage textures where the
/// adapter allows, else as sampled textures: lavapipe's `textureLoad` of a sampled texture looks
/// up the mip level's size and offset lane by lane even for a texture of one level, a storage
/// texture's has no levels (floral_fantasy 1.27x, leaded_glass 1.45x less GPU time, the same
/// pixels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextureAccess {
    Storage,
    Sampled,
}

/// The textures in binding order: name in the shaders and format.
const TEXTURES: [(&str, wgpu::TextureFormat); 4] = [
    // Z.
    ("orbit_z", wgpu::TextureFormat::Rg32Float),
    // Z's mantissa (f32 bits) and exponent.
    ("orbit_exact", wgpu::TextureFormat::Rgba32Uint),
    // A step's a and b.
    ("bla_ab", wgpu::TextureFormat::Rgba32Float),
    // A step's a and b exponents, its radius's mantissa (f32 bits) and exponent.
    ("bla_exp", wgpu::TextureFormat::Rgba32Uint),
];

/// A format's name in WGSL and its texels' scalar type.
fn wgsl_format(format: wgpu::TextureFormat) -> (&'static str, &'static str) {
    match format {
        wgpu::TextureFormat::Rg32Float => ("rg32float", "f32"),
        wgpu::TextureFormat::Rgba32Float => ("rgba32float", "f32"),
        wgpu::TextureFormat::Rgba32Uint => ("rgba32uint", "u32"),
        wgpu::TextureFormat::Rg32Uint => ("rg32uint", "u32"),
        other => unreachable!("no data texture is {other:?}"),
    }
}

impl TextureAccess {
    /// Storage where the adapter reads every format as a read-only storage texture and binds
    /// all four at once.
    pub fn of(gpu: &GpuContext) -> Self {
        Self::for_formats(gpu, TEXTURES.map(|(_, format)| format), 4)
    }

    /// Storage where the adapter reads every one of `formats` as a read-only storage texture
    /// and a shader stage may bind `bound` storage textures (all a pipeline binds).
    pub fn for_formats(
        gpu: &GpuContext,
        formats: impl IntoIterator<Item = wgpu::TextureFormat>,
        bound: u32,
    ) -> Self {
        let readable = formats.into_iter().all(|format| {
            gpu.adapter
                .get_texture_format_features(format)
                .flags
                .contains(wgpu::TextureFormatFeatureFlags::STORAGE_READ_ONLY)
        });
        if readable && gpu.device.limits().max_storage_textures_per_shader_stage >= bound {
            TextureAccess::Storage
        } else {
            TextureAccess::Sampled
        }
    }

    /// How many storage textures the deep textures bind.
    pub fn storage_textures(self) -> u32 {
        match self {
            TextureAccess::Storage => TEXTURES.len() as u32,
            TextureAccess::Sampled => 0,
        }
    }

    /// The usages a data texture read this way needs (written by copies).
    pub fn usage(self) -> wgpu::TextureUsages {
        wgpu::TextureUsages::COPY_DST
            | match self {
                TextureAccess::Storage => wgpu::TextureUsages::STORAGE_BINDING,
                TextureAccess::Sampled => wgpu::TextureUsages::TEXTURE_BINDING,
            }
    }

    /// The layout entries of the textures, bindings `first` on.
    pub fn layout_entries(self, first: u32) -> Vec<wgpu::BindGroupLayoutEntry> {
        (first..)
            .zip(TEXTURES)
            .map(|(binding, (_, format))| self.layout_entry(binding, format))
            .collect()
    }

    /// The layout entry of a texture of `format` at `binding`, read this way.
    pub fn layout_entry(
        self,
        binding: u32,
        format: wgpu::TextureFormat,
    ) -> wgpu::BindGroupLayoutEntry {
        wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: match self {
                TextureAccess::Storage => wgpu::BindingType::StorageTexture {
                    access: wgpu::StorageTextureAccess::ReadOnly,
                    format,
                    view_dimension: wgpu::TextureViewDimension::D2,
                },
                TextureAccess::Sampled => {
                    // Unfilterable: 32-bit floats without FLOAT32_FILTERABLE.
                    let sample_type = format.sample_type(None, None).expect("colour format");
                    crate::gpu::pipelines::texture_entry(binding, sample_type).ty
                }
            },
            count: None,
        }
    }

    /// The textures' declarations, bindings `first` on, and for each NAME a function
    /// `NAME_texel(at: vec2<u32>) -> vec4<T>` that reads one texel (used by
    /// shaders/fractals/deep-textures.wgsl).
    pub fn wgsl(self, first: u32) -> String {
        (first..)
            .zip(TEXTURES)
            .map(|(binding, (name, format))| self.texel_reader(0, binding, name, format))
            .collect()
    }

    /// The declaration of texture `NAME_texture` (of `format`, at `group` and `binding`) and a
    /// function `NAME_texel(at: vec2<u32>) -> vec4<T>` that reads one of its texels.
    pub fn texel_reader(
        self,
        group: u32,
        binding: u32,
        name: &str,
        format: wgpu::TextureFormat,
    ) -> String {
        let (format, scalar) = wgsl_format(format);
        let (ty, level) = match self {
            TextureAccess::Storage => (format!("texture_storage_2d<{format}, read>"), ""),
            TextureAccess::Sampled => (format!("texture_2d<{scalar}>"), ", 0"),
        };
        format!(
            "@group({group}) @binding({binding}) var {name}_texture: {ty};\n\
             fn {name}_texel(at: vec2<u32>) -> vec4<{scalar}> {{\n    \
             return textureLoad({name}_texture, at{level});\n}}\n"
        )
    }
}

/// One of the textures that hold the orbit and table for f32 mantissas: `T` per entry, entry i
/// at texel (i mod [`TEXTURE_WIDTH`], i / [`TEXTURE_WIDTH`]).
struct DataTexture {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    label: &'static str,
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
}

impl DataTexture {
    fn new(
        device: &wgpu::Device,
        (label, format): (&'static str, wgpu::TextureFormat),
        usage: wgpu::TextureUsages,
        rows: u32,
    ) -> Self {
        let texture = crate::gpu::targets::texture_2d(
            device,
            label,
            (TEXTURE_WIDTH, rows.max(1)),
            format,
            usage,
        );
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        DataTexture {
            texture,
            view,
            label,
            format,
            usage,
        }
    }

    /// Writes `entries` from the first texel on, growing the texture (to a power of two of
    /// rows) if they do not fit. Errors name `what` when the device cannot hold them.
    fn write<T: Pod + Zeroable>(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        entries: &[T],
        what: &str,
    ) -> Result<()> {
        let rows = (entries.len() as u64).div_ceil(TEXTURE_WIDTH as u64).max(1);
        let most = device.limits().max_texture_dimension_2d as u64;
        if rows > most {
            return Err(Error::Gpu(format!(
                "{what} of {} entries exceeds this GPU's texture limit ({} entries); lower \
                 `iterations`",
                entries.len(),
                most * TEXTURE_WIDTH as u64
            )));
        }
        if (self.texture.height() as u64) < rows {
            let grown = rows.next_power_of_two().min(most) as u32;
            *self = DataTexture::new(device, (self.label, self.format), self.usage, grown);
        }
        // Whole rows: the last one padded.
        let mut padded = entries.to_vec();
        padded.resize((rows * TEXTURE_WIDTH as u64) as usize, T::zeroed());
        queue.write_texture(
            self.texture.as_image_copy(),
            bytemuck::cast_slice(&padded),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(TEXTURE_WIDTH * std::mem::size_of::<T>() as u32),
                rows_per_image: None,
            },
            wgpu::Extent3d {
                width: TEXTURE_WIDTH,
                height: rows as u32,
                depth_or_array_layers: 1,
            },
        );
        Ok(())
    }
}

/// The orbit and BLA table for f32 mantissas (bindings 8 to 11, see
/// shaders/fractals/deep-textures.wgsl), in the order of [`TEXTURES`]: lavapipe reads a storage
/// buffer at per-lane addresses lane by lane, a texture with one gather.
struct DeepTextures {
    textures: [DataTexture; 4],
    access: TextureAccess,
}

impl DeepTextures {
    fn new(device: &wgpu::Device, access: TextureAccess) -> Self {
        DeepTextures {
            textures: TEXTURES.map(|texture| DataTexture::new(device, texture, access.usage(), 1)),
            access,
        }
    }

    fn write_orbit(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        points: &[OrbitPoint],
    ) -> Result<()> {
        let z: Vec<[f32; 2]> = points.iter().map(|p| p.z).collect();
        let exact: Vec<[u32; 4]> = points
            .iter()
            .map(|p| [p.m[0].to_bits(), p.m[1].to_bits(), p.e as u32, 0])
            .collect();
        let what = "a reference orbit";
        let [orbit_z, orbit_exact, ..] = &mut self.textures;
        orbit_z.write(device, queue, &z, what)?;
        orbit_exact.write(device, queue, &exact, what)
    }

    fn write_table(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        steps: &[BlaGpu],
    ) -> Result<()> {
        let ab: Vec<[f32; 4]> = steps
            .iter()
            .map(|s| [s.a[0], s.a[1], s.b[0], s.b[1]])
            .collect();
        let exp: Vec<[u32; 4]> = steps
            .iter()
            .map(|s| {
                [
                    s.a_exp as u32,
                    s.b_exp as u32,
                    s.r.to_bits(),
                    s.r_exp as u32,
                ]
            })
            .collect();
        let what = "a BLA table";
        let [.., bla_ab, bla_exp] = &mut self.textures;
        bla_ab.write(device, queue, &ab, what)?;
        bla_exp.write(device, queue, &exp, what)
    }
}

pub struct DeepState {
    /// f64 mantissas: the orbit and table in storage buffers (bindings 6 and 7).
    orbit: wgpu::Buffer,
    bla: wgpu::Buffer,
    /// f32 mantissas: the same in textures.
    textures: DeepTextures,
    reference: Option<ReferenceOrbit>,
    table: Option<BlaTable>,
    /// For the frame's own extent (f32 mantissas and the Mandelbrot set only: its f32
    /// coefficients would cost f64 mantissas their exactness).
    series: Series,
    level_start: Vec<u32>,
    /// Whether the buffers hold f64 mantissas.
    f64: bool,
    pub stats: DeepStats,
    /// Set while rendering a small pass over a larger frame's view (the count measure): that
    /// frame's height, so the reference gets the precision the frame will need and serves it.
    pub precision_height: Option<u32>,
}

/// Writes `entries` at the start of `buffer` (labelled `label`), grown to a power of two of
/// bytes if they do not fit; `what` names them in the error where the device cannot bind them.
fn write_storage<T: Pod>(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    (buffer, label): (&mut wgpu::Buffer, &str),
    entries: &[T],
    what: &str,
) -> Result<()> {
    let bytes: &[u8] = bytemuck::cast_slice(entries);
    let size = bytes.len() as u64;
    if size > device.limits().max_storage_buffer_binding_size {
        return Err(Error::Gpu(format!(
            "{what} ({size} bytes) exceeds this GPU's storage buffer limit; lower `iterations`"
        )));
    }
    if buffer.size() < size {
        *buffer = storage(device, label, size.next_power_of_two());
    }
    if !bytes.is_empty() {
        queue.write_buffer(buffer, 0, bytes);
    }
    Ok(())
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
    pub fn new(gpu: &GpuContext) -> Self {
        let device = &gpu.device;
        DeepState {
            orbit: storage(device, "reference orbit", 32),
            bla: storage(device, "bla table", 32),
            textures: DeepTextures::new(device, TextureAccess::of(gpu)),
            reference: None,
            table: None,
            series: Series::none(),
            level_start: Vec::new(),
            f64: false,
            stats: DeepStats::default(),
            precision_height: None,
        }
    }

    /// How shaders read the textures (for the layout and the shader text).
    pub fn texture_access(&self) -> TextureAccess {
        self.textures.access
    }

    /// What bindings 6 to 11 of a render bind group hold: the storage buffers, then the
    /// textures (each the current data for its precision, a stand-in for the other).
    pub fn bindings(&self) -> [wgpu::BindingResource<'_>; 6] {
        let [a, b, c, d] = &self.textures.textures;
        [
            self.orbit.as_entire_binding(),
            self.bla.as_entire_binding(),
            wgpu::BindingResource::TextureView(&a.view),
            wgpu::BindingResource::TextureView(&b.view),
            wgpu::BindingResource::TextureView(&c.view),
            wgpu::BindingResource::TextureView(&d.view),
        ]
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
            self.series = Series::none();
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
            if f64 {
                let points: Vec<OrbitPoint64> = reference
                    .orbit
                    .iter()
                    .map(|&z| OrbitPoint64::new(z))
                    .collect();
                let what = format!("a reference orbit of {} iterations", reference.len());
                write_storage(
                    device,
                    queue,
                    (&mut self.orbit, "reference orbit"),
                    &points,
                    &what,
                )?;
            } else {
                let points: Vec<OrbitPoint> = reference
                    .orbit
                    .iter()
                    .map(|&z| OrbitPoint::new(z))
                    .collect();
                self.textures.write_orbit(device, queue, &points)?;
            }
            self.reference = Some(reference);
            self.table = None;
            self.series = Series::none();
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
            let level_start = if f64 {
                let (flat, starts) = table.to_gpu64();
                let what = format!("the BLA table for {} iterations", reference.len());
                write_storage(device, queue, (&mut self.bla, "bla table"), &flat, &what)?;
                starts
            } else {
                let (flat, starts) = table.to_gpu();
                self.textures.write_table(device, queue, &flat)?;
                starts
            };
            self.level_start = level_start;
            self.stats.tables += 1;
            self.stats.table_time += started.elapsed();
            self.table = Some(table);
        }
        // The series for the frame's own extent (its probes then cover the pixels and no
        // more), rebuilt when the frame outgrows it or shrinks to a quarter of it (its grid of
        // probes then still has some inside the frame).
        let series_fits = dc_max.total_cmp(self.series.dc_max).is_le()
            && dc_max.scale(4.0).total_cmp(self.series.dc_max).is_ge();
        if !series_fits {
            let started = Instant::now();
            self.series = if f64 || iteration.julia.is_some() {
                Series {
                    dc_max,
                    ..Series::none()
                }
            } else {
                Series::build(
                    &reference.orbit,
                    dc_max,
                    iteration.iterations,
                    series::TERMS,
                    series::TOLERANCE,
                )
            };
            self.stats.series_skip = self.series.skip;
            self.stats.series_time += started.elapsed();
        }

        let mut level_start = [[0u32; 4]; 8];
        for (k, start) in self.level_start.iter().take(32).enumerate() {
            level_start[k / 4][k % 4] = *start;
        }
        let look = &scene.look;
        let series = &self.series;
        let mut coefficients = [[0f32; 4]; SERIES_ROWS];
        for (k, c) in series.coefficients.iter().enumerate() {
            coefficients[k / 2][2 * (k % 2)] = c.x as f32;
            coefficients[k / 2][2 * (k % 2) + 1] = c.y as f32;
        }
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
                    series_skip: if series.skip < it.iterations {
                        series.skip
                    } else {
                        0
                    },
                    series_terms: series.coefficients.len().min(series::TERMS) as u32,
                    series_exp: series.exp.clamp(i32::MIN as i64 / 4, i32::MAX as i64 / 4) as i32,
                    // u = dc / dc_max, dc in units of 2^unit_exp.
                    series_inverse_extent: if series.skip > 0 {
                        (1.0 / ldexp(series.dc_max.mantissa, series.dc_max.exp - f.unit_exp)) as f32
                    } else {
                        0.0
                    },
                    _pad: [0; 3],
                    level_start,
                    series: coefficients,
                };
                bytemuck::bytes_of(&uniform).to_vec()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::{TEXTURE_WIDTH, TextureAccess};

    /// The textures' row width here and in the shader that reads them agree.
    #[test]
    fn texture_width_matches_wgsl() {
        let source = crate::gpu::shaders::plane_deep_source(false, TextureAccess::Sampled);
        let shift: u32 = source
            .lines()
            .find_map(|l| l.strip_prefix("const DEEP_TEXTURE_SHIFT: u32 = "))
            .and_then(|v| v.trim_end_matches("u;").parse().ok())
            .expect("deep-textures.wgsl declares DEEP_TEXTURE_SHIFT");
        assert_eq!(1u32 << shift, TEXTURE_WIDTH);
    }

    /// Both ways of reading the textures make a shader that validates, with the layout's
    /// bindings.
    #[test]
    fn both_texture_accesses_compose_valid_shaders() {
        for access in [TextureAccess::Storage, TextureAccess::Sampled] {
            let module = crate::gpu::shaders::validated_module(
                &crate::gpu::shaders::plane_deep_source(false, access),
                &format!("{access:?}"),
            );
            let bindings: Vec<u32> = module
                .global_variables
                .iter()
                .filter_map(|(_, v)| v.binding.as_ref().map(|b| b.binding))
                // The deep textures' bindings: from 8 up to the plane frame block's.
                .filter(|b| (8..crate::gpu::pipelines::PLANE_FRAME_BINDING).contains(b))
                .collect();
            assert_eq!(bindings.len(), access.layout_entries(8).len(), "{access:?}");
        }
    }
}
