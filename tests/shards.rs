//! One flight across many machines: shards rendered as parallel processes and joined by
//! `concat` equal the flight rendered in one go; concat names every problem with a segment set;
//! a killed shard is never taken, and running it again completes the set.
#![cfg(feature = "video")]

mod common;

use common::{decode, mandelfly, weave};

use std::path::Path;
use std::process::{Command, Stdio};

const COMMON: [&str; 4] = ["--size", "64x36", "--fps", "4"];

/// Shard i of 3 at 4 fps, unless `extra` sets another rate.
fn shard(i: u32, dir: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mandelfly"));
    let fps: &[&str] = if extra.contains(&"--fps") {
        &["--size", "64x36"]
    } else {
        &COMMON
    };
    c.arg("render")
        .arg(weave())
        .args(fps)
        .args(["--shard", &format!("{i}/3"), "-o", dir.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Renders the three shards as parallel processes.
fn render_shards(dir: &Path, extra: &[&str]) {
    let children: Vec<_> = (0..3)
        .map(|i| shard(i, dir, extra).spawn().unwrap())
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn shards_joined_equal_the_flight_in_one_go() {
    if common::gpu().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let segments = tmp.path().join("segments");
    // Lossless FFV1: the decoded frames are the rendered frames, so they must match exactly.
    let lossless = ["--codec", "ffv1"];
    render_shards(&segments, &lossless);
    let joined = tmp.path().join("joined.mkv");
    let out = mandelfly(&[
        "concat",
        segments.to_str().unwrap(),
        "-o",
        joined.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let whole = tmp.path().join("whole.mkv");
    let mut args = vec!["render".to_string(), weave()];
    args.extend(COMMON.map(String::from));
    args.extend(["-o".into(), whole.to_string_lossy().into_owned()]);
    args.extend(lossless.map(String::from));
    let out = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (a, da) = decode(&joined);
    let (b, db) = decode(&whole);
    // A 16 s loop at 4 fps: 64 frames, each at k / 4 s, none lost or doubled at the joins.
    assert_eq!(a.len(), 64);
    assert_eq!(b.len(), 64);
    assert!(
        (da - 16.0).abs() < 1e-6 && (db - 16.0).abs() < 1e-6,
        "{da} {db}"
    );
    for (k, ((ta, fa), (tb, fb))) in a.iter().zip(&b).enumerate() {
        assert!((ta - k as f64 / 4.0).abs() < 1e-6, "frame {k} at {ta}");
        assert!((tb - k as f64 / 4.0).abs() < 1e-6, "frame {k} at {tb}");
        assert!(fa == fb, "frame {k} differs");
    }

    // H.264 segments join into MP4 with exact timing too.
    let h264 = tmp.path().join("h264");
    render_shards(&h264, &[]);
    let mp4 = tmp.path().join("joined.mp4");
    let out = mandelfly(&[
        "concat",
        h264.to_str().unwrap(),
        "-o",
        mp4.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (frames, duration) = decode(&mp4);
    assert_eq!(frames.len(), 64);
    assert!((duration - 16.0).abs() < 1e-6, "{duration}");
    for (k, (t, _)) in frames.iter().enumerate() {
        assert!((t - k as f64 / 4.0).abs() < 1e-6, "frame {k} at {t}");
    }

    // A re-run of a complete shard does nothing.
    let out = shard(1, &h264, &[]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("already complete"));
}

fn concat_error(dir: &Path) -> String {
    let out_file = dir.with_extension("mp4");
    let out = mandelfly(&[
        "concat",
        dir.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "concat should refuse");
    assert!(!out_file.exists());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn concat_names_each_problem() {
    if common::gpu().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    render_shards(&good, &["--codec", "ffv1"]);

    let missing = tmp.path().join("missing");
    copy_dir(&good, &missing);
    std::fs::remove_file(missing.join("shard-0001-of-0003.json")).unwrap();
    let msg = concat_error(&missing);
    assert!(msg.contains("shard-0001-of-0003: missing"), "{msg}");

    let duplicated = tmp.path().join("duplicated");
    copy_dir(&good, &duplicated);
    std::fs::copy(
        duplicated.join("shard-0002-of-0003.json"),
        duplicated.join("shard-0002-of-0003-copy.json"),
    )
    .unwrap();
    let msg = concat_error(&duplicated);
    assert!(msg.contains("shard-0002-of-0003: present 2 times"), "{msg}");
    assert!(msg.contains("overlap"), "{msg}");

    let mismatched = tmp.path().join("mismatched");
    copy_dir(&good, &mismatched);
    let out = shard(2, &mismatched, &["--codec", "ffv1", "--samples", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let msg = concat_error(&mismatched);
    assert!(
        msg.contains("shard-0002-of-0003.json: rendered from a different path or settings"),
        "{msg}"
    );

    let truncated = tmp.path().join("truncated");
    copy_dir(&good, &truncated);
    let seg = truncated.join("shard-0000-of-0003.mkv");
    let bytes = std::fs::read(&seg).unwrap();
    std::fs::write(&seg, &bytes[..bytes.len() / 2]).unwrap();
    let msg = concat_error(&truncated);
    assert!(msg.contains("shard-0000-of-0003.mkv"), "{msg}");
    // Overwritten in place, same size: the manifest's hash catches it.
    let overwritten = tmp.path().join("overwritten");
    copy_dir(&good, &overwritten);
    let seg = overwritten.join("shard-0001-of-0003.mkv");
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    for b in &mut bytes[n / 2..n / 2 + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&seg, &bytes).unwrap();
    let msg = concat_error(&overwritten);
    assert!(
        msg.contains("shard-0001-of-0003.mkv") && msg.contains("SHA-256"),
        "{msg}"
    );
}

#[test]
fn a_killed_shard_is_not_taken_and_a_rerun_completes() {
    if common::gpu().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("segments");
    // Shards 0 and 2 complete; shard 1 is killed mid-way (a lost node). 100 fps and 4 samples
    // per pixel make it run long enough (a few seconds) to be caught.
    for i in [0, 2] {
        let out = shard(i, &dir, &["--fps", "100", "--samples", "4"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut child = shard(1, &dir, &["--fps", "100", "--samples", "4"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.join("shard-0001-of-0003.json").exists());
    let msg = concat_error(&dir);
    assert!(msg.contains("shard-0001-of-0003: missing"), "{msg}");

    let out = shard(1, &dir, &["--fps", "100", "--samples", "4"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The re-run removed the temporary file the killed run left.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("shard-") && !n.contains("partial")),
        "{names:?}"
    );
    let joined = tmp.path().join("joined.mp4");
    let out = mandelfly(&[
        "concat",
        dir.to_str().unwrap(),
        "-o",
        joined.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (frames, duration) = decode(&joined);
    assert_eq!(frames.len(), 1600);
    assert!((duration - 16.0).abs() < 1e-6, "{duration}");
}

/// Shard `i` of 4 of a 16-frame flight (one frame per second of the loop).
fn small_shard(i: u32, dir: &Path, extra: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .arg("render")
        .arg(weave())
        .args(["--size", "64x36", "--fps", "1", "--codec", "ffv1"])
        .args(["--shard", &format!("{i}/4"), "-o", dir.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn status_json(dir: &Path) -> serde_json::Value {
    let out = mandelfly(&["shards", "status", dir.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn status_names_each_shard_and_a_rerun_clears_what_a_stopped_run_left() {
    if common::gpu().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("segments");
    small_shard(0, &dir, &[]);
    small_shard(2, &dir, &[]);
    // Shard 1 stopped twice: once interrupted (a finalised partial file), once killed (the
    // temporary file). Shard 3 was rendered with other settings.
    std::fs::write(dir.join("shard-0001-of-0004.partial.mkv"), b"partial").unwrap();
    std::fs::write(dir.join(".shard-0001-of-0004.mkv.writing"), b"temp").unwrap();
    small_shard(3, &dir, &["--samples", "2"]);

    let status = status_json(&dir);
    assert_eq!(status["shards"], 4);
    assert_eq!(status["total_frames"], 16);
    assert_eq!(status["done"], 2);
    assert_eq!(status["complete"], false);
    assert_eq!(status["rerun"], serde_json::json!([1, 3]));
    let states: Vec<&str> = status["shard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["done", "partial", "done", "stale"], "{status}");
    let one = &status["shard"][1];
    assert_eq!(
        (&one["first_frame"], &one["end_frame"]),
        (&4.into(), &8.into())
    );
    assert!(
        one["detail"]
            .as_str()
            .unwrap()
            .contains("shard-0001-of-0004.partial.mkv"),
        "{one}"
    );
    // The adapter that rendered a shard is in its manifest and in the report.
    let adapter = status["shard"][0]["adapter"].as_str().unwrap().to_string();
    assert!(!adapter.is_empty());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("shard-0000-of-0004.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["adapter"].as_str(), Some(adapter.as_str()));

    let out = mandelfly(&["shards", "status", dir.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(report.contains("2 of 4 shards done"), "{report}");
    assert!(report.contains("re-run: 1, 3"), "{report}");
    assert!(report.contains("stale"), "{report}");

    // A successful re-run leaves no partial or temporary file of its own.
    let out = small_shard(1, &dir, &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("removed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!dir.join("shard-0001-of-0004.partial.mkv").exists());
    assert!(!dir.join(".shard-0001-of-0004.mkv.writing").exists());
    small_shard(3, &dir, &[]);
    let status = status_json(&dir);
    assert_eq!(status["complete"], true, "{status}");
    assert_eq!(status["rerun"], serde_json::json!([]));

    // Shards from different adapters join, with a warning.
    let path = dir.join("shard-0002-of-0004.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(&adapter, "Another GPU")).unwrap();
    let joined = tmp.path().join("joined.mkv");
    let out = mandelfly(&[
        "concat",
        dir.to_str().unwrap(),
        "-o",
        joined.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("different adapters"), "{stderr}");
    assert!(stderr.contains("Another GPU (shard 2)"), "{stderr}");

    // Nothing to report on: a clear error.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = mandelfly(&["shards", "status", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no shard files"));
    let out = mandelfly(&[
        "shards",
        "status",
        tmp.path().join("nowhere").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
}

#[test]
fn a_missing_adapter_fails_before_anything_is_written() {
    if common::gpu().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("segments");
    let video = tmp.path().join("v.mp4");
    let frames = tmp.path().join("frames");
    for args in [
        vec!["--shard", "0/4", "-o", dir.to_str().unwrap()],
        vec!["-o", video.to_str().unwrap()],
        vec!["-o", frames.to_str().unwrap()],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
            .arg("render")
            .arg(weave())
            .args(["--size", "64x36", "--fps", "1"])
            .args(&args)
            .env("MANDELFLY_ADAPTER", "NoSuchAdapter")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("no adapter name contains \"NoSuchAdapter\"; available: "),
            "{stderr}"
        );
    }
    assert!(!dir.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);

    // Found: every render says which adapter, once.
    let out = small_shard(0, &dir, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("adapter: ").count(), 1, "{stderr}");
}

#[test]
fn a_shard_run_twice_at_once_and_two_concats_never_share_a_file() {
    if common::gpu().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("segments");
    for i in [0, 2] {
        let out = shard(i, &dir, &["--codec", "ffv1"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A retried pod while the first is still alive: both run shard 1 together.
    let twins: Vec<_> = (0..2)
        .map(|_| shard(1, &dir, &["--codec", "ffv1"]).spawn().unwrap())
        .collect();
    let outs: Vec<_> = twins
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    // One completes the shard; the other completes it too or says another process did.
    assert!(outs.iter().any(|o| o.status.success()));
    for o in &outs {
        let msg = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() || msg.contains("another process"),
            "{msg}"
        );
    }
    let temps = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect()
    };
    assert!(temps(&dir).is_empty(), "{:?}", temps(&dir));
    // Two concats to one file at once: each its own temporary file, one whole video.
    let joined = tmp.path().join("joined.mkv");
    let concats: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_mandelfly"))
                .args([
                    "concat",
                    dir.to_str().unwrap(),
                    "-o",
                    joined.to_str().unwrap(),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = concats
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    assert!(
        outs.iter().any(|o| o.status.success()),
        "{}",
        String::from_utf8_lossy(&outs[0].stderr)
    );
    assert!(temps(tmp.path()).is_empty(), "{:?}", temps(tmp.path()));
    let (frames, _) = decode(&joined);
    // weave.toml: a 16 s loop at 4 fps.
    assert_eq!(frames.len(), 64);
}
