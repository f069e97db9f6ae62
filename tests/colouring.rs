//! The colouring of plane kinds on the GPU: the palette spans the view's own counts (stills),
//! and a flight keys that range along its path instead of re-normalising per frame.

mod common;

use mandelfly::flight::{CountTrack, FramePlan};
use mandelfly::frame::Passes;
use mandelfly::gpu::renderer::Renderer;
use mandelfly::path::{CameraPath, PathFile};
use mandelfly::scene::Scene;

/// Standard deviation of an RGBA8 image's red, green and blue values.
fn spread(rgba: &[u8]) -> f64 {
    let values: Vec<f64> = rgba
        .chunks(4)
        .flat_map(|p| p[..3].iter().map(|&v| v as f64))
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

const DEEP_VIEW: &str = r#"
[fractal]
kind = "mandelbrot"
iterations = 4000

[camera]
center = ["-0.743643887037151", "0.131825904205330"]
zoom = "2e-9"
"#;

/// A deep view's counts lie in a narrow band far from 0; measured, the palette spans them and
/// the image is colourful. The same view with the palette fixed to counts it never reaches
/// (band limiting then fades the fast cycling to one mean colour) is nearly flat.
#[test]
fn a_still_spans_its_own_counts() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let scene = Scene::parse("deep.toml", DEEP_VIEW).unwrap();
    let measured = renderer
        .measure_counts(&scene, 160, 90)
        .unwrap()
        .expect("escapes");
    let (lo, hi) = (measured.quantiles[0], measured.quantiles[16]);
    assert!(lo > 100.0 && hi > lo, "{lo} {hi}");
    let frame = renderer.render(&scene, 160, 90, Passes::COLOR).unwrap();
    let vivid = spread(&frame.color);

    let fixed = Scene::parse(
        "fixed.toml",
        &format!(
            "{DEEP_VIEW}\n[look]\ncount_range = [0, 1]\ntransfer = \"linear\"\ndensity = 50.0\n"
        ),
    )
    .unwrap();
    let flat = spread(
        &renderer
            .render(&fixed, 160, 90, Passes::COLOR)
            .unwrap()
            .color,
    );
    assert!(
        vivid > 40.0 && vivid > 2.0 * flat,
        "measured {vivid}, fixed {flat}"
    );
}

/// A path from its text.
fn flight(name: &str, text: &str) -> CameraPath {
    CameraPath::new(PathFile::parse(name, text).unwrap())
}

/// Frames of `path` small enough that measuring a track is quick: 96x54 at 10 fps.
fn small_plan(path: &CameraPath) -> FramePlan<'_> {
    FramePlan {
        path,
        fps: 10.0,
        width: 96,
        height: 54,
        samples: 1,
        shutter: 0.0,
    }
}

/// A zoom path's range is measured along the path: it climbs with the zoom, frames between
/// measurements get the interpolation (not a measure of their own), and the same track comes
/// of the same path whatever frames are rendered.
#[test]
fn a_flight_keys_its_counts_along_the_path() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let path = flight(
        "zoom.toml",
        r#"
[fractal]
kind = "mandelbrot"
iterations = 3000

[[key]]
time = 0.0
center = ["-0.75", "0.0"]
zoom = 2.6

[[key]]
time = 2.0
center = ["-0.743643887037151", "0.131825904205330"]
zoom = "1e-7"
"#,
    );
    let plan = small_plan(&path);
    let track = CountTrack::measure(&plan, &mut renderer, 0..plan.frame_count())
        .unwrap()
        .expect("a plane path has a track");
    let start = track.at(0.0);
    let end = track.at(2.0);
    assert!(
        end.quantiles[0] > 10.0 * start.quantiles[0].max(1.0),
        "{start:?} {end:?}"
    );
    // Half-way between the measurements at 0.5 s and 1 s: their mix.
    let (a, b) = (track.at(0.5), track.at(1.0));
    assert_eq!(track.at(0.75), a.mix(&b, 0.5));
    // Measuring again gives the same keys.
    let again = CountTrack::measure(&plan, &mut renderer, 0..plan.frame_count())
        .unwrap()
        .unwrap();
    assert_eq!(again, track);
    // A render of a few frames measures only the keys around them, and its frames get the
    // scales the whole track gives them.
    let excerpt = CountTrack::measure(&plan, &mut renderer, 6..9)
        .unwrap()
        .unwrap();
    assert!(excerpt.key_count() < track.key_count(), "{excerpt:?}");
    for k in 6..9 {
        let t = plan.track_time(k);
        assert_eq!(excerpt.at(t), track.at(t), "frame {k}");
    }
}

/// Where the keys next to a render's frames escape nowhere (a view inside the set has no count
/// range), an excerpt's track reaches on to the nearest key that does, as the whole track does.
#[test]
fn an_excerpt_of_a_flight_reaches_past_keys_inside_the_set() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let path = flight(
        "inside.toml",
        r#"
[fractal]
kind = "mandelbrot"
iterations = 200

[[key]]
time = 0.0
center = ["-0.1", "0.0"]
zoom = 0.05

[[key]]
time = 2.0
center = ["-0.1", "0.0"]
zoom = 0.05

[[key]]
time = 3.0
center = ["-0.75", "0.1"]
zoom = 0.05
"#,
    );
    let plan = small_plan(&path);
    let whole = CountTrack::measure(&plan, &mut renderer, 0..plan.frame_count())
        .unwrap()
        .unwrap();
    let excerpt = CountTrack::measure(&plan, &mut renderer, 2..6)
        .unwrap()
        .unwrap();
    // The views of the first two seconds lie inside the main cardioid: no keys there.
    assert!(whole.key_count() <= 2, "{whole:?}");
    assert!(excerpt.key_count() >= 1, "{excerpt:?}");
    for k in 2..6 {
        let t = plan.track_time(k);
        assert_eq!(excerpt.at(t), whole.at(t), "frame {k}");
    }
    // Measured, not the stand-in of a path that escapes nowhere.
    assert_ne!(
        whole.at(0.3),
        mandelfly::colouring::CountScale::fixed(0.0, 1.0)
    );
}

/// The stripe average changes the picture, in direct iteration and in deep zooms alike (the
/// pipelines with it are built apart from those without).
#[test]
fn stripes_change_the_picture() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let shallow = "[fractal]\nkind = \"mandelbrot\"\niterations = 500\n";
    for view in [shallow, DEEP_VIEW] {
        let plain = Scene::parse("plain.toml", view).unwrap();
        let striped =
            Scene::parse("striped.toml", &format!("{view}\n[look]\nstripes = 1.0\n")).unwrap();
        let a = renderer
            .render(&plain, 96, 54, Passes::COLOR)
            .unwrap()
            .color;
        let b = renderer
            .render(&striped, 96, 54, Passes::COLOR)
            .unwrap()
            .color;
        let changed = a
            .chunks(4)
            .zip(b.chunks(4))
            .filter(|(p, q)| p[..3].iter().zip(&q[..3]).any(|(x, y)| x.abs_diff(*y) > 24))
            .count();
        assert!(
            changed * 4 > a.len() / 4,
            "{changed} of {} pixels changed",
            a.len() / 4
        );
        // And back: the plain pipeline is still the plain one.
        let again = renderer
            .render(&plain, 96, 54, Passes::COLOR)
            .unwrap()
            .color;
        assert_eq!(a, again);
    }
}
