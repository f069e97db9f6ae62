//! The frame renderer: compute dispatches ray-march the scene into a colour and a depth texture,
//! which are copied back. Pipelines (one per fractal kind), uniform buffers, targets and
//! readback buffers are created once and reused frame after frame.
//!
//! A frame is one or more samples per pixel (each with its own sub-pixel offset, and its own
//! scene, for motion blur), all dispatched in one compute pass and averaged on the GPU. Frames
//! larger than one dispatch may be are rendered in tiles. For video, [`Renderer::submit`] and
//! [`Renderer::collect`] keep a ring of readback buffers so the next frame renders while the
//! previous one is read back.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::gpu::deep::DeepState;
use crate::gpu::shaders;
use crate::gpu::uniforms::{FLAG_COUNT, FrameUniform, PlaneUniform, Tile};
use crate::gpu::yuv::{self, YuvLayout};
use crate::scene::Scene;

/// Largest image side accepted.
pub const MAX_SIDE: u32 = 16384;
/// Largest tile side: bounds one dispatch's run time (GPU watchdogs) and buffer sizes.
const MAX_TILE_SIDE: u32 = 4096;
/// Largest tile side when samples are accumulated (16 bytes per pixel of accumulator).
const MAX_ACCUMULATED_TILE_SIDE: u32 = 2048;
const WORKGROUP: u32 = 8;
/// Most bytes a uniform block may take; also the dynamic-offset stride.
const UNIFORM_STRIDE: u64 = 512;
/// Most samples per pixel.
pub const MAX_SAMPLES: u32 = 1024;
/// Readback buffers in flight for pipelined rendering.
const RING: usize = 3;

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

/// Smallest pixel size, relative to the centre's magnitude, that f32 resolves (with a few bits
/// to spare for the iteration's rounding).
const F32_LIMIT: f64 = 1.0 / (1u64 << 20) as f64;
/// The same for f64.
const F64_LIMIT: f64 = 1.0 / (1u64 << 49) as f64;

/// How a plane view's pixels are iterated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaneArithmetic {
    /// Directly at each pixel's point, in f32 or f64.
    F32,
    F64,
    /// By perturbation of a full-precision reference orbit (see [`crate::deep`]), with f32
    /// or f64 mantissas.
    Perturbation {
        f64: bool,
    },
}

/// The arithmetic a plane view needs at this frame height: f32 while it resolves the pixels,
/// then perturbation (kinds without it, such as Julia sets, take f64 as far as it goes).
pub fn plane_arithmetic(scene: &Scene, height: u32, has_f64: bool) -> Result<PlaneArithmetic> {
    let pixel = scene.plane.zoom.scale(1.0 / height as f64).to_f64();
    let scale = scene.plane.center.abs().max_element().max(1.0);
    if pixel >= scale * F32_LIMIT {
        return Ok(PlaneArithmetic::F32);
    }
    if let Some(it) = scene.fractal.perturbation() {
        let f64 = match it.precision {
            crate::deep::Precision::Single => false,
            crate::deep::Precision::Double if has_f64 => true,
            crate::deep::Precision::Double => {
                return Err(Error::Gpu(
                    "precision = \"double\" needs f64 in shaders, which this adapter lacks \
                     (wgpu feature SHADER_F64); use \"single\""
                        .into(),
                ));
            }
        };
        return Ok(PlaneArithmetic::Perturbation { f64 });
    }
    if pixel < scale * F64_LIMIT {
        return Err(Error::InvalidArgument(format!(
            "zoom {:e} is beyond double precision at this centre: pixels {pixel:e} wide need \
             more than 53 bits, and `{}` has no deep zoom",
            scene.plane.zoom,
            scene.fractal.kind()
        )));
    }
    if !has_f64 {
        return Err(Error::Gpu(format!(
            "this view (zoom {:e}) needs f64 in shaders, which this adapter lacks (wgpu \
             feature SHADER_F64); zoom out to about {:e}",
            scene.plane.zoom,
            scale * F32_LIMIT * height as f64
        )));
    }
    Ok(PlaneArithmetic::F64)
}

/// One sample of every pixel: the scene at the sample's time and the offset from the pixel
/// centre, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    pub scene: &'a Scene,
    pub jitter: [f32; 2],
}

