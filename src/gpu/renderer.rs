//! The frame renderer: one compute dispatch per tile ray-marches the scene into a colour and a
//! depth texture, which are copied back. Pipelines (one per fractal kind), uniform buffers,
//! targets and readback buffers are created once and reused frame after frame.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::gpu::shaders;
use crate::gpu::uniforms::{FrameUniform, Tile};
use crate::scene::Scene;

/// Largest image side accepted.
pub const MAX_SIDE: u32 = 16384;
/// Largest tile side: bounds one dispatch's run time (GPU watchdogs) and buffer sizes.
const MAX_TILE_SIDE: u32 = 4096;
const WORKGROUP: u32 = 8;
/// Most bytes a fractal kind's uniform block may take.
const FRACTAL_UNIFORM_SIZE: u64 = 256;

/// Which images a render returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Passes {
    pub color: bool,
    pub depth: bool,
}

impl Passes {
    pub const COLOR: Passes = Passes {
        color: true,
        depth: false,
    };
    pub const DEPTH: Passes = Passes {
        color: false,
        depth: true,
    };
    pub const ALL: Passes = Passes {
        color: true,
        depth: true,
    };
}

/// A rendered frame, rows from the top.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// sRGB-encoded RGBA8, `width * height * 4` bytes (empty unless requested).
    pub color: Vec<u8>,
    /// Distance from the camera to the surface along each pixel's ray, 0 where the ray escapes
    /// (empty unless requested).
    pub depth: Vec<f32>,
    /// GPU time of the render passes, where the adapter has timestamp queries.
    pub gpu_time: Option<Duration>,
}

/// Per-tile-size GPU resources.
struct Targets {
    width: u32,
    height: u32,
    color: wgpu::Texture,
    depth: wgpu::Texture,
    color_view: wgpu::TextureView,
    depth_view: wgpu::TextureView,
    color_readback: wgpu::Buffer,
    depth_readback: wgpu::Buffer,
    /// Padded row pitch of both readback buffers (both formats are 4 bytes per pixel).
    row_pitch: u32,
}

struct Timestamps {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    period_ns: f64,
}

pub struct Renderer {
    gpu: GpuContext,
    pipelines: HashMap<&'static str, wgpu::ComputePipeline>,
    frame_uniform: wgpu::Buffer,
    fractal_uniform: wgpu::Buffer,
    targets: Option<Targets>,
    timestamps: Option<Timestamps>,
    max_tile: u32,
}

impl Renderer {
    pub fn new(gpu: GpuContext) -> Self {
        let device = &gpu.device;
        let frame_uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("frame uniform"),
            size: std::mem::size_of::<FrameUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let fractal_uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("fractal uniform"),
            size: FRACTAL_UNIFORM_SIZE,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let timestamps = gpu.timestamps.then(|| Timestamps {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("pass timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
            resolve: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamp resolve"),
                size: 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            readback: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamp readback"),
                size: 16,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            period_ns: gpu.queue.get_timestamp_period() as f64,
        });
        let limits = device.limits();
        // Both targets are 4 bytes per pixel; keep a tile's readback within the buffer limit.
        let by_buffer = ((limits.max_buffer_size / 4) as f64).sqrt() as u32 / 256 * 256;
        let max_tile = MAX_TILE_SIDE
            .min(limits.max_texture_dimension_2d)
            .min(by_buffer.max(256))
            .min(
                limits
                    .max_compute_workgroups_per_dimension
                    .saturating_mul(WORKGROUP),
            );
        Renderer {
            gpu,
            pipelines: HashMap::new(),
            frame_uniform,
            fractal_uniform,
            targets: None,
            timestamps,
            max_tile,
        }
    }

    pub fn gpu(&self) -> &GpuContext {
        &self.gpu
    }

    /// Caps the tile side (tests use it to check that tiled and whole renders agree).
    pub fn set_max_tile(&mut self, side: u32) {
        self.max_tile = side.clamp(WORKGROUP, self.max_tile);
    }

    /// Compiles (once) and returns the pipeline for the scene's fractal kind.
    fn pipeline(&mut self, scene: &Scene) -> Result<wgpu::ComputePipeline> {
        let kind = scene.fractal.kind();
        if let Some(p) = self.pipelines.get(kind) {
            return Ok(p.clone());
        }
        let source = shaders::render_source(scene.fractal.as_ref());
        let pipeline =
            self.gpu
                .compute_pipeline(&format!("render {kind}"), &source, "render_main")?;
        self.pipelines.insert(kind, pipeline.clone());
        Ok(pipeline)
    }

    fn targets(&mut self, width: u32, height: u32) -> &Targets {
        let fits = self
            .targets
            .as_ref()
            .is_some_and(|t| t.width == width && t.height == height);
        if !fits {
            self.targets = Some(Targets::new(&self.gpu.device, width, height));
        }
        self.targets.as_ref().expect("just created")
    }

    /// Renders a validated scene at `width` x `height`, in tiles where the frame is larger than
    /// one dispatch may be.
    pub fn render(
        &mut self,
        scene: &Scene,
        width: u32,
        height: u32,
        passes: Passes,
    ) -> Result<Frame> {
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(Error::InvalidArgument(format!(
                "image size {width}x{height} is out of range: each side must be 1 to {MAX_SIDE}"
            )));
        }
        let pipeline = self.pipeline(scene)?;
        let fractal_bytes = scene.fractal.uniform_bytes();
        debug_assert!(fractal_bytes.len() as u64 <= FRACTAL_UNIFORM_SIZE);
        self.gpu
            .queue
            .write_buffer(&self.fractal_uniform, 0, &fractal_bytes);

        let pixels = width as usize * height as usize;
        let mut frame = Frame {
            width,
            height,
            color: if passes.color {
                vec![0; pixels * 4]
            } else {
                Vec::new()
            },
            depth: if passes.depth {
                vec![0.0; pixels]
            } else {
                Vec::new()
            },
            gpu_time: self.timestamps.as_ref().map(|_| Duration::ZERO),
        };
        let tile_side = self.max_tile;
        let (tile_w, tile_h) = (width.min(tile_side), height.min(tile_side));
        self.targets(tile_w, tile_h);
        for y in (0..height).step_by(tile_side as usize) {
            for x in (0..width).step_by(tile_side as usize) {
                let tile = Tile {
                    x,
                    y,
                    width: tile_w.min(width - x),
                    height: tile_h.min(height - y),
                };
                self.render_tile(scene, &pipeline, tile, passes, &mut frame)?;
            }
        }
        Ok(frame)
    }

