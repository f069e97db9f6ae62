//! The frame renderer: what turns samples of a scene into a frame. Per tile, one compute pass
//! ray-marches (or iterates) every sample into the linear HDR frame, the post stage turns it into
//! what was asked for, and the result is copied to a readback buffer. The parts live beside it:
//! [`super::pipelines`] (compiled shaders), [`super::targets`] (what a tile renders into, and the
//! readback ring), [`super::post`] (tone mapping, YUV), [`super::timing`] (timestamps,
//! evaluation counts) and [`super::deep`] (deep-zoom reference orbits).
//!
//! For video, [`Renderer::submit`] and [`Renderer::collect`] keep a ring of readback buffers so
//! the next frame renders while the previous one is read back.

use std::time::{Duration, Instant};

use crate::colouring::{ColourVariant, CountScale};
use crate::error::{Error, Result};
use crate::frame::{ColorFormat, Frame, MAX_SAMPLES, MAX_SIDE, Readout, Sample, lens_sample};
use crate::gpu::GpuContext;
use crate::gpu::deep::DeepState;
use crate::gpu::dispatch::spread_workgroups;
pub use crate::gpu::pipelines::PlaneArithmetic;
use crate::gpu::pipelines::{DisplayTarget, PipelineCache, render_bind_group, render_offsets};
use crate::gpu::post::{DisplayVariant, PostOutput, PostUniform, ToneMapStage, YuvStage};
use crate::gpu::targets::{AUX_BYTES, Channel, FrameTargets, HDR_BYTES, ReadbackRing, WIDE_BYTES};
use crate::gpu::temporal::{Projection, TemporalFrame, TemporalStage};
use crate::gpu::timing::{EvaluationCounters, GpuClock};
use crate::gpu::uniforms::{CONE_CELL, FLAG_CONE, FLAG_COUNT, FrameUniform, PlaneUniform, Tile};
use crate::scene::Scene;

/// Largest tile side: bounds one dispatch's run time (GPU watchdogs) and buffer sizes.
const MAX_TILE_SIDE: u32 = 4096;
const WORKGROUP: u32 = 8;
/// Most bytes a uniform block may take (the largest: a zoom map frame's, which carries its colour
/// mapping); also the dynamic-offset stride. Ray-marched frames take two blocks per sample: the
/// pixels' and, after all samples', the cone pass's.
pub const UNIFORM_STRIDE: u64 = 2048;
// Bound both as read-only storage (binding 0) and as a uniform buffer (binding 12).
const FRAME_BLOCK: wgpu::BufferUsages =
    wgpu::BufferUsages::STORAGE.union(wgpu::BufferUsages::UNIFORM);
const FRACTAL_BLOCK: wgpu::BufferUsages = wgpu::BufferUsages::UNIFORM;
/// Readback slots in flight for pipelined rendering.
const RING: usize = 3;

/// Smallest pixel size, relative to the centre's magnitude, that f32 resolves (with a few bits
/// to spare for the iteration's rounding).
const F32_LIMIT: f64 = 1.0 / (1u64 << 20) as f64;
/// The same for f64.
const F64_LIMIT: f64 = 1.0 / (1u64 << 49) as f64;

