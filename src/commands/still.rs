//! `mandelfly still`: one frame of a scene to a PNG.

use std::path::PathBuf;
use std::time::Instant;

use crate::cli::{PassArg, StillArgs};
use crate::error::{Error, Result};
use crate::gpu::renderer::{Passes, Renderer};
use crate::gpu::{GpuContext, GpuOptions};
use crate::path::{SceneSource, load_scene_or_path};
use crate::scene::Scene;
use crate::sink::png::{self, AtomicFile};

pub fn run(args: &StillArgs, gpu: &GpuOptions, verbose: bool) -> Result<()> {
    let (mut scene, default_size) = match &args.scene {
        None => (Scene::reference(), (1280, 720)),
        Some(file) => match load_scene_or_path(file)? {
            SceneSource::Scene(scene) => (*scene, (1280, 720)),
            SceneSource::Path(path) => {
                if !(args.time.is_finite() && args.time >= 0.0) {
                    return Err(Error::InvalidArgument(format!(
                        "--time must be a non-negative number of seconds, got {}",
                        args.time
                    )));
                }
                let [w, h] = path.file.output.size;
                (path.sample(args.time), (w, h))
            }
        },
    };
    if let Some(p) = args.camera_pos {
        scene.camera.position = p;
    }
    if let Some(p) = args.look_at {
        scene.camera.look_at = p;
    }
    if let Some(fov) = args.fov {
        scene.camera.fov = fov;
    }
    scene
        .camera
        .validate()
        .map_err(|e| Error::InvalidArgument(format!("camera: {}", e.message)))?;

    let output = args.output.clone().unwrap_or_else(|| {
        let kind = scene.fractal.kind();
        PathBuf::from(match args.pass {
            PassArg::Color => format!("{kind}.png"),
            PassArg::Depth => format!("{kind}-depth.png"),
        })
    });
    let is_png = output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !is_png {
        return Err(Error::InvalidArgument(format!(
            "{}: the output of `still` must be a .png file",
            output.display()
        )));
    }
    if let Some(d) = args.depth_max
        && !(d > 0.0 && d.is_finite())
    {
        return Err(Error::InvalidArgument(format!(
            "--depth-max must be a positive distance, got {d}"
        )));
    }
    // Fail on an unwritable destination before rendering, not after.
    let file = AtomicFile::create(&output)?;

    let context = GpuContext::new(gpu)?;
    // Always, once: a silent fallback to a software driver shows in a farm's logs.
    eprintln!(
        "adapter: {}",
        crate::commands::describe_adapter(&context.adapter_info())
    );
    let mut renderer = Renderer::new(context);
    let (width, height) = args.size.unwrap_or(default_size);
    let passes = match args.pass {
        PassArg::Color => Passes::COLOR,
        PassArg::Depth => Passes::DEPTH,
    };
    let start = Instant::now();
    let frame = renderer.render(&scene, width, height, passes)?;
    if verbose {
        eprintln!(
            "frame {width}x{height}: {:.1} ms wall (including shader compilation), GPU time {}",
            start.elapsed().as_secs_f64() * 1e3,
            frame.gpu_time.map_or(
                "not available (no timestamp queries)".to_string(),
                |t| format!("{:.1} ms", t.as_secs_f64() * 1e3)
            )
        );
        if renderer.deep_stats().references > 0 {
            eprintln!("{}", renderer.deep_stats());
        }
    }
    match args.pass {
        PassArg::Color => png::write_color(file, width, height, &frame.color)?,
        PassArg::Depth => {
            let depth_max = args.depth_max.unwrap_or_else(|| {
                scene.camera.position.length() + scene.fractal.bounding_radius()
            });
            png::write_depth(file, width, height, &frame.depth, depth_max)?;
            println!("depth scale: grey = round(65535 * distance / {depth_max}), 0 = no surface");
        }
    }
    println!("wrote {} ({width}x{height})", output.display());
    Ok(())
}
