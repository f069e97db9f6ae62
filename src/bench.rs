//! `mandelfly bench`: a fixed suite that CI runners track. Each case renders warm (pipelines
//! compiled) several times and reports wall and GPU times (median, p90, min), megapixels and
//! frames per second, and distance-estimator evaluations per second counted on the GPU, with
//! the efficiency against the adapter's own best rate measured in the same run.
//!
//! The JSON report's schema is documented in the README ("Benchmark"); `version` changes when a
//! field changes meaning.

use std::time::{Duration, Instant};

use glam::DVec3;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fractal::VolumeFormula;
use crate::frame::Passes;
use crate::gpu::probe::Probe;
use crate::gpu::renderer::Renderer;
use crate::scene::Scene;

pub const SCHEMA: &str = "mandelfly-bench";
pub const SCHEMA_VERSION: u32 = 1;

const FMA_SHADER: &str = include_str!("../shaders/bench/fma.wgsl");
/// Flops per invocation of the FMA kernel (see shaders/bench/fma.wgsl).
const FLOPS_PER_INVOCATION: f64 = 16384.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub version: u32,
    pub mandelfly_version: String,
    /// The build's git commit, when known.
    pub git_commit: Option<String>,
    /// Seconds since 1970 when the run started.
    pub unix_time: u64,
    pub quick: bool,
    pub adapter: AdapterReport,
    pub peak: Peak,
    pub cases: Vec<CaseReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterReport {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub vendor: u32,
    pub device: u32,
    /// GPU times come from timestamp queries.
    pub timestamps: bool,
}

/// The adapter's best rates, measured in the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    /// Fused multiply-add throughput of an ideal kernel, GFLOP/s.
    pub fma_gflops: f64,
    /// Distance estimates per second of the probe kernel on the points a sphere tracer meets
    /// in the reference view (computed on the CPU), in ray order: the march's own mix of
    /// estimates with no shading, no divergence between rays and no bookkeeping.
    pub de_per_second: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub median: f64,
    pub p90: f64,
    pub min: f64,
}

impl Stats {
    pub fn of(values: &[f64]) -> Stats {
        let mut v = values.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        };
        // Nearest-rank p90.
        let p90 = v[((0.9 * n as f64).ceil() as usize).clamp(1, n) - 1];
        Stats {
            median,
            p90,
            min: v[0],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    pub name: String,
    pub description: String,
    pub width: u32,
    pub height: u32,
    /// Frames in one timed run.
    pub frames_per_run: u32,
    pub runs: u32,
    /// Milliseconds per run, wall clock (render and readback; for the video case, encoding too).
    pub wall_ms: Stats,
    /// Milliseconds per run on the GPU (timestamp queries), where the adapter has them.
    pub gpu_ms: Option<Stats>,
    pub megapixels_per_second: f64,
    pub frames_per_second: f64,
    /// Distance-estimator evaluations in one frame, counted on the GPU.
    pub de_per_frame: Option<u64>,
    /// `de_per_frame` over the frame's pixels: the work each pixel costs, whatever the
    /// hardware (absent from reports of earlier builds).
    #[serde(default)]
    pub de_per_pixel: Option<f64>,
    pub de_per_second: Option<f64>,
    /// `de_per_second` over the adapter's peak distance-estimate rate.
    pub efficiency: Option<f64>,
    /// The zoom map case: samples its map computes for the whole flight, and pixels rendering
    /// each of the flight's frames would compute instead (absent from other cases and from
    /// reports of earlier builds).
    #[serde(default)]
    pub map_samples: Option<u64>,
    #[serde(default)]
    pub per_frame_pixels: Option<u64>,
}

impl CaseReport {
    /// A case timed on the wall clock over `frames` frames a run (the video and zoom map
    /// cases): no GPU time, no evaluation counts.
    fn of_frames(
        name: &str,
        description: String,
        (width, height): (u32, u32),
        frames: u64,
        runs: u32,
        wall: &[f64],
    ) -> Self {
        let wall_ms = Stats::of(wall);
        let per_frame_s = wall_ms.median / 1e3 / frames as f64;
        CaseReport {
            name: name.into(),
            description,
            width,
            height,
            frames_per_run: frames as u32,
            runs,
            wall_ms,
            gpu_ms: None,
            megapixels_per_second: width as f64 * height as f64 / 1e6 / per_frame_s,
            frames_per_second: 1.0 / per_frame_s,
            de_per_frame: None,
            de_per_pixel: None,
            de_per_second: None,
            efficiency: None,
            map_samples: None,
            per_frame_pixels: None,
        }
    }

