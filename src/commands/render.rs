//! `mandelfly render`: a path to a PNG sequence, frame k at time k / fps.

use std::path::Path;
use std::time::Instant;

use crate::cli::RenderArgs;
use crate::error::{Error, Result};
use crate::gpu::renderer::{Passes, Renderer};
use crate::gpu::{GpuContext, GpuOptions};
use crate::path::{self, CameraPath};
use crate::sink::png::{self, AtomicFile};

/// File name of frame k in a sequence.
pub fn frame_file_name(k: u64) -> String {
    format!("frame_{k:05}.png")
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
    let [w, h] = camera_path.file.output.size;
    let (width, height) = args.size.unwrap_or((w, h));
    let count = camera_path.frame_count(fps);
    let frames = match &args.frames {
        Some(r) => r.resolve(count).map_err(Error::InvalidArgument)?,
        None => 0..count,
    };
    let dir = &args.output;
    if dir.extension().is_some() && !dir.is_dir() {
        return Err(Error::InvalidArgument(format!(
            "{}: `render` writes a PNG sequence into a directory (e.g. -o frames/)",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;

    let context = GpuContext::new(gpu)?;
    if verbose {
        eprintln!(
            "adapter: {}",
            crate::commands::describe_adapter(&context.adapter_info())
        );
    }
    let mut renderer = Renderer::new(context);
    render_sequence(
        &camera_path,
        &mut renderer,
        dir,
        frames.clone(),
        fps,
        (width, height),
    )?;
    println!(
        "wrote {} frames ({}..{}) of {count} to {} ({width}x{height}, {fps} fps)",
        frames.end - frames.start,
        frames.start,
        frames.end,
        dir.display()
    );
    Ok(())
}

/// Renders frames `frames` of a path into `dir`, each written atomically, with a progress
/// line on stderr about once a second.
pub fn render_sequence(
    camera_path: &CameraPath,
    renderer: &mut Renderer,
    dir: &Path,
    frames: std::ops::Range<u64>,
    fps: f64,
    (width, height): (u32, u32),
) -> Result<()> {
    let start = Instant::now();
    let mut last_report = start;
    let total = frames.end - frames.start;
    for (done, k) in frames.enumerate() {
        let scene = camera_path.sample(k as f64 / fps);
        let file = AtomicFile::create(&dir.join(frame_file_name(k)))?;
        let frame = renderer.render(&scene, width, height, Passes::COLOR)?;
        png::write_color(file, width, height, &frame.color)?;
        if last_report.elapsed().as_secs_f64() >= 1.0 || done as u64 + 1 == total {
            last_report = Instant::now();
            let elapsed = start.elapsed().as_secs_f64();
            let rate = (done + 1) as f64 / elapsed;
            eprintln!(
                "frame {}/{total}  {rate:.2} fps  ETA {:.0} s",
                done + 1,
                (total - done as u64 - 1) as f64 / rate
            );
        }
    }
    Ok(())
}
