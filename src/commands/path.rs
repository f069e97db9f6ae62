//! `mandelfly path ...`: check, sample, preview and import-gltf.

use std::io::Write;

use crate::cli::PathCommand;
use crate::error::{Error, Result};
use crate::gpu::renderer::Renderer;
use crate::gpu::{GpuContext, GpuOptions};
use crate::path::{self, CameraPath};
use crate::sink::png::AtomicFile;

pub fn run(command: &PathCommand, gpu: &GpuOptions) -> Result<()> {
    match command {
        PathCommand::Check { path, fps } => {
            let camera_path = CameraPath::load(path)?;
            let fps = checked_fps(fps.unwrap_or(camera_path.file.output.fps))?;
            let s = path::check::summarise(&camera_path, fps);
            let f = &camera_path.file;
            println!("path: {}", path.display());
            println!(
                "keys: {}, timing: {}, loop: {}",
                s.keys,
                match f.timing {
                    path::file::Timing::Keys => "keys",
                    path::file::Timing::ConstantSpeed => "constant-speed",
                    path::file::Timing::ScaleAware => "scale-aware",
                },
                if f.looped { "yes" } else { "no" }
            );
            println!(
                "duration: {:.3} s, {} frames at {fps} fps ({}x{})",
                s.duration, s.frames, f.output.size[0], f.output.size[1]
            );
            if f.base.fractal.is_plane() {
                let (a, b) = (
                    camera_path.sample(0.0).plane,
                    camera_path.sample(s.duration).plane,
                );
                println!("zoom: {:e} to {:e} (view height)", a.zoom, b.zoom);
            } else {
                println!("length: {:.4} units", s.length);
                println!(
                    "closest approach to the surface: {:.6} at t = {:.2} s",
                    s.closest.0, s.closest.1
                );
            }
            if !s.animated.is_empty() {
                println!("animated parameters: {}", s.animated.join(", "));
            }
            for w in &s.warnings {
                println!("warning: {w}");
            }
            Ok(())
        }
        PathCommand::Sample { path, fps, output } => {
            let camera_path = CameraPath::load(path)?;
            let fps = checked_fps(fps.unwrap_or(camera_path.file.output.fps))?;
            let csv = sample_csv(&camera_path, fps);
            match output {
                None => std::io::stdout()
                    .write_all(csv.as_bytes())
                    .map_err(|e| Error::io("<stdout>", e)),
                Some(out) => AtomicFile::create(out)?
                    .commit(|w| w.write_all(csv.as_bytes()).map_err(|e| Error::io(out, e))),
            }
        }
        PathCommand::Preview { path, output, size } => {
            let camera_path = CameraPath::load(path)?;
            let file = AtomicFile::create(output)?;
            let mut renderer = Renderer::new(GpuContext::new(gpu)?);
            let rgb = crate::preview::draw(&camera_path, &mut renderer, size.0, size.1)?;
            crate::sink::png::write_rgb(file, size.0, size.1, &rgb)?;
            println!("wrote {}", output.display());
            Ok(())
        }
        PathCommand::ImportGltf { file, output } => {
            let camera = path::gltf::import(file)?;
            let name = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let text = path::gltf::to_path_toml(&camera, &name);
            // The result must be a path mandelfly reads.
            path::PathFile::parse(&output.display().to_string(), &text)?;
            AtomicFile::create(output)?.commit(|w| {
                w.write_all(text.as_bytes())
                    .map_err(|e| Error::io(output, e))
            })?;
            println!(
                "wrote {} ({} keys from camera \"{}\")",
                output.display(),
                camera.keys.len(),
                camera.name
            );
            Ok(())
        }
    }
}

fn checked_fps(fps: f64) -> Result<f64> {
    if fps > 0.0 && fps <= 1000.0 {
        Ok(fps)
    } else {
        Err(Error::InvalidArgument(format!(
            "--fps must be in (0, 1000], got {fps}"
        )))
    }
}

/// One row per frame: time, position, forward and up (unit vectors, roll applied), fov, then
/// each animated parameter. For a plane kind: time, centre, zoom and rotation instead.
pub fn sample_csv(path: &CameraPath, fps: f64) -> String {
    let params = path.animated_params();
    let plane = path.file.base.fractal.is_plane();
    let mut out = String::from(if plane {
        "time,cx,cy,zoom,rotation"
    } else {
        "time,px,py,pz,fx,fy,fz,ux,uy,uz,fov"
    });
    for p in &params {
        out.push(',');
        out.push_str(p);
    }
    out.push('\n');
    for k in 0..path.frame_count(fps) {
        let t = k as f64 / fps;
        let scene = path.sample(t);
        let mut row = vec![t];
        let mut cells = vec![format!("{t}")];
        if plane {
            // Deep views keep every digit of the centre and the zoom's full exponent.
            let v = &scene.plane;
            cells.extend(v.center_strings());
            cells.push(format!("{:e}", v.zoom));
            cells.push(format!("{}", v.rotation));
            row.clear();
        } else {
            let c = &scene.camera;
            let b = c.basis();
            row.extend(c.position.to_array());
            row.extend(b.forward.to_array());
            row.extend(b.up.to_array());
            row.push(c.fov);
        }
        for name in &params {
            let value = scene
                .fractal
                .params()
                .into_iter()
                .chain(
                    scene
                        .look
                        .params()
                        .into_iter()
                        .map(|(n, v)| (n.to_string(), v)),
                )
                .find(|(n, _)| n == name)
                .map_or(f64::NAN, |(_, v)| v);
            row.push(value);
        }
        if !plane {
            cells.clear();
        }
        cells.extend(row.iter().map(|v| format!("{v}")));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}
