//! Evaluates a fractal's WGSL distance estimator at given points: the GPU half of the
//! GPU-against-CPU tests, and the benchmark's measure of the adapter's best distance-estimate
//! rate.

use std::time::{Duration, Instant};

use glam::DVec3;
use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::fractal::Formula;
use crate::gpu::{GpuContext, shaders};

/// A compiled probe for one fractal and one set of points.
pub struct Probe<'a> {
    gpu: &'a GpuContext,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    output: wgpu::Buffer,
    readback: wgpu::Buffer,
    count: usize,
    /// Bytes per result.
    stride: usize,
}

impl<'a> Probe<'a> {
    pub fn new(gpu: &'a GpuContext, fractal: &dyn Formula, points: &[DVec3]) -> Result<Self> {
        let packed: Vec<[f32; 4]> = points
            .iter()
            .map(|p| [p.x as f32, p.y as f32, p.z as f32, 0.0])
            .collect();
        let source = shaders::probe_source(fractal);
        let label = format!("probe {}", fractal.kind());
        let count = packed.len();
        Self::build(
            gpu,
            (&label, &source, "probe_main"),
            &packed,
            &fractal.uniform_bytes(),
            (count, 8),
        )
    }

    /// For a plane kind: `escape` at plane points, iterating in f64 or f32. Results are
    /// (smooth count, negative inside; distance estimate).
    pub fn new_plane(
        gpu: &'a GpuContext,
        fractal: &dyn Formula,
        points: &[glam::DVec2],
        f64: bool,
        pixel_size: f64,
    ) -> Result<Self> {
        let packed: Vec<[f32; 4]> = points
            .iter()
            .map(|p| {
                let hi = p.as_vec2();
                let lo = (*p - hi.as_dvec2()).as_vec2();
                [hi.x, hi.y, lo.x, lo.y]
            })
            .collect();
        let plane = fractal.plane().ok_or_else(|| {
            Error::InvalidArgument(format!("`{}` is not a plane kind", fractal.kind()))
        })?;
        let source = shaders::plane_probe_source(fractal, f64);
        let label = format!("probe {}", fractal.kind());
        let count = packed.len();
        Self::build(
            gpu,
            (&label, &source, "probe_main"),
            &packed,
            &plane.plane_uniform_bytes(pixel_size),
            (count, 8),
        )
    }

    /// `(label, source, entry point)` of the probe shader; `count` results of `stride` bytes.
    fn build(
        gpu: &'a GpuContext,
        (label, source, entry): (&str, &str, &str),
        packed: &[[f32; 4]],
        uniform_bytes: &[u8],
        (count, stride): (usize, usize),
    ) -> Result<Self> {
        let pipeline = gpu.compute_pipeline(label, source, entry, None)?;
        let device = &gpu.device;
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("probe fractal uniform"),
            contents: uniform_bytes,
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("probe points"),
            contents: bytemuck::cast_slice(packed),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let out_size = (count.max(1) * stride) as u64;
        let output = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("probe results"),
            size: out_size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("probe readback"),
            size: out_size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("probe"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: uniform.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: input.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: output.as_entire_binding(),
                },
            ],
        });
        Ok(Probe {
            gpu,
            pipeline,
            bind_group,
            output,
            readback,
            count,
            stride,
        })
    }

    fn dispatch(&self, encoder: &mut wgpu::CommandEncoder) {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups((self.count as u32).div_ceil(64), 1, 1);
    }

    /// `fractal_de` at each point: (distance estimate, orbit trap), as f32 on the GPU.
    pub fn evaluate(&self) -> Result<Vec<[f32; 2]>> {
        Ok(bytemuck::cast_slice(&self.results()?).to_vec())
    }

    fn results(&self) -> Result<Vec<u8>> {
        if self.count == 0 {
            return Ok(Vec::new());
        }
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        self.dispatch(&mut encoder);
        let size = (self.count * self.stride) as u64;
        encoder.copy_buffer_to_buffer(&self.output, 0, &self.readback, 0, size);
        self.gpu.queue.submit([encoder.finish()]);
        self.gpu.read_buffer(&self.readback, size)
    }

    /// Wall time of one evaluation of all the points on the GPU (submit to completion).
    pub fn time(&self) -> Result<Duration> {
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        self.dispatch(&mut encoder);
        let start = Instant::now();
        self.gpu.queue.submit([encoder.finish()]);
        self.gpu.wait(None)?;
        Ok(start.elapsed())
    }
}

/// `fractal_de` at each point: (distance estimate, orbit trap), as f32 on the GPU.
pub fn evaluate(
    gpu: &GpuContext,
    fractal: &dyn Formula,
    points: &[DVec3],
) -> Result<Vec<[f32; 2]>> {
    Probe::new(gpu, fractal, points)?.evaluate()
}

/// `colour_of` (shaders/colouring.wgsl) of each input under `mapping`, on the GPU: linear
/// light, the twin of [`crate::colouring::ColourMapping::colour`].
pub fn colours(
    gpu: &GpuContext,
    mapping: &crate::colouring::ColourMapping,
    inputs: &[crate::colouring::ColourInput],
) -> Result<Vec<[f32; 3]>> {
    let packed: Vec<[f32; 4]> = inputs
        .iter()
        .flat_map(|i| {
            [
                [i.count, i.distance, i.slope[0], i.slope[1]],
                [i.stripe, 0.0, 0.0, 0.0],
            ]
        })
        .collect();
    let source = shaders::colour_probe_source();
    let probe = Probe::build(
        gpu,
        ("colour probe", &source, "colour_probe_main"),
        &packed,
        bytemuck::bytes_of(mapping),
        (inputs.len(), 16),
    )?;
    let bytes = probe.results()?;
    let rgba: &[[f32; 4]] = bytemuck::cast_slice(&bytes);
    Ok(rgba.iter().map(|c| [c[0], c[1], c[2]]).collect())
}
