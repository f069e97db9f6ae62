//! Evaluates a fractal's WGSL distance estimator at given points: the GPU half of the
//! GPU-against-CPU tests, and a direct way to see what the shader computes.

use glam::DVec3;
use wgpu::util::DeviceExt;

use crate::error::Result;
use crate::fractal::Formula;
use crate::gpu::{GpuContext, shaders};

/// `fractal_de` at each point: (distance estimate, orbit trap), as f32 on the GPU.
pub fn evaluate(
    gpu: &GpuContext,
    fractal: &dyn Formula,
    points: &[DVec3],
) -> Result<Vec<[f32; 2]>> {
    if points.is_empty() {
        return Ok(Vec::new());
    }
    let pipeline = gpu.compute_pipeline(
        &format!("probe {}", fractal.kind()),
        &shaders::probe_source(fractal),
        "probe_main",
        None,
    )?;
    let device = &gpu.device;
    let packed: Vec<[f32; 4]> = points
        .iter()
        .map(|p| [p.x as f32, p.y as f32, p.z as f32, 0.0])
        .collect();
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("probe fractal uniform"),
        contents: &fractal.uniform_bytes(),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("probe points"),
        contents: bytemuck::cast_slice(&packed),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let out_size = (points.len() * 8) as u64;
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
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups((points.len() as u32).div_ceil(64), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&output, 0, &readback, 0, out_size);
    gpu.queue.submit([encoder.finish()]);
    let bytes = gpu.read_buffer(&readback, out_size)?;
    Ok(bytemuck::cast_slice(&bytes).to_vec())
}