/// Offset of sample `index` of `count` from the pixel centre: a Halton (2, 3) point, so any
/// number of samples covers the pixel evenly. One sample sits at the centre.
pub fn sample_jitter(index: u32, count: u32) -> [f32; 2] {
    if count <= 1 {
        return [0.0, 0.0];
    }
    let halton = |mut i: u32, base: u32| {
        let (mut f, mut r) = (1.0f32, 0.0f32);
        while i > 0 {
            f /= base as f32;
            r += f * (i % base) as f32;
            i /= base;
        }
        r
    };
    [halton(index + 1, 2) - 0.5, halton(index + 1, 3) - 0.5]
}

/// A rendered frame, rows from the top.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// sRGB-encoded RGBA8, `width * height * 4` bytes (empty unless requested).
    pub color: Vec<u8>,
    /// Distance from the camera to the surface along each pixel's ray, 0 where the ray escapes
    /// (empty unless requested; from the last sample).
    pub depth: Vec<f32>,
    /// GPU time of the render passes, where the adapter has timestamp queries.
    pub gpu_time: Option<Duration>,
    /// Y'CbCr planes packed as [`YuvLayout`] describes (empty unless requested).
    pub yuv: Vec<u8>,
    /// Distance-estimator evaluations, when counting was on ([`Renderer::set_counting`]).
    pub de_evaluations: Option<u64>,
}

/// What [`Renderer::submit`] reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readback {
    /// sRGB RGBA8.
    Rgba,
    /// BT.709 limited-range Y'CbCr planes, converted on the GPU.
    Yuv(YuvLayout),
}

/// The GPU colour conversion stage, for one frame size.
struct YuvStage {
    layout: YuvLayout,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    planes: wgpu::Buffer,
    readback: Vec<wgpu::Buffer>,
}

/// A frame submitted to the GPU whose colour has not been read back yet.
#[derive(Debug)]
pub struct PendingFrame {
    slot: usize,
    submission: wgpu::SubmissionIndex,
    width: u32,
    height: u32,
    readback: Readback,
}

/// Per-tile-size GPU resources.
struct Targets {
    width: u32,
    height: u32,
    color: wgpu::Texture,
    depth: wgpu::Texture,
    color_view: wgpu::TextureView,
    /// The same texture, for sampling by the colour conversion.
    color_sampled_view: wgpu::TextureView,
    depth_view: wgpu::TextureView,
    accum: wgpu::Buffer,
    color_readback: Vec<wgpu::Buffer>,
    depth_readback: wgpu::Buffer,
    /// Padded row pitch of the readback buffers (both formats are 4 bytes per pixel).
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
    /// Deep zoom: reference orbit and BLA table (bindings 6 and 7).
    deep: DeepState,
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    /// Compiled pipelines by shader source (one per fractal kind and formula).
    pipelines: HashMap<String, wgpu::ComputePipeline>,
    /// One FrameUniform per sample, at UNIFORM_STRIDE.
    frame_uniforms: wgpu::Buffer,
    /// One fractal uniform block per sample, at UNIFORM_STRIDE.
    fractal_uniforms: wgpu::Buffer,
    targets: Option<Targets>,
    timestamps: Option<Timestamps>,
    max_tile: u32,
    next_slot: usize,
    yuv: Option<YuvStage>,
    /// 64 evaluation counters (binding 5) and their readback.
    counters: wgpu::Buffer,
    counters_readback: wgpu::Buffer,
    counting: bool,
    /// Set while encoding a progressive (window) sample: its index.
    progressive: Option<u32>,
    /// The last pipeline that compiled, per kind and entry point.
    last_good: HashMap<String, wgpu::ComputePipeline>,
    /// Why the newest shader text did not compile (the last good pipeline is in use).
    pub shader_error: Option<String>,
}

/// Bytes of the evaluation counters.
const COUNTERS_SIZE: u64 = 64 * 4;

fn uniform_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: true,
            min_binding_size: None,
        },
        count: None,
    }
}

fn storage_texture_entry(binding: u32, format: wgpu::TextureFormat) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::StorageTexture {
            access: wgpu::StorageTextureAccess::WriteOnly,
            format,
            view_dimension: wgpu::TextureViewDimension::D2,
        },
        count: None,
    }
}

fn storage_buffer_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn uniform_buffer(device: &wgpu::Device, label: &str, samples: u32) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: UNIFORM_STRIDE * samples as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

