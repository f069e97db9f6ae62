//! Frames assembled from the map on the GPU. [`MapAssembler`] is the renderer's
//! [`PlaneSource`] for a flight that renders through the map: for each frame it makes the
//! chunks the frame shows resident (computing those not yet computed), and gives each sample
//! the map's geometry as seen by that sample's view (pixel size, rotation, where the map's
//! centre is on screen; one block for all of a frame's samples where they share their look,
//! so that one dispatch assembles them). shaders/zoommap/assemble.wgsl then reads each
//! sample's escape values from the map (bilinear within the mip level nearest the sample's
//! footprint, blended with the next one in a narrow band half-way between them) and colours
//! them as shaders/plane.wgsl colours a rendered pixel.

use std::collections::HashMap;

use bytemuck::{Pod, Zeroable};

use super::compute::{MapStats, MapStore, WINDOW_FORMAT};
use super::plan::{INNER_RADIUS, MapPlan};
use crate::colouring::{ColourMapping, ColourVariant, CountScale};
use crate::deep::floatexp::{FloatExp, ldexp};
use crate::deep::precise;
use crate::error::{Error, Result};
use crate::frame::Sample;
use crate::gpu::GpuContext;
use crate::gpu::deep::TextureAccess;
use crate::gpu::pipelines::PipelineCache;
use crate::gpu::post::DisplayVariant;
use crate::gpu::renderer::{FrameOutputs, PlaneSource, UNIFORM_STRIDE};
use crate::gpu::shaders;
use crate::path::CameraPath;

/// The most samples of a pixel one dispatch assembles (`MAP_PASS_SAMPLES` in
/// shaders/zoommap/assemble.wgsl); frames of more take a dispatch per sample.
pub const PASS_SAMPLES: usize = 48;

/// Twin of `MapFrame` in shaders/zoommap/assemble.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct MapFrameUniform {
    rows: [f32; 4],
    grid: [u32; 4],
    window: [u32; 4],
    levels: [[u32; 4]; 16],
    mapping: ColourMapping,
    views: [[f32; 4]; PASS_SAMPLES],
    offsets: [[f32; 4]; PASS_SAMPLES / 4],
}

const _: () = assert!(std::mem::size_of::<MapFrameUniform>() as u64 <= UNIFORM_STRIDE);

pub struct MapAssembler {
    store: MapStore,
    /// The frame pipelines by what they write (without or with the aux channels, linear light
    /// or display colour), the colouring compiled in (see [`FrameOutputs`]), whether they
    /// take all of a pixel's samples in one dispatch and the sample count they were compiled
    /// for (0: any, see [`samples_sum`]).
    pipelines: HashMap<(FrameOutputs, Option<ColourVariant>, bool, usize), wgpu::ComputePipeline>,
}

impl MapAssembler {
    pub fn new(gpu: &GpuContext, plan: MapPlan, path: &CameraPath) -> Result<Self> {
        Ok(MapAssembler {
            store: MapStore::new(gpu, plan, path)?,
            pipelines: HashMap::new(),
        })
    }

    pub fn plan(&self) -> &MapPlan {
        &self.store.plan
    }

    pub fn stats(&self) -> MapStats {
        self.store.stats
    }

    /// Assembles frames from the map in a file instead of computing it (`--map-in`).
    pub fn read_from(&mut self, reader: super::file::MapReader) {
        self.store.read_from(reader);
    }

    /// Writes the whole map to a file (`--map-out`), completed by [`PlaneSource::finish`].
    pub fn write_to(&mut self, gpu: &GpuContext, writer: super::file::MapWriter) {
        self.store.write_to(gpu, writer);
    }
}

/// The map's centre on the screen of `view` (pixels from the image centre, y up), the ln of
/// its pixel size, and its rotation in radians.
fn placement(plan: &MapPlan, view: &crate::plane::PlaneView, height: u32) -> ([f64; 2], f64, f64) {
    let ln_pixel = view.zoom.ln() - (height as f64).ln();
    let bits = precise::precision_for(FloatExp::from_ln(ln_pixel).scale(1.0 / 65536.0));
    let c = view.precise_center(bits);
    let offset = |i: usize| {
        let fixed = precise::parse(&plan.center[i], bits)
            .unwrap_or_else(|| precise::from_f64(plan.center_f64[i], bits));
        let d = precise::to_floatexp(&precise::sub(&fixed, &c[i], bits));
        if d.is_zero() {
            return 0.0;
        }
        ldexp(d.mantissa / view.zoom.mantissa, d.exp - view.zoom.exp) * height as f64
    };
    let (px, py) = (offset(0), offset(1));
    let rotation = view.rotation.to_radians();
    let (s, co) = rotation.sin_cos();
    ([co * px + s * py, -s * px + co * py], ln_pixel, rotation)
}

/// The most samples whose pass is compiled for their count (`samples_sum`); passes of more
/// loop over them.
const UNROLLED_SAMPLES: usize = 16;

