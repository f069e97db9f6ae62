//! The live window under a real (virtual) display: it opens, flies, shows the fractal, records
//! and writes a screenshot. scripts/test starts Xvfb when there is no display.
#![cfg(feature = "window")]

mod common;

use std::process::Command;

/// Set to 1 to skip window tests where no display can be had. Without it a missing display
/// fails the test: a window test never passes by skipping silently.
const SKIP_ENV: &str = "MANDELFLY_SKIP_WINDOW_TESTS";

fn display_available() -> bool {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!("window test skipped: {SKIP_ENV}=1");
        return false;
    }
    assert!(
        std::env::var("DISPLAY").is_ok() || std::env::var("WAYLAND_DISPLAY").is_ok(),
        "the window test needs a display (scripts/test starts Xvfb); set {SKIP_ENV}=1 to opt out"
    );
    common::gpu().is_some()
}

#[test]
fn explore_flies_and_shows_the_fractal() {
    if !display_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("shot.png");
    let out = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args([
            "--verbose",
            "explore",
            "--size",
            "320x180",
            "--autopilot",
            "--exit-after",
            "30",
        ])
        .arg("--screenshot")
        .arg(&shot)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("30 frames"), "{text}");
    // --verbose: the flight's figures (the 20 frames after the warm-up).
    let figures = text
        .lines()
        .find(|l| l.starts_with("20 frames at "))
        .unwrap_or_else(|| panic!("no figures in {text}"));
    for part in [
        " fps; frame time p50 ",
        " ms, p95 ",
        " ms, p99 ",
        "latency",
        "shown at ",
    ] {
        assert!(figures.contains(part), "{part:?} missing from {figures}");
    }
    // The temporal view shows at least half the window while flying.
    let shown: f64 = figures
        .split("shown at ")
        .nth(1)
        .and_then(|r| r.split('%').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no resolution in {figures}"));
    assert!(shown >= 50.0, "{figures}");
    let img = image::open(&shot).unwrap().into_rgb8();
    assert_eq!(img.dimensions(), (320, 180));
    // Not blank, not uniform: a lit, shaded surface of many colours (the autopilot flies the
    // built-in flight, which is close to the surface by frame 30).
    let bright = img.pixels().filter(|p| p.0[0] > 120).count();
    let dark = img.pixels().filter(|p| p.0[0] < 100).count();
    let colours: std::collections::HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    let pixels = (320 * 180) as usize;
    assert!(bright > pixels / 50, "surface {bright}");
    assert!(dark > pixels / 100, "shading {dark}");
    assert!(colours.len() > 500, "{} colours", colours.len());
}

#[test]
fn explore_opens_a_path_and_a_plane_kind() {
    if !display_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("paths/seahorse-zoom.toml");
    let shot = dir.path().join("m.png");
    let out = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .arg("explore")
        .arg(&path)
        .args(["--size", "160x90", "--exit-after", "5"])
        .arg("--screenshot")
        .arg(&shot)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&shot).unwrap().into_rgb8();
    // The whole Mandelbrot set: its black interior and coloured outside.
    assert!(img.pixels().any(|p| p.0 == [0, 0, 0]));
    assert!(img.pixels().any(|p| p.0[0] > 150 || p.0[2] > 150));
}
