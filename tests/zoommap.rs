//! Zoom videos through the exponential map: frames assembled from the map against per-frame
//! renders of the same path with the same anti-aliasing (mean FLIP within the golden images'
//! tolerance), no seam where the map's chunks meet or its mip levels change, and `render`
//! choosing the method.

mod common;

use mandelfly::flight::{FramePlan, as_samples};
use mandelfly::frame::{Frame, Readout};
use mandelfly::gpu::renderer::{PlaneSource, Renderer};
use mandelfly::path::{CameraPath, PathFile};
use mandelfly::zoommap::MapAssembler;
use mandelfly::zoommap::plan::analyse;

const WIDTH: u32 = 192;
const HEIGHT: u32 = 108;
const SAMPLES: u32 = 4;
/// The golden images' tolerance (tests/golden.rs).
const MAX_MEAN_FLIP: f32 = 0.04;

/// A zoom about i (a Misiurewicz point: spirals at every depth) from the whole set to 1e-12,
/// past where f32 gives way to perturbation, turning as it goes.
const ZOOM: &str = r#"
[fractal]
kind = "mandelbrot"
iterations = 400

[look]
palette = "classic"
density = 0.6
relief = 0.35
edges = 0.5

[output]
fps = 10
size = [192, 108]

[[key]]
time = 0.0
center = ["0", "1"]
zoom = 2.6
iterations = 400

[[key]]
time = 3.0
center = ["0", "1"]
zoom = "1e-12"
iterations = 1500
rotation = 40
palette_offset = 0.3
"#;

/// The test zoom's frames at the test size, `SAMPLES` a pixel over `shutter`.
fn zoom_plan(path: &CameraPath, shutter: f64) -> FramePlan<'_> {
    FramePlan {
        path,
        fps: 10.0,
        width: WIDTH,
        height: HEIGHT,
        samples: SAMPLES,
        shutter,
    }
}

/// The largest difference between two frames' colour channels, in levels of 255.
fn worst_difference(a: &Frame, b: &Frame) -> u8 {
    a.color
        .iter()
        .zip(&b.color)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap()
}

fn rgb(frame: &Frame) -> Vec<u8> {
    frame
        .color
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

fn flip(a: &[u8], b: &[u8]) -> Vec<f32> {
    nv_flip::flip(
        nv_flip::FlipImageRgb8::with_data(WIDTH, HEIGHT, a),
        nv_flip::FlipImageRgb8::with_data(WIDTH, HEIGHT, b),
        nv_flip::DEFAULT_PIXELS_PER_DEGREE,
    )
    .to_vec()
}

/// The mean FLIP of the pixels within a pixel of the given radii from the image centre, their
/// count, and the mean FLIP of those one to four pixels from them (None if either is empty).
fn ring_flip(error: &[f32], radii: &[f64]) -> Option<(f32, usize, f32)> {
    let (mut near, mut near_n, mut beside, mut beside_n) = (0.0f32, 0usize, 0.0f32, 0usize);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let rho =
                (x as f64 + 0.5 - WIDTH as f64 * 0.5).hypot(HEIGHT as f64 * 0.5 - y as f64 - 0.5);
            let e = error[(y * WIDTH + x) as usize];
            for r in radii {
                let d = (rho - r).abs();
                if d <= 1.0 {
                    near += e;
                    near_n += 1;
                } else if d <= 4.0 {
                    beside += e;
                    beside_n += 1;
                }
            }
        }
    }
    (near_n > 0 && beside_n > 0).then(|| (near / near_n as f32, near_n, beside / beside_n as f32))
}