impl Renderer {
    pub fn new(gpu: GpuContext) -> Self {
        let device = &gpu.device;
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("render"),
            entries: &[
                uniform_entry(0),
                uniform_entry(1),
                storage_texture_entry(2, wgpu::TextureFormat::Rgba8Unorm),
                storage_texture_entry(3, wgpu::TextureFormat::R32Float),
                storage_buffer_entry(4, false),
                storage_buffer_entry(5, false),
                // The deep zoom's reference orbit and BLA table.
                storage_buffer_entry(6, true),
                storage_buffer_entry(7, true),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("render"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
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
        let counters = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("evaluation counters"),
            size: COUNTERS_SIZE,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let counters_readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("evaluation counters readback"),
            size: COUNTERS_SIZE,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Renderer {
            deep: DeepState::new(device),
            frame_uniforms: uniform_buffer(device, "frame uniforms", 1),
            fractal_uniforms: uniform_buffer(device, "fractal uniforms", 1),
            gpu,
            layout,
            pipeline_layout,
            pipelines: HashMap::new(),
            targets: None,
            timestamps,
            max_tile,
            next_slot: 0,
            yuv: None,
            counters,
            counters_readback,
            counting: false,
            progressive: None,
            last_good: HashMap::new(),
            shader_error: None,
        }
    }

    pub fn gpu(&self) -> &GpuContext {
        &self.gpu
    }

    /// Counts distance-estimator evaluations in [`Renderer::render_samples`] frames (costs a
    /// little; for benchmarks).
    pub fn set_counting(&mut self, on: bool) {
        self.counting = on;
    }

    /// Caps the tile side (tests use it to check that tiled and whole renders agree).
    pub fn set_max_tile(&mut self, side: u32) {
        self.max_tile = side.clamp(WORKGROUP, self.max_tile);
    }

    /// Largest frame side that [`Renderer::submit`] renders in one piece with `samples`.
    pub fn max_single_tile(&self, samples: u32) -> u32 {
        if samples > 1 {
            self.max_tile.min(MAX_ACCUMULATED_TILE_SIDE)
        } else {
            self.max_tile
        }
    }

    /// What a frame needs before its tiles are encoded: the pipeline, and each sample's
    /// fractal uniform block (for deep views, after making the reference orbit valid).
    fn prepare(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
    ) -> Result<(wgpu::ComputePipeline, Vec<Vec<u8>>)> {
        let scene = samples[0].scene;
        let arithmetic = scene
            .fractal
            .is_plane()
            .then(|| plane_arithmetic(scene, height, self.gpu.f64))
            .transpose()?;
        let pipeline = self.pipeline(scene, arithmetic)?;
        let bytes = match arithmetic {
            Some(PlaneArithmetic::Perturbation { f64 }) => self.deep.prepare(
                &self.gpu.device,
                &self.gpu.queue,
                samples,
                (width, height),
                f64,
            )?,
            Some(_) => samples
                .iter()
                .map(|s| {
                    let pixel = s.scene.plane.zoom.to_f64() / height as f64;
                    s.scene.fractal.plane_uniform_bytes(pixel)
                })
                .collect(),
            None => samples
                .iter()
                .map(|s| s.scene.fractal.uniform_bytes())
                .collect(),
        };
        Ok((pipeline, bytes))
    }

    /// What preparing deep frames has cost so far (reference orbits, BLA tables).
    pub fn deep_stats(&self) -> crate::gpu::deep::DeepStats {
        self.deep.stats
    }

    /// Compiles (once) and returns the pipeline for the scene's fractal, with the arithmetic
    /// of a plane view.
    fn pipeline(
        &mut self,
        scene: &Scene,
        arithmetic: Option<PlaneArithmetic>,
    ) -> Result<wgpu::ComputePipeline> {
        let (source, entry) = if let Some(arithmetic) = arithmetic {
            let source = match arithmetic {
                PlaneArithmetic::Perturbation { f64 } => shaders::plane_deep_source(f64),
                a => shaders::plane_source(scene.fractal.as_ref(), a == PlaneArithmetic::F64),
            };
            (source, "plane_main")
        } else {
            (
                shaders::render_source(scene.fractal.as_ref()),
                "render_main",
            )
        };
        if let Some(p) = self.pipelines.get(&source) {
            return Ok(p.clone());
        }
        let last_good_key = format!("{} {entry}", scene.fractal.kind());
        match self.gpu.compute_pipeline(
            &format!("render {}", scene.fractal.kind()),
            &source,
            entry,
            Some(&self.pipeline_layout),
        ) {
            Ok(pipeline) => {
                self.pipelines.insert(source, pipeline.clone());
                self.last_good.insert(last_good_key, pipeline.clone());
                self.shader_error = None;
                Ok(pipeline)
            }
            // A shader edited live that does not compile: keep drawing with the last good one.
            Err(e) => match self.last_good.get(&last_good_key) {
                Some(p) => {
                    self.shader_error = Some(e.to_string());
                    Ok(p.clone())
                }
                None => Err(e),
            },
        }
    }

    fn ensure_targets(&mut self, width: u32, height: u32, samples: u32) {
        let fits = self.targets.as_ref().is_some_and(|t| {
            t.width == width
                && t.height == height
                && (samples <= 1 || t.accum.size() >= width as u64 * height as u64 * 16)
        });
        if !fits {
            self.targets = Some(Targets::new(&self.gpu.device, width, height, samples > 1));
            // The conversion stage binds the old colour texture.
            self.yuv = None;
        }
    }

    fn ensure_uniform_capacity(&mut self, samples: u32) {
        if self.frame_uniforms.size() < UNIFORM_STRIDE * samples as u64 {
            let device = &self.gpu.device;
            self.frame_uniforms = uniform_buffer(device, "frame uniforms", samples);
            self.fractal_uniforms = uniform_buffer(device, "fractal uniforms", samples);
        }
    }

    fn check(samples: &[Sample<'_>], width: u32, height: u32) -> Result<()> {
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(Error::InvalidArgument(format!(
                "image size {width}x{height} is out of range: each side must be 1 to {MAX_SIDE}"
            )));
        }
        if samples.is_empty() || samples.len() > MAX_SAMPLES as usize {
            return Err(Error::InvalidArgument(format!(
                "samples per pixel must be 1 to {MAX_SAMPLES}, got {}",
                samples.len()
            )));
        }
        let source = samples[0].scene.fractal.wgsl();
        if samples[1..]
            .iter()
            .any(|s| s.scene.fractal.wgsl() != source)
        {
            return Err(Error::InvalidArgument(
                "all samples of a frame must show the same fractal kind".into(),
            ));
        }
        Ok(())
    }

    /// Renders a validated scene at `width` x `height`, one sample per pixel at its centre.
    pub fn render(
        &mut self,
        scene: &Scene,
        width: u32,
        height: u32,
        passes: Passes,
    ) -> Result<Frame> {
        self.render_samples(
            &[Sample {
                scene,
                jitter: [0.0, 0.0],
            }],
            width,
            height,
            passes,
        )
    }

    /// Renders and averages `samples` per pixel, in tiles where the frame is larger than one
    /// dispatch may be, and reads the requested passes back.
    pub fn render_samples(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
        passes: Passes,
    ) -> Result<Frame> {
        Self::check(samples, width, height)?;
        let (pipeline, fractal_bytes) = self.prepare(samples, width, height)?;
        let count = samples.len() as u32;
        self.ensure_uniform_capacity(count);
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
            yuv: Vec::new(),
            de_evaluations: None,
        };
        let tile_side = self.max_single_tile(count);
        let (tile_w, tile_h) = (width.min(tile_side), height.min(tile_side));
        self.ensure_targets(tile_w, tile_h, count);
        for y in (0..height).step_by(tile_side as usize) {
            for x in (0..width).step_by(tile_side as usize) {
                let tile = Tile {
                    x,
                    y,
                    width: tile_w.min(width - x),
                    height: tile_h.min(height - y),
                };
                self.render_tile(samples, &fractal_bytes, &pipeline, tile, passes, &mut frame)?;
            }
        }
        Ok(frame)
    }

    /// Writes the uniforms and records the compute pass of one tile.
    fn encode_tile(
        &self,
        (samples, fractal_bytes): (&[Sample<'_>], &[Vec<u8>]),
        pipeline: &wgpu::ComputePipeline,
        tile: Tile,
        (width, height): (u32, u32),
        encoder: &mut wgpu::CommandEncoder,
        timed: bool,
    ) {
        let gpu = &self.gpu;
        let count = samples.len() as u32;
        let plane = samples[0].scene.fractal.is_plane();
        for (i, sample) in samples.iter().enumerate() {
            let offset = i as u64 * UNIFORM_STRIDE;
            let count_flag = if self.counting && timed {
                FLAG_COUNT
            } else {
                0
            };
            let jitter = [sample.jitter[0], sample.jitter[1], 0.0, 0.0];
            let sample_info = match self.progressive {
                Some(k) => [k, 1, 1, 0],
                None => [i as u32, count, 0, 0],
            };
            // The two kinds of frame differ only in their uniform blocks.
            // The two kinds of frame differ only in their frame uniform block.
            let frame_bytes = if plane {
                let mut uniform = PlaneUniform::new(sample.scene, width, height, tile);
                uniform.jitter = jitter;
                uniform.samples = sample_info;
                uniform.control[1] |= count_flag;
                bytemuck::bytes_of(&uniform).to_vec()
            } else {
                let mut uniform = FrameUniform::new(sample.scene, width, height, tile);
                uniform.jitter = jitter;
                uniform.samples = sample_info;
                uniform.control[1] |= count_flag;
                bytemuck::bytes_of(&uniform).to_vec()
            };
            gpu.queue
                .write_buffer(&self.frame_uniforms, offset, &frame_bytes);
            gpu.queue
                .write_buffer(&self.fractal_uniforms, offset, &fractal_bytes[i]);
        }
        let frame_uniform_size = if plane {
            std::mem::size_of::<PlaneUniform>()
        } else {
            std::mem::size_of::<FrameUniform>()
        } as u64;
        let targets = self.targets.as_ref().expect("created before tiles");
        fn binding(buffer: &wgpu::Buffer, size: u64) -> wgpu::BindingResource<'_> {
            wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer,
                offset: 0,
                size: wgpu::BufferSize::new(size),
            })
        }
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("render"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: binding(&self.frame_uniforms, frame_uniform_size),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: binding(&self.fractal_uniforms, UNIFORM_STRIDE),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(&targets.color_view),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::TextureView(&targets.depth_view),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: targets.accum.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 5,
                    resource: self.counters.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 6,
                    resource: self.deep.orbit.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 7,
                    resource: self.deep.bla.as_entire_binding(),
                },
            ],
        });
        if self.counting && timed {
            encoder.clear_buffer(&self.counters, 0, None);
        }
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("ray march"),
            timestamp_writes: self.timestamps.as_ref().filter(|_| timed).map(|ts| {
                wgpu::ComputePassTimestampWrites {
                    query_set: &ts.queries,
                    beginning_of_pass_write_index: Some(0),
                    end_of_pass_write_index: Some(1),
                }
            }),
        });
        pass.set_pipeline(pipeline);
        for i in 0..count {
            let offset = (i as u64 * UNIFORM_STRIDE) as u32;
            pass.set_bind_group(0, &bind_group, &[offset, offset]);
            pass.dispatch_workgroups(
                tile.width.div_ceil(WORKGROUP),
                tile.height.div_ceil(WORKGROUP),
                1,
            );
        }
    }

    fn copy_out(
        encoder: &mut wgpu::CommandEncoder,
        texture: &wgpu::Texture,
        buffer: &wgpu::Buffer,
        row_pitch: u32,
        tile: Tile,
    ) {
        encoder.copy_texture_to_buffer(
            texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row_pitch),
                    rows_per_image: None,
                },
            },
            wgpu::Extent3d {
                width: tile.width,
                height: tile.height,
                depth_or_array_layers: 1,
            },
        );
    }

    fn render_tile(
        &mut self,
        samples: &[Sample<'_>],
        fractal_bytes: &[Vec<u8>],
        pipeline: &wgpu::ComputePipeline,
        tile: Tile,
        passes: Passes,
        frame: &mut Frame,
    ) -> Result<()> {
        let mut encoder = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("frame"),
            });
        self.encode_tile(
            (samples, fractal_bytes),
            pipeline,
            tile,
            (frame.width, frame.height),
            &mut encoder,
            true,
        );
        let gpu = &self.gpu;
        let targets = self.targets.as_ref().expect("created before tiles");
        if let Some(ts) = &self.timestamps {
            encoder.resolve_query_set(&ts.queries, 0..2, &ts.resolve, 0);
            encoder.copy_buffer_to_buffer(&ts.resolve, 0, &ts.readback, 0, 16);
        }
        if self.counting {
            encoder.copy_buffer_to_buffer(
                &self.counters,
                0,
                &self.counters_readback,
                0,
                COUNTERS_SIZE,
            );
        }
        if passes.color {
            Self::copy_out(
                &mut encoder,
                &targets.color,
                &targets.color_readback[0],
                targets.row_pitch,
                tile,
            );
        }
        if passes.depth {
            Self::copy_out(
                &mut encoder,
                &targets.depth,
                &targets.depth_readback,
                targets.row_pitch,
                tile,
            );
        }
        gpu.queue.submit([encoder.finish()]);

        let bytes_used = targets.row_pitch as u64 * tile.height as u64;
        let row_bytes = tile.width as usize * 4;
        let pitch = targets.row_pitch as usize;
        if passes.color {
            let data = gpu.read_buffer(&targets.color_readback[0], bytes_used)?;
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
        if self.counting {
            let data = gpu.read_buffer(&self.counters_readback, COUNTERS_SIZE)?;
            let counts: &[u32] = bytemuck::cast_slice(&data);
            let sum: u64 = counts.iter().map(|&c| c as u64).sum();
            *frame.de_evaluations.get_or_insert(0) += sum;
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

    /// Renders into the colour target without reading it back, and returns the target (the
    /// window draws it). With `progressive = Some(i)`, `samples` must hold one sample, which
    /// is added to those of earlier calls at the same size: the target shows the mean of
    /// samples 0..=i (i = 0 starts afresh).
    /// Checks, prepares and records a frame rendered in one piece (no tiles): the window's
    /// frames and pipelined video frames. `accumulate` keeps a per-pixel accumulator even for a
    /// single sample (progressive refinement).
    fn encode_whole_frame(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
        accumulate: bool,
    ) -> Result<wgpu::CommandEncoder> {
        Self::check(samples, width, height)?;
        let count = samples.len() as u32;
        let accumulated = if accumulate { count.max(2) } else { count };
        let side = self.max_single_tile(accumulated);
        if width > side || height > side {
            return Err(Error::InvalidArgument(format!(
                "{width}x{height} is larger than this GPU renders in one piece ({side}x{side} \
                 with {count} samples per pixel)"
            )));
        }
        let (pipeline, fractal_bytes) = self.prepare(samples, width, height)?;
        self.ensure_uniform_capacity(count);
        self.ensure_targets(width, height, accumulated);
        let tile = Tile {
            x: 0,
            y: 0,
            width,
            height,
        };
        let mut encoder = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("frame"),
            });
        self.encode_tile(
            (samples, &fractal_bytes),
            &pipeline,
            tile,
            (width, height),
            &mut encoder,
            false,
        );
        Ok(encoder)
    }

    pub fn render_on_gpu(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
        progressive: Option<u32>,
    ) -> Result<&wgpu::TextureView> {
        self.progressive = progressive;
        let encoder = self.encode_whole_frame(samples, width, height, progressive.is_some());
        self.progressive = None;
        self.gpu.queue.submit([encoder?.finish()]);
        Ok(self.render_on_gpu_view())
    }

    /// The colour target as the last [`Renderer::render_on_gpu`] left it.
    pub fn render_on_gpu_view(&self) -> &wgpu::TextureView {
        &self
            .targets
            .as_ref()
            .expect("render_on_gpu ran first")
            .color_sampled_view
    }

    /// Builds (or reuses) the colour conversion stage for frames of `layout`.
    fn yuv_stage(&mut self, layout: YuvLayout) -> Result<()> {
        if self.yuv.as_ref().is_some_and(|y| y.layout == layout) {
            return Ok(());
        }
        let device = &self.gpu.device;
        let pipeline = self
            .gpu
            .compute_pipeline("rgb to yuv", yuv::SHADER, "yuv_main", None)?;
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("yuv params"),
            size: std::mem::size_of::<yuv::YuvParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.gpu
            .queue
            .write_buffer(&params, 0, bytemuck::bytes_of(&layout.params()));
        let planes = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("yuv planes"),
            size: layout.size(),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let targets = self.targets.as_ref().expect("created before the stage");
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("rgb to yuv"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: params.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&targets.color_sampled_view),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: planes.as_entire_binding(),
                },
            ],
        });
        let readback = (0..RING)
            .map(|_| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("yuv readback"),
                    size: layout.size(),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .collect();
        self.yuv = Some(YuvStage {
            layout,
            pipeline,
            bind_group,
            planes,
            readback,
        });
        Ok(())
    }

    /// Starts rendering a frame (one tile) without waiting for it, reading back RGBA or, for
    /// video, Y'CbCr planes converted on the GPU. At most `RING - 1` frames should be pending
    /// at once; collect them in order.
    pub fn submit(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
        readback: Readback,
    ) -> Result<PendingFrame> {
        let mut encoder = self.encode_whole_frame(samples, width, height, false)?;
        if let Readback::Yuv(layout) = readback {
            assert_eq!(
                (layout.width, layout.height),
                (width, height),
                "YUV layout size"
            );
            self.yuv_stage(layout)?;
        }
        let tile = Tile {
            x: 0,
            y: 0,
            width,
            height,
        };
        let slot = self.next_slot;
        self.next_slot = (self.next_slot + 1) % RING;
        let targets = self.targets.as_ref().expect("just ensured");
        match readback {
            Readback::Rgba => Self::copy_out(
                &mut encoder,
                &targets.color,
                &targets.color_readback[slot],
                targets.row_pitch,
                tile,
            ),
            Readback::Yuv(layout) => {
                let stage = self.yuv.as_ref().expect("just built");
                {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("rgb to yuv"),
                        timestamp_writes: None,
                    });
                    pass.set_pipeline(&stage.pipeline);
                    pass.set_bind_group(0, &stage.bind_group, &[]);
                    let p = layout.params();
                    pass.dispatch_workgroups(
                        p.y_words.max(p.c_words).div_ceil(64),
                        height + 2 * p.c_height,
                        1,
                    );
                }
                encoder.copy_buffer_to_buffer(
                    &stage.planes,
                    0,
                    &stage.readback[slot],
                    0,
                    layout.size(),
                );
            }
        }
        let submission = self.gpu.queue.submit([encoder.finish()]);
        Ok(PendingFrame {
            slot,
            submission,
            width,
            height,
            readback,
        })
    }

    /// Waits for a submitted frame and returns what it read back.
    pub fn collect(&mut self, pending: PendingFrame) -> Result<Frame> {
        let (w, h) = (pending.width, pending.height);
        let mut frame = Frame {
            width: w,
            height: h,
            ..Default::default()
        };
        match pending.readback {
            Readback::Yuv(layout) => {
                let stage = self.yuv.as_ref().expect("built by submit");
                frame.yuv = self.gpu.read_buffer_after(
                    &stage.readback[pending.slot],
                    layout.size(),
                    Some(pending.submission),
                )?;
            }
            Readback::Rgba => {
                let targets = self.targets.as_ref().expect("created by submit");
                let pitch = targets.row_pitch as usize;
                let data = self.gpu.read_buffer_after(
                    &targets.color_readback[pending.slot],
                    pitch as u64 * h as u64,
                    Some(pending.submission),
                )?;
                let row_bytes = w as usize * 4;
                frame.color.reserve(row_bytes * h as usize);
                for row in 0..h as usize {
                    frame
                        .color
                        .extend_from_slice(&data[row * pitch..row * pitch + row_bytes]);
                }
            }
        }
        Ok(frame)
    }
}