/// `map_samples_sum` of shaders/zoommap/assemble.wgsl: the sum of `map_frame_main`'s samples'
/// colours, a call per sample for a pass compiled for `samples` of them (lavapipe reads a
/// uniform block with one load for all lanes only outside loops), or a loop over the block's
/// count (`samples` 0).
fn samples_sum(samples: usize) -> String {
    let body = if samples == 0 {
        "    for (var i = 0u; i < map_frame.window.x; i = i + 1u) {\n        \
         sum = sum + map_sample_colour(offset, i, e);\n    }\n"
            .to_string()
    } else {
        (0..samples)
            .map(|i| format!("    sum = sum + map_sample_colour(offset, {i}u, e);\n"))
            .collect()
    };
    format!(
        "fn map_samples_sum(offset: vec2<f32>, e: ptr<function, Escape>) -> vec3<f32> {{\n    \
         var sum = vec3<f32>(0.0);\n{body}    return sum;\n}}\n"
    )
}

/// The frames' shader: shaders/zoommap/assemble.wgsl after the window texture's declaration
/// and reader (`access`; `texels` texels, a power of two, to a row) and before its samples'
/// sum (`samples_sum(samples)`), then the plane kinds' colouring, entry point and output.
fn frame_source(access: TextureAccess, texels: u32, samples: usize) -> String {
    let texture = format!(
        "const MAP_TEXTURE_WIDTH: u32 = {texels}u;\nconst MAP_TEXTURE_SHIFT: u32 = {}u;\n{}",
        texels.trailing_zeros(),
        access.texel_reader(1, 0, "map_window", WINDOW_FORMAT)
    );
    [
        shaders::escape(),
        texture,
        crate::shader!("zoommap/sample.wgsl"),
        crate::shader!("zoommap/assemble.wgsl"),
        samples_sum(samples),
        shaders::colouring_from("map_frame.mapping"),
        shaders::plane(),
        shaders::output(),
    ]
    .join("\n")
}

