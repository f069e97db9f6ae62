//! `mandelfly path ...`: check, sample, preview, find-minibrot and import-gltf.

use std::io::Write;

use crate::cli::PathCommand;
use crate::error::{Error, Result};
use crate::gpu::renderer::Renderer;
use crate::gpu::{GpuContext, GpuOptions};
use crate::path::{self, CameraPath};
use crate::sink::png::AtomicFile;

pub fn run(command: &PathCommand, gpu: &GpuOptions) -> Result<()> {
    match command {
        PathCommand::Check {
            path,
            fps,
            json,
            strict,
        } => {
            let camera_path = CameraPath::load(path)?;
            let fps = checked_fps(fps.unwrap_or(camera_path.file.output.fps))?;
            camera_path.checked_frame_count(fps)?;
            let s = path::check::summarise(&camera_path, fps);
            let f = &camera_path.file;
            let timing = match f.timing {
                path::file::Timing::Keys => "keys",
                path::file::Timing::ConstantSpeed => "constant-speed",
                path::file::Timing::ScaleAware => "scale-aware",
            };
            if *json {
                let mut report = serde_json::json!({
                    "path": path.display().to_string(),
                    "keys": s.keys,
                    "timing": timing,
                    "loop": f.looped,
                    "duration": s.duration,
                    "frames": s.frames,
                    "fps": fps,
                    "size": f.output.size,
                    "animated": s.animated,
                    "warnings": s.warnings,
                });
                if f.base.fractal.is_plane() {
                    let (a, b) = (
                        camera_path.sample(0.0).plane,
                        camera_path.sample(s.duration).plane,
                    );
                    report["zoom"] =
                        serde_json::json!([format!("{:e}", a.zoom), format!("{:e}", b.zoom)]);
                    let (method, why, _) = render_method(&camera_path, fps)?;
                    report["method"] = serde_json::json!({"method": method, "why": why});
                } else {
                    report["length"] = s.length.into();
                    report["closest_approach"] =
                        serde_json::json!({"distance": s.closest.0, "time": s.closest.1});
                }
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("JSON values serialise")
                );
            } else {
                print_check(path, &camera_path, &s, fps, timing)?;
            }
            if *strict && !s.warnings.is_empty() {
                return Err(Error::Warnings(format!(
                    "{}: {} (--strict)",
                    path.display(),
                    if s.warnings.len() == 1 {
                        "1 warning".to_string()
                    } else {
                        format!("{} warnings", s.warnings.len())
                    }
                )));
            }
            Ok(())
        }
        PathCommand::Sample { path, fps, output } => {
            let camera_path = CameraPath::load(path)?;
            let fps = checked_fps(fps.unwrap_or(camera_path.file.output.fps))?;
            camera_path.checked_frame_count(fps)?;
            // Row by row: memory stays flat however many frames.
            match output {
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    write_sample_csv(&camera_path, fps, &mut out)
                        .and_then(|()| out.flush())
                        .map_err(|e| Error::io("<stdout>", e))
                }
                Some(out) => AtomicFile::create(out)?.commit(|w| {
                    write_sample_csv(&camera_path, fps, w).map_err(|e| Error::io(out, e))
                }),
            }
        }
        PathCommand::Preview { path, output, size } => {
            let (min_w, min_h) = crate::preview::MIN_SIZE;
            if size.0 < min_w || size.1 < min_h {
                return Err(Error::InvalidArgument(format!(
                    "--size {}x{}: a preview needs at least {min_w}x{min_h} (two panels side \
                     by side)",
                    size.0, size.1
                )));
            }
            let camera_path = CameraPath::load(path)?;
            let file = AtomicFile::create(output)?;
            let mut renderer = Renderer::new(GpuContext::new(gpu)?);
            let rgb = crate::preview::draw(&camera_path, &mut renderer, size.0, size.1)?;
            crate::sink::png::write_rgb(file, size.0, size.1, &rgb)?;
            crate::status!("wrote {}", output.display());
            Ok(())
        }
        PathCommand::FindMinibrot {
            near,
            period,
            radius,
            frame,
            output,
        } => {
            let text = find_minibrot(near, *period, radius.as_deref(), *frame)?;
            write_text(&text, output.as_deref())
        }
        PathCommand::FindMisiurewicz {
            near,
            preperiod,
            period,
            zoom,
            output,
        } => {
            let text = find_misiurewicz(near, *preperiod, *period, zoom)?;
            write_text(&text, output.as_deref())
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
            crate::status!(
                "wrote {} ({} keys from camera \"{}\")",
                output.display(),
                camera.keys.len(),
                camera.name
            );
            Ok(())
        }
    }
}

