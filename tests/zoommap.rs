//! Zoom videos through the exponential map: frames assembled from the map against per-frame
//! renders of the same path with the same anti-aliasing (mean FLIP within the golden images'
//! tolerance), no seam where the map's chunks meet, and `render` choosing the method.

mod common;

use mandelfly::flight::{FramePlan, as_samples};
use mandelfly::frame::{Frame, Readout};
use mandelfly::gpu::renderer::Renderer;
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

#[test]
fn map_frames_match_per_frame_renders_without_seams() {
    let (Some(gpu_map), Some(gpu_frames)) = (common::gpu(), common::gpu()) else {
        return;
    };
    let path = CameraPath::new(PathFile::parse("zoom.toml", ZOOM).unwrap());
    let plan = FramePlan {
        path: &path,
        fps: 10.0,
        width: WIDTH,
        height: HEIGHT,
        samples: SAMPLES,
        shutter: 0.0,
    };
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
        let (mut near, mut near_n, mut beside, mut beside_n) = (0.0f32, 0usize, 0.0f32, 0usize);
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let rho = (x as f64 + 0.5 - WIDTH as f64 * 0.5)
                    .hypot(HEIGHT as f64 * 0.5 - y as f64 - 0.5);
                let e = error[(y * WIDTH + x) as usize];
                for b in &boundaries {
                    let d = (rho - b).abs();
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
        if near_n > 0 && beside_n > 0 {
            let (near, beside) = (near / near_n as f32, beside / beside_n as f32);
            eprintln!(
                "frame {k}: {near_n} pixels at chunk boundaries, mean FLIP {near:.4} \
                 ({beside:.4} beside them)"
            );
            assert!(
                near <= 1.5 * beside + 0.02,
                "frame {k}: a seam where chunks meet (FLIP {near} there, {beside} beside)"
            );
        }
    }
    assert!(
        means.iter().any(|&m| m > 0.0),
        "the two methods made identical frames?"
    );
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