    /// The figure regressions are judged on: GPU milliseconds per run where both sides have
    /// them, else wall milliseconds.
    fn primary_ms(&self, other: &CaseReport) -> (f64, f64, &'static str) {
        match (&self.gpu_ms, &other.gpu_ms) {
            (Some(a), Some(b)) => (a.median, b.median, "gpu ms"),
            _ => (self.wall_ms.median, other.wall_ms.median, "wall ms"),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Small sizes and few runs: a smoke test for CI.
    pub quick: bool,
    /// Timed runs per case (default 5, quick 2).
    pub runs: Option<u32>,
    /// Only these cases (names from [`CASES`]); empty: all.
    pub cases: Vec<String>,
}

impl Options {
    fn wants(&self, case: &str) -> bool {
        self.cases.is_empty() || self.cases.iter().any(|c| c == case)
    }

    /// Refuses names that are not cases, listing those that are.
    pub fn check(&self) -> Result<()> {
        for c in &self.cases {
            if !CASES.contains(&c.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "--case {c}: no such bench case; the cases are {}",
                    CASES.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// How many times [`run`] calls its `progress` (for "n/N"): the peak rates, then each case.
    pub fn steps(&self) -> usize {
        1 + CASES.iter().filter(|c| self.wants(c)).count()
    }
}

/// The suite's cases, in the order they run.
pub const CASES: &[&str] = &[
    "reference-720p",
    "reference-1080p",
    "reference-2160p",
    "default-look-720p",
    "default-look-1080p",
    "closeup-detail",
    "mandelbrot-1k",
    "mandelbrot-10k",
    "deep-1e100-10k",
    "deep-1e100-100k",
    "deep-1e300-10k",
    "deep-1e300-100k",
    "terrain-flyover",
    "zoom-map",
    #[cfg(feature = "video")]
    "video-pipeline",
];

fn git_commit() -> Option<String> {
    option_env!("MANDELFLY_GIT_COMMIT")
        .map(str::to_string)
        .or_else(|| std::env::var("GITHUB_SHA").ok())
        .filter(|s| !s.is_empty())
}

fn adapter_report(info: &wgpu::AdapterInfo, timestamps: bool) -> AdapterReport {
    AdapterReport {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: info.driver.clone(),
        driver_info: info.driver_info.clone(),
        vendor: info.vendor,
        device: info.device,
        timestamps,
    }
}

/// The points a sphere tracer evaluates on its way to the surface: the CPU twin of the march
/// over a coarse grid of the scene's rays, in ray order (so neighbouring invocations of the
/// probe do similar work), repeated up to `count`.
fn march_points(scene: &Scene, volume: &dyn VolumeFormula, count: usize) -> Vec<DVec3> {
    let (w, h) = (64, 36);
    let cam = &scene.camera;
    let eps_per_unit = cam.pixel_footprint(720) * scene.look.detail;
    let radius = volume.bounding_radius();
    let mut points = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let dir = cam.ray_direction(x, y, w, h);
            let b = cam.position.dot(dir);
            let c = cam.position.length_squared() - radius * radius;
            let disc = b * b - c;
            if disc < 0.0 {
                continue;
            }
            let (mut t, t1) = ((-b - disc.sqrt()).max(0.0), -b + disc.sqrt());
            for _ in 0..scene.look.max_steps {
                let p = cam.position + dir * t;
                points.push(p);
                let d = volume.distance(p).distance;
                if d < eps_per_unit * t {
                    break;
                }
                t += d * crate::gpu::uniforms::STEP_FACTOR as f64;
                if t > t1 {
                    break;
                }
            }
        }
    }
    (0..count).map(|i| points[i % points.len()]).collect()
}

fn fma_peak(renderer: &Renderer, invocations: u32) -> Result<f64> {
    let gpu = renderer.gpu();
    let pipeline = gpu.compute_pipeline("fma peak", FMA_SHADER, "fma_main", None)?;
    let sink = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("fma sink"),
        size: invocations as u64 * 4,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("fma"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: sink.as_entire_binding(),
        }],
    });
    let mut best = Duration::MAX;
    for _ in 0..4 {
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            // Spread over two dimensions to stay within the per-dimension dispatch limit.
            let groups = invocations / 64;
            pass.dispatch_workgroups(groups.min(32768), groups.div_ceil(32768), 1);
        }
        let start = Instant::now();
        gpu.queue.submit([encoder.finish()]);
        gpu.wait(None)?;
        best = best.min(start.elapsed());
    }
    Ok(invocations as f64 * FLOPS_PER_INVOCATION / best.as_secs_f64() / 1e9)
}

