//! Layer 3 of DESIGN.md: small renders against golden images with a perceptual metric (NVIDIA
//! FLIP), plus checks of the frame's geometry against the CPU twin.
//!
//! Regenerate the goldens on purpose only: `MANDELFLY_BLESS=1 cargo test --test golden`, then
//! look at tests/golden/*.png before committing them.

mod common;

use std::path::{Path, PathBuf};

use mandelfly::frame::{Frame, Passes, Sample, sample_jitter};
use mandelfly::gpu::renderer::Renderer;
use mandelfly::scene::Scene;

const WIDTH: u32 = 160;
const HEIGHT: u32 = 90;
/// Mean FLIP error allowed (0 = identical, 1 = opposite): room for driver differences in
/// f32 maths, far below what a change of shape, light or camera produces.
const MAX_MEAN_FLIP: f32 = 0.04;

fn scene(name: &str) -> Scene {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/scenes/{name}.toml"));
    Scene::load(&path).expect("example scene parses")
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.png"))
}

fn rgb(frame: &Frame) -> Vec<u8> {
    frame
        .color
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

fn mean_flip(golden: &[u8], actual: &[u8]) -> f32 {
    let error = nv_flip::flip(
        nv_flip::FlipImageRgb8::with_data(WIDTH, HEIGHT, golden),
        nv_flip::FlipImageRgb8::with_data(WIDTH, HEIGHT, actual),
        nv_flip::DEFAULT_PIXELS_PER_DEGREE,
    );
    nv_flip::FlipPool::from_image(&error).mean()
}

fn check_golden(renderer: &mut Renderer, name: &str) {
    let frame = renderer
        .render(&scene(name), WIDTH, HEIGHT, Passes::COLOR)
        .expect("renders");
    check_frame(name, &rgb(&frame));
}

/// Compares a WIDTH x HEIGHT RGB render with `tests/golden/NAME.png` (or writes it, blessing).
fn check_frame(name: &str, actual: &[u8]) {
    let path = golden_path(name);
    if std::env::var("MANDELFLY_BLESS").is_ok_and(|v| v == "1") {
        image::save_buffer(&path, actual, WIDTH, HEIGHT, image::ExtendedColorType::Rgb8)
            .expect("writes golden");
        eprintln!("blessed {}", path.display());
        return;
    }
    let golden = image::open(&path)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; create it with MANDELFLY_BLESS=1 cargo test --test golden",
                path.display()
            )
        })
        .into_rgb8();
    assert_eq!(golden.dimensions(), (WIDTH, HEIGHT), "{name}: golden size");
    let mean = mean_flip(golden.as_raw(), actual);
    eprintln!("{name}: mean FLIP error {mean:.4}");
    if mean > MAX_MEAN_FLIP {
        let out = std::env::temp_dir().join(format!("mandelfly-{name}-actual.png"));
        let _ = image::save_buffer(&out, actual, WIDTH, HEIGHT, image::ExtendedColorType::Rgb8);
        panic!(
            "{name}: mean FLIP error {mean:.4} > {MAX_MEAN_FLIP}; this render is at {}",
            out.display()
        );
    }
}

#[test]
fn golden_images() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    for name in [
        "reference",
        "closeup",
        "power3-trap",
        "mandelbox",
        "julia-quaternion",
        "menger",
        "kleinian",
        "apollonian",
        "hybrid",
        "custom",
        "mandelbrot",
        "seahorse",
        "julia",
        "mandelbrot-terrain",
        // Deep zoom by perturbation, 1e-20 to 1e-300.
        "deep-spiral-1e-20",
        "deep-spiral-1e-100",
        "deep-spiral-1e-300",
        "deep-minibrot-1e-94",
        "deep-minibrot-1e-300",
    ] {
        check_golden(&mut renderer, name);
    }
}

/// Frames of the built-in flight (`flight-T.png`, T in seconds): the approach, the dive along
/// the surface, the crevice and the way out, as `mandelfly render` shows them first.
#[test]
fn builtin_flight_frames() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let path = mandelfly::path::builtin();
    for t in [1.0, 6.0, 10.0, 14.0, 18.0] {
        let scene = path.sample(t);
        let frame = renderer
            .render(&scene, WIDTH, HEIGHT, Passes::COLOR)
            .expect("renders");
        check_frame(&format!("flight-{t}"), &rgb(&frame));
    }
}

/// Each named look on the reference camera (`look-NAME.png`).
#[test]
fn presets() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    for (name, _) in mandelfly::look::PRESETS {
        let scene = Scene::parse(
            &format!("{name}.toml"),
            &format!("[look]\npreset = \"{name}\"\n"),
        )
        .expect("a preset parses");
        let frame = renderer
            .render(&scene, WIDTH, HEIGHT, Passes::COLOR)
            .expect("renders");
        check_frame(&format!("look-{name}"), &rgb(&frame));
    }
    // The reference preset is the reference view, pixel for pixel.
    let preset = Scene::parse("r.toml", "[look]\npreset = \"reference\"\n").unwrap();
    let a = renderer.render(&preset, 64, 36, Passes::COLOR).unwrap();
    let b = renderer
        .render(&Scene::reference(), 64, 36, Passes::COLOR)
        .unwrap();
    assert_eq!(a.color, b.color);
}