    fn render_tile(
        &mut self,
        scene: &Scene,
        pipeline: &wgpu::ComputePipeline,
        tile: Tile,
        passes: Passes,
        frame: &mut Frame,
    ) -> Result<()> {
        let uniform = FrameUniform::new(scene, frame.width, frame.height, tile);
        let gpu = &self.gpu;
        gpu.queue
            .write_buffer(&self.frame_uniform, 0, bytemuck::bytes_of(&uniform));
        let targets = self.targets.as_ref().expect("created before tiles");
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("render"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: self.frame_uniform.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: self.fractal_uniform.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(&targets.color_view),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::TextureView(&targets.depth_view),
                },
            ],
        });

        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("frame"),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("ray march"),
                timestamp_writes: self.timestamps.as_ref().map(|ts| {
                    wgpu::ComputePassTimestampWrites {
                        query_set: &ts.queries,
                        beginning_of_pass_write_index: Some(0),
                        end_of_pass_write_index: Some(1),
                    }
                }),
            });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(
                tile.width.div_ceil(WORKGROUP),
                tile.height.div_ceil(WORKGROUP),
                1,
            );
        }
        if let Some(ts) = &self.timestamps {
            encoder.resolve_query_set(&ts.queries, 0..2, &ts.resolve, 0);
            encoder.copy_buffer_to_buffer(&ts.resolve, 0, &ts.readback, 0, 16);
        }
        let copy = |encoder: &mut wgpu::CommandEncoder, texture: &wgpu::Texture, buffer| {
            encoder.copy_texture_to_buffer(
                texture.as_image_copy(),
                wgpu::TexelCopyBufferInfo {
                    buffer,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(targets.row_pitch),
                        rows_per_image: None,
                    },
                },
                wgpu::Extent3d {
                    width: tile.width,
                    height: tile.height,
                    depth_or_array_layers: 1,
                },
            );
        };
        if passes.color {
            copy(&mut encoder, &targets.color, &targets.color_readback);
        }
        if passes.depth {
            copy(&mut encoder, &targets.depth, &targets.depth_readback);
        }
        gpu.queue.submit([encoder.finish()]);

        let bytes_used = targets.row_pitch as u64 * tile.height as u64;
        let row_bytes = tile.width as usize * 4;
        let pitch = targets.row_pitch as usize;
        if passes.color {
            let data = gpu.read_buffer(&targets.color_readback, bytes_used)?;
            for row in 0..tile.height as usize {
                let dst = ((tile.y as usize + row) * frame.width as usize + tile.x as usize) * 4;
                frame.color[dst..dst + row_bytes]
                    .copy_from_slice(&data[row * pitch..row * pitch + row_bytes]);
            }
        }
        if passes.depth {
            let data = gpu.read_buffer(&targets.depth_readback, bytes_used)?;
            for row in 0..tile.height as usize {
                let dst = (tile.y as usize + row) * frame.width as usize + tile.x as usize;
                let src: &[f32] = bytemuck::cast_slice(&data[row * pitch..row * pitch + row_bytes]);
                frame.depth[dst..dst + tile.width as usize].copy_from_slice(src);
            }
        }
        if let Some(ts) = &self.timestamps {
            let data = gpu.read_buffer(&ts.readback, 16)?;
            let t: &[u64] = bytemuck::cast_slice(&data);
            let ns = t[1].saturating_sub(t[0]) as f64 * ts.period_ns;
            if let Some(total) = frame.gpu_time.as_mut() {
                *total += Duration::from_nanos(ns as u64);
            }
        }
        Ok(())
    }
}

impl Targets {
    fn new(device: &wgpu::Device, width: u32, height: u32) -> Self {
        let texture = |label, format| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d {
                    width,
                    height,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::COPY_SRC,
                view_formats: &[],
            })
        };
        let row_pitch = (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let readback = |label| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: row_pitch as u64 * height as u64,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let color = texture("colour target", wgpu::TextureFormat::Rgba8Unorm);
        let depth = texture("depth target", wgpu::TextureFormat::R32Float);
        Targets {
            width,
            height,
            color_view: color.create_view(&Default::default()),
            depth_view: depth.create_view(&Default::default()),
            color,
            depth,
            color_readback: readback("colour readback"),
            depth_readback: readback("depth readback"),
            row_pitch,
        }
    }
}
