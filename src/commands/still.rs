//! `mandelfly still`: one frame of a scene to a PNG (8 or 16 bits) or an OpenEXR file.

use std::path::PathBuf;
use std::time::Instant;

use crate::cli::{ImageFormat, PassArg, StillArgs};
use crate::error::{Error, Result};
use crate::frame::{ColorFormat, Readout, Sample, sample_jitter};
use crate::gpu::renderer::Renderer;
use crate::gpu::{GpuContext, GpuOptions};
use crate::path::{SceneSource, load_scene_or_path};
use crate::scene::Scene;
use crate::sink::exr::{self, DataChannels};
use crate::sink::png::{self, AtomicFile};

/// Samples per pixel of a colour still unless `--samples` says otherwise: enough to smooth edges
/// and fine fractal detail (4 jittered samples, averaged in linear light), a first image worth
/// keeping.
pub const STILL_SAMPLES: u32 = 4;

pub fn run(args: &StillArgs, gpu: &GpuOptions, verbose: bool) -> Result<()> {
    let (mut scene, default_size) = match &args.scene {
        None => (Scene::empty(), (1280, 720)),
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
    if scene.fractal.is_plane()
        && (args.camera_pos.is_some() || args.look_at.is_some() || args.fov.is_some())
    {
        return Err(Error::InvalidArgument(format!(
            "--camera-pos, --look-at and --fov set a 3D camera, but {} is a plane kind: set \
             its view with [camera] center, zoom and rotation",
            scene.fractal.kind()
        )));
    }
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
        // Named after the scene file (seahorse.toml -> seahorse.png), else after the kind.
        let stem = args
            .scene
            .as_ref()
            .and_then(|f| f.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| scene.fractal.kind().to_string());
        PathBuf::from(match args.pass {
            PassArg::Color => format!("{stem}.png"),
            PassArg::Depth => format!("{stem}-depth.png"),
        })
    });
    let max = crate::frame::MAX_SAMPLES;
    let sample_count = args.samples.unwrap_or(match args.pass {
        PassArg::Color => STILL_SAMPLES,
        PassArg::Depth => 1,
    });
    if sample_count == 0 || sample_count > max {
        return Err(Error::InvalidArgument(format!(
            "--samples must be 1 to {max}, got {sample_count}"
        )));
    }
    if sample_count > 1 && args.pass == PassArg::Depth {
        return Err(Error::InvalidArgument(
            "--samples applies to the colour pass; the depth pass is one sample per pixel".into(),
        ));
    }
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
    // Always, once (unless --quiet): a silent fallback to a software driver shows in a farm's
    // logs.
    if !crate::report::quiet() {
        eprintln!(
            "adapter: {}",
            crate::commands::describe_adapter(&context.adapter_info())
        );
    }
    let mut renderer = Renderer::new(context);
    // Verbose runs say what the frame cost in distance estimates too.
    renderer.set_counting(verbose);
    let (width, height) = args.size.unwrap_or(default_size);
    let readout = match (args.pass, format) {
        (PassArg::Depth, _) => Readout::DEPTH,
        (PassArg::Color, ImageFormat::Png) => Readout::COLOR,
        (PassArg::Color, ImageFormat::Png16) => Readout::color(ColorFormat::Srgb16),
        (PassArg::Color, ImageFormat::Exr) => exr::READOUT,
    };
    let start = Instant::now();
    let samples: Vec<Sample<'_>> = (0..sample_count)
        .map(|i| Sample {
            scene: &scene,
            jitter: sample_jitter(i, sample_count),
        })
        .collect();
    let frame = renderer.render_samples(&samples, width, height, readout)?;
    if verbose {
        eprintln!(
            "frame {width}x{height}: {:.1} ms wall (including shader compilation), GPU time {}",
            start.elapsed().as_secs_f64() * 1e3,
            frame.gpu_time.map_or(
                "not available (no timestamp queries)".to_string(),
                |t| format!("{:.1} ms", t.as_secs_f64() * 1e3)
            )
        );
        if let Some(n) = frame.de_evaluations {
            let what = if scene.fractal.is_plane() {
                "escape-time evaluations"
            } else {
                "distance estimates"
            };
            eprintln!(
                "{what}: {n} ({:.1} per pixel)",
                n as f64 / (width as f64 * height as f64)
            );
        }
        if renderer.deep_stats().references > 0 {
            eprintln!("{}", renderer.deep_stats());
        }
    }
    let bytes = match args.pass {
        PassArg::Color => match format {
            ImageFormat::Png => png::encode_color(&output, width, height, &frame.color)?,
            ImageFormat::Png16 => png::encode_color16(&output, width, height, &frame.color16)?,
            ImageFormat::Exr => {
                exr::encode(&frame, DataChannels::for_plane(scene.fractal.is_plane())).map_err(
                    |message| Error::Encode {
                        path: output.clone(),
                        message,
                    },
                )?
            }
        },
        PassArg::Depth => {
            let depth_max = args.depth_max.unwrap_or_else(|| {
                // Plane kinds keep the scale they always had: their set lies within radius 2.
                let radius = scene.fractal.volume().map_or(2.0, |v| v.bounding_radius());
                scene.camera.position.length() + radius
            });
            crate::status!(
                "depth scale: grey = round(65535 * distance / {depth_max}), 0 = no surface"
            );
            png::encode_depth(&output, width, height, &frame.depth, depth_max)?
        }
    };
    // Never silently replace a different image (a re-run that gives the same one is fine).
    if !args.force
        && let Ok(existing) = std::fs::read(&output)
    {
        if existing == bytes {
            crate::status!("{} is unchanged ({width}x{height})", output.display());
            return Ok(());
        }
        return Err(Error::InvalidArgument(format!(
            "{} exists and differs from this image; pass --force to replace it, or -o to \
             write elsewhere",
            output.display()
        )));
    }
    file.commit(|w| w.write_all(&bytes).map_err(|e| Error::io(&output, e)))?;
    crate::status!("wrote {} ({width}x{height})", output.display());
    Ok(())
}
