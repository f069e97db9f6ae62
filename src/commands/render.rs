//! `mandelfly render`: a path to a video file or a PNG sequence; frame k is at time k / fps.
//!
//! Video is pipelined: the GPU renders frame k+1 while frame k is read back and frames before
//! it are converted and encoded on the encoder thread. Ctrl-C or SIGTERM stops after the frame
//! in hand; the video is finalised with every frame done so far.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::cli::RenderArgs;
use crate::error::{Error, Result};
use crate::gpu::renderer::{Passes, Renderer, Sample, sample_jitter};
use crate::gpu::{GpuContext, GpuOptions};
use crate::path::{self, CameraPath};
use crate::scene::Scene;
use crate::sink::png::{self, AtomicFile};

/// File name of frame k in a sequence.
pub fn frame_file_name(k: u64) -> String {
    format!("frame_{k:05}.png")
}

/// What every frame of a render shares.
pub struct FramePlan<'a> {
    pub path: &'a CameraPath,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    pub samples: u32,
    pub shutter: f64,
}

impl FramePlan<'_> {
    /// The scenes of frame k's samples: spread over the shutter interval (centred on k / fps)
    /// for motion blur, each with its own sub-pixel offset.
    pub fn scenes(&self, k: u64) -> Vec<(Scene, [f32; 2])> {
        let t = k as f64 / self.fps;
        let n = self.samples;
        (0..n)
            .map(|i| {
                let mut ti = t;
                if self.shutter > 0.0 && n > 1 {
                    ti += self.shutter / self.fps * ((i as f64 + 0.5) / n as f64 - 0.5);
                }
                if !self.path.is_loop() {
                    ti = ti.clamp(0.0, self.path.duration());
                }
                (self.path.sample(ti), sample_jitter(i, n))
            })
            .collect()
    }
}

fn as_samples(scenes: &[(Scene, [f32; 2])]) -> Vec<Sample<'_>> {
    scenes
        .iter()
        .map(|(scene, jitter)| Sample {
            scene,
            jitter: *jitter,
        })
        .collect()
}

/// Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    start: Instant,
    last_line: Instant,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} frames  {per_sec}  ETA {eta}",
                )
                .expect("valid template"),
            );
            bar
        });
        Progress {
            bar,
            total,
            start: Instant::now(),
            last_line: Instant::now(),
        }
    }

    fn frame_done(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        if self.last_line.elapsed().as_secs_f64() >= 2.0 || done == self.total {
            self.last_line = Instant::now();
            let rate = done as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "frame {done}/{}  {rate:.2} fps  ETA {:.0} s",
                self.total,
                (self.total - done) as f64 / rate.max(1e-9)
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Set by Ctrl-C / SIGTERM.
fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    // Only one handler per process; a second render in the same process keeps the first.
    let _ = ctrlc::set_handler(move || handler_flag.store(true, Ordering::SeqCst));
    flag
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
    let max = crate::gpu::renderer::MAX_SAMPLES;
    if samples == 0 || samples > max {
        return Err(Error::InvalidArgument(format!(
            "--samples must be 1 to {max}, got {samples}"
        )));
    }
    let [w, h] = camera_path.file.output.size;
    let (width, height) = args.size.unwrap_or((w, h));
    let count = camera_path.frame_count(fps);
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
    #[cfg(feature = "video")]
    if let Some((index, count)) = args.shard {
        let shard = crate::sink::segments::Shard { index, count };
        return video::run_shard(args, &plan, shard, gpu);
    }
    // Only the video paths report more with --verbose.
    #[cfg(not(feature = "video"))]
    let _ = verbose;
    #[cfg(not(feature = "video"))]
    if args.shard.is_some() {
        return Err(Error::InvalidArgument(
            "--shard writes video segments: this build has no `video` feature".into(),
        ));
    }
    let output = args.output.clone().unwrap_or_else(default_output);

    #[cfg(feature = "video")]
    if crate::sink::video::is_video_path(&output) {
        return video::run(args, &plan, &output, frames, count, gpu, verbose);
    }
    if output.extension().is_some() && !output.is_dir() {
        return Err(Error::InvalidArgument(format!(
            "{}: not a video file name this build can write ({}) nor a directory for a PNG \
             sequence (e.g. -o frames/)",
            output.display(),
            if cfg!(feature = "video") {
                ".mp4, .mkv, .mov, .webm"
            } else {
                "built without the `video` feature"
            }
        )));
    }
    let mut renderer = open_renderer(gpu)?;
    std::fs::create_dir_all(&output).map_err(|e| Error::io(&output, e))?;
    let stop = stop_flag();
    let done = render_sequence(&plan, &mut renderer, &output, frames.clone(), &stop)?;
    let summary = format!(
        "{done} frames ({}..{}) of {count} in {} ({width}x{height}, {fps} fps)",
        frames.start,
        frames.start + done,
        output.display()
    );
    if done < frames.end - frames.start {
        return Err(Error::Interrupted(summary));
    }
    println!("wrote {summary}");
    Ok(())
}

fn default_output() -> PathBuf {
    PathBuf::from(if cfg!(feature = "video") {
        "mandelfly.mp4"
    } else {
        "frames/"
    })
}

fn open_renderer(gpu: &GpuOptions) -> Result<Renderer> {
    let context = GpuContext::new(gpu)?;
    // Always, once: a silent fallback to a software driver shows in a farm's logs.
    eprintln!(
        "adapter: {}",
        crate::commands::describe_adapter(&context.adapter_info())
    );
    Ok(Renderer::new(context))
}

/// Renders frames of a path into `dir`, each written atomically. Returns the frames written
/// (fewer than asked when stopped).
pub fn render_sequence(
    plan: &FramePlan<'_>,
    renderer: &mut Renderer,
    dir: &Path,
    frames: std::ops::Range<u64>,
    stop: &AtomicBool,
) -> Result<u64> {
    let mut progress = Progress::new(frames.end - frames.start);
    let mut done = 0;
    for k in frames {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let scenes = plan.scenes(k);
        let file = AtomicFile::create(&dir.join(frame_file_name(k)))?;
        let frame = renderer.render_samples(
            &as_samples(&scenes),
            plan.width,
            plan.height,
            Passes::COLOR,
        )?;
        png::write_color(file, plan.width, plan.height, &frame.color)?;
        done += 1;
        progress.frame_done(done);
    }
    progress.finish();
    Ok(done)
}

#[cfg(feature = "video")]
pub mod video {
    use std::collections::VecDeque;

    use super::*;
    use crate::cli::YuvArg;
    use crate::gpu::renderer::Readback;
    use crate::sink::segments::{self, EncoderConfig, Manifest, Shard};
    use crate::sink::video::{FrameData, VideoCodec, VideoSettings, VideoSink};

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

    fn readback_for(args: &RenderArgs, settings: &VideoSettings) -> Readback {
        // Colour conversion on the GPU where it can produce the pixel format (see README for
        // the measurement behind the default), else swscale on the encoder thread.
        match (args.yuv, settings.gpu_yuv_layout()) {
            (YuvArg::Gpu, Some(layout)) => Readback::Yuv(layout),
            _ => Readback::Rgba,
        }
    }

    /// One shard of a flight: its frames into `DIR/shard-I-of-N.mkv`, then the manifest.
    pub fn run_shard(
        args: &RenderArgs,
        plan: &FramePlan<'_>,
        shard: Shard,
        gpu: &GpuOptions,
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
        let total = plan.path.frame_count(plan.fps);
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
        let segment = segments::segment_path(&dir, shard);
        let mut manifest = Manifest {
            version: segments::MANIFEST_VERSION,
            mandelfly_version: env!("CARGO_PKG_VERSION").into(),
            shard: shard.index,
            shards: shard.count,
            first_frame: frames.start,
            end_frame: frames.end,
            total_frames: total,
            render_hash,
            encoder: EncoderConfig::of(&settings),
            segment: segment
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned(),
            segment_bytes: 0,
            adapter: None,
        };
        if segments::is_complete(&dir, &manifest) {
            println!(
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
        let mut renderer = open_renderer(gpu)?;
        manifest.adapter = Some(renderer.gpu().adapter_info().name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut sink = VideoSink::create(&segment, &settings)?;
        let stop = stop_flag();
        let readback = readback_for(args, &settings);
        let done = render_into(
            plan,
            &mut renderer,
            &mut sink,
            frames.clone(),
            &stop,
            readback,
        )?;
        if done < frames.end - frames.start {
            let kept = sink.finish_interrupted()?;
            return Err(Error::Interrupted(format!(
                "shard {}/{}: {} holds {} of its {} frames and has no manifest, so concat \
                 will not take it; run the shard again",
                shard.index,
                shard.count,
                kept.path.display(),
                kept.frames,
                frames.end - frames.start
            )));
        }
        let written = sink.finish()?;
        manifest.segment_bytes = std::fs::metadata(&written.path)
            .map_err(|e| Error::io(&written.path, e))?
            .len();
        segments::write_manifest(&dir, &manifest)?;
        for leftover in segments::remove_leftovers(&dir, shard) {
            println!("removed {}, left by an earlier run", leftover.display());
        }
        println!(
            "wrote shard {}/{}: frames {}..{} of {total} in {}",
            shard.index,
            shard.count,
            frames.start,
            frames.end,
            written.path.display()
        );
        Ok(())
    }

    pub fn run(
        args: &RenderArgs,
        plan: &FramePlan<'_>,
        output: &Path,
        frames: std::ops::Range<u64>,
        count: u64,
        gpu: &GpuOptions,
        verbose: bool,
    ) -> Result<()> {
        let settings = settings(args, plan)?;
        let codec = settings.codec;
        let mut sink = VideoSink::create(output, &settings)?;
        let mut renderer = open_renderer(gpu)?;
        let stop = stop_flag();
        let start = Instant::now();
        let readback = readback_for(args, &settings);
        let done = render_into(
            plan,
            &mut renderer,
            &mut sink,
            frames.clone(),
            &stop,
            readback,
        )?;
        let interrupted = done < frames.end - frames.start;
        let written = if interrupted {
            sink.finish_interrupted()?
        } else {
            sink.finish()?
        };
        let summary = format!(
            "{} holds {} frames ({}..{} of {count}; {}x{}, {} fps, {}, {})",
            written.path.display(),
            written.frames,
            frames.start,
            frames.start + done,
            plan.width,
            plan.height,
            plan.fps,
            codec.name(),
            settings.pixel_format_name(),
        );
        if verbose {
            eprintln!(
                "{done} frames in {:.2} s ({:.2} fps)",
                start.elapsed().as_secs_f64(),
                done as f64 / start.elapsed().as_secs_f64()
            );
            if renderer.deep_stats().references > 0 {
                eprintln!("{}", renderer.deep_stats());
            }
        }
        if interrupted {
            return Err(Error::Interrupted(format!(
                "{summary}, finalised and playable"
            )));
        }
        println!("wrote {summary}");
        Ok(())
    }

    /// The pipelined loop: submit frame k+1 before reading frame k back; the encoder thread
    /// takes frames from a bounded queue.
    pub fn render_into(
        plan: &FramePlan<'_>,
        renderer: &mut Renderer,
        sink: &mut VideoSink,
        frames: std::ops::Range<u64>,
        stop: &AtomicBool,
        readback: Readback,
    ) -> Result<u64> {
        let mut progress = Progress::new(frames.end - frames.start);
        let single = renderer.max_single_tile(plan.samples);
        let pipelined = plan.width <= single && plan.height <= single;
        let mut in_flight = VecDeque::new();
        let mut done = 0;
        let mut deliver = |frame: crate::gpu::renderer::Frame, done: &mut u64| -> Result<()> {
            sink.push(match readback {
                Readback::Yuv(layout) if !frame.yuv.is_empty() => FrameData::Yuv(frame.yuv, layout),
                _ => FrameData::Rgba(frame.color),
            })?;
            *done += 1;
            progress.frame_done(*done);
            Ok(())
        };
        for k in frames {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let scenes = plan.scenes(k);
            let samples = as_samples(&scenes);
            if pipelined {
                in_flight.push_back(renderer.submit(
                    &samples,
                    plan.width,
                    plan.height,
                    readback,
                )?);
                if in_flight.len() >= 2 {
                    let frame = renderer.collect(in_flight.pop_front().expect("two in flight"))?;
                    deliver(frame, &mut done)?;
                }
            } else {
                let frame =
                    renderer.render_samples(&samples, plan.width, plan.height, Passes::COLOR)?;
                deliver(frame, &mut done)?;
            }
        }
        // Frames already on the GPU are finished even when stopping: they are nearly done.
        while let Some(pending) = in_flight.pop_front() {
            let frame = renderer.collect(pending)?;
            deliver(frame, &mut done)?;
        }
        Ok(done)
    }
}