/// A scene's text to standard output or (atomically) to a file.
fn write_text(text: &str, output: Option<&std::path::Path>) -> Result<()> {
    match output {
        None => {
            print!("{text}");
            Ok(())
        }
        Some(out) => {
            AtomicFile::create(out)?
                .commit(|w| w.write_all(text.as_bytes()).map_err(|e| Error::io(out, e)))?;
            crate::status!("wrote {}", out.display());
            Ok(())
        }
    }
}

/// `--near RE,IM` as its two decimal parts.
fn near_parts(near: &str) -> Result<[&str; 2]> {
    let bad = |m: String| Error::InvalidArgument(m);
    let parts: Vec<&str> = near.split(',').map(str::trim).collect();
    let [re, im] = parts[..] else {
        return Err(bad(format!("--near {near}: expected RE,IM")));
    };
    for v in [re, im] {
        if crate::deep::precise::parse(v, 64).is_none() {
            return Err(bad(format!("--near {near}: `{v}` is not a decimal number")));
        }
    }
    Ok([re, im])
}

/// The most iterations `--radius` searches for a period.
const MAX_BALL_PERIOD: u32 = 1_000_000;

/// `path find-minibrot`: the scene framing the minibrot, as TOML.
fn find_minibrot(
    near: &str,
    period: Option<u32>,
    radius: Option<&str>,
    frame: f64,
) -> Result<String> {
    use crate::deep::{floatexp::FloatExp, nucleus, precise};
    let bad = |m: String| Error::InvalidArgument(m);
    let [re, im] = near_parts(near)?;
    let period_given = period;
    let period = match (period, radius) {
        (Some(p), _) => p,
        (None, Some(r)) => {
            let radius = FloatExp::parse(r)
                .filter(|v| v.mantissa > 0.0)
                .ok_or_else(|| bad(format!("--radius {r}: expected a positive decimal number")))?;
            let bits = precise::precision_for(radius.scale(1.0 / 4096.0)) + 64;
            let center = [
                precise::parse(re, bits).expect("checked"),
                precise::parse(im, bits).expect("checked"),
            ];
            nucleus::ball_period(&center, radius, MAX_BALL_PERIOD, bits).ok_or_else(|| {
                bad(format!(
                    "--radius {r}: no minibrot within {r} of {near} (the disc escapes, or needs \
                     more than {MAX_BALL_PERIOD} iterations)"
                ))
            })?
        }
        (None, None) => return Err(bad("give --period P or --radius R".into())),
    };
    if period == 0 || period > 1_000_000 {
        return Err(bad(format!("--period {period}: expected 1 to 1000000")));
    }
    if !(frame.is_finite() && frame > 0.0) {
        return Err(bad(format!("--frame {frame}: expected a positive number")));
    }
    let m = nucleus::find_minibrot([re, im], period, frame).ok_or_else(|| {
        bad(format!(
            "Newton's method found no period-{period} minibrot from {near}; start nearer \
             it or try another period"
        ))
    })?;
    let location = crate::deep::locations::Location {
        name: format!("minibrot-{period}"),
        view: m.view.clone(),
        iterations: m.iterations,
    };
    let how = match radius {
        Some(r) if period_given.is_none() => format!(" (the lowest period within {r})"),
        _ => String::new(),
    };
    let comment = format!(
        "The period-{period} minibrot{how} found from {near} (size {:e}), {frame} sizes tall",
        m.size
    );
    Ok(crate::deep::locations::scene_toml(&location, &comment))
}

