//! `mandelfly still`: one frame of a scene to a PNG (8 or 16 bits) or an OpenEXR file.

use std::path::PathBuf;
use std::time::Instant;

use crate::cli::{ImageFormat, PassArg, StillArgs};
use crate::error::{Error, Result};
use crate::frame::{ColorFormat, Readout};
use crate::gpu::renderer::Renderer;
use crate::gpu::{GpuContext, GpuOptions};
use crate::path::{SceneSource, load_scene_or_path};
use crate::scene::Scene;
use crate::sink::exr::{self, DataChannels};
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
    let extension = output
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let format = match (args.format, extension.as_deref()) {
        (Some(ImageFormat::Exr), Some("exr")) | (None, Some("exr")) => ImageFormat::Exr,
        (Some(f @ (ImageFormat::Png | ImageFormat::Png16)), Some("png")) => f,
        (None, Some("png")) => ImageFormat::Png,
        _ => {
            return Err(Error::InvalidArgument(format!(
                "{}: the output of `still` must be a .png file (--format png or png16) or an \
                 .exr file (--format exr)",
                output.display()
            )));
        }
    };
    if args.pass == PassArg::Depth && format != ImageFormat::Png {
        return Err(Error::InvalidArgument(
            "--pass depth writes a 16-bit grey PNG; an .exr output carries depth as its Z \
             channel already"
                .into(),
        ));
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
    if verbose {
        eprintln!(
            "adapter: {}",
            crate::commands::describe_adapter(&context.adapter_info())
        );
    }
    let mut renderer = Renderer::new(context);
    let (width, height) = args.size.unwrap_or(default_size);
    let readout = match (args.pass, format) {
        (PassArg::Depth, _) => Readout::DEPTH,
        (PassArg::Color, ImageFormat::Png) => Readout::COLOR,
        (PassArg::Color, ImageFormat::Png16) => Readout::color(ColorFormat::Srgb16),
        (PassArg::Color, ImageFormat::Exr) => exr::READOUT,
    };
    let start = Instant::now();
    let frame = renderer.render(&scene, width, height, readout)?;
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
        PassArg::Color => match format {
            ImageFormat::Png => png::write_color(file, width, height, &frame.color)?,
            ImageFormat::Png16 => png::write_color16(file, width, height, &frame.color16)?,
            ImageFormat::Exr => exr::write(
                file,
                &frame,
                DataChannels::for_plane(scene.fractal.is_plane()),
            )?,
        },
        PassArg::Depth => {
            let depth_max = args.depth_max.unwrap_or_else(|| {
                // Plane kinds keep the scale they always had: their set lies within radius 2.
                let radius = scene.fractal.volume().map_or(2.0, |v| v.bounding_radius());
                scene.camera.position.length() + radius
            });
            png::write_depth(file, width, height, &frame.depth, depth_max)?;
            println!("depth scale: grey = round(65535 * distance / {depth_max}), 0 = no surface");
        }
    }
    println!("wrote {} ({width}x{height})", output.display());
    Ok(())
}
