//! `mandelfly bench`: a --quick run on lavapipe gives a complete report in the documented
//! schema; a baseline it is slower than fails the run; bad baselines are named.

mod common;

use common::mandelfly;

use serde_json::Value;

fn number(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

#[test]
fn quick_run_gives_a_complete_report_and_baselines_judge_it() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    let out = mandelfly(&[
        "bench",
        "--quick",
        "--runs",
        "1",
        "--json",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Progress counts the steps: the last is n/n.
    let progress = String::from_utf8_lossy(&out.stderr);
    let n = mandelfly::bench::Options::default().steps();
    assert!(
        progress.contains(&format!("bench: 1/{n} "))
            && progress.contains(&format!("bench: {n}/{n} ")),
        "{progress}"
    );
    // stdout is exactly the report, and so is the file.
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let from_file: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(report, from_file);

    assert_eq!(report["schema"], "mandelfly-bench");
    assert_eq!(report["version"], 1);
    assert_eq!(report["quick"], true);
    for key in ["name", "backend", "device_type", "driver", "driver_info"] {
        assert!(report["adapter"][key].is_string(), "adapter.{key}");
    }
    assert!(report["adapter"]["timestamps"].is_boolean());
    assert!(number(&report["peak"], "fma_gflops") > 0.0);
    assert!(number(&report["peak"], "de_per_second") > 0.0);
    let cases = report["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut expected = vec![
        "reference-720p",
        "reference-1080p",
        "reference-2160p",
        "default-look-720p",
        "default-look-1080p",
        "closeup-detail",
        "mandelbrot-1k",
        "mandelbrot-10k",
        "deep-1e100-10k",
        "deep-1e100-100k",
        "deep-1e300-10k",
        "deep-1e300-100k",
        "terrain-flyover",
        "zoom-map",
    ];
    if cfg!(feature = "video") {
        expected.push("video-pipeline");
    }
    assert_eq!(names, expected);
    for c in cases {
        for stat in ["median", "p90", "min"] {
            assert!(number(&c["wall_ms"], stat) > 0.0, "{}", c["name"]);
        }
        assert!(number(c, "megapixels_per_second") > 0.0);
        assert!(number(c, "frames_per_second") > 0.0);
        if c["name"] == "zoom-map" {
            // The map computes fewer samples than rendering each frame of the flight would.
            let map = number(c, "map_samples");
            assert!(map > 0.0 && map < number(c, "per_frame_pixels"), "{c}");
        } else if c["name"] != "video-pipeline" {
            // Counted on the GPU: at least one estimate per pixel.
            let pixels = number(c, "width") * number(c, "height");
            assert!(number(c, "de_per_frame") >= pixels, "{}", c["name"]);
            let per_pixel = number(c, "de_per_frame") / pixels;
            assert!((number(c, "de_per_pixel") - per_pixel).abs() < 1e-9 * per_pixel);
            if c["name"].as_str().unwrap().starts_with("reference") {
                let e = number(c, "efficiency");
                assert!(e > 0.0 && e.is_finite());
            }
        }
    }

    // A baseline ten times faster than this run: every case regressed.
    let mut fast = report.clone();
    for c in fast["cases"].as_array_mut().unwrap() {
        for key in ["wall_ms", "gpu_ms"] {
            if let Some(stats) = c[key].as_object_mut() {
                for v in stats.values_mut() {
                    *v = Value::from(v.as_f64().unwrap() / 10.0);
                }
            }
        }
    }
    let fast_file = dir.path().join("fast.json");
    std::fs::write(&fast_file, serde_json::to_string(&fast).unwrap()).unwrap();
    let out = mandelfly(&[
        "bench",
        "--quick",
        "--runs",
        "1",
        "--baseline",
        fast_file.to_str().unwrap(),
        "--max-regression",
        "50",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("REGRESSION"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("performance regression"));
}

#[test]
fn cases_can_be_picked_by_name() {
    let out = mandelfly(&["bench", "--quick", "--case", "reference-72"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--case reference-72") && err.contains("reference-720p, reference-1080p"),
        "{err}"
    );
    if common::gpu().is_none() {
        return;
    }
    let out = mandelfly(&[
        "bench",
        "--quick",
        "--runs",
        "1",
        "--json",
        "--case",
        "terrain-flyover",
        "--case",
        "reference-720p",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    // In the suite's order, not the command line's.
    assert_eq!(names, ["reference-720p", "terrain-flyover"]);
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(
        progress.contains("bench: 3/3 terrain-flyover"),
        "{progress}"
    );
}

#[test]
fn bad_baselines_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema\": \"something else\"}").unwrap();
    let out = mandelfly(&["bench", "--quick", "--baseline", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
    let out = mandelfly(&["bench", "--baseline", "/nonexistent/base.json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/base.json"));
}
