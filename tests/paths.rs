//! Camera paths end to end: the example flights, the CSV of `path sample` checked numerically,
//! and PNG sequences against stills.

mod common;

use common::mandelfly;

use std::path::{Path, PathBuf};

use mandelfly::path::{CameraPath, check};

fn example_paths() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("paths");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "paths/ holds the example flights");
    v
}

/// Parses `path sample` output into rows of numbers.
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(|c| c.parse::<f64>().unwrap()).collect())
        .collect();
    (header, rows)
}

#[test]
fn example_flights_pass_check_without_warnings() {
    for file in example_paths() {
        let path = CameraPath::load(&file).unwrap();
        let summary = check::summarise(&path, 30.0);
        assert!(
            summary.warnings.is_empty(),
            "{}: {:?}",
            file.display(),
            summary.warnings
        );
        assert!(summary.closest.0 > 0.0, "{}", file.display());
        let out = mandelfly(&["path", "check", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let view = if path.file.base.fractal.is_plane() {
            "zoom:"
        } else {
            "closest approach"
        };
        assert!(text.contains("duration:") && text.contains(view), "{text}");
    }
}

/// The sampled motion of every example flight is smooth: unit vectors, no jumps in position or
/// in its first differences (velocity), at the keys and at a loop's seam.
#[test]
fn sampled_flights_are_smooth() {
    for file in example_paths() {
        let out = mandelfly(&["path", "sample", file.to_str().unwrap(), "--fps", "60"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (header, rows) = parse_csv(&String::from_utf8_lossy(&out.stdout));
        if header[1] == "cx" {
            // A plane zoom: the zoom rate (ln zoom per frame) changes smoothly.
            let z: Vec<f64> = rows.iter().map(|r| r[3].ln()).collect();
            let steps: Vec<f64> = z.windows(2).map(|w| w[1] - w[0]).collect();
            let top = steps.iter().map(|s| s.abs()).fold(0.0, f64::max);
            for w in steps.windows(2) {
                assert!((w[1] - w[0]).abs() < 0.05 * top, "{}", file.display());
            }
            continue;
        }
        assert_eq!(
            &header[..11],
            [
                "time", "px", "py", "pz", "fx", "fy", "fz", "ux", "uy", "uz", "fov"
            ]
        );
        let path = CameraPath::load(&file).unwrap();
        assert_eq!(rows.len() as u64, path.frame_count(60.0));
        let pos = |r: &Vec<f64>| glam::DVec3::new(r[1], r[2], r[3]);
        for r in &rows {
            let f = glam::DVec3::new(r[4], r[5], r[6]);
            let u = glam::DVec3::new(r[7], r[8], r[9]);
            assert!((f.length() - 1.0).abs() < 1e-9 && (u.length() - 1.0).abs() < 1e-9);
            assert!(f.dot(u).abs() < 1e-9);
        }
        // Velocity (first differences) changes little from one frame to the next compared
        // with the speed itself: no kinks. A loop is checked across its seam too.
        let mut seq: Vec<glam::DVec3> = rows.iter().map(pos).collect();
        if path.is_loop() {
            seq.push(seq[0]);
            seq.push(seq[1]);
        }
        let v: Vec<glam::DVec3> = seq.windows(2).map(|w| w[1] - w[0]).collect();
        let top_speed = v.iter().map(|d| d.length()).fold(0.0, f64::max);
        for (i, w) in v.windows(2).enumerate() {
            let jump = (w[1] - w[0]).length();
            assert!(
                jump < 0.08 * top_speed,
                "{}: velocity jumps by {jump} at frame {i} (top speed {top_speed})",
                file.display()
            );
        }
    }
}

#[test]
fn path_tools_report_bad_paths() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[key]]\ntime = 2\n[[key]]\ntime = 1\n").unwrap();
    for args in [
        vec!["path", "check", bad.to_str().unwrap()],
        vec!["path", "sample", bad.to_str().unwrap()],
        vec![
            "render",
            bad.to_str().unwrap(),
            "-o",
            dir.path().join("out").to_str().unwrap(),
        ],
    ] {
        let out = mandelfly(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(
            msg.contains("bad.toml:3:1") && msg.contains("unsorted"),
            "{msg}"
        );
    }
    assert!(!dir.path().join("out").exists());
}

/// Frame k of a sequence is exactly the still at time k / fps.
#[test]
fn png_sequence_frames_are_stills_at_their_times() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("paths/weave.toml");
    let path = path.to_str().unwrap();
    let out = mandelfly(&[
        "render",
        path,
        "-o",
        frames.to_str().unwrap(),
        "--size",
        "48x27",
        "--fps",
        "4",
        "--frames",
        "5..8",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["frame_00005.png", "frame_00006.png", "frame_00007.png"]
    );

    let still = dir.path().join("still.png");
    let out = mandelfly(&[
        "still",
        "--samples",
        "1",
        path,
        "--time",
        "1.5",
        "--size",
        "48x27",
        "-o",
        still.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = image::open(frames.join("frame_00006.png"))
        .unwrap()
        .into_rgb8();
    let b = image::open(&still).unwrap().into_rgb8();
    assert_eq!(
        a.as_raw(),
        b.as_raw(),
        "frame 6 at 4 fps is the still at 1.5 s"
    );
    let c = image::open(frames.join("frame_00005.png"))
        .unwrap()
        .into_rgb8();
    assert_ne!(a.as_raw(), c.as_raw(), "the camera moves between frames");

    // The whole sequence has the path's frame count: a 16 s loop at 4 fps is 64 frames.
    let out = mandelfly(&["path", "check", path, "--fps", "4"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("64 frames"));
}

#[test]
fn preview_draws_both_views() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("p.png");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("paths/orbit.toml");
    let out = mandelfly(&[
        "path",
        "preview",
        path.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
        "--size",
        "200x100",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&out_file).unwrap().into_rgb8();
    assert_eq!(img.dimensions(), (200, 100));
    // Each panel has the flight's colours and the fractal's grey.
    for panel in 0..2 {
        let pixels: Vec<[u8; 3]> = (0..100)
            .flat_map(|y| (0..100).map(move |x| (x + panel * 100, y)))
            .map(|(x, y)| img.get_pixel(x, y).0)
            .collect();
        let orange = pixels.iter().any(|p| p[0] > 200 && p[2] < 120);
        let grey = pixels.iter().any(|p| p[0] > 90 && p[0].abs_diff(p[2]) < 8);
        assert!(orange && grey, "panel {panel}");
    }
}

/// Every example flight renders: a few frames of each, small.
#[test]
fn every_example_flight_renders() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for file in example_paths() {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let out_dir = dir.path().join(&name);
        let out = mandelfly(&[
            "render",
            file.to_str().unwrap(),
            "-o",
            out_dir.to_str().unwrap(),
            "--size",
            "32x18",
            "--fps",
            "1",
            "--frames",
            "0..3",
        ]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 3, "{name}");
    }
}

/// A two-key zoom shrinks the view by the same factor every frame, and the zoom target stays
/// on screen: its offset from the centre, in view heights, never grows.
#[test]
fn zoom_rate_is_constant() {
    let src = "[fractal]\nkind = \"mandelbrot\"\n[[key]]\ntime = 0\ncenter = [\"-0.75\", \"0\"]\nzoom = 3\n\
               [[key]]\ntime = 10\ncenter = [\"-0.743643887037151\", \"0.131825904205330\"]\nzoom = \"1e-10\"\n";
    let path = CameraPath::new(mandelfly::path::PathFile::parse("z.toml", src).unwrap());
    let target = glam::DVec2::new(-0.743643887037151, 0.131825904205330);
    let frames: Vec<_> = (0..=300)
        .map(|k| path.sample(k as f64 / 30.0).plane)
        .collect();
    let rates: Vec<f64> = frames
        .windows(2)
        .map(|w| (w[1].zoom / w[0].zoom).ln())
        .collect();
    for r in &rates {
        assert!(
            (r - rates[0]).abs() < 1e-9 * rates[0].abs(),
            "{r} vs {}",
            rates[0]
        );
    }
    let offsets: Vec<f64> = frames
        .iter()
        .map(|v| (target - v.center).length() / v.zoom.to_f64())
        .collect();
    for w in offsets.windows(2) {
        assert!(
            w[1] <= w[0] + 1e-12,
            "the target drifts away: {} -> {}",
            w[0],
            w[1]
        );
    }
    assert!(offsets[0] < 0.5, "the target starts in view");
    assert!(*offsets.last().unwrap() < 1e-6);
}

/// In the deep dive the frames between the keys are placed at full precision: the target (the
/// deep key's centre) stays exactly where the zoom-weighted motion puts it on screen, at every
/// depth down to 1e-300 (f64 centres lose it past about 1e-16).
#[test]
fn deep_dive_centres_keep_full_precision() {
    use mandelfly::deep::{floatexp::FloatExp, precise};
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("paths/deep-dive.toml");
    let path = CameraPath::load(&file).unwrap();
    let (first, last) = (path.sample(0.0).plane, path.sample(60.0).plane);
    let bits = 1280;
    let (c0, c1) = (first.precise_center(bits), last.precise_center(bits));
    let exact = |v: &astro_float_num::BigFloat| precise::to_floatexp(v);
    for k in 1..60 {
        let v = path.sample(k as f64).plane;
        assert!(v.zoom.log2() < 2.0 - k as f64 * 16.0, "zooming in at {k} s");
        let c = v.precise_center(bits);
        for i in 0..2 {
            // The target's offset from the centre, in view heights.
            let offset = (exact(&precise::sub(&c1[i], &c[i], bits)) / v.zoom).to_f64();
            // Zoom-weighted motion: (c1 - c0) / (z0 - z1) * (1 - z1 / zoom).
            let expected = (exact(&precise::sub(&c1[i], &c0[i], bits)) / (first.zoom - last.zoom)
                * (FloatExp::ONE - last.zoom / v.zoom))
                .to_f64();
            assert!(
                (offset - expected).abs() < 1e-9,
                "at {k} s, axis {i}: the target is {offset} view heights off, not {expected}"
            );
        }
    }
}
