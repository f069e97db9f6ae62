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

use super::compute::{MapStats, MapStore};
use super::plan::{INNER_RADIUS, MapPlan};
use crate::colouring::{ColourMapping, ColourVariant, CountScale};
use crate::deep::floatexp::{FloatExp, ldexp};
use crate::deep::precise;
use crate::error::{Error, Result};
use crate::frame::Sample;
use crate::gpu::GpuContext;
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
    /// or display colour), the colouring compiled in (see [`FrameOutputs`]) and whether they
    /// take all of a pixel's samples in one dispatch.
    pipelines: HashMap<(FrameOutputs, Option<ColourVariant>, bool), wgpu::ComputePipeline>,
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
                rows: [0.0, (1.0 / plan.delta) as f32, footprint, 0.0],
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
        let pipeline = match self.pipelines.get(&(outputs, colour, one_pass)) {
            Some(p) => p.clone(),
            None => {
                let texels = self.store.texture_width() / 2;
                let texture = format!(
                    "const MAP_TEXTURE_WIDTH: u32 = {texels}u;\nconst MAP_TEXTURE_SHIFT: u32 = {}u;",
                    texels.trailing_zeros()
                );
                let text = [
                    shaders::escape(),
                    texture,
                    crate::shader!("zoommap/assemble.wgsl"),
                    shaders::colouring_from("map_frame.mapping"),
                    shaders::plane(),
                    shaders::output(),
                ]
                .join("\n");
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
                self.pipelines
                    .insert((outputs, colour, one_pass), p.clone());
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