/// Depth of field: with the lens focused at the surface, the in-focus part of the image stays
/// as sharp as a pinhole's, while the background's edge against the fractal blurs.
#[test]
fn depth_of_field_keeps_the_focused_plane_sharp() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let (w, h) = (96, 54);
    let mut scene = Scene::reference();
    let centre =
        renderer.render(&scene, w, h, Passes::DEPTH).unwrap().depth[(h / 2 * w + w / 2) as usize];
    assert!(centre > 0.0, "the centre pixel sees the fractal");
    let samples = |renderer: &mut Renderer, scene: &Scene| {
        let n = 32;
        let samples: Vec<Sample> = (0..n)
            .map(|i| Sample {
                scene,
                jitter: sample_jitter(i, n),
            })
            .collect();
        renderer
            .render_samples(&samples, w, h, Passes::COLOR)
            .unwrap()
            .color
    };
    let pinhole = samples(&mut renderer, &scene);
    scene.look.aperture = 0.4;
    scene.look.focus_distance = centre as f64;
    let lens = samples(&mut renderer, &scene);
    // Mean absolute difference in a window about the focused centre, and over the whole frame.
    let diff = |x0: u32, y0: u32, x1: u32, y1: u32| {
        let mut sum = 0.0;
        let mut n = 0.0;
        for y in y0..y1 {
            for x in x0..x1 {
                for c in 0..3 {
                    let i = ((y * w + x) * 4 + c) as usize;
                    sum += (pinhole[i] as f64 - lens[i] as f64).abs();
                    n += 1.0;
                }
            }
        }
        sum / n
    };
    let focused = diff(w / 2 - 3, h / 2 - 3, w / 2 + 3, h / 2 + 3);
    let whole = diff(0, 0, w, h);
    assert!(focused < 3.0, "the focused plane blurred: {focused}");
    assert!(
        whole > 2.0 * focused.max(0.5),
        "nothing blurred: {whole} vs {focused}"
    );
}

/// The deep-zoom example scenes hold the locations `deep::locations` computes (written anew
/// with MANDELFLY_BLESS=1).
#[test]
fn deep_example_scenes_are_the_computed_locations() {
    for location in mandelfly::deep::locations::test_views() {
        let name = format!("deep-{}", location.name);
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/scenes/{name}.toml"));
        let text = mandelfly::deep::locations::scene_toml(
            &location,
            &format!("{name}: computed by mandelfly::deep::locations (tests/golden.rs checks it)"),
        );
        if std::env::var("MANDELFLY_BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &text).expect("writes the scene");
            continue;
        }
        let written = std::fs::read_to_string(&path).expect("example scene exists");
        assert_eq!(written, text, "{}", path.display());
    }
}

/// The tolerance is tight enough to notice a small change of the fractal or the light.
#[test]
fn golden_tolerance_catches_small_changes() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let golden = image::open(golden_path("reference")).unwrap().into_rgb8();
    let mut power = Scene::reference();
    power.fractal = Box::new(mandelfly::fractal::mandelbulb::Mandelbulb {
        power: 9.0,
        ..Default::default()
    });
    let mut light = Scene::reference();
    light.look.light_direction = [1.0, 0.0, 1.0];
    for (what, scene) in [("power 9", power), ("light from +X", light)] {
        let frame = renderer
            .render(&scene, WIDTH, HEIGHT, Passes::COLOR)
            .unwrap();
        let mean = mean_flip(golden.as_raw(), &rgb(&frame));
        assert!(
            mean > MAX_MEAN_FLIP,
            "{what}: FLIP {mean} passes as the reference"
        );
    }
}

#[test]
fn tiled_render_equals_whole_render() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let scene = Scene::reference();
    let whole = renderer.render(&scene, 100, 60, Passes::ALL).unwrap();
    renderer.set_max_tile(16);
    let tiled = renderer.render(&scene, 100, 60, Passes::ALL).unwrap();
    assert_eq!(whole.color, tiled.color);
    assert_eq!(whole.depth, tiled.depth);
}

/// The GPU's depth at a few pixels agrees with a CPU sphere trace of the same ray: the camera,
/// row order and hit threshold conventions hold.
#[test]
fn depth_matches_cpu_trace() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let scene = Scene::reference();
    let (w, h) = (160, 90);
    let frame = renderer.render(&scene, w, h, Passes::DEPTH).unwrap();
    let eps_per_unit = scene.camera.pixel_footprint(h) * scene.look.detail;
    let mut hits = 0;
    for (x, y) in [
        (80, 45),
        (70, 30),
        (90, 60),
        (75, 20),
        (85, 70),
        (5, 5),
        (150, 80),
    ] {
        let dir = scene.camera.ray_direction(x, y, w, h);
        let mut t = 0.0;
        let mut cpu_hit = None;
        for _ in 0..2000 {
            let d = scene
                .fractal
                .volume()
                .expect("a ray-marched kind")
                .distance(scene.camera.position + dir * t)
                .distance;
            if d < eps_per_unit * t {
                cpu_hit = Some(t);
                break;
            }
            t += d * 0.9;
            if t > 10.0 {
                break;
            }
        }
        let gpu_depth = frame.depth[(y * w + x) as usize] as f64;
        match cpu_hit {
            Some(t) => {
                hits += 1;
                // Within a few hit thresholds (the GPU refines by bisection).
                assert!(
                    (gpu_depth - t).abs() < 4.0 * eps_per_unit * t,
                    "pixel ({x}, {y}): GPU depth {gpu_depth}, CPU {t}"
                );
            }
            None => assert_eq!(gpu_depth, 0.0, "pixel ({x}, {y}) should see the background"),
        }
    }
    assert!(hits >= 4, "the reference view's centre shows the fractal");
}

#[test]
fn rendering_is_deterministic() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let scene = scene("closeup");
    let a = renderer.render(&scene, 64, 36, Passes::COLOR).unwrap();
    let b = renderer.render(&scene, 64, 36, Passes::COLOR).unwrap();
    assert_eq!(a.color, b.color);
}
