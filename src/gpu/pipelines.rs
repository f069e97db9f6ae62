//! The render pipelines: one bind group layout for every kind, and compiled pipelines cached by
//! kind, arithmetic and a hash of the fractal's WGSL, so a frame costs a hash of the formula's
//! text, and the whole shader is composed only when a new formula or arithmetic appears.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::colouring::ColourVariant;
use crate::error::Result;
use crate::fractal::Formula;
use crate::gpu::GpuContext;
use crate::gpu::deep::{DeepState, TextureAccess};
use crate::gpu::post::DisplayVariant;
use crate::gpu::shaders;

/// How a plane view's pixels are iterated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// What a pipeline is compiled for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PipelineKey {
    kind: &'static str,
    /// None for volume kinds (ray marching).
    arithmetic: Option<PlaneArithmetic>,
    /// Hash of the fractal's WGSL (custom formulas and hybrids differ by text, not by kind).
    formula: u64,
    /// Plane kinds: with the stripe average.
    stripes: bool,
    /// Writes display colour (`frame_display`), encoded as the variant says.
    display: Option<DisplayVariant>,
    /// Plane kinds: the look's colouring compiled in, or None (read from the block).
    colour: Option<ColourVariant>,
}

pub fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
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

/// A per-sample parameter block at a dynamic offset, in read-only storage. Mesa's lavapipe
/// (22.x) substitutes the values of uniform buffers that a shader branches on and recompiles the
/// whole shader at every bind that changes them; the frame block's flags and look switches made
/// that every dispatch, about 20 ms of CPU a frame.
pub fn parameter_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only: true },
            has_dynamic_offset: true,
            min_binding_size: None,
        },
        count: None,
    }
}

/// The binding at which plane kinds read the frame's parameter block (the same buffer range as
/// binding 0) as a uniform buffer. lavapipe (22.x) reads a storage buffer lane by lane, with a
/// bounds check per lane and word, even at an address every lane shares: the plane frame's few
/// fields (image, tile, jitter, sample) read so cost about a fifth of a zoom-map frame. A
/// uniform block's fields are one load for all lanes. The ray-marched kinds keep reading binding
/// 0: their block's flags, as a uniform, made lavapipe recompile the march at every dispatch.
pub const PLANE_FRAME_BINDING: u32 = 12;

/// The bindings of the post stage's block (the frame's [`crate::gpu::post::PostUniform`]) and
/// its 8-bit sRGB target, for pipelines compiled with `frame_display` (shaders/output.wgsl),
/// which write their pixels' display colour themselves.
pub const DISPLAY_BINDINGS: [u32; 2] = [13, 14];

/// The fractal's parameter block at a dynamic offset: a uniform buffer, which the DE loops read
/// fastest (on lavapipe, read-only storage costs about 8% of the march).
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

/// An unfiltered 2D texture that shaders read with `textureLoad`.
pub fn texture_entry(
    binding: u32,
    sample_type: wgpu::TextureSampleType,
) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Texture {
            sample_type,
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

/// The layout entries of [`DISPLAY_BINDINGS`].
fn display_entries() -> [wgpu::BindGroupLayoutEntry; 2] {
    [
        wgpu::BindGroupLayoutEntry {
            binding: DISPLAY_BINDINGS[0],
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        },
        wgpu::BindGroupLayoutEntry {
            binding: DISPLAY_BINDINGS[1],
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::StorageTexture {
                access: wgpu::StorageTextureAccess::WriteOnly,
                format: wgpu::TextureFormat::Rgba8Unorm,
                view_dimension: wgpu::TextureViewDimension::D2,
            },
            count: None,
        },
    ]
}

/// What a render bind group binds at [`DISPLAY_BINDINGS`]: the post block and the 8-bit target,
/// or stand-ins where no frame writes its display colour (the zoom map's chunks).
pub struct DisplayTarget<'a> {
    pub post: &'a wgpu::Buffer,
    pub view: &'a wgpu::TextureView,
}

/// A post block and a 1x1 target to bind where nothing writes display colour.
pub struct DisplayStandIn {
    post: wgpu::Buffer,
    view: wgpu::TextureView,
}

impl DisplayStandIn {
    pub fn new(device: &wgpu::Device) -> Self {
        let post = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("display stand-in"),
            size: std::mem::size_of::<crate::gpu::post::PostUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM,
            mapped_at_creation: false,
        });
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("display stand-in"),
            size: wgpu::Extent3d {
                width: 1,
                height: 1,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::STORAGE_BINDING,
            view_formats: &[],
        });
        DisplayStandIn {
            post,
            view: texture.create_view(&Default::default()),
        }
    }

    pub fn target(&self) -> DisplayTarget<'_> {
        DisplayTarget {
            post: &self.post,
            view: &self.view,
        }
    }
}

/// The dynamic offsets of a render bind group, in binding order (0, 1, 12): the frame block's
/// offset twice, since binding 12 is the same block read as a uniform.
pub fn render_offsets(frame: u32, fractal: u32) -> [u32; 3] {
    [frame, fractal, frame]
}