/// The arithmetic a plane view needs at this frame height: f32 while it resolves the pixels,
/// then perturbation (kinds without it, such as Julia sets, take f64 as far as it goes).
pub fn plane_arithmetic(scene: &Scene, height: u32, has_f64: bool) -> Result<PlaneArithmetic> {
    let pixel = scene.plane.zoom.scale(1.0 / height as f64).to_f64();
    let scale = scene.plane.center.abs().max_element().max(1.0);
    if pixel >= scale * F32_LIMIT {
        return Ok(PlaneArithmetic::F32);
    }
    if let Some(it) = scene.fractal.plane().and_then(|p| p.perturbation()) {
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

/// Where a plane frame's per-sample escape values come from instead of iterating each pixel
/// (the zoom map's frame assembly, [`crate::zoommap`]): a pipeline with the render layout whose
/// `plane_main` colours what its own `pixel_escape` returns, each sample's binding-1 block (at
/// most [`UNIFORM_STRIDE`] bytes; `measured` is the count scale of views whose look has none;
/// the pipeline writes what `outputs` asks for), and a bind group of its own data. Colouring,
/// samples, tiles, the post stage and readback are the renderer's own.
pub trait PlaneSource {
    fn prepare(
        &mut self,
        gpu: &GpuContext,
        pipelines: &PipelineCache,
        samples: &[Sample<'_>],
        size: (u32, u32),
        measured: Option<&CountScale>,
        outputs: FrameOutputs,
    ) -> Result<(wgpu::ComputePipeline, Vec<Vec<u8>>)>;
    /// Its pipeline's bind group 1 (after the render layout's group 0), if it has one.
    fn bind_group(&self) -> Option<&wgpu::BindGroup> {
        None
    }
    /// Whether its pipeline for `samples` takes them all in one dispatch (adding them up
    /// itself, from the one block [`PlaneSource::prepare`] then returns): the frame is then
    /// written as a frame of one sample is.
    fn one_pass(&self, _samples: &[Sample<'_>]) -> bool {
        false
    }
    /// What it has cost so far, for `--verbose`.
    fn report(&self) -> String {
        String::new()
    }
    /// Completes what it writes besides the frames (the zoom map's file), once after a
    /// render's last frame; says what it wrote.
    fn finish(
        &mut self,
        _gpu: &GpuContext,
        _layout: &wgpu::PipelineLayout,
    ) -> Result<Option<String>> {
        Ok(None)
    }
}

/// What a frame's render pass writes besides the evaluation counters, and for which look it is
/// compiled: the pipeline constants of shaders/plane.wgsl, shaders/output.wgsl and
/// shaders/colouring.wgsl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameOutputs {
    /// The aux channels (`plane_aux`; with false, plane pipelines may leave them unwritten:
    /// nothing reads them).
    pub aux: bool,
    /// Display colour straight into the 8-bit target (`frame_display`), encoded as the variant
    /// says, instead of linear light into the HDR frame, which the post stage's tone mapping
    /// then skips.
    pub display: Option<DisplayVariant>,
    /// Plane kinds: the look's transfer and effects compiled in ([`ColourVariant`]) for a
    /// render's frames; the window, whose look changes as it is edited, reads them from the
    /// block instead of compiling a pipeline for each change.
    pub fixed_look: bool,
}

impl FrameOutputs {
    /// What a frame of [`Renderer::submit`] writes: `samples` per pixel, post stage `post`,
    /// read out as `readout`. One sample needs no HDR frame to add up in and, without bloom,
    /// nothing else reads it: an 8-bit readout (or Y'CbCr, converted from the 8-bit target) is
    /// then written by the render pass itself.
    pub fn submitted(samples: usize, post: &PostUniform, readout: Readout) -> Self {
        FrameOutputs {
            aux: readout.aux,
            display: (samples == 1
                && !post.bloom_on()
                && matches!(readout.color, ColorFormat::Srgb8 | ColorFormat::Yuv(_)))
            .then(|| DisplayVariant::of(post)),
            fixed_look: true,
        }
    }

    /// The colouring variant a plane pipeline for `samples` is compiled with, if any: theirs
    /// where they all share one (samples across a shutter whose look changes its effects read
    /// them from the block).
    pub fn colour_variant(&self, samples: &[Sample<'_>]) -> Option<ColourVariant> {
        let first = ColourVariant::of(&samples.first()?.scene.look);
        (self.fixed_look
            && samples
                .iter()
                .all(|s| ColourVariant::of(&s.scene.look) == first))
        .then_some(first)
    }
}

/// What the window's frames write: linear light (progressive samples add up, the temporal view
/// and bloom read it) and the aux channels (its depth pass).
const WINDOW_OUTPUTS: FrameOutputs = FrameOutputs {
    aux: true,
    display: None,
    fixed_look: false,
};

/// A frame submitted to the GPU whose pixels have not been read back yet.
#[derive(Debug)]
pub struct PendingFrame {
    slot: usize,
    submission: wgpu::SubmissionIndex,
    width: u32,
    height: u32,
    readout: Readout,
}

/// One parameter block per sample; `usage` as the render layout binds it (see
/// [`PipelineCache::layout`]: the frame's in storage, the fractal's as a uniform buffer).
fn uniform_buffer(
    device: &wgpu::Device,
    label: &str,
    samples: u32,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: UNIFORM_STRIDE * samples as u64,
        usage: usage | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Rows a band of [`Renderer::render_band_on_gpu`] starts at multiples of: its first row's
/// place in the per-pixel buffers is then a multiple of 256 bytes (the binding offset
/// alignment WebGPU guarantees) for any width.
pub const BAND_ROWS: u32 = 32;

pub struct Renderer {
    gpu: GpuContext,
    pipelines: PipelineCache,
    /// Deep zoom: reference orbit and BLA table (bindings 6 to 11).
    deep: DeepState,
    /// One FrameUniform per sample, at UNIFORM_STRIDE.
    frame_uniforms: wgpu::Buffer,
    /// One fractal uniform block per sample, at UNIFORM_STRIDE.
    fractal_uniforms: wgpu::Buffer,
    targets: Option<FrameTargets>,
    readback: ReadbackRing,
    /// Built on first use (compiling it is the first frame's work, not construction's).
    tone_map: Option<ToneMapStage>,
    /// The post block of frames that write their display colour (see [`FrameOutputs`]).
    display_post: wgpu::Buffer,
    yuv: Option<YuvStage>,
    clock: Option<GpuClock>,
    counters: EvaluationCounters,
    counting: bool,
    max_tile: u32,
    /// Set while encoding a progressive (window) sample: its index.
    progressive: Option<u32>,
    /// Set while encoding a frame of the window's temporal view: its point on the lens, as the
    /// index of a progressive sample, and the height of the history it fills (the surface is
    /// resolved to that image's pixels, not to the marched frame's coarser ones).
    lens_index: Option<u32>,
    detail_height: Option<u32>,
    /// Set while encoding a band of rows of a window sample (first row, rows): only those are
    /// rendered, into their place in whole-frame targets.
    band: Option<(u32, u32)>,
    /// Why the newest shader text did not compile (the last good pipeline is in use).
    pub shader_error: Option<String>,
    /// Plane kinds: the count scale measured of the last view that needed one, and that view.
    measured: Option<(MeasuredView, Option<CountScale>)>,
    /// The (small) targets of the measuring pass, kept apart from the frame's.
    measure_targets: Option<FrameTargets>,
    /// Plane frames from elsewhere than per-pixel iteration, when set.
    source: Option<Box<dyn PlaneSource>>,
}

/// What a view's measured counts depend on.
#[derive(Debug, Clone, PartialEq)]
struct MeasuredView {
    plane: crate::plane::PlaneView,
    kind: &'static str,
    fractal: Vec<u8>,
    size: (u32, u32),
}

/// Pixels of the pass that measures a view's counts (about 2% of a 1280x720 frame).
const MEASURE_PIXELS: f64 = 20_000.0;

impl Renderer {
    pub fn new(gpu: GpuContext) -> Self {
        let device = &gpu.device;
        let limits = device.limits();
        // The HDR frame is the largest per-pixel buffer; keep a tile's within one binding.
        let by_buffer = ((limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            / HDR_BYTES) as f64)
            .sqrt() as u32
            / 256
            * 256;
        let max_tile = MAX_TILE_SIDE
            .min(limits.max_texture_dimension_2d)
            .min(by_buffer.max(256))
            .min(
                limits
                    .max_compute_workgroups_per_dimension
                    .saturating_mul(WORKGROUP),
            );
        Renderer {
            pipelines: PipelineCache::new(&gpu),
            deep: DeepState::new(&gpu),
            frame_uniforms: uniform_buffer(device, "frame uniforms", 1, FRAME_BLOCK),
            fractal_uniforms: uniform_buffer(device, "fractal uniforms", 1, FRACTAL_BLOCK),
            targets: None,
            readback: ReadbackRing::new(RING + 1),
            tone_map: None,
            display_post: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("display post block"),
                size: std::mem::size_of::<PostUniform>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            yuv: None,
            clock: GpuClock::new(&gpu),
            counters: EvaluationCounters::new(device),
            counting: false,
            max_tile,
            progressive: None,
            lens_index: None,
            detail_height: None,
            band: None,
            shader_error: None,
            measured: None,
            measure_targets: None,
            source: None,
            gpu,
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

    /// Largest frame side that [`Renderer::submit`] renders in one piece.
    pub fn max_single_tile(&self, _samples: u32) -> u32 {
        self.max_tile
    }

    /// The distribution of a plane view's smooth counts, from a pass at low resolution (None
    /// where nothing escapes): what the palette spans when the look gives no `count_range`
    /// and the caller (a flight keying it along its path) measured none.
    pub fn measure_counts(
        &mut self,
        scene: &Scene,
        width: u32,
        height: u32,
    ) -> Result<Option<CountScale>> {
        let k = (MEASURE_PIXELS / (width as f64 * height as f64))
            .sqrt()
            .min(1.0);
        let w = ((width as f64 * k).round() as u32).max(1);
        let h = ((height as f64 * k).round() as u32).max(1);
        let mut probe = scene.clone();
        // Any fixed range: the colours of this pass are not read.
        probe.look.count_range = Some([0.0, 1.0]);
        let frame_targets = self.targets.take();
        let yuv = self.yuv.take();
        // The measuring pass iterates the view itself, whatever makes the frames.
        let source = self.source.take();
        self.targets = self.measure_targets.take();
        self.deep.precision_height = Some(height);
        let frame = self.render(&probe, w, h, Readout::DEPTH);
        self.deep.precision_height = None;
        self.measure_targets = self.targets.take();
        self.targets = frame_targets;
        self.yuv = yuv;
        self.source = source;
        Ok(CountScale::measure(&frame?.depth))
    }

    /// Measures the counts of the view of `scene` unless the last measurement was of it.
    fn measure_view(&mut self, scene: &Scene, width: u32, height: u32) -> Result<()> {
        let view = MeasuredView {
            plane: scene.plane.clone(),
            kind: scene.fractal.kind(),
            fractal: scene.fractal.uniform_bytes(),
            size: (width, height),
        };
        if self.measured.as_ref().is_some_and(|(v, _)| *v == view) {
            return Ok(());
        }
        let scale = self.measure_counts(scene, width, height)?;
        self.measured = Some((view, scale));
        Ok(())
    }

    /// Makes plane frames from `source` (None: by iterating each pixel again).
    pub fn set_plane_source(&mut self, source: Option<Box<dyn PlaneSource>>) {
        self.source = source;
    }

    pub fn plane_source(&self) -> Option<&dyn PlaneSource> {
        self.source.as_deref()
    }

    /// Completes what the plane source writes besides the frames (see
    /// [`PlaneSource::finish`]).
    pub fn finish_plane_source(&mut self) -> Result<Option<String>> {
        match self.source.as_mut() {
            Some(source) => source.finish(&self.gpu, self.pipelines.pipeline_layout()),
            None => Ok(None),
        }
    }

    /// What preparing deep frames has cost so far (reference orbits, BLA tables).
    pub fn deep_stats(&self) -> crate::gpu::deep::DeepStats {
        self.deep.stats
    }

    /// The dispatches a frame of `samples` takes: one per sample, or one for all where the
    /// plane source takes them at once.
    fn passes(&self, samples: &[Sample<'_>]) -> usize {
        match &self.source {
            Some(source) if samples[0].scene.fractal.is_plane() && source.one_pass(samples) => 1,
            _ => samples.len(),
        }
    }

    /// What a frame needs before its tiles are encoded: the pipeline, and each sample's
    /// fractal uniform block (for deep views, after making the reference orbit valid).
    fn prepare(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
        outputs: FrameOutputs,
    ) -> Result<(wgpu::ComputePipeline, Vec<Vec<u8>>)> {
        let scene = samples[0].scene;
        if scene.fractal.is_plane() && scene.look.count_scale().is_none() {
            self.measure_view(scene, width, height)?;
        }
        if let Some(source) = self.source.as_mut()
            && scene.fractal.is_plane()
        {
            let measured = self.measured.as_ref().and_then(|(_, s)| s.as_ref());
            return source.prepare(
                &self.gpu,
                &self.pipelines,
                samples,
                (width, height),
                measured,
                outputs,
            );
        }
        let arithmetic = scene
            .fractal
            .is_plane()
            .then(|| plane_arithmetic(scene, height, self.gpu.f64))
            .transpose()?;
        let pipeline = self.pipelines.get(
            &self.gpu,
            scene.fractal.as_ref(),
            arithmetic,
            samples.iter().any(|s| s.scene.look.stripes > 0.0),
            outputs.display,
            outputs.colour_variant(samples),
        );
        self.shader_error = self.pipelines.shader_error.clone();
        let pipeline = pipeline?;
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
                    s.scene
                        .fractal
                        .plane()
                        .map_or_else(Vec::new, |p| p.plane_uniform_bytes(pixel))
                })
                .collect(),
            None => samples
                .iter()
                .map(|s| s.scene.fractal.uniform_bytes())
                .collect(),
        };
        Ok((pipeline, bytes))
    }

    fn ensure_targets(&mut self, width: u32, height: u32) {
        let fits = self
            .targets
            .as_ref()
            .is_some_and(|t| t.width == width && t.height == height);
        if !fits {
            self.targets = Some(FrameTargets::new(&self.gpu.device, width, height));
            // The conversion stage binds the old 8-bit texture.
            self.yuv = None;
        }
    }

    fn ensure_uniform_capacity(&mut self, samples: u32) {
        if self.frame_uniforms.size() < UNIFORM_STRIDE * samples as u64 {
            let device = &self.gpu.device;
            self.frame_uniforms = uniform_buffer(device, "frame uniforms", samples, FRAME_BLOCK);
            self.fractal_uniforms =
                uniform_buffer(device, "fractal uniforms", samples, FRACTAL_BLOCK);
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
        let kind = samples[0].scene.fractal.kind();
        if samples[1..].iter().any(|s| s.scene.fractal.kind() != kind) {
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
        readout: Readout,
    ) -> Result<Frame> {
        self.render_samples(
            &[Sample {
                scene,
                jitter: [0.0, 0.0],
            }],
            width,
            height,
            readout,
        )
    }

    /// Renders and averages `samples` per pixel, in tiles where the frame is larger than one
    /// dispatch may be, and reads back what `readout` asks for.
    pub fn render_samples(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
        readout: Readout,
    ) -> Result<Frame> {
        Self::check(samples, width, height)?;
        if let ColorFormat::Yuv(_) = readout.color {
            if width > self.max_tile || height > self.max_tile {
                return Err(Error::InvalidArgument(format!(
                    "{width}x{height} is larger than this GPU converts to Y'CbCr in one piece \
                     ({0}x{0}); read RGBA back instead",
                    self.max_tile
                )));
            }
            let pending = self.submit(samples, width, height, readout)?;
            return self.collect(pending);
        }
        let outputs = FrameOutputs {
            aux: readout.aux,
            display: None,
            fixed_look: true,
        };
        let (pipeline, fractal_bytes) = self.prepare(samples, width, height, outputs)?;
        self.ensure_uniform_capacity(2 * samples.len() as u32);
        let pixels = width as usize * height as usize;
        let mut frame = Frame {
            width,
            height,
            gpu_time: self.clock.as_ref().map(|_| Duration::ZERO),
            ..Default::default()
        };
        match readout.color {
            ColorFormat::Srgb8 => frame.color = vec![0; pixels * 4],
            ColorFormat::Srgb16 => frame.color16 = vec![0; pixels * 4],
            ColorFormat::Linear => frame.linear = vec![0; pixels * 4],
            ColorFormat::None | ColorFormat::Yuv(_) => {}
        }
        if readout.aux {
            frame.depth = vec![0.0; pixels];
            frame.distance = vec![0.0; pixels];
        }
        let side = self.max_tile;
        self.ensure_targets(width.min(side), height.min(side));
        for y in (0..height).step_by(side as usize) {
            for x in (0..width).step_by(side as usize) {
                let tile = Tile {
                    x,
                    y,
                    width: side.min(width - x),
                    height: side.min(height - y),
                };
                let encoder = self.encode_tile(
                    (samples, &fractal_bytes),
                    &pipeline,
                    tile,
                    (width, height),
                    true,
                )?;
                let slot = self.readback.sync_slot();
                let post = post_uniform(samples, (width, height), tile);
                let mut march_time = None;
                // The post stage goes in a command buffer of its own, after the timed pass.
                let readout_encoder = self.gpu.device.create_command_encoder(&Default::default());
                let readout_encoder =
                    self.encode_readout(readout_encoder, slot, tile, readout, post, false)?;
                let start = Instant::now();
                let submission = self
                    .gpu
                    .queue
                    .submit([encoder.finish(), readout_encoder.finish()]);
                let (color, aux) = self.read_slot(slot, submission, tile, readout)?;
                if let Some(GpuClock::Wall) = self.clock {
                    // The whole submission: a second one just to time the march costs lavapipe
                    // a round trip of its worker threads, more than the post stage it leaves out.
                    march_time = Some(start.elapsed());
                }
                scatter(&mut frame, tile, readout.color, &color, &aux);
                if let Some(GpuClock::Timestamps(timer)) = &self.clock {
                    march_time = Some(timer.read(&self.gpu)?);
                }
                if let (Some(t), Some(total)) = (march_time, frame.gpu_time.as_mut()) {
                    *total += t;
                }
                if self.counting {
                    *frame.de_evaluations.get_or_insert(0) += self.counters.read(&self.gpu)?;
                }
            }
        }
        Ok(frame)
    }

    /// Writes the uniforms and records the render pass of one tile.
    fn encode_tile(
        &mut self,
        (samples, fractal_bytes): (&[Sample<'_>], &[Vec<u8>]),
        pipeline: &wgpu::ComputePipeline,
        tile: Tile,
        (width, height): (u32, u32),
        timed: bool,
    ) -> Result<wgpu::CommandEncoder> {
        let gpu = &self.gpu;
        let count = samples.len() as u32;
        let plane = samples[0].scene.fractal.is_plane();
        let passes = self.passes(samples);
        let count_flag = if self.counting && timed {
            FLAG_COUNT
        } else {
            0
        };
        for (i, sample) in samples.iter().take(passes).enumerate() {
            let offset = i as u64 * UNIFORM_STRIDE;
            let jitter = [sample.jitter[0], sample.jitter[1], 0.0, 0.0];
            let sample_info = match self.progressive {
                Some(k) => [k, 1, 1, 0],
                None => [i as u32, count, 0, 0],
            };
            // The two kinds of frame differ only in their frame uniform block.
            let frame_bytes = if plane {
                let measured = self.measured.as_ref().and_then(|(_, s)| s.as_ref());
                let mut uniform = PlaneUniform::new(sample.scene, width, height, tile, measured);
                uniform.jitter = jitter;
                uniform.samples = sample_info;
                uniform.control[1] |= count_flag;
                bytemuck::bytes_of(&uniform).to_vec()
            } else {
                let mut uniform = FrameUniform::new(sample.scene, width, height, tile);
                if let Some(h) = self.detail_height {
                    uniform.march[0] = sample.scene.camera.pixel_footprint(h) as f32;
                }
                uniform.jitter = jitter;
                let [u, v] = match self.progressive.or(self.lens_index) {
                    // The window refines for ever: its lens samples follow one long sequence.
                    Some(k) => lens_sample(k, 1 << 16),
                    None => lens_sample(i as u32, count),
                };
                uniform.lens[2] = u;
                uniform.lens[3] = v;
                uniform.samples = sample_info;
                uniform.control[1] |= count_flag;
                let mut cone = uniform;
                cone.control[1] |= FLAG_CONE;
                gpu.queue.write_buffer(
                    &self.frame_uniforms,
                    (count as usize + i) as u64 * UNIFORM_STRIDE,
                    bytemuck::bytes_of(&cone),
                );
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
        // The source's own data, if any, is its bind group 1; 6 to 11 are then unused.
        let source_group = match &self.source {
            Some(source) if plane => source.bind_group(),
            _ => None,
        };
        // A band writes its rows where they lie in the whole frame: the per-pixel buffers are
        // bound from its first row on (the shaders index within the tile).
        fn rows(
            buffer: &wgpu::Buffer,
            tile: Tile,
            bytes_per_pixel: u64,
        ) -> wgpu::BindingResource<'_> {
            let pixels = |rows: u32| rows as u64 * tile.width as u64;
            wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer,
                offset: pixels(tile.y) * bytes_per_pixel,
                size: wgpu::BufferSize::new(pixels(tile.height) * bytes_per_pixel),
            })
        }
        let (hdr, aux) = if self.band.is_some() {
            (
                rows(&targets.hdr, tile, HDR_BYTES),
                rows(&targets.aux, tile, AUX_BYTES),
            )
        } else {
            (
                targets.hdr.as_entire_binding(),
                targets.aux.as_entire_binding(),
            )
        };
        let bind_group = render_bind_group(
            &gpu.device,
            "render",
            &self.pipelines.layout,
            [
                (&self.frame_uniforms, frame_uniform_size),
                (&self.fractal_uniforms, UNIFORM_STRIDE),
            ],
            [
                hdr,
                aux,
                targets.cone_starts.as_entire_binding(),
                self.counters.buffer.as_entire_binding(),
            ],
            &self.deep,
            DisplayTarget {
                post: &self.display_post,
                view: &targets.srgb8_view,
            },
        );
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("frame"),
            });
        if count_flag != 0 {
            self.counters.clear(&mut encoder);
        }
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("ray march"),
                timestamp_writes: self
                    .clock
                    .as_ref()
                    .and_then(GpuClock::timer)
                    .filter(|_| timed)
                    .map(|t| t.pass_writes()),
            });
            pass.set_pipeline(pipeline);
            if let Some(group) = source_group {
                pass.set_bind_group(1, group, &[]);
            }
            for i in 0..passes as u32 {
                let offset = (i as u64 * UNIFORM_STRIDE) as u32;
                if !plane {
                    // The cone pass first: where this sample's pixels start marching.
                    let cone = ((count + i) as u64 * UNIFORM_STRIDE) as u32;
                    pass.set_bind_group(0, &bind_group, &render_offsets(cone, offset));
                    let [x, y, z] = spread_workgroups(
                        tile.width.div_ceil(CONE_CELL),
                        tile.height.div_ceil(CONE_CELL),
                    );
                    pass.dispatch_workgroups(x, y, z);
                }
                pass.set_bind_group(0, &bind_group, &render_offsets(offset, offset));
                let [x, y, z] = spread_workgroups(tile.width, tile.height);
                pass.dispatch_workgroups(x, y, z);
            }
        }
        if timed {
            if let Some(timer) = self.clock.as_ref().and_then(GpuClock::timer) {
                timer.resolve(&mut encoder);
            }
            if count_flag != 0 {
                self.counters.resolve(&mut encoder);
            }
        }
        Ok(encoder)
    }

    /// The post stage for the readout's colour (`displayed`: the render pass wrote the 8-bit
    /// target itself), and copies of what it asks for into slot `slot`.
    fn encode_readout(
        &mut self,
        mut encoder: wgpu::CommandEncoder,
        slot: usize,
        tile: Tile,
        readout: Readout,
        uniform: PostUniform,
        displayed: bool,
    ) -> Result<wgpu::CommandEncoder> {
        self.encode_post(&mut encoder, tile, readout.color, uniform, displayed)?;
        self.encode_copies(&mut encoder, slot, tile, readout);
        Ok(encoder)
    }

    /// Records the tone mapping (unless the render pass wrote the 8-bit target itself:
    /// `displayed`; and for Y'CbCr, the conversion) of the tile just rendered.
    fn encode_post(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        tile: Tile,
        color: ColorFormat,
        uniform: PostUniform,
        displayed: bool,
    ) -> Result<()> {
        let output = match color {
            ColorFormat::None => return Ok(()),
            ColorFormat::Srgb8 | ColorFormat::Yuv(_) => PostOutput::Srgb8,
            ColorFormat::Srgb16 => PostOutput::Srgb16,
            ColorFormat::Linear => PostOutput::Linear,
        };
        if !(displayed && output == PostOutput::Srgb8) {
            if self.tone_map.is_none() {
                self.tone_map = Some(ToneMapStage::new(&self.gpu)?);
            }
            let targets = self.targets.as_ref().expect("created before tiles");
            self.tone_map
                .as_ref()
                .expect("just built")
                .encode(&self.gpu, encoder, targets, output, uniform);
        }
        let targets = self.targets.as_ref().expect("created before tiles");
        if let ColorFormat::Yuv(layout) = color {
            assert_eq!(
                (layout.width, layout.height),
                (tile.width, tile.height),
                "YUV layout size"
            );
            if self.yuv.as_ref().is_none_or(|y| y.layout != layout) {
                self.yuv = Some(YuvStage::new(&self.gpu, layout, targets)?);
            }
            self.yuv.as_ref().expect("just built").encode(encoder);
        }
        Ok(())
    }

    /// Records the copies of the tile's outputs into the readback slot.
    fn encode_copies(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        slot: usize,
        tile: Tile,
        readout: Readout,
    ) {
        let pixels = tile.width as u64 * tile.height as u64;
        let device = self.gpu.device.clone();
        let targets = self.targets.as_ref().expect("created before tiles");
        match readout.color {
            ColorFormat::None => {}
            ColorFormat::Srgb8 => {
                let size = targets.srgb8_pitch as u64 * tile.height as u64;
                let buffer = self.readback.buffer(&device, slot, Channel::Color, size);
                targets.copy_srgb8(encoder, buffer, tile.width, tile.height);
            }
            ColorFormat::Srgb16 | ColorFormat::Linear => {
                let size = pixels * WIDE_BYTES;
                let buffer = self.readback.buffer(&device, slot, Channel::Color, size);
                encoder.copy_buffer_to_buffer(&targets.wide, 0, buffer, 0, size);
            }
            ColorFormat::Yuv(layout) => {
                let stage = self.yuv.as_ref().expect("built by encode_post");
                let buffer = self
                    .readback
                    .buffer(&device, slot, Channel::Color, layout.size());
                encoder.copy_buffer_to_buffer(&stage.planes, 0, buffer, 0, layout.size());
            }
        }
        if readout.aux {
            let size = pixels * AUX_BYTES;
            let buffer = self.readback.buffer(&device, slot, Channel::Aux, size);
            encoder.copy_buffer_to_buffer(&targets.aux, 0, buffer, 0, size);
        }
    }

    /// Waits for slot `slot`'s copies and returns its colour and aux bytes (rows unpadded).
    fn read_slot(
        &mut self,
        slot: usize,
        submission: wgpu::SubmissionIndex,
        tile: Tile,
        readout: Readout,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let device = self.gpu.device.clone();
        let pixels = tile.width as u64 * tile.height as u64;
        let mut submission = Some(submission);
        let mut color = Vec::new();
        match readout.color {
            ColorFormat::None => {}
            ColorFormat::Srgb8 => {
                let pitch = self.targets.as_ref().expect("rendered").srgb8_pitch as usize;
                let size = pitch as u64 * tile.height as u64;
                let buffer = self.readback.buffer(&device, slot, Channel::Color, size);
                let data = self
                    .gpu
                    .read_buffer_after(buffer, size, submission.take())?;
                let row_bytes = tile.width as usize * 4;
                color.reserve(row_bytes * tile.height as usize);
                for row in 0..tile.height as usize {
                    color.extend_from_slice(&data[row * pitch..row * pitch + row_bytes]);
                }
            }
            ColorFormat::Srgb16 | ColorFormat::Linear => {
                let size = pixels * WIDE_BYTES;
                let buffer = self.readback.buffer(&device, slot, Channel::Color, size);
                color = self
                    .gpu
                    .read_buffer_after(buffer, size, submission.take())?;
            }
            ColorFormat::Yuv(layout) => {
                let buffer = self
                    .readback
                    .buffer(&device, slot, Channel::Color, layout.size());
                color = self
                    .gpu
                    .read_buffer_after(buffer, layout.size(), submission.take())?;
            }
        }
        let mut aux = Vec::new();
        if readout.aux {
            let size = pixels * AUX_BYTES;
            let buffer = self.readback.buffer(&device, slot, Channel::Aux, size);
            aux = self
                .gpu
                .read_buffer_after(buffer, size, submission.take())?;
        }
        Ok((color, aux))
    }

    /// Checks, prepares and records a frame rendered in one piece (no tiles): the window's
    /// frames and pipelined video frames, writing `outputs`.
    fn encode_whole_frame(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
        outputs: FrameOutputs,
    ) -> Result<(wgpu::CommandEncoder, Tile)> {
        Self::check(samples, width, height)?;
        let side = self.max_tile;
        if width > side || height > side {
            return Err(Error::InvalidArgument(format!(
                "{width}x{height} is larger than this GPU renders in one piece ({side}x{side})"
            )));
        }
        let (pipeline, fractal_bytes) = self.prepare(samples, width, height, outputs)?;
        self.ensure_uniform_capacity(2 * samples.len() as u32);
        self.ensure_targets(width, height);
        let (y, rows) = self.band.unwrap_or((0, height));
        let tile = Tile {
            x: 0,
            y,
            width,
            height: rows,
        };
        let encoder = self.encode_tile(
            (samples, &fractal_bytes),
            &pipeline,
            tile,
            (width, height),
            false,
        )?;
        Ok((encoder, tile))
    }

    /// Renders into the 8-bit sRGB target without reading it back, and returns the target (the
    /// window draws it). With `progressive = Some(i)`, `samples` must hold one sample, which
    /// is added to those of earlier calls at the same size: the target shows the mean of
    /// samples 0..=i (i = 0 starts afresh).
    pub fn render_on_gpu(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
        progressive: Option<u32>,
    ) -> Result<&wgpu::TextureView> {
        self.progressive = progressive;
        let encoded = self.encode_whole_frame(samples, width, height, WINDOW_OUTPUTS);
        self.progressive = None;
        let (mut encoder, tile) = encoded?;
        self.encode_post(
            &mut encoder,
            tile,
            ColorFormat::Srgb8,
            post_uniform(samples, (width, height), tile),
            false,
        )?;
        self.gpu.queue.submit([encoder.finish()]);
        Ok(self.render_on_gpu_view())
    }

    /// Renders rows `first..first + rows` of progressive sample `sample_index` (see
    /// [`Renderer::render_on_gpu`]) into the whole-frame targets, so that a window can spread
    /// a full-resolution sample over several frames. Rows start at multiples of
    /// [`BAND_ROWS`] (the per-pixel buffers' binding offsets must be aligned). With `post`, the
    /// whole frame is tone-mapped into the 8-bit target afterwards.
    pub fn render_band_on_gpu(
        &mut self,
        sample: Sample<'_>,
        (width, height): (u32, u32),
        sample_index: u32,
        (first, rows): (u32, u32),
        post: bool,
    ) -> Result<()> {
        if first % BAND_ROWS != 0 || rows == 0 || first + rows > height {
            return Err(Error::InvalidArgument(format!(
                "rows {first}..{} are not a band of a {height}-row frame",
                first + rows
            )));
        }
        let samples = [sample];
        self.progressive = Some(sample_index);
        self.band = Some((first, rows));
        let encoded = self.encode_whole_frame(&samples, width, height, WINDOW_OUTPUTS);
        self.progressive = None;
        self.band = None;
        let (mut encoder, _) = encoded?;
        if post {
            let tile = Tile {
                x: 0,
                y: 0,
                width,
                height,
            };
            self.encode_post(
                &mut encoder,
                tile,
                ColorFormat::Srgb8,
                post_uniform(&samples, (width, height), tile),
                false,
            )?;
        }
        self.gpu.queue.submit([encoder.finish()]);
        Ok(())
    }

    /// The 8-bit sRGB target itself (for copies out of it).
    pub fn render_on_gpu_texture(&self) -> &wgpu::Texture {
        &self
            .targets
            .as_ref()
            .expect("render_on_gpu ran first")
            .srgb8
    }

    /// Marches one frame of the window's temporal view of a volume kind (the pixels of
    /// `frame`'s phase) and submits it with the reproject pass and the post stage, which leave
    /// the new history, tone-mapped, in `temporal.display.srgb8`. `lens` is this frame's point
    /// on the lens (depth of field), as the index of a progressive sample.
    pub fn render_reprojected(
        &mut self,
        scene: &Scene,
        frame: &TemporalFrame,
        lens: u32,
        temporal: &mut TemporalStage,
    ) -> Result<wgpu::SubmissionIndex> {
        if scene.fractal.is_plane() {
            return Err(Error::InvalidArgument(
                "temporal reprojection is for ray-marched kinds".into(),
            ));
        }
        let (width, height) = frame.march_size();
        let sample = Sample {
            scene,
            jitter: frame.march_jitter(),
        };
        self.lens_index = Some(lens);
        self.detail_height = Some(frame.history.1);
        let encoded = self.encode_whole_frame(&[sample], width, height, WINDOW_OUTPUTS);
        self.lens_index = None;
        self.detail_height = None;
        let (mut encoder, _) = encoded?;
        let (hw, hh) = frame.history;
        let projection = Projection::new(&scene.camera, hw, hh);
        let march = self
            .targets
            .as_ref()
            .expect("created by encode_whole_frame");
        temporal.encode(&self.gpu, &mut encoder, march, &projection, frame);
        if self.tone_map.is_none() {
            self.tone_map = Some(ToneMapStage::new(&self.gpu)?);
        }
        let tile = Tile {
            x: 0,
            y: 0,
            width: hw,
            height: hh,
        };
        self.tone_map.as_ref().expect("just built").encode(
            &self.gpu,
            &mut encoder,
            &temporal.display,
            PostOutput::Srgb8,
            PostUniform::new(&scene.look, (hw, hh), tile),
        );
        Ok(self.gpu.queue.submit([encoder.finish()]))
    }

    /// The 8-bit sRGB target as the last [`Renderer::render_on_gpu`] left it.
    pub fn render_on_gpu_view(&self) -> &wgpu::TextureView {
        &self
            .targets
            .as_ref()
            .expect("render_on_gpu ran first")
            .srgb8_sampled_view
    }

    /// Starts rendering a frame (one tile) without waiting for it. At most `RING - 1` frames
    /// should be pending at once; collect them in order.
    pub fn submit(
        &mut self,
        samples: &[Sample<'_>],
        width: u32,
        height: u32,
        readout: Readout,
    ) -> Result<PendingFrame> {
        let post = post_uniform(samples, (width, height), Tile::whole(width, height));
        let outputs = FrameOutputs::submitted(self.passes(samples), &post, readout);
        if outputs.display.is_some() {
            self.gpu
                .queue
                .write_buffer(&self.display_post, 0, bytemuck::bytes_of(&post));
        }
        let (encoder, tile) = self.encode_whole_frame(samples, width, height, outputs)?;
        let slot = self.readback.next_slot();
        let encoder = self.encode_readout(
            encoder,
            slot,
            tile,
            readout,
            post,
            outputs.display.is_some(),
        )?;
        let submission = self.gpu.queue.submit([encoder.finish()]);
        Ok(PendingFrame {
            slot,
            submission,
            width,
            height,
            readout,
        })
    }

    /// Waits for a submitted frame and returns what it read back.
    pub fn collect(&mut self, pending: PendingFrame) -> Result<Frame> {
        let (width, height) = (pending.width, pending.height);
        let tile = Tile::whole(width, height);
        let (color, aux) =
            self.read_slot(pending.slot, pending.submission, tile, pending.readout)?;
        let mut frame = Frame {
            width,
            height,
            ..Default::default()
        };
        let pixels = width as usize * height as usize;
        match pending.readout.color {
            ColorFormat::Yuv(_) => frame.yuv = color,
            ColorFormat::Srgb8 => frame.color = color,
            ColorFormat::Srgb16 => frame.color16 = bytemuck::pod_collect_to_vec(&color),
            ColorFormat::Linear => frame.linear = bytemuck::pod_collect_to_vec(&color),
            ColorFormat::None => {}
        }
        if pending.readout.aux {
            frame.depth = vec![0.0; pixels];
            frame.distance = vec![0.0; pixels];
            scatter(&mut frame, tile, ColorFormat::None, &[], &aux);
        }
        Ok(frame)
    }
}

/// The post stage's settings for a tile of a frame: the look of its middle sample (the
/// shutter's centre).
fn post_uniform(samples: &[Sample<'_>], image: (u32, u32), tile: Tile) -> PostUniform {
    PostUniform::new(&samples[samples.len() / 2].scene.look, image, tile)
}

/// Copies a tile's read-back pixels into their place in the frame.
fn scatter(frame: &mut Frame, tile: Tile, color: ColorFormat, color_bytes: &[u8], aux: &[u8]) {
    let (tw, fw) = (tile.width as usize, frame.width as usize);
    let origin = |row: usize| (tile.y as usize + row) * fw + tile.x as usize;
    for row in 0..tile.height as usize {
        let dst = origin(row);
        match color {
            ColorFormat::Srgb8 => frame.color[dst * 4..(dst + tw) * 4]
                .copy_from_slice(&color_bytes[row * tw * 4..(row + 1) * tw * 4]),
            ColorFormat::Srgb16 | ColorFormat::Linear => {
                let src: Vec<u16> =
                    bytemuck::pod_collect_to_vec(&color_bytes[row * tw * 8..(row + 1) * tw * 8]);
                let out = if color == ColorFormat::Srgb16 {
                    &mut frame.color16
                } else {
                    &mut frame.linear
                };
                out[dst * 4..(dst + tw) * 4].copy_from_slice(&src);
            }
            ColorFormat::None | ColorFormat::Yuv(_) => {}
        }
        if !aux.is_empty() {
            let src: Vec<[f32; 2]> =
                bytemuck::pod_collect_to_vec(&aux[row * tw * 8..(row + 1) * tw * 8]);
            for (i, [depth, distance]) in src.into_iter().enumerate() {
                frame.depth[dst + i] = depth;
                frame.distance[dst + i] = distance;
            }
        }
    }
}
