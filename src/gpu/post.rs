//! The post stages: the linear HDR frame the render pass wrote becomes what a sink asked for.
//! Tone mapping (shaders/post/tonemap.wgsl) gives 8-bit sRGB (a texture the window and the YUV
//! stage sample), 16-bit sRGB or scene-linear half floats; the YUV stage (shaders/post/yuv.wgsl)
//! converts the 8-bit frame to the encoder's planes. Each runs on the tile just rendered.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::GpuContext;
use crate::gpu::bloom::{self, BloomStage};
use crate::gpu::targets::FrameTargets;
use crate::gpu::uniforms::Tile;
use crate::gpu::yuv::{self, YuvLayout};
use crate::scene::{Look, ToneMap};

const WORKGROUP: u32 = 8;

/// Twin of `PostUniform` in shaders/post/tonemap.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct PostUniform {
    /// Tile width, height; tone map operator; unused.
    pub size: [u32; 4],
    /// Exposure multiplier, contrast, vignette; unused.
    pub exposure: [f32; 4],
    /// The full image's size; the tile's origin in it.
    pub image: [u32; 4],
    /// Bloom strength (0 = off), threshold, blur standard deviation in bloom pixels; unused.
    pub bloom: [f32; 4],
    /// Bloom buffer width and height, blur taps each side; unused.
    pub bloom_size: [u32; 4],
}

impl PostUniform {
    /// The post stage's settings for `tile` of a `width` x `height` image.
    pub fn new(look: &Look, (width, height): (u32, u32), tile: Tile) -> Self {
        let bloom = bloom::BloomParams::new(look, (width, height), tile);
        PostUniform {
            size: [tile.width, tile.height, look.tone_map as u32, 0],
            exposure: [
                look.exposure_scale() as f32,
                look.contrast as f32,
                look.vignette as f32,
                0.0,
            ],
            image: [width, height, tile.x, tile.y],
            bloom: [bloom.strength, bloom.threshold, bloom.sigma, 0.0],
            bloom_size: [bloom.size.0, bloom.size.1, bloom.taps, 0],
        }
    }

    pub fn bloom_on(&self) -> bool {
        self.bloom[0] > 0.0
    }
}

/// The display encoding's choices that shape its code: the tone map and whether a contrast
/// applies. Frames that write their display colour (`frame_display` in shaders/output.wgsl)
/// take them as the pipeline constants `display_tone_map` and `display_contrast` of
/// shaders/post/display.wgsl, so that lavapipe skips what the look does not use (it runs
/// both sides of a choice made on the block's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DisplayVariant {
    pub tone_map: u32,
    pub contrast: bool,
}

impl DisplayVariant {
    pub fn of(post: &PostUniform) -> Self {
        DisplayVariant {
            tone_map: post.size[2],
            contrast: post.exposure[1] != 1.0,
        }
    }

    /// The pipeline constants that compile this variant in.
    pub fn constants(&self) -> [(&'static str, f64); 2] {
        [
            ("display_tone_map", self.tone_map as f64),
            ("display_contrast", if self.contrast { 1.0 } else { 0.0 }),
        ]
    }
}

/// CPU twin of the tone mapping: the display-referred linear colour in [0, 1] of a linear
/// colour under `look` (before sRGB encoding; at the image centre, where there is no vignette).
pub fn display_color(look: &Look, linear: [f32; 3]) -> [f32; 3] {
    let k = look.exposure_scale() as f32;
    let contrast = look.contrast as f32;
    linear.map(|c| {
        let mut x = (c * k).max(0.0);
        if contrast != 1.0 {
            x = 0.18 * (x / 0.18).powf(contrast);
        }
        match look.tone_map {
            ToneMap::Clamp => x.clamp(0.0, 1.0),
            ToneMap::Aces => {
                ((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14)).clamp(0.0, 1.0)
            }
        }
    })
}

/// What the tone-mapping stage writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostOutput {
    /// The 8-bit sRGB texture.
    Srgb8,
    /// 16-bit sRGB into the wide buffer.
    Srgb16,
    /// Linear half floats into the wide buffer.
    Linear,
}

impl PostOutput {
    fn entry(self) -> &'static str {
        match self {
            PostOutput::Srgb8 => "post_srgb8",
            PostOutput::Srgb16 => "post_srgb16",
            PostOutput::Linear => "post_linear",
        }
    }
}

/// The tone-mapping pipelines, one per output, the bloom that feeds them, and their uniform
/// block.
pub struct ToneMapStage {
    pipelines: [wgpu::ComputePipeline; 3],
    bloom: BloomStage,
    uniform: wgpu::Buffer,
}