#[test]
fn map_frames_match_per_frame_renders_without_seams() {
    let (Some(gpu_map), Some(gpu_frames)) = (common::gpu(), common::gpu()) else {
        return;
    };
    let path = CameraPath::new(PathFile::parse("zoom.toml", ZOOM).unwrap());
    let plan = zoom_plan(&path, 0.0);
    let map = analyse(&plan).expect("a zoom about one point");
    let mut through_map = Renderer::new(gpu_map);
    through_map.set_plane_source(Some(Box::new(
        MapAssembler::new(through_map.gpu(), map.clone(), &path).unwrap(),
    )));
    let mut per_frame = Renderer::new(gpu_frames);
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("zoommap");
    std::fs::create_dir_all(&out).unwrap();
    let mut means = Vec::new();
    for k in [0, 6, 13, 20, 27, 30] {
        let scenes = plan.scenes(k);
        let samples = as_samples(&scenes);
        let a = through_map
            .render_samples(&samples, WIDTH, HEIGHT, Readout::COLOR)
            .unwrap();
        let b = per_frame
            .render_samples(&samples, WIDTH, HEIGHT, Readout::COLOR)
            .unwrap();
        let (a, b) = (rgb(&a), rgb(&b));
        for (name, pixels) in [("map", &a), ("frames", &b)] {
            image::save_buffer(
                out.join(format!("{name}-{k:02}.png")),
                pixels,
                WIDTH,
                HEIGHT,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        }
        let error = flip(&b, &a);
        let mean = error.iter().sum::<f32>() / error.len() as f32;
        eprintln!("frame {k}: mean FLIP {mean:.4}");
        assert!(mean <= MAX_MEAN_FLIP, "frame {k}: mean FLIP {mean}");
        means.push(mean);

        // Seams: the pixels within a pixel of a radius where two chunks meet (the map's
        // centre is the image centre here) differ from the per-frame render no more than the
        // rings just inside and outside them do (the same directions, so the same structure:
        // filaments crossing a ring differ more than smooth bands anywhere).
        let ln_pixel = scenes[0].0.plane.zoom.ln() - (HEIGHT as f64).ln();
        let boundaries: Vec<f64> = (1..map.chunks)
            .map(|c| (map.chunk_ln_top(c) - ln_pixel).exp())
            .filter(|&rho| (5.0..(WIDTH as f64) * 0.5).contains(&rho))
            .collect();
        if let Some((near, n, beside)) = ring_flip(&error, &boundaries) {
            eprintln!(
                "frame {k}: {n} pixels at chunk boundaries, mean FLIP {near:.4} \
                 ({beside:.4} beside them)"
            );
            assert!(
                near <= 1.5 * beside + 0.02,
                "frame {k}: a seam where chunks meet (FLIP {near} there, {beside} beside)"
            );
        }
        // Nor a ring where samples go from one mip level to the next: the radii half-way
        // between two levels, where the assembly blends them (a sample spans
        // 1 / (rho delta sqrt(samples)) samples of level 0).
        let footprint = 1.0 / (map.delta * (SAMPLES as f64).sqrt());
        let level_changes: Vec<f64> = (0..map.levels)
            .map(|level| footprint / 2f64.powf(level as f64 + 0.5))
            .filter(|&rho| (5.0..(WIDTH as f64) * 0.5).contains(&rho))
            .collect();
        assert!(!level_changes.is_empty(), "no level change in view");
        let (near, n, beside) = ring_flip(&error, &level_changes).unwrap();
        eprintln!(
            "frame {k}: {n} pixels where mip levels change, mean FLIP {near:.4} \
             ({beside:.4} beside them)"
        );
        assert!(
            near <= 1.5 * beside + 0.02,
            "frame {k}: a ring where mip levels change (FLIP {near} there, {beside} beside)"
        );
    }
    assert!(
        means.iter().any(|&m| m > 0.0),
        "the two methods made identical frames?"
    );
}

/// A frame's samples assembled in one dispatch (`map_frame_main`, where they share their look
/// but for the palette offset) make the pixels a dispatch per sample (`plane_main`, adding
/// each to the HDR frame) makes: each sample at its own jitter, view and palette offset, the
/// same aux channels (the last sample's). Samples whose looks differ otherwise take a dispatch
/// each; here they differ in `shininess`, which plane kinds' colouring ignores, so both ways
/// must agree. Also through `submit`, where one pass
/// writes the display colour itself (no HDR frame, no tone-map pass).
#[test]
fn samples_in_one_pass_match_a_pass_per_sample() {
    let Some(gpu) = common::gpu() else {
        return;
    };
    // The palette offset keyed at both ends: samples across the shutter differ in it alone.
    let text = ZOOM.replace("zoom = 2.6\n", "zoom = 2.6\npalette_offset = 0.0\n");
    let path = CameraPath::new(PathFile::parse("zoom.toml", &text).unwrap());
    let plan = zoom_plan(&path, 0.5);
    let map = analyse(&plan).expect("a zoom about one point");
    let mut renderer = Renderer::new(gpu);
    let assembler = MapAssembler::new(renderer.gpu(), map, &path).unwrap();
    let scenes = plan.scenes(6);
    assert_ne!(scenes[0].0.look, scenes[1].0.look);
    assert!(assembler.one_pass(&as_samples(&scenes)));
    let mut apart = scenes.clone();
    apart[1].0.look.shininess += 1.0;
    assert!(!assembler.one_pass(&as_samples(&apart)));
    renderer.set_plane_source(Some(Box::new(assembler)));
    for k in [6, 20] {
        let shared = plan.scenes(k);
        let mut apart = shared.clone();
        for (i, (scene, _)) in apart.iter_mut().enumerate() {
            scene.look.shininess += i as f64;
        }
        let one = renderer
            .render_samples(&as_samples(&shared), WIDTH, HEIGHT, Readout::ALL)
            .unwrap();
        let each = renderer
            .render_samples(&as_samples(&apart), WIDTH, HEIGHT, Readout::ALL)
            .unwrap();
        let worst = worst_difference(&one, &each);
        assert!(worst <= 1, "frame {k}: one pass differs by {worst} levels");
        assert_eq!(one.depth, each.depth, "frame {k}: aux channels");
        assert_eq!(one.distance, each.distance, "frame {k}: aux channels");
        // The shutter spreads the samples over the flight: the one pass did not repeat one
        // sample's view for all of them.
        let first = renderer
            .render_samples(&as_samples(&shared[..1]), WIDTH, HEIGHT, Readout::COLOR)
            .unwrap();
        assert_ne!(first.color, one.color, "frame {k}");

        let submitted = renderer
            .submit(&as_samples(&shared), WIDTH, HEIGHT, Readout::COLOR)
            .unwrap();
        let submitted = renderer.collect(submitted).unwrap();
        let worst = worst_difference(&submitted, &each);
        assert!(
            worst <= 1,
            "frame {k}: submitted, one pass differs by {worst} levels"
        );
    }
}

#[test]
fn render_says_which_method_and_why() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zoom.toml");
    std::fs::write(&path, ZOOM).unwrap();
    let path = path.to_string_lossy().into_owned();
    let frames = dir.path().join("frames");
    let out = common::mandelfly(&[
        "render",
        &path,
        "-o",
        &format!("{}/", frames.display()),
        // 601 frames: enough for the map to pay (a short flight keeps per-frame rendering).
        "--fps",
        "200",
        "--frames",
        "598..600",
        "--verbose",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("method: map (a zoom about one point"),
        "{stderr}"
    );
    assert!(stderr.contains("zoom map: "), "{stderr}");
    assert!(frames.join("frame_00599.png").exists());

    // Forced per-frame rendering.
    let out = common::mandelfly(&[
        "render",
        &path,
        "-o",
        &format!("{}/", frames.display()),
        "--frames",
        "0..1",
        "--method",
        "frames",
        "--verbose",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("method: frames (--method frames)"),
        "{stderr}"
    );

    // A flight that is no zoom: the map refused with the reason, before any file is made.
    let weave = common::weave();
    let refused = dir.path().join("refused");
    let out = common::mandelfly(&[
        "render",
        &weave,
        "-o",
        &format!("{}/", refused.display()),
        "--method",
        "map",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--method map") && stderr.contains("ray-marched"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!refused.exists());
}

/// Renders frames 10..14 of the test zoom through the map into `dir/name/`, with `extra`
/// arguments; returns stderr, asserting success.
fn render_map(dir: &std::path::Path, path: &str, name: &str, extra: &[&str]) -> String {
    let out_dir = format!("{}/", dir.join(name).display());
    let mut args = vec![
        "render",
        path,
        "-o",
        &out_dir,
        "--frames",
        "10..14",
        "--samples",
        "2",
    ];
    args.extend_from_slice(extra);
    let out = common::mandelfly(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    stderr
}

#[test]
fn a_kept_map_gives_the_same_frames_and_refuses_other_paths() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zoom.toml");
    std::fs::write(&path, ZOOM).unwrap();
    let path = path.to_string_lossy().into_owned();
    let map = dir.path().join("zoom-map.exr");
    let map_arg = map.to_string_lossy().into_owned();

    render_map(dir.path(), &path, "direct", &["--method", "map"]);
    render_map(dir.path(), &path, "kept", &["--map-out", &map_arg]);
    assert!(map.exists());
    let stderr = render_map(
        dir.path(),
        &path,
        "reused",
        &["--map-in", &map_arg, "--verbose"],
    );
    assert!(stderr.contains("method: map (--map-in"), "{stderr}");
    assert!(stderr.contains("0 samples computed"), "{stderr}");
    // Bit for bit: the file holds the map's samples exactly, and the mip levels are made
    // from them by the same pass.
    for k in 10..14 {
        let name = format!("frame_{k:05}.png");
        let direct = std::fs::read(dir.path().join("direct").join(&name)).unwrap();
        for other in ["kept", "reused"] {
            let frame = std::fs::read(dir.path().join(other).join(&name)).unwrap();
            assert!(
                frame == direct,
                "{other}/{name} differs from the direct render"
            );
        }
    }

    // Re-coloured: another palette from the same map, without computing it.
    let recoloured = dir.path().join("recoloured.toml");
    std::fs::write(
        &recoloured,
        ZOOM.replace("palette = \"classic\"", "palette = \"fire\""),
    )
    .unwrap();
    let recoloured = recoloured.to_string_lossy().into_owned();
    render_map(dir.path(), &recoloured, "fire", &["--map-in", &map_arg]);

    // Paths the map does not fit: refused, naming the file and the mismatch, before any frame.
    let refused = |text: String, extra: &[&str], expect: &str| {
        let other = dir.path().join("other.toml");
        std::fs::write(&other, text).unwrap();
        let other = other.to_string_lossy().into_owned();
        let out_dir = format!("{}/", dir.path().join("refused").display());
        let mut args = vec!["render", &other, "-o", &out_dir, "--map-in", &map_arg];
        args.extend_from_slice(extra);
        let out = common::mandelfly(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra:?} was accepted");
        assert!(
            stderr.contains("zoom-map.exr") && stderr.contains(expect),
            "{expect}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!dir.path().join("refused").exists());
    };
    refused(
        ZOOM.replace("center = [\"0\", \"1\"]", "center = [\"-0.1\", \"0.9\"]"),
        &[],
        "zooms about",
    );
    refused(ZOOM.replace("\"1e-12\"", "\"1e-14\""), &[], "down to");
    refused(
        ZOOM.to_string(),
        &["--size", "384x216"],
        "sampled for frames",
    );
    refused(
        ZOOM.replace(
            "iterations = 400\n\n[look]",
            "iterations = 400\nbailout = 100\n\n[look]",
        ),
        &[],
        "bailout",
    );
    refused(ZOOM.to_string(), &["--method", "frames"], "--method frames");
    // Not a map at all.
    let not_a_map = dir.path().join("zoom-map-not.exr");
    std::fs::write(&not_a_map, b"not an image").unwrap();
    let out = common::mandelfly(&[
        "render",
        &path,
        "-o",
        &format!("{}/", dir.path().join("refused").display()),
        "--map-in",
        &not_a_map.to_string_lossy(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("zoom-map-not.exr"), "{stderr}");

    // An independent reader: OpenEXR opens the map, with its channels and attributes.
    let script = r#"
import json, sys, OpenEXR
with OpenEXR.File(sys.argv[1], separate_channels=True) as f:
    h = f.header()
    out = {"channels": {}, "attributes": {}}
    for name, channel in f.channels().items():
        out["channels"][name] = [str(channel.pixels.dtype), list(channel.pixels.shape)]
    n = f.channels()["N"].pixels
    out["escaped"] = float((n > 0).mean())
    for key in ["mandelfly.angles", "mandelfly.chunkRows", "mandelfly.chunks",
                "mandelfly.centerIm", "mandelfly.kind"]:
        out["attributes"][key] = h[key] if not isinstance(h[key], bytes) else h[key].decode()
print(json.dumps(out))
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&map)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "OpenEXR could not read the map: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let attributes = &read["attributes"];
    let (angles, rows, chunks) = (
        attributes["mandelfly.angles"].as_u64().unwrap(),
        attributes["mandelfly.chunkRows"].as_u64().unwrap(),
        attributes["mandelfly.chunks"].as_u64().unwrap(),
    );
    // The centre at full precision, in whatever decimal form ("1.e+0" for 1).
    let center_im: f64 = attributes["mandelfly.centerIm"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("centre: {}", attributes["mandelfly.centerIm"]));
    assert_eq!(center_im, 1.0);
    assert_eq!(attributes["mandelfly.kind"], "mandelbrot");
    for (name, ty) in [
        ("N", "float32"),
        ("DE", "float16"),
        ("SX", "float16"),
        ("SY", "float16"),
    ] {
        assert_eq!(
            read["channels"][name],
            serde_json::json!([ty, [rows * chunks, angles]]),
            "{read}"
        );
    }
    // The zoom about i shows mostly escaping points.
    assert!(read["escaped"].as_f64().unwrap() > 0.5, "{read}");
}

#[test]
fn map_files_round_trip_chunk_by_chunk_and_leave_nothing_unfinished() {
    use mandelfly::zoommap::file::{MapHeader, MapReader, MapWriter};
    let header = MapHeader {
        center: ["0".into(), "1.000000000000000000000000001".into()],
        kind: "mandelbrot".into(),
        params: vec![("bailout".into(), 256.0)],
        angles: 64,
        chunk_rows: 32,
        chunks: 3,
        delta: std::f64::consts::TAU / 64.0,
        ln_top: 1.5,
        outer_radius: 9.5,
    };
    // Packed as the map keeps samples: the count's bits; DE's f16 bits and two snorm8 slopes.
    let chunk = |c: u64| -> Vec<u32> {
        (0..64 * 32)
            .flat_map(|i: u32| {
                let count = if i.is_multiple_of(7) {
                    -1.0f32
                } else {
                    c as f32 * 100.0 + i as f32 * 0.37
                };
                let de = half::f16::from_f32(i as f32 * 1e-3).to_bits() as u32;
                let sx = (((i % 255) as i32 - 127) as i8 as u8) as u32;
                let sy = (((i * 3 % 255) as i32 - 127) as i8 as u8) as u32;
                [count.to_bits(), de | sx << 16 | sy << 24]
            })
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("map.exr");
    let mut writer = MapWriter::create(&path, header.clone()).unwrap();
    for c in [2, 0, 1] {
        writer.write(c, chunk(c)).unwrap();
        assert!(!path.exists(), "nothing appears before the map is complete");
    }
    writer.finish().unwrap();
    let reader = MapReader::open(&path).unwrap();
    assert_eq!(reader.header(), &header);
    for c in 0..3 {
        assert!(reader.read(c).unwrap() == chunk(c), "chunk {c}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // Unfinished: refused, or dropped (an error, Ctrl-C): no file, no temporary left.
    let other = dir.path().join("unfinished.exr");
    let mut writer = MapWriter::create(&other, header.clone()).unwrap();
    writer.write(0, chunk(0)).unwrap();
    let err = writer.finish().unwrap_err().to_string();
    assert!(
        err.contains("unfinished.exr") && err.contains("missing"),
        "{err}"
    );
    drop(MapWriter::create(&other, header).unwrap());
    assert!(!other.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