/// A bind group of the render layout: the frame's and the fractal's parameter blocks (the
/// first `size` bytes of each buffer, bound at dynamic offsets), then bindings 2 to 5 (HDR
/// frame, aux, cone starts, counters or their stand-ins), the deep zoom's data (6 to 11) and
/// the frame's block again as a uniform buffer ([`PLANE_FRAME_BINDING`]) and the display
/// target ([`DISPLAY_BINDINGS`]); bound with [`render_offsets`].
pub fn render_bind_group(
    device: &wgpu::Device,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    [frame, fractal]: [(&wgpu::Buffer, u64); 2],
    rest: [wgpu::BindingResource<'_>; 4],
    deep: &DeepState,
    display: DisplayTarget<'_>,
) -> wgpu::BindGroup {
    fn block((buffer, size): (&wgpu::Buffer, u64)) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset: 0,
            size: wgpu::BufferSize::new(size),
        })
    }
    let mut entries = vec![
        wgpu::BindGroupEntry {
            binding: 0,
            resource: block(frame),
        },
        wgpu::BindGroupEntry {
            binding: 1,
            resource: block(fractal),
        },
    ];
    entries.extend(
        rest.into_iter()
            .chain(deep.bindings())
            .zip(2..)
            .map(|(resource, binding)| wgpu::BindGroupEntry { binding, resource }),
    );
    entries.push(wgpu::BindGroupEntry {
        binding: PLANE_FRAME_BINDING,
        resource: block(frame),
    });
    entries.push(wgpu::BindGroupEntry {
        binding: DISPLAY_BINDINGS[0],
        resource: display.post.as_entire_binding(),
    });
    entries.push(wgpu::BindGroupEntry {
        binding: DISPLAY_BINDINGS[1],
        resource: wgpu::BindingResource::TextureView(display.view),
    });
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}

pub struct PipelineCache {
    /// Bindings of every render pipeline: 0 the frame's parameters (read-only storage), 1 the
    /// fractal's (a uniform buffer), both at a dynamic offset per sample; 2 HDR frame, 3 aux
    /// channels, 4 the cone pass's starts (ray-marched kinds), 5 evaluation counters, 6 to 11
    /// the deep zoom's reference orbit and BLA table (see [`DeepState::bindings`]), 12 the
    /// frame's parameters again, as a uniform buffer ([`PLANE_FRAME_BINDING`]), 13 and 14 the
    /// post block and the 8-bit target ([`DISPLAY_BINDINGS`]).
    pub layout: wgpu::BindGroupLayout,
    /// How the deep zoom's textures (bindings 8 to 11) are read.
    deep_access: TextureAccess,
    pipeline_layout: wgpu::PipelineLayout,
    pipelines: HashMap<PipelineKey, wgpu::ComputePipeline>,
    /// The last pipeline that compiled, per kind, entry point and output.
    last_good: HashMap<(&'static str, bool, bool), wgpu::ComputePipeline>,
    /// Why the newest shader text did not compile (the last good pipeline is in use).
    pub shader_error: Option<String>,
}

impl PipelineCache {
    pub fn new(gpu: &GpuContext) -> Self {
        let device = &gpu.device;
        let deep_access = TextureAccess::of(gpu);
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("render"),
            entries: &[
                parameter_entry(0),
                uniform_entry(1),
                storage_entry(2, false),
                storage_entry(3, false),
                storage_entry(4, false),
                storage_entry(5, false),
                storage_entry(6, true),
                storage_entry(7, true),
            ]
            .into_iter()
            .chain(deep_access.layout_entries(8))
            .chain([uniform_entry(PLANE_FRAME_BINDING)])
            .chain(display_entries())
            .collect::<Vec<_>>(),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("render"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        PipelineCache {
            layout,
            deep_access,
            pipeline_layout,
            pipelines: HashMap::new(),
            last_good: HashMap::new(),
            shader_error: None,
        }
    }

    /// The layout of every render pipeline (for pipelines composed elsewhere).
    pub fn pipeline_layout(&self) -> &wgpu::PipelineLayout {
        &self.pipeline_layout
    }

    /// The pipeline for `fractal`, with the arithmetic of a plane view (None: ray marching)
    /// and, for plane views, with or without the stripe average and with the colouring of one
    /// look compiled in or not; writing display colour (`frame_display` in
    /// shaders/output.wgsl) or linear light; compiled on first use.
    pub fn get(
        &mut self,
        gpu: &GpuContext,
        fractal: &dyn Formula,
        arithmetic: Option<PlaneArithmetic>,
        stripes: bool,
        display: Option<DisplayVariant>,
        colour: Option<ColourVariant>,
    ) -> Result<wgpu::ComputePipeline> {
        let stripes = stripes && arithmetic.is_some();
        // Only plane pipelines compose the colouring.
        let colour = colour.filter(|_| arithmetic.is_some());
        let compose = || {
            let source = match arithmetic {
                Some(PlaneArithmetic::Perturbation { f64 }) => {
                    shaders::plane_deep_source(f64, self.deep_access)
                }
                Some(a) => shaders::plane_source(fractal, a == PlaneArithmetic::F64),
                None => shaders::render_source(fractal),
            };
            if stripes {
                shaders::with_stripe_average(&source)
            } else {
                source
            }
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        if cfg!(feature = "dev-shaders") {
            // Shared modules may change on disk too: key by the whole composed text.
            compose().hash(&mut hasher);
        } else {
            fractal.wgsl().hash(&mut hasher);
        }
        let key = PipelineKey {
            kind: fractal.kind(),
            arithmetic,
            formula: hasher.finish(),
            stripes,
            display,
            colour,
        };
        if let Some(p) = self.pipelines.get(&key) {
            return Ok(p.clone());
        }
        let entry = if arithmetic.is_some() {
            "plane_main"
        } else {
            "render_main"
        };
        let last_good_key = (fractal.kind(), arithmetic.is_some(), display.is_some());
        let mut constants = vec![("frame_display", if display.is_some() { 1.0 } else { 0.0 })];
        constants.extend(colour.iter().flat_map(ColourVariant::constants));
        constants.extend(display.iter().flat_map(DisplayVariant::constants));
        match gpu.compute_pipeline_with(
            &format!("render {}", fractal.kind()),
            &compose(),
            entry,
            Some(&self.pipeline_layout),
            &constants,
        ) {
            Ok(pipeline) => {
                self.pipelines.insert(key, pipeline.clone());
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
}