/// `path find-misiurewicz`: the scene centred on the point, as TOML.
fn find_misiurewicz(near: &str, preperiod: u32, period: u32, zoom: &str) -> Result<String> {
    use crate::deep::{floatexp::FloatExp, misiurewicz};
    let bad = |m: String| Error::InvalidArgument(m);
    let [re, im] = near_parts(near)?;
    if period > 100_000 || preperiod > 100_000 {
        return Err(bad(format!(
            "--preperiod {preperiod} --period {period}: expected at most 100000 each"
        )));
    }
    let height = FloatExp::parse(zoom)
        .filter(|v| v.mantissa > 0.0)
        .ok_or_else(|| bad(format!("--zoom {zoom}: expected a positive decimal number")))?;
    let m = misiurewicz::find_point([re, im], preperiod, period, height).map_err(|e| match e {
        misiurewicz::Failure::BadOrder(_) => {
            bad(format!("--preperiod {preperiod} --period {period}: {e}"))
        }
        _ => bad(format!(
            "no Misiurewicz point of preperiod {preperiod}, period {period} from {near}: {e}"
        )),
    })?;
    let location = crate::deep::locations::Location {
        name: format!("misiurewicz-{preperiod}-{period}"),
        view: m.view.clone(),
        iterations: m.iterations,
    };
    let [mr, mi] = m.multiplier;
    let comment = format!(
        "The Misiurewicz point of preperiod {preperiod}, period {period} found from {near}; its \
         spirals shrink {:.4}x and turn {:.2} degrees every {period} iterations",
        mr.hypot(mi),
        mi.atan2(mr).to_degrees()
    );
    Ok(crate::deep::locations::scene_toml(&location, &comment))
}

/// The human-readable summary of `path check`.
fn print_check(
    path: &std::path::Path,
    camera_path: &CameraPath,
    s: &path::check::Summary,
    fps: f64,
    timing: &str,
) -> Result<()> {
    let f = &camera_path.file;
    println!("path: {}", path.display());
    println!(
        "keys: {}, timing: {timing}, loop: {}",
        s.keys,
        if f.looped { "yes" } else { "no" }
    );
    println!(
        "duration: {:.3} s, {} at {fps} fps ({}x{})",
        s.duration,
        crate::report::frames(s.frames),
        f.output.size[0],
        f.output.size[1]
    );
    if f.base.fractal.is_plane() {
        let (a, b) = (
            camera_path.sample(0.0).plane,
            camera_path.sample(s.duration).plane,
        );
        println!("zoom: {:e} to {:e} (view height)", a.zoom, b.zoom);
        let (method, why, map) = render_method(camera_path, fps)?;
        println!("render method: {method} ({why})");
        if let Some(map) = map {
            println!("{map}");
        }
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

/// How `render` makes this path's frames at its own size (one sample per pixel), why, and the
/// map's description where it uses one.
fn render_method(
    camera_path: &CameraPath,
    fps: f64,
) -> Result<(&'static str, String, Option<String>)> {
    let [width, height] = camera_path.file.output.size;
    let plan = crate::flight::FramePlan {
        path: camera_path,
        fps,
        width,
        height,
        samples: 1,
        shutter: 0.0,
    };
    Ok(
        match crate::zoommap::choose(crate::zoommap::Method::Auto, &plan)? {
            crate::zoommap::Decision::Frames(why) => ("frames", why, None),
            crate::zoommap::Decision::Map(map, why) => ("map", why, Some(map.describe())),
        },
    )
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
pub fn write_sample_csv(path: &CameraPath, fps: f64, out: &mut dyn Write) -> std::io::Result<()> {
    let params = path.animated_params();
    let plane = path.file.base.fractal.is_plane();
    let mut header = String::from(if plane {
        "time,cx,cy,zoom,rotation"
    } else {
        "time,px,py,pz,fx,fy,fz,ux,uy,uz,fov"
    });
    for p in &params {
        header.push(',');
        header.push_str(p);
    }
    writeln!(out, "{header}")?;
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
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}