impl PlaneSource for MapAssembler {
    fn prepare(
        &mut self,
        gpu: &GpuContext,
        pipelines: &PipelineCache,
        samples: &[Sample<'_>],
        (width, height): (u32, u32),
        measured: Option<&CountScale>,
        outputs: FrameOutputs,
    ) -> Result<(wgpu::ComputePipeline, Vec<Vec<u8>>)> {
        let plan = &self.store.plan;
        if (width, height) != (plan.width, plan.height) {
            return Err(Error::InvalidArgument(format!(
                "the zoom map was planned for {}x{} frames, not {width}x{height}",
                plan.width, plan.height
            )));
        }
        let placed: Vec<([f64; 2], f64, f64)> = samples
            .iter()
            .map(|s| placement(plan, &s.scene.plane, height))
            .collect();
        let start = placed
            .iter()
            .map(|p| plan.chunks_for(p.1, INNER_RADIUS, plan.outer_radius).start)
            .min()
            .unwrap_or(0);
        let end = placed
            .iter()
            .map(|p| plan.chunks_for(p.1, INNER_RADIUS, plan.outer_radius).end)
            .max()
            .unwrap_or(1);
        self.store
            .ensure(gpu, pipelines.pipeline_layout(), start..end)?;
        self.store.bind_window(gpu, start..end);
        let plan = &self.store.plan;
        let mut levels = [[0u32; 4]; 16];
        levels[..self.store.levels.len()].copy_from_slice(&self.store.levels);
        let footprint = 1.0 / (samples.len() as f32).sqrt();
        let base_row = start as f64 * plan.chunk_rows as f64;
        // Each sample's view of the map (`views` in the shader): where the map's centre is on
        // screen, from the image centre moved by the sample's jitter in one pass (a dispatch
        // per sample adds its jitter to the pixel itself).
        let one_pass = self.one_pass(samples);
        let views: Vec<[f32; 4]> = placed
            .iter()
            .zip(samples)
            .map(|(&(anchor, ln_pixel, rotation), sample)| {
                let [jx, jy] = if one_pass { sample.jitter } else { [0.0; 2] };
                [
                    anchor[0] as f32 - jx,
                    anchor[1] as f32 + jy,
                    rotation as f32,
                    (plan.row(ln_pixel) - base_row) as f32,
                ]
            })
            .collect();
        let block = |sample: &Sample<'_>, views: &[[f32; 4]]| {
            let look = &sample.scene.look;
            let mut u = MapFrameUniform {
                rows: [
                    (footprint as f64 / plan.delta).log2() as f32,
                    (1.0 / plan.delta) as f32,
                    footprint,
                    0.0,
                ],
                grid: [plan.angles, plan.chunk_rows, 0, 0],
                window: [views.len() as u32, plan.levels, 0, 0],
                levels,
                mapping: ColourMapping::new(look, look.count_scale().as_ref().or(measured)),
                views: [[0.0; 4]; PASS_SAMPLES],
                offsets: [[0.0; 4]; PASS_SAMPLES / 4],
            };
            u.views[..views.len()].copy_from_slice(views);
            if one_pass {
                for (i, other) in samples.iter().enumerate() {
                    u.offsets[i / 4][i % 4] =
                        (other.scene.look.palette_offset - look.palette_offset) as f32;
                }
            }
            bytemuck::bytes_of(&u).to_vec()
        };
        let bytes = if one_pass {
            vec![block(&samples[0], &views)]
        } else {
            samples
                .iter()
                .zip(&views)
                .map(|(sample, view)| block(sample, std::slice::from_ref(view)))
                .collect()
        };
        let colour = outputs.colour_variant(samples);
        // One pass compiled for its sample count where that is small, else a loop over them.
        let unrolled = if one_pass && samples.len() <= UNROLLED_SAMPLES {
            samples.len()
        } else {
            0
        };
        let key = (outputs, colour, one_pass, unrolled);
        let pipeline = match self.pipelines.get(&key) {
            Some(p) => p.clone(),
            None => {
                let text = frame_source(
                    self.store.window_access,
                    self.store.texture_width() / 2,
                    unrolled,
                );
                let layout = gpu
                    .device
                    .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                        label: Some("zoom map frame"),
                        bind_group_layouts: &[
                            Some(&pipelines.layout),
                            Some(&self.store.window_layout),
                        ],
                        immediate_size: 0,
                    });
                // Frames for an image or video sink skip the aux stores: lavapipe stores to a
                // storage buffer lane by lane, about an eighth of an assembled frame.
                let flag = |on: bool| if on { 1.0 } else { 0.0 };
                // Every pixel costs about the same (no iterations): the tiles in raster
                // order, whose neighbours share texels of the map while they are in cache.
                let mut constants = vec![
                    ("plane_aux", flag(outputs.aux)),
                    ("frame_display", flag(outputs.display.is_some())),
                    ("plane_spread", 0.0),
                ];
                constants.extend(colour.iter().flat_map(ColourVariant::constants));
                constants.extend(outputs.display.iter().flat_map(DisplayVariant::constants));
                let p = gpu.compute_pipeline_with(
                    "zoom map frame",
                    &text,
                    if one_pass {
                        "map_frame_main"
                    } else {
                        "plane_main"
                    },
                    Some(&layout),
                    &constants,
                )?;
                self.pipelines.insert(key, p.clone());
                p
            }
        };
        Ok((pipeline, bytes))
    }

    fn bind_group(&self) -> Option<&wgpu::BindGroup> {
        Some(&self.store.window_group)
    }

    /// Samples that share their look but for the palette offset (so their colour mapping: a
    /// keyed offset may change within the shutter, nothing else) and fit one block go in one
    /// dispatch.
    fn one_pass(&self, samples: &[Sample<'_>]) -> bool {
        let first = &samples[0].scene.look;
        samples.len() > 1
            && samples.len() <= PASS_SAMPLES
            && samples.iter().all(|s| {
                let look = &s.scene.look;
                if look.palette_offset == first.palette_offset {
                    look == first
                } else {
                    let mut same_offset = look.clone();
                    same_offset.palette_offset = first.palette_offset;
                    same_offset == *first
                }
            })
    }

    fn report(&self) -> String {
        let s = self.store.stats;
        let mut line = format!(
            "zoom map: {} chunk(s), {} samples computed in {:.2} s",
            s.chunks,
            super::plan::count(s.samples),
            s.time.as_secs_f64()
        );
        if s.output_time > std::time::Duration::ZERO {
            line += &format!(
                "; {:.2} s reading chunks back for the map file",
                s.output_time.as_secs_f64()
            );
        }
        line
    }

    fn finish(
        &mut self,
        gpu: &GpuContext,
        layout: &wgpu::PipelineLayout,
    ) -> Result<Option<String>> {
        Ok(self
            .store
            .finish_output(gpu, layout)?
            .map(|path| format!("wrote the zoom map to {}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frames' shader is valid WGSL whichever way the window texture is read, with its
    /// samples' sum a loop or a call per sample.
    #[test]
    fn both_window_accesses_compose_valid_shaders() {
        for (access, samples) in [
            (TextureAccess::Storage, 0),
            (TextureAccess::Sampled, 4),
            (TextureAccess::Storage, UNROLLED_SAMPLES),
        ] {
            let module = shaders::validated_module(
                &frame_source(access, 4096, samples),
                &format!("{access:?}, {samples} samples"),
            );
            let window = module
                .global_variables
                .iter()
                .find(|(_, v)| v.name.as_deref() == Some("map_window_texture"))
                .map(|(_, v)| v.binding)
                .expect("the window texture is declared");
            assert_eq!(
                window,
                Some(naga::ResourceBinding {
                    group: 1,
                    binding: 0
                }),
                "{access:?}"
            );
        }
    }
}