impl Targets {
    fn new(device: &wgpu::Device, width: u32, height: u32, accumulate: bool) -> Self {
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
                usage: wgpu::TextureUsages::STORAGE_BINDING
                    | wgpu::TextureUsages::TEXTURE_BINDING
                    | wgpu::TextureUsages::COPY_SRC,
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
        // With one sample the shader never touches the accumulator; it still needs a binding.
        let accum_size = if accumulate {
            width as u64 * height as u64 * 16
        } else {
            16
        };
        Targets {
            width,
            height,
            color_view: color.create_view(&Default::default()),
            color_sampled_view: color.create_view(&Default::default()),
            depth_view: depth.create_view(&Default::default()),
            color,
            depth,
            accum: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("sample accumulator"),
                size: accum_size,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            }),
            color_readback: (0..RING).map(|_| readback("colour readback")).collect(),
            depth_readback: readback("depth readback"),
            row_pitch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_covers_the_pixel() {
        assert_eq!(sample_jitter(0, 1), [0.0, 0.0]);
        let n = 16;
        let pts: Vec<[f32; 2]> = (0..n).map(|i| sample_jitter(i, n)).collect();
        for p in &pts {
            assert!(p[0].abs() <= 0.5 && p[1].abs() <= 0.5);
        }
        // Every quadrant gets samples.
        for (sx, sy) in [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)] {
            assert!(pts.iter().any(|p| p[0] * sx > 0.0 && p[1] * sy > 0.0));
        }
    }
}