/// The post shader: tone mapping, with the bloom passes that share its bindings.
fn post_source() -> String {
    [
        crate::gpu::shaders::display(),
        crate::shader!("post/tonemap.wgsl"),
        crate::shader!("post/bloom.wgsl"),
    ]
    .join("\n")
}

impl ToneMapStage {
    pub fn new(gpu: &GpuContext) -> Result<Self> {
        let source = post_source();
        let compile =
            |output: PostOutput| gpu.compute_pipeline("tone map", &source, output.entry(), None);
        Ok(ToneMapStage {
            pipelines: [
                compile(PostOutput::Srgb8)?,
                compile(PostOutput::Srgb16)?,
                compile(PostOutput::Linear)?,
            ],
            bloom: BloomStage::new(gpu, &source)?,
            uniform: gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("post uniform"),
                size: std::mem::size_of::<PostUniform>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
        })
    }

    /// Records the tone mapping of the `width` x `height` tile in `targets`.
    pub fn encode(
        &self,
        gpu: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        targets: &FrameTargets,
        output: PostOutput,
        uniform: PostUniform,
    ) {
        gpu.queue
            .write_buffer(&self.uniform, 0, bytemuck::bytes_of(&uniform));
        if uniform.bloom_on() {
            self.bloom
                .encode(gpu, encoder, targets, &self.uniform, uniform);
        }
        let pipeline = &self.pipelines[output as usize];
        let mut entries = vec![
            wgpu::BindGroupEntry {
                binding: 0,
                resource: self.uniform.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: targets.hdr.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 4,
                resource: targets.bloom[0].as_entire_binding(),
            },
        ];
        // Each entry point's derived layout holds only the output it writes.
        entries.push(match output {
            PostOutput::Srgb8 => wgpu::BindGroupEntry {
                binding: 2,
                resource: wgpu::BindingResource::TextureView(&targets.srgb8_view),
            },
            PostOutput::Srgb16 | PostOutput::Linear => wgpu::BindGroupEntry {
                binding: 3,
                resource: targets.wide.as_entire_binding(),
            },
        });
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("tone map"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("tone map"),
            timestamp_writes: None,
        });
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(
            uniform.size[0].div_ceil(WORKGROUP),
            uniform.size[1].div_ceil(WORKGROUP),
            1,
        );
    }
}

/// The GPU colour conversion stage, for one frame size: it reads the 8-bit sRGB texture.
pub struct YuvStage {
    pub layout: YuvLayout,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    pub planes: wgpu::Buffer,
}

impl YuvStage {
    pub fn new(gpu: &GpuContext, layout: YuvLayout, targets: &FrameTargets) -> Result<Self> {
        let device = &gpu.device;
        let pipeline = gpu.compute_pipeline("rgb to yuv", yuv::SHADER, "yuv_main", None)?;
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("yuv params"),
            size: std::mem::size_of::<yuv::YuvParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        gpu.queue
            .write_buffer(&params, 0, bytemuck::bytes_of(&layout.params()));
        let planes = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("yuv planes"),
            size: layout.size(),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
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
                    resource: wgpu::BindingResource::TextureView(&targets.srgb8_sampled_view),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: planes.as_entire_binding(),
                },
            ],
        });
        Ok(YuvStage {
            layout,
            pipeline,
            bind_group,
            planes,
        })
    }

    pub fn encode(&self, encoder: &mut wgpu::CommandEncoder) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("rgb to yuv"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let p = self.layout.params();
        pass.dispatch_workgroups(
            p.y_words.max(p.c_words).div_ceil(64),
            self.layout.height + 2 * p.c_height,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_is_the_identity_in_range_and_aces_compresses() {
        let mut look = Look::reference();
        assert_eq!(display_color(&look, [0.25, 2.0, -1.0]), [0.25, 1.0, 0.0]);
        look.tone_map = ToneMap::Aces;
        let [a, b, c] = display_color(&look, [0.25, 2.0, 100.0]);
        assert!(a < b && b < c && c <= 1.0, "{a} {b} {c}");
        look.exposure = 1.0;
        assert!(display_color(&look, [0.25; 3])[0] > a);
    }

    #[test]
    fn post_uniform_matches_wgsl() {
        let source = post_source();
        let module = naga::front::wgsl::parse_str(&source).expect("parses");
        let ty = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some("PostUniform"))
            .expect("PostUniform")
            .1;
        assert_eq!(
            ty.inner.size(module.to_ctx()) as usize,
            std::mem::size_of::<PostUniform>()
        );
    }
}
