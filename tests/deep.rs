//! Deep zoom on the GPU against the truth: at sample pixels of views from 1e-20 to 1e-300
//! (including the side of a minibrot, where perturbation without rebasing glitches), the
//! escape counts the GPU finds by perturbation match direct full-precision iteration on the CPU.

mod common;

use mandelfly::deep::floatexp::FloatExp;
use mandelfly::deep::{DeepFrame, Precision, locations, precise, reference};
use mandelfly::fractal::mandelbrot::Mandelbrot;
use mandelfly::frame::Passes;
use mandelfly::gpu::renderer::Renderer;
use mandelfly::plane::PlaneView;
use mandelfly::scene::Scene;

fn scene(view: &PlaneView, iterations: u32) -> Scene {
    scene_with(view, iterations, Precision::Single)
}

fn scene_with(view: &PlaneView, iterations: u32, precision: Precision) -> Scene {
    let mut scene = Scene::reference();
    scene.fractal = Box::new(Mandelbrot {
        iterations: iterations as i64,
        precision,
        ..Default::default()
    });
    scene.plane = view.clone();
    scene
}

/// The whole iterations before escape, from the depth pass's smooth count n - log2(ln|z|):
/// with the escape radius 256, ln|z| lies in (ln 256, 2 ln 256 + 1), so log2 of it in
/// (2.47, 3.47).
fn whole(smooth: f32) -> Option<u32> {
    (smooth >= 0.0).then(|| (smooth + 2.97).round() as u32)
}

/// Escape counts the GPU finds with `precision`, against the truth: (matching, checked) for
/// each test location.
fn check_counts(renderer: &mut Renderer, precision: Precision) -> Vec<(String, usize, usize)> {
    let (w, h) = (64u32, 36u32);
    let mut results = Vec::new();
    for location in locations::test_views() {
        let scene = scene_with(&location.view, location.iterations, precision);
        let frame = renderer.render(&scene, w, h, Passes::ALL).expect("renders");
        let bits = precise::precision_for(location.view.zoom.scale(1.0 / h as f64));
        let center = location.view.precise_center(bits);
        let pixels = DeepFrame::new(&location.view, &center, &center, bits, w, h);
        let (mut same, mut total, mut escaped) = (0, 0, 0);
        for y in (1..h).step_by(5) {
            for x in (2..w).step_by(7) {
                let dc = pixels.pixel_dc(x, y, w, h);
                let point = [0, 1].map(|i| {
                    let d = if i == 0 { dc.re } else { dc.im };
                    precise::add(
                        &center[i],
                        &precise::from_floatexp(FloatExp::new(d, dc.exp), bits),
                        bits,
                    )
                });
                let truth = reference::escape_count(&point, bits, location.iterations, 256.0, None);
                let gpu = whole(frame.depth[(y * w + x) as usize]);
                total += 1;
                escaped += truth.is_some() as usize;
                if gpu == truth {
                    same += 1;
                } else {
                    eprintln!(
                        "{} pixel {x},{y}: direct {truth:?}, GPU {gpu:?}",
                        location.name
                    );
                }
            }
        }
        eprintln!(
            "{} ({precision:?}): {same} of {total} match ({escaped} escape)",
            location.name
        );
        // Most sample pixels escape, so the counts say something.
        assert!(
            escaped * 2 >= total,
            "{}: {escaped} of {total} escape",
            location.name
        );
        results.push((location.name, same, total));
    }
    results
}

#[test]
fn gpu_escape_counts_match_full_precision_iteration() {
    let Some(gpu) = common::gpu() else { return };
    let has_f64 = gpu.f64;
    let mut renderer = Renderer::new(gpu);
    if has_f64 {
        // f64 mantissas: every sample pixel, beside minibrots too.
        for (name, same, total) in check_counts(&mut renderer, Precision::Double) {
            assert_eq!(same, total, "{name}: {same} of {total}");
        }
    }
    // f32 mantissas: exact in the spirals, all but the odd pixel beside minibrots.
    for (name, same, total) in check_counts(&mut renderer, Precision::Single) {
        let needed = if name.starts_with("spiral") { 100 } else { 95 };
        assert!(same * 100 >= total * needed, "{name}: {same} of {total}");
    }
    // f32 mantissas start from the series approximation's skip.
    let stats = renderer.deep_stats();
    assert!(stats.series_skip > 0, "{stats:?}");
}

/// A flight's frames reuse one reference orbit while the view stays near it and its precision
/// suffices, and the frames still match each rendered on its own.
#[test]
fn reference_is_reused_across_nearby_frames() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let location = &locations::test_views()[1];
    let mut view = location.view.clone();
    let (w, h) = (48, 27);
    let mut frames = Vec::new();
    for _ in 0..4 {
        let frame = renderer
            .render(&scene(&view, location.iterations), w, h, Passes::ALL)
            .expect("renders");
        frames.push((view.clone(), frame.depth));
        // Zoom in by 1.5 and pan a tenth of the view.
        view.zoom = view.zoom.scale(1.0 / 1.5);
        view.pan(glam::DVec2::new(0.1, 0.05));
    }
    let stats = renderer.deep_stats();
    assert_eq!(stats.references, 1, "{stats:?}");
    // Each frame alone (a fresh renderer computes its own reference at its own centre).
    let mut fresh = Renderer::new(common::gpu().expect("gpu"));
    for (view, depth) in &frames {
        let alone = fresh
            .render(&scene(view, location.iterations), w, h, Passes::ALL)
            .expect("renders");
        let close = depth
            .iter()
            .zip(&alone.depth)
            .filter(|(a, b)| whole(**a) == whole(**b))
            .count();
        assert!(
            close * 100 >= depth.len() * 95,
            "{close} of {}",
            depth.len()
        );
    }
}
