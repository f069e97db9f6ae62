//! `mandelfly render`: a path to a video file, an image sequence or a shard's segment. This
//! module only turns arguments into a [`FramePlan`] and a sink; [`crate::flight::fly`] renders.
//! Ctrl-C or SIGTERM stops after the frames in hand; the output keeps every frame done so far.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::cli::{ImageFormat, MethodArg, RenderArgs};
use crate::error::{Error, Result};
use crate::flight::{self, FlightReport, FramePlan};
use crate::gpu::renderer::Renderer;
use crate::gpu::{GpuContext, GpuOptions};
use crate::path::{self, CameraPath};
use crate::sink::FrameSink;
use crate::sink::background::{Background, WorkerPriority};
use crate::sink::exr::{DataChannels, ExrSequence};
use crate::sink::png::{PngDepth, PngSequence};
use crate::zoommap::file::{MapHeader, MapReader, MapWriter};
use crate::zoommap::{self, Decision};

/// Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
    total: u64,
    start: Instant,
    last_line: Instant,
    recent: crate::report::RecentRate,
}

impl Progress {
    fn new(total: u64) -> Self {
        let quiet = crate::report::quiet();
        let bar = (std::io::stderr().is_terminal() && !quiet).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} frames  {elapsed}  {rate} fps  ETA {eta}",
                )
                .expect("valid template")
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&crate::report::rate(state.per_sec()));
                    },
                ),
            );
            bar
        });
        Progress {
            bar,
            quiet,
            total,
            start: Instant::now(),
            last_line: Instant::now(),
            recent: crate::report::RecentRate::new(20.0),
        }
    }

    fn frame_done(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        if self.quiet {
            return;
        }
        let elapsed = self.start.elapsed().as_secs_f64();
        let rate = self.recent.update(elapsed, done);
        if self.last_line.elapsed().as_secs_f64() >= 2.0 || done == self.total {
            self.last_line = Instant::now();
            use crate::report;
            eprintln!(
                "frame {done}/{}  {} elapsed  {} fps  ETA {}",
                self.total,
                report::duration(elapsed),
                report::rate(rate),
                report::duration(self.total.saturating_sub(done) as f64 / rate.max(1e-9))
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Set by Ctrl-C / SIGTERM (the handler is installed by `main` before any command starts).
fn stop_flag() -> &'static AtomicBool {
    crate::interrupt::cooperate()
}

pub fn run(args: &RenderArgs, gpu: &GpuOptions, verbose: bool) -> Result<()> {
    let camera_path = match &args.path {
        Some(file) => CameraPath::load(file)?,
        None => path::builtin(),
    };
    let fps = args.fps.unwrap_or(camera_path.file.output.fps);
    if !(fps > 0.0 && fps <= 1000.0) {
        return Err(Error::InvalidArgument(format!(
            "--fps must be in (0, 1000], got {fps}"
        )));
    }
    if !(0.0..=1.0).contains(&args.shutter) {
        return Err(Error::InvalidArgument(format!(
            "--shutter must be in [0, 1] (a fraction of the frame interval), got {}",
            args.shutter
        )));
    }
    let samples = args
        .samples
        .unwrap_or(if args.shutter > 0.0 { 8 } else { 1 });
    let max = crate::frame::MAX_SAMPLES;
    if samples == 0 || samples > max {
        return Err(Error::InvalidArgument(format!(
            "--samples must be 1 to {max}, got {samples}"
        )));
    }
    let [w, h] = camera_path.file.output.size;
    let (width, height) = args.size.unwrap_or((w, h));
    let count = camera_path.checked_frame_count(fps)?;
    let frames = match &args.frames {
        Some(r) => r.resolve(count).map_err(Error::InvalidArgument)?,
        None => 0..count,
    };
    let plan = FramePlan {
        path: &camera_path,
        fps,
        width,
        height,
        samples,
        shutter: args.shutter,
    };
    let (method, files) = if args.map_in.is_some() || args.map_out.is_some() {
        through_map_file(args, &plan)?
    } else {
        (
            zoommap::choose(args.method.into(), &plan)?,
            MapFiles::default(),
        )
    };
    if verbose {
        match &method {
            Decision::Frames(why) => eprintln!("method: frames ({why})"),
            Decision::Map(map, why) => eprintln!("method: map ({why})\n{}", map.describe()),
        }
    }
    #[cfg(feature = "video")]
    if let Some((index, count)) = args.shard {
        let shard = crate::sink::segments::Shard { index, count };
        return video::run_shard(args, &plan, shard, gpu, &method, files);
    }
    #[cfg(not(feature = "video"))]
    if args.shard.is_some() {
        return Err(Error::InvalidArgument(
            "--shard writes video segments: this build has no `video` feature".into(),
        ));
    }
    let output = args.output.clone().unwrap_or_else(default_output);

    #[cfg(feature = "video")]
    if crate::sink::video::is_video_path(&output) {
        return video::run(args, &plan, &output, frames, gpu, verbose, (&method, files));
    }
    if output.extension().is_some() && !output.is_dir() {
        return Err(Error::InvalidArgument(format!(
            "{}: not a video file name this build can write ({}) nor a directory for an image \
             sequence (e.g. -o frames/)",
            output.display(),
            if cfg!(feature = "video") {
                ".mp4, .mkv, .mov, .webm"
            } else {
                "built without the `video` feature"
            }
        )));
    }
    // The adapter first: a missing one fails before any file is made.
    let mut renderer = open_renderer(gpu, &method, &camera_path, files)?;
    let sequence: Box<dyn FrameSink + Send> = match args.format {
        ImageFormat::Png => Box::new(PngSequence::create(&output, PngDepth::Eight)?),
        ImageFormat::Png16 => Box::new(PngSequence::create(&output, PngDepth::Sixteen)?),
        ImageFormat::Exr => Box::new(ExrSequence::create(
            &output,
            DataChannels::for_plane(camera_path.file.base.fractal.is_plane()),
        )?),
    };
    // Encoding and writing each image overlaps the next frame's rendering.
    let priority = WorkerPriority::for_device(renderer.gpu().adapter_info().device_type);
    let mut sink: Box<dyn FrameSink> = Box::new(Background::new(sequence, &output, priority)?);
    let report = fly(&plan, &mut renderer, sink.as_mut(), frames.clone())?;
    let summary = format!(
        "{} ({}..{}) of {count} in {} ({width}x{height}, {fps} fps)",
        crate::report::frames(report.frames),
        frames.start,
        frames.start + report.frames,
        output.display()
    );
    if verbose {
        report_costs(&renderer, &report);
    }
    if report.interrupted {
        return Err(Error::Interrupted(summary));
    }
    crate::status!("wrote {summary}");
    finish_map(&mut renderer)
}

/// The zoom map files of a render: the one frames are assembled from (`--map-in`), the one
/// the map is kept in (`--map-out`).
#[derive(Default)]
struct MapFiles {
    input: Option<MapReader>,
    output: Option<std::path::PathBuf>,
}

/// The method of a render with `--map-in` or `--map-out`: the map, made to match the file's
/// where one is read (refused, naming the file, where it does not cover the path).
fn through_map_file(args: &RenderArgs, plan: &FramePlan<'_>) -> Result<(Decision, MapFiles)> {
    let flag = match (&args.map_in, &args.map_out) {
        (Some(file), _) => format!("--map-in {}", file.display()),
        (None, Some(file)) => format!("--map-out {}", file.display()),
        (None, None) => unreachable!("called with a map file"),
    };
    if args.method == MethodArg::Frames {
        return Err(Error::InvalidArgument(format!(
            "{flag} assembles frames from a zoom map: it does not go with --method frames"
        )));
    }
    if args.map_out.is_some() && args.shard.is_some() {
        return Err(Error::InvalidArgument(
            "--map-out does not go with --shard: every shard would compute the whole map; \
             write it once without --shard, then render the shards with --map-in"
                .into(),
        ));
    }
    let mut map = zoommap::plan::analyse(plan).map_err(|why| {
        Error::InvalidArgument(format!(
            "{flag}: this path cannot be rendered through the zoom map: {why}"
        ))
    })?;
    let fractal = plan.path.file.base.fractal.as_ref();
    let mut files = MapFiles::default();
    if let Some(file) = &args.map_in {
        let reader = MapReader::open(file)?;
        map.adopt(file, reader.header(), fractal)?;
        files.input = Some(reader);
    }
    files.output = args.map_out.clone();
    Ok((Decision::Map(Box::new(map), flag), files))
}

/// Completes the `--map-out` file after the last frame.
fn finish_map(renderer: &mut Renderer) -> Result<()> {
    if let Some(done) = renderer.finish_plane_source()? {
        crate::status!("{done}");
    }
    Ok(())
}

/// What making the frames cost, for `--verbose`.
fn report_costs(renderer: &Renderer, report: &FlightReport) {
    eprintln!("{}", report.times);
    if let Some(source) = renderer.plane_source() {
        eprintln!("{}", source.report());
    }
    if renderer.deep_stats().references > 0 {
        eprintln!("{}", renderer.deep_stats());
    }
}

/// Runs the flight loop with progress on stderr and Ctrl-C / SIGTERM as the stop request.
fn fly(
    plan: &FramePlan<'_>,
    renderer: &mut Renderer,
    sink: &mut dyn FrameSink,
    frames: std::ops::Range<u64>,
) -> Result<FlightReport> {
    let mut progress = Progress::new(frames.end.saturating_sub(frames.start));
    let stop = stop_flag();
    let report = flight::fly(plan, renderer, sink, frames, stop, &mut |done| {
        progress.frame_done(done)
    });
    progress.finish();
    report
}

fn default_output() -> PathBuf {
    PathBuf::from(if cfg!(feature = "video") {
        "mandelfly.mp4"
    } else {
        "frames/"
    })
}

/// The renderer, set to make plane frames through the zoom map where that was decided (from
/// and to the map files given).
fn open_renderer(
    gpu: &GpuOptions,
    method: &Decision,
    path: &CameraPath,
    files: MapFiles,
) -> Result<Renderer> {
    let context = GpuContext::new(gpu)?;
    // Always, once (unless --quiet): a silent fallback to a software driver shows in a farm's
    // logs.
    if !crate::report::quiet() {
        eprintln!(
            "adapter: {}",
            crate::commands::describe_adapter(&context.adapter_info())
        );
    }
    let mut renderer = Renderer::new(context);
    if let Decision::Map(map, _) = method {
        let mut assembler = zoommap::MapAssembler::new(renderer.gpu(), (**map).clone(), path)?;
        if let Some(reader) = files.input {
            assembler.read_from(reader);
        }
        if let Some(file) = &files.output {
            let header = MapHeader::of(map, path.file.base.fractal.as_ref());
            assembler.write_to(renderer.gpu(), MapWriter::create(file, header)?);
        }
        renderer.set_plane_source(Some(Box::new(assembler)));
    }
    Ok(renderer)
}

#[cfg(feature = "video")]
mod video {
    use std::path::Path;

    use super::*;
    use crate::cli::YuvArg;
    use crate::sink::segments::{self, Manifest, Shard, ShardSink};
    use crate::sink::video::{VideoCodec, VideoSettings, VideoSink};

    /// The settings a render's video uses, from the command line.
    fn settings(args: &RenderArgs, plan: &FramePlan<'_>) -> Result<VideoSettings> {
        let codec = VideoCodec::parse(&args.codec).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "unknown codec \"{}\"; use one of: {}",
                args.codec,
                VideoCodec::ALL.map(|c| c.name()).join(", ")
            ))
        })?;
        Ok(VideoSettings {
            width: plan.width,
            height: plan.height,
            fps: plan.fps,
            codec,
            crf: args.crf,
            preset: args.preset.clone(),
            bitrate: args.bitrate,
            pixel_format: args.pix_fmt.clone(),
            no_b_frames: args.shard.is_some(),
        })
    }

    /// One shard of a flight: its frames into `DIR/shard-I-of-N.mkv`, then the manifest.
    pub fn run_shard(
        args: &RenderArgs,
        plan: &FramePlan<'_>,
        shard: Shard,
        gpu: &GpuOptions,
        method: &Decision,
        files: MapFiles,
    ) -> Result<()> {
        let dir = args.output.clone().ok_or_else(|| {
            Error::InvalidArgument("--shard needs -o DIR/ (shared by every shard)".into())
        })?;
        if args.frames.is_some() {
            return Err(Error::InvalidArgument(
                "--shard and --frames do not go together: the shard chooses the frames".into(),
            ));
        }
        if dir.extension().is_some() && !dir.is_dir() {
            return Err(Error::InvalidArgument(format!(
                "{}: --shard writes segments into a directory (e.g. -o segments/)",
                dir.display()
            )));
        }
        let settings = settings(args, plan)?;
        let total = plan.frame_count();
        let frames = shard.frames(total);
        if frames.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "shard {}/{} has no frames: the flight has only {total}",
                shard.index, shard.count
            )));
        }
        let path_text = match &args.path {
            Some(p) => std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?,
            None => crate::path::BUILTIN.to_string(),
        };
        let render_hash = segments::render_hash(
            &path_text,
            &[
                ("size", format!("{}x{}", plan.width, plan.height)),
                ("fps", format!("{}", plan.fps)),
                ("samples", plan.samples.to_string()),
                ("shutter", format!("{}", plan.shutter)),
                ("yuv", format!("{:?}", args.yuv)),
            ],
        );
        let mut manifest = Manifest::planned(&dir, shard, total, render_hash, &settings);
        if segments::is_complete(&dir, &manifest) {
            crate::status!(
                "shard {}/{} (frames {}..{}) is already complete in {}",
                shard.index,
                shard.count,
                frames.start,
                frames.end,
                dir.display()
            );
            return Ok(());
        }
        // The adapter first: a missing one fails before any file is made.
        let mut renderer = open_renderer(gpu, method, plan.path, files)?;
        manifest.adapter = Some(renderer.gpu().adapter_info().name);
        let mut sink = ShardSink::create(&dir, manifest, &settings)?;
        if args.yuv == YuvArg::Cpu {
            sink.convert_on_cpu();
        }
        let report = fly(plan, &mut renderer, &mut sink, frames.clone())?;
        if report.interrupted {
            return Err(Error::Interrupted(format!(
                "shard {}/{}: {} holds {} of its {} frames and has no manifest, so concat \
                 will not take it; run the shard again",
                shard.index,
                shard.count,
                report.output.path.display(),
                report.output.frames,
                frames.end - frames.start
            )));
        }
        for leftover in segments::remove_leftovers(&dir, shard) {
            crate::status!("removed {}, left by an earlier run", leftover.display());
        }
        crate::status!(
            "wrote shard {}/{}: frames {}..{} of {total} in {}",
            shard.index,
            shard.count,
            frames.start,
            frames.end,
            report.output.path.display()
        );
        Ok(())
    }

    pub fn run(
        args: &RenderArgs,
        plan: &FramePlan<'_>,
        output: &Path,
        frames: std::ops::Range<u64>,
        gpu: &GpuOptions,
        verbose: bool,
        (method, files): (&Decision, MapFiles),
    ) -> Result<()> {
        let settings = settings(args, plan)?;
        // The adapter first: a missing one fails before any file is made.
        let mut renderer = open_renderer(gpu, method, plan.path, files)?;
        let mut sink = VideoSink::create(output, &settings)?;
        if args.yuv == YuvArg::Cpu {
            sink.convert_on_cpu();
        }
        let start = Instant::now();
        let report = fly(plan, &mut renderer, &mut sink, frames.clone())?;
        if report.interrupted && report.frames == 0 {
            return Err(Error::Interrupted(
                "before the first frame; nothing was written".into(),
            ));
        }
        let summary = format!(
            "{} holds {} ({}..{} of {}; {}x{}, {} fps, {}, {})",
            report.output.path.display(),
            crate::report::frames(report.output.frames),
            frames.start,
            frames.start + report.frames,
            plan.frame_count(),
            plan.width,
            plan.height,
            plan.fps,
            settings.codec.name(),
            settings.pixel_format_name(),
        );
        if verbose {
            let seconds = start.elapsed().as_secs_f64();
            eprintln!(
                "{} frames in {seconds:.2} s ({:.2} fps)",
                report.frames,
                report.frames as f64 / seconds
            );
            report_costs(&renderer, &report);
        }
        if report.interrupted {
            return Err(Error::Interrupted(format!(
                "{summary}, finalised and playable"
            )));
        }
        crate::status!("wrote {summary}");
        finish_map(&mut renderer)
    }
}