fn de_peak(renderer: &Renderer, scene: &Scene, points: usize) -> Result<f64> {
    let volume = scene.fractal.volume().ok_or_else(|| {
        Error::InvalidArgument(format!(
            "the distance-estimate peak needs a ray-marched kind, not `{}`",
            scene.fractal.kind()
        ))
    })?;
    let points = march_points(scene, volume, points);
    let probe = Probe::new(renderer.gpu(), scene.fractal.as_ref(), &points)?;
    probe.time()?;
    let mut best = Duration::MAX;
    for _ in 0..3 {
        best = best.min(probe.time()?);
    }
    Ok(points.len() as f64 / best.as_secs_f64())
}

/// Renders `scene` warm `runs` times, then once more counting evaluations.
fn still_case(
    renderer: &mut Renderer,
    name: &str,
    description: &str,
    scene: &Scene,
    (width, height): (u32, u32),
    runs: u32,
    // The peak is the Mandelbulb's: other kinds report their rate without an efficiency.
    peak: Option<&Peak>,
) -> Result<CaseReport> {
    renderer.render(scene, width, height, Passes::COLOR)?;
    let mut wall = Vec::new();
    let mut gpu = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let frame = renderer.render(scene, width, height, Passes::COLOR)?;
        wall.push(start.elapsed().as_secs_f64() * 1e3);
        if let Some(t) = frame.gpu_time {
            gpu.push(t.as_secs_f64() * 1e3);
        }
    }
    renderer.set_counting(true);
    let counted = renderer.render(scene, width, height, Passes::COLOR);
    renderer.set_counting(false);
    let de_per_frame = counted?.de_evaluations;
    let wall_ms = Stats::of(&wall);
    let gpu_ms = (!gpu.is_empty()).then(|| Stats::of(&gpu));
    // Rates from the GPU time where there is one: it excludes readback and CPU overheads.
    let ms = gpu_ms.map_or(wall_ms.median, |g| g.median).max(1e-6);
    let de_per_second = de_per_frame.map(|n| n as f64 / (ms / 1e3));
    Ok(CaseReport {
        name: name.to_string(),
        description: description.to_string(),
        width,
        height,
        frames_per_run: 1,
        runs,
        wall_ms,
        gpu_ms,
        megapixels_per_second: width as f64 * height as f64 / 1e6 / (ms / 1e3),
        frames_per_second: 1e3 / ms,
        de_per_frame,
        de_per_pixel: de_per_frame.map(|n| n as f64 / (width as f64 * height as f64)),
        de_per_second,
        efficiency: de_per_second.zip(peak).map(|(r, p)| r / p.de_per_second),
        map_samples: None,
        per_frame_pixels: None,
    })
}

#[cfg(feature = "video")]
fn video_case(
    renderer: &mut Renderer,
    (width, height): (u32, u32),
    frames: u64,
    runs: u32,
) -> Result<CaseReport> {
    use crate::flight::{FramePlan, fly};
    use crate::sink::video::{VideoCodec, VideoSettings, VideoSink};
    use std::sync::atomic::AtomicBool;

    let path = crate::path::bench_orbit();
    let plan = FramePlan {
        path: &path,
        fps: path.file.output.fps,
        width,
        height,
        samples: 1,
        shutter: 0.0,
    };
    let settings = VideoSettings {
        width,
        height,
        fps: plan.fps,
        codec: VideoCodec::H264,
        crf: None,
        preset: None,
        bitrate: None,
        pixel_format: None,
        no_b_frames: false,
    };
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let out = dir.path().join("bench.mp4");
    let stop = AtomicBool::new(false);
    let mut wall = Vec::new();
    // The first run warms up (pipelines, encoder start).
    for run in 0..=runs {
        let mut sink = VideoSink::create(&out, &settings)?;
        let start = Instant::now();
        fly(&plan, renderer, &mut sink, 0..frames, &stop, &mut |_| {})?;
        if run > 0 {
            wall.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(CaseReport::of_frames(
        "video-pipeline",
        format!(
            "the orbit flight (reference look), render + encode {frames} frames (h264, yuv420p, GPU YUV)"
        ),
        (width, height),
        frames,
        runs,
        &wall,
    ))
}

/// A sink that keeps nothing: the zoom map case times making frames, not writing them.
struct Discard(u64);

impl crate::sink::FrameSink for Discard {
    fn readout(&self) -> crate::frame::Readout {
        crate::frame::Readout::color(crate::frame::ColorFormat::Srgb8)
    }

    fn push(&mut self, _index: u64, _frame: crate::frame::Frame) -> Result<()> {
        self.0 += 1;
        Ok(())
    }

    fn finish(&mut self, _outcome: crate::sink::Outcome) -> Result<crate::sink::Finished> {
        Ok(crate::sink::Finished {
            path: std::path::PathBuf::new(),
            frames: self.0,
        })
    }
}

/// `frames` frames from the middle of paths/zoom-1e100.toml through the zoom map: each run
/// starts a fresh map, so it computes the chunks those frames show and assembles them (the
/// count scales are measured first, as in any render). Reports the whole flight's map samples
/// against its per-frame pixels.
fn zoom_map_case(
    renderer: &mut Renderer,
    (width, height): (u32, u32),
    frames: u64,
    runs: u32,
) -> Result<CaseReport> {
    use crate::flight::{FramePlan, fly};
    use std::sync::atomic::AtomicBool;

    let path = crate::path::CameraPath::new(crate::path::PathFile::parse(
        "paths/zoom-1e100.toml",
        include_str!("../paths/zoom-1e100.toml"),
    )?);
    let plan = FramePlan {
        path: &path,
        fps: path.file.output.fps,
        width,
        height,
        samples: 1,
        shutter: 0.0,
    };
    let map = crate::zoommap::plan::analyse(&plan)
        .map_err(|why| Error::InvalidArgument(format!("the zoom-map case: {why}")))?;
    let first = plan.frame_count() / 2;
    let stop = AtomicBool::new(false);
    let mut wall = Vec::new();
    let result = (|| -> Result<()> {
        // The first run warms up (pipelines).
        for run in 0..=runs {
            let assembler = crate::zoommap::MapAssembler::new(renderer.gpu(), map.clone(), &path)?;
            renderer.set_plane_source(Some(Box::new(assembler)));
            let start = Instant::now();
            fly(
                &plan,
                renderer,
                &mut Discard(0),
                first..first + frames,
                &stop,
                &mut |_| {},
            )?;
            if run > 0 {
                wall.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        Ok(())
    })();
    renderer.set_plane_source(None);
    result?;
    Ok(CaseReport {
        map_samples: Some(map.computed_samples()),
        per_frame_pixels: Some(map.per_frame_pixels()),
        ..CaseReport::of_frames(
            "zoom-map",
            format!(
                "{frames} frames from the middle of the 3-minute zoom to 1e-100 (paths/zoom-1e100.toml) \
                 through a fresh zoom map: its chunks computed, then the frames assembled"
            ),
            (width, height),
            frames,
            runs,
            &wall,
        )
    })
}

/// Runs the suite (the cases `options` asks for).
pub fn run(
    renderer: &mut Renderer,
    options: &Options,
    progress: &mut dyn FnMut(&str),
) -> Result<Report> {
    options.check()?;
    let quick = options.quick;
    let runs = options.runs.unwrap_or(if quick { 2 } else { 5 }).max(1);
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let reference = Scene::reference();
    progress("peak rates");
    let peak = Peak {
        fma_gflops: fma_peak(renderer, if quick { 1 << 16 } else { 1 << 20 })?,
        de_per_second: de_peak(renderer, &reference, if quick { 1 << 17 } else { 1 << 19 })?,
    };
    let mut closeup = reference.clone();
    closeup.camera.position = DVec3::new(0.75, -0.75, 0.55);
    closeup.camera.look_at = DVec3::new(0.3, -0.2, 0.35);
    closeup.camera.fov = 50.0;
    closeup.look.detail = 0.25;
    let scale = |w: u32, h: u32| if quick { (w / 4, h / 4) } else { (w, h) };
    // The default look (daylight): sky, palette, fill and rim lights, fog, glow, ACES.
    let default_look = Scene::empty();
    let stills: [(&str, &str, &Scene, (u32, u32)); 6] = [
        (
            "reference-720p",
            "reference view, 1280x720",
            &reference,
            scale(1280, 720),
        ),
        (
            "reference-1080p",
            "reference view, 1920x1080",
            &reference,
            scale(1920, 1080),
        ),
        (
            "reference-2160p",
            "reference view, 3840x2160",
            &reference,
            scale(3840, 2160),
        ),
        (
            "default-look-720p",
            "reference camera with the default look, 1280x720",
            &default_look,
            scale(1280, 720),
        ),
        (
            "default-look-1080p",
            "reference camera with the default look, 1920x1080",
            &default_look,
            scale(1920, 1080),
        ),
        (
            "closeup-detail",
            "close-up over the surface at detail 0.25 (four times finer)",
            &closeup,
            scale(1280, 720),
        ),
    ];
    let mut cases = Vec::new();
    for (name, description, scene, size) in stills {
        if !options.wants(name) {
            continue;
        }
        progress(name);
        cases.push(still_case(
            renderer,
            name,
            description,
            scene,
            size,
            runs,
            Some(&peak),
        )?);
    }
    // The Mandelbrot set in the plane (f32 at this depth), and the terrain.
    let mut plane = Scene::parse(
        "bench",
        "[fractal]\nkind = \"mandelbrot\"\n[camera]\ncenter = [\"-0.743643887037151\", \"0.131825904205330\"]\nzoom = 5e-3\n",
    )
    .expect("the bench scene parses");
    for iterations in [1000, 10000] {
        plane.fractal.set_param("iterations", iterations as f64);
        let name = format!("mandelbrot-{}k", iterations / 1000);
        if !options.wants(&name) {
            continue;
        }
        progress(&name);
        let description = format!("Seahorse Valley at 5e-3, 1920x1080, {iterations} iterations");
        cases.push(still_case(
            renderer,
            &name,
            &description,
            &plane,
            scale(1920, 1080),
            runs,
            None,
        )?);
    }
    // Deep zoom by perturbation: beside minibrots at 1e-100 and 1e-300 (their interiors
    // run to the iteration limit), at 10k and 100k iterations.
    for (depth, period, zoom) in [("1e100", 85, "1e-100"), ("1e300", 251, "1e-300")] {
        if !["10k", "100k"]
            .iter()
            .any(|k| options.wants(&format!("deep-{depth}-{k}")))
        {
            continue;
        }
        let zoom = crate::deep::floatexp::FloatExp::parse(zoom).expect("a valid literal");
        let view = crate::deep::locations::minibrot(period, zoom, glam::DVec2::new(0.3, 0.1))
            .ok_or_else(|| {
                crate::error::Error::Gpu("no minibrot found for the deep bench".into())
            })?;
        for iterations in [10_000u32, 100_000] {
            let mut scene = plane.clone();
            scene.plane = view.clone();
            scene.fractal.set_param("iterations", iterations as f64);
            let name = format!("deep-{depth}-{}k", iterations / 1000);
            if !options.wants(&name) {
                continue;
            }
            progress(&name);
            let description = format!(
                "beside the period-{period} minibrot near -2, view {} tall, 1280x720, \
                 {iterations} iterations",
                view.zoom.to_decimal(2)
            );
            cases.push(still_case(
                renderer,
                &name,
                &description,
                &scene,
                scale(1280, 720),
                runs.min(3),
                None,
            )?);
        }
    }
    if options.wants("terrain-flyover") {
        progress("terrain-flyover");
        let terrain = crate::path::CameraPath::new(
            crate::path::PathFile::parse(
                "paths/terrain.toml",
                include_str!("../paths/terrain.toml"),
            )
            .expect("the terrain flight parses"),
        )
        .sample(6.0);
        cases.push(still_case(
            renderer,
            "terrain-flyover",
            "a frame of the low terrain flight (paths/terrain.toml at 6 s), 1280x720",
            &terrain,
            scale(1280, 720),
            runs,
            None,
        )?);
    }
    if options.wants("zoom-map") {
        progress("zoom-map");
        let (size, frames) = if quick {
            ((320, 180), 4)
        } else {
            ((1280, 720), 30)
        };
        cases.push(zoom_map_case(renderer, size, frames, runs.min(3))?);
    }
    #[cfg(feature = "video")]
    if options.wants("video-pipeline") {
        progress("video-pipeline");
        let (size, frames) = if quick {
            ((320, 180), 4)
        } else {
            ((1280, 720), 30)
        };
        cases.push(video_case(renderer, size, frames, runs.min(3))?);
    }
    let info = renderer.gpu().adapter_info();
    Ok(Report {
        schema: SCHEMA.into(),
        version: SCHEMA_VERSION,
        mandelfly_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: git_commit(),
        unix_time,
        quick,
        adapter: adapter_report(&info, renderer.gpu().timestamps),
        peak,
        cases,
    })
}

/// A readable table of a report.
pub fn format_table(r: &Report) -> String {
    let mut out = format!(
        "mandelfly {} bench{} on {} ({}, {}{})\n",
        r.mandelfly_version,
        if r.quick { " --quick" } else { "" },
        r.adapter.name,
        r.adapter.backend,
        r.adapter.device_type,
        if r.adapter.driver_info.is_empty() {
            String::new()
        } else {
            format!(", {}", r.adapter.driver_info)
        }
    );
    out += &format!(
        "peak: {:.1} GFLOP/s (FMA), {:.3e} distance estimates/s\n\n",
        r.peak.fma_gflops, r.peak.de_per_second
    );
    out += &format!(
        "{:<16} {:>10} {:>22} {:>22} {:>8} {:>8} {:>8} {:>10} {:>6}\n",
        "case",
        "size",
        "wall ms med/p90/min",
        "gpu ms med/p90/min",
        "MP/s",
        "fps",
        "DE/px",
        "DE/s",
        "eff"
    );
    let triple = |s: &Stats| format!("{:.1}/{:.1}/{:.1}", s.median, s.p90, s.min);
    for c in &r.cases {
        out += &format!(
            "{:<16} {:>10} {:>22} {:>22} {:>8.2} {:>8.2} {:>8} {:>10} {:>6}\n",
            c.name,
            format!("{}x{}", c.width, c.height),
            triple(&c.wall_ms),
            c.gpu_ms.as_ref().map_or("-".into(), triple),
            c.megapixels_per_second,
            c.frames_per_second,
            c.de_per_pixel.map_or("-".into(), |d| format!("{d:.1}")),
            c.de_per_second.map_or("-".into(), |d| format!("{d:.2e}")),
            c.efficiency
                .map_or("-".into(), |e| format!("{:.0}%", e * 100.0)),
        );
    }
    for c in &r.cases {
        if let (Some(map), Some(pixels)) = (c.map_samples, c.per_frame_pixels) {
            out += &format!(
                "{}: the whole flight's map computes {} samples instead of {} pixels rendering \
                 each frame ({:.1}x fewer)\n",
                c.name,
                crate::zoommap::plan::count(map),
                crate::zoommap::plan::count(pixels),
                pixels as f64 / map.max(1) as f64
            );
        }
    }
    out
}

/// One case compared with its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub case: String,
    pub figure: &'static str,
    pub baseline: f64,
    pub current: f64,
    /// Percent slower (negative: faster).
    pub slower_pct: f64,
    pub regressed: bool,
    /// Distance estimates per pixel in the baseline and now, where both counted them.
    pub de_per_pixel: Option<(f64, f64)>,
}

/// Compares the cases both reports have; a case is a regression when its time grew by more
/// than `max_regression_pct` percent.
pub fn compare(baseline: &Report, current: &Report, max_regression_pct: f64) -> Vec<Change> {
    current
        .cases
        .iter()
        .filter_map(|c| {
            let b = baseline.cases.iter().find(|b| b.name == c.name)?;
            let (now, before, figure) = c.primary_ms(b);
            let slower_pct = (now / before - 1.0) * 100.0;
            Some(Change {
                case: c.name.clone(),
                figure,
                baseline: before,
                current: now,
                slower_pct,
                regressed: slower_pct > max_regression_pct,
                de_per_pixel: b.de_per_pixel.zip(c.de_per_pixel),
            })
        })
        .collect()
}

/// [`compare`], refusing a baseline that shares no case with the run: an empty comparison
/// would pass whatever happened.
pub fn compare_all(
    baseline: &Report,
    current: &Report,
    max_regression_pct: f64,
) -> Result<Vec<Change>> {
    let changes = compare(baseline, current, max_regression_pct);
    if changes.is_empty() {
        return Err(Error::InvalidArgument(
            "the baseline has none of this run's cases; nothing to compare".into(),
        ));
    }
    Ok(changes)
}

/// Reads and checks a report written by `--json`.
pub fn read_report(path: &std::path::Path) -> Result<Report> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        Error::InvalidArgument(format!(
            "{}:{}:{}: not a mandelfly bench report: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    // Figures the comparison divides by: each must be a positive time.
    for c in &report.cases {
        let figures = [c.wall_ms.median, c.wall_ms.p90, c.wall_ms.min]
            .into_iter()
            .chain(c.gpu_ms.iter().flat_map(|g| [g.median, g.p90, g.min]));
        for v in figures {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::InvalidArgument(format!(
                    "{}: case \"{}\" has a time of {v} ms; times must be positive",
                    path.display(),
                    c.name.chars().take(60).collect::<String>()
                )));
            }
        }
    }
    if report.schema != SCHEMA || report.version != SCHEMA_VERSION {
        return Err(Error::InvalidArgument(format!(
            "{}: report schema {} version {}, this mandelfly reads {SCHEMA} version {SCHEMA_VERSION}",
            path.display(),
            report.schema,
            report.version
        )));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, wall: f64, gpu: Option<f64>) -> CaseReport {
        let stats = |v: f64| Stats {
            median: v,
            p90: v * 1.1,
            min: v * 0.9,
        };
        CaseReport {
            name: name.into(),
            description: String::new(),
            width: 100,
            height: 100,
            frames_per_run: 1,
            runs: 3,
            wall_ms: stats(wall),
            gpu_ms: gpu.map(stats),
            megapixels_per_second: 1.0,
            frames_per_second: 1.0,
            de_per_frame: None,
            de_per_pixel: None,
            de_per_second: None,
            efficiency: None,
            map_samples: None,
            per_frame_pixels: None,
        }
    }

    fn report(cases: Vec<CaseReport>) -> Report {
        Report {
            schema: SCHEMA.into(),
            version: SCHEMA_VERSION,
            mandelfly_version: "0".into(),
            git_commit: None,
            unix_time: 0,
            quick: false,
            adapter: AdapterReport {
                name: "test".into(),
                backend: "Vulkan".into(),
                device_type: "Cpu".into(),
                driver: String::new(),
                driver_info: String::new(),
                vendor: 0,
                device: 0,
                timestamps: true,
            },
            peak: Peak {
                fma_gflops: 1.0,
                de_per_second: 1.0,
            },
            cases,
        }
    }

    #[test]
    fn regressions_are_judged_on_gpu_time_where_both_have_it() {
        let base = report(vec![
            case("a", 100.0, Some(50.0)),
            case("b", 100.0, None),
            case("c", 100.0, Some(50.0)),
            case("gone", 1.0, None),
        ]);
        let now = report(vec![
            // Wall time doubled but GPU time only 4% slower: not a regression.
            case("a", 200.0, Some(52.0)),
            // No GPU time: wall time 20% slower.
            case("b", 120.0, None),
            // Faster.
            case("c", 90.0, Some(40.0)),
            case("new", 1.0, None),
        ]);
        let changes = compare(&base, &now, 10.0);
        assert_eq!(changes.len(), 3, "only cases in both");
        assert!(changes.iter().all(|c| c.de_per_pixel.is_none()));
        let a = &changes[0];
        assert_eq!((a.figure, a.regressed), ("gpu ms", false));
        assert!((a.slower_pct - 4.0).abs() < 1e-9);
        let b = &changes[1];
        assert_eq!((b.figure, b.regressed), ("wall ms", true));
        assert!((b.slower_pct - 20.0).abs() < 1e-9);
        assert!(changes[2].slower_pct < 0.0 && !changes[2].regressed);
        // A looser threshold lets b pass.
        assert!(compare(&base, &now, 25.0).iter().all(|c| !c.regressed));
    }

    #[test]
    fn comparisons_carry_the_work_per_pixel_where_both_counted_it() {
        let counted = |name, per_pixel| CaseReport {
            de_per_pixel: Some(per_pixel),
            ..case(name, 100.0, None)
        };
        let changes = compare(
            &report(vec![counted("a", 60.0), case("b", 1.0, None)]),
            &report(vec![counted("a", 20.0), counted("b", 5.0)]),
            10.0,
        );
        assert_eq!(changes[0].de_per_pixel, Some((60.0, 20.0)));
        assert_eq!(
            changes[1].de_per_pixel, None,
            "the baseline did not count b"
        );
        // Reports of builds before the field read as not counted.
        let mut json = serde_json::to_value(report(vec![counted("a", 1.0)])).unwrap();
        json["cases"][0]
            .as_object_mut()
            .unwrap()
            .remove("de_per_pixel");
        let old: Report = serde_json::from_value(json).unwrap();
        assert_eq!(old.cases[0].de_per_pixel, None);
    }

    #[test]
    fn case_names_are_checked() {
        let options = |names: &[&str]| Options {
            cases: names.iter().map(|n| n.to_string()).collect(),
            ..Options::default()
        };
        assert_eq!(options(&[]).steps(), 1 + CASES.len());
        assert_eq!(options(&["reference-720p", "terrain-flyover"]).steps(), 3);
        assert!(options(&["terrain-flyover"]).check().is_ok());
        let e = options(&["terrain"]).check().unwrap_err().to_string();
        assert!(
            e.contains("--case terrain") && e.contains("terrain-flyover"),
            "{e}"
        );
    }

    #[test]
    fn a_baseline_sharing_no_case_is_refused() {
        let run = report(vec![case("a", 1.0, None)]);
        let other = report(vec![case("b", 1.0, None)]);
        let e = compare_all(&other, &run, 10.0).unwrap_err().to_string();
        assert!(e.contains("none of this run's cases"), "{e}");
        assert_eq!(compare_all(&run, &run, 10.0).unwrap().len(), 1);
    }

    #[test]
    fn baselines_with_impossible_times_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.json");
        for (wall, gpu) in [(0.0, None), (-3.0, None), (1.0, Some(0.0))] {
            let r = report(vec![case("a", 1.0, None), case("b", wall, gpu)]);
            std::fs::write(&file, serde_json::to_string(&r).unwrap()).unwrap();
            let e = read_report(&file).unwrap_err().to_string();
            assert!(e.contains("b.json") && e.contains("\"b\""), "{e}");
        }
        let good = report(vec![case("a", 1.0, Some(0.5))]);
        std::fs::write(&file, serde_json::to_string(&good).unwrap()).unwrap();
        assert_eq!(read_report(&file).unwrap(), good);
    }

    #[test]
    fn reports_round_trip_through_json() {
        let r = report(vec![case("a", 1.0, Some(0.5))]);
        let json = serde_json::to_string(&r).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert!(format_table(&r).contains("a "));
    }

    #[test]
    fn stats() {
        let s = Stats::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.median, s.p90, s.min), (3.0, 5.0, 1.0));
        let s = Stats::of(&[1.0, 2.0]);
        assert_eq!((s.median, s.p90, s.min), (1.5, 2.0, 1.0));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(Stats::of(&ten).p90, 9.0);
    }
}
