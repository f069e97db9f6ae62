//! Regression tests for hostile and unlucky input (issue 18): no panic, no hang, a clear
//! message, and nothing half-written left behind.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A bad-input failure: exit 2, the expected words, no panic.
fn refused(o: &Output, expected: &[&str]) {
    let msg = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
    for e in expected {
        assert!(msg.contains(e), "{msg:?} lacks {e:?}");
    }
}

const TWO_KEYS: &str =
    "[[key]]\ntime = 0\nposition = [3, 0, 1]\n[[key]]\ntime = 1\nposition = [0, 3, 1]\n";

#[test]
fn a_directory_as_video_output_is_refused_before_rendering() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("d.mp4")).unwrap();
    let o = run_in(dir.path(), &["render", "--frames", "0..2", "-o", "d.mp4"]);
    let msg = stderr(&o);
    assert!(!o.status.success());
    assert!(msg.contains("d.mp4") && msg.contains("directory"), "{msg}");
    assert!(!msg.contains("frame 1/"), "rendered first: {msg}");
    assert_eq!(names(dir.path()), ["d.mp4"]);
}

#[test]
fn concat_output_that_is_a_directory_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("segs")).unwrap();
    std::fs::create_dir(dir.path().join("o.mp4")).unwrap();
    let o = run_in(dir.path(), &["concat", "segs", "-o", "o.mp4"]);
    assert!(!o.status.success());
    assert_eq!(names(dir.path()), ["o.mp4", "segs"]);
}

#[test]
fn huge_durations_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("huge.toml"),
        format!("duration = 1e300\n{TWO_KEYS}"),
    )
    .unwrap();
    for args in [
        vec!["path", "check", "huge.toml"],
        vec!["render", "huge.toml", "-o", "h.mp4"],
    ] {
        refused(
            &run_in(dir.path(), &args),
            &["huge.toml:1:12", "longest path"],
        );
    }
    std::fs::write(
        dir.path().join("key.toml"),
        "loop = true\n[[key]]\ntime = 0\nposition = [3, 0, 1]\n[[key]]\ntime = 1e308\nposition = [0, 3, 1]\n",
    )
    .unwrap();
    refused(
        &run_in(dir.path(), &["path", "check", "key.toml"]),
        &["key.toml:", "longest path"],
    );
    // Long but allowed: at 1000 fps it is too many frames to sample or render.
    std::fs::write(
        dir.path().join("long.toml"),
        format!("duration = 1e5\n{TWO_KEYS}"),
    )
    .unwrap();
    for args in [
        vec!["path", "sample", "long.toml", "--fps", "1000"],
        vec!["path", "check", "long.toml", "--fps", "1000"],
        vec!["render", "long.toml", "--fps", "1000", "-o", "l.mp4"],
    ] {
        refused(&run_in(dir.path(), &args), &["frames are allowed"]);
    }
    assert_eq!(names(dir.path()), ["huge.toml", "key.toml", "long.toml"]);
}

#[test]
fn a_closed_pipe_is_a_quiet_exit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("long.toml"),
        format!("duration = 3000\n{TWO_KEYS}"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args(["path", "sample", "long.toml", "--fps", "100"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("time,"), "{first}");
    // The reader is gone (as `| head -1`): the writer must end without a word.
    let out = child.wait_with_output().unwrap();
    let msg = stderr(&out);
    assert!(msg.is_empty(), "{msg}");
    assert_ne!(out.status.code(), Some(101), "a panic");
}

#[test]
fn preview_of_a_tiny_size_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), TWO_KEYS).unwrap();
    refused(
        &run_in(
            dir.path(),
            &["path", "preview", "p.toml", "--size", "1x1", "-o", "p.png"],
        ),
        &["--size 1x1", "at least"],
    );
    assert_eq!(names(dir.path()), ["p.toml"]);
}

#[test]
fn silently_ignored_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        "[camera]\nposition = [2, -2, 1.4, 99]\n",
    )
    .unwrap();
    refused(
        &run_in(dir.path(), &["still", "s.toml", "-o", "s.png"]),
        &["s.toml:2:25", "`position` takes 3 numbers, got 4"],
    );
    std::fs::write(
        dir.path().join("plane.toml"),
        "[fractal]\nkind = \"mandelbrot\"\n",
    )
    .unwrap();
    for flag in [["--fov", "40"], ["--camera-pos", "1,2,3"]] {
        let mut args = vec!["still", "plane.toml", "-o", "p.png"];
        args.extend(flag);
        refused(&run_in(dir.path(), &args), &["plane kind"]);
    }
    std::fs::write(
        dir.path().join("pp.toml"),
        "[fractal]\nkind = \"mandelbrot\"\n[[key]]\ntime = 0\nposition = [1, 2, 3]\n",
    )
    .unwrap();
    refused(
        &run_in(dir.path(), &["path", "check", "pp.toml"]),
        &["pp.toml:5:1", "plane path"],
    );
    for (args, expected) in [
        (vec!["--crf", "100"], "0 to 51"),
        (
            vec!["--crf", "20", "--bitrate", "2M"],
            "cannot be used with",
        ),
        (vec!["--preset", "bogus"], "not a h264 preset"),
    ] {
        let mut all = vec!["render", "--frames", "0..2", "-o", "v.mp4"];
        all.extend(args);
        refused(&run_in(dir.path(), &all), &[expected]);
    }
    assert_eq!(names(dir.path()), ["plane.toml", "pp.toml", "s.toml"]);
}

#[test]
fn path_check_json_and_strict() {
    let dir = tempfile::tempdir().unwrap();
    // Straight through the Mandelbulb: a warning.
    std::fs::write(
        dir.path().join("through.toml"),
        "[[key]]\ntime = 0\nposition = [3, 0, 0]\n[[key]]\ntime = 2\nposition = [-3, 0, 0]\n",
    )
    .unwrap();
    let o = run_in(dir.path(), &["path", "check", "through.toml", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["keys"], 2);
    assert_eq!(v["frames"], 61);
    let warnings = v["warnings"].as_array().unwrap();
    assert!(!warnings.is_empty());
    assert!(warnings[0].as_str().unwrap().contains("inside the fractal"));
    let o = run_in(dir.path(), &["path", "check", "through.toml", "--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("--strict"));
    std::fs::write(dir.path().join("clear.toml"), TWO_KEYS).unwrap();
    let o = run_in(
        dir.path(),
        &["path", "check", "clear.toml", "--strict", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["warnings"].as_array().unwrap().len(), 0);
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let o = run_in(dir.path(), &["completions", shell]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("mandelfly") && text.contains("import-gltf"),
            "{shell}"
        );
    }
    let o = run_in(dir.path(), &["man"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with(".ie") || text.contains(".TH"), "{text}");
    assert!(text.contains("mandelfly"));
}

#[test]
fn help_has_examples_and_groups_global_options() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in [
        vec!["--help"],
        vec!["still", "--help"],
        vec!["render", "--help"],
        vec!["path", "check", "--help"],
    ] {
        let o = run_in(dir.path(), &cmd);
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("Examples:"), "{cmd:?}: {text}");
        assert!(text.contains("Global options:"), "{cmd:?}: {text}");
        assert!(text.contains("--quiet"), "{cmd:?}: {text}");
    }
}

#[test]
fn a_killed_sequence_leaves_nothing_a_rerun_keeps() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    // As a SIGKILLed run leaves it.
    std::fs::write(frames.join(".frame_00001.png.Ab12Cd.partial"), b"half").unwrap();
    std::fs::write(dir.path().join("p.toml"), TWO_KEYS).unwrap();
    let o = run_in(
        dir.path(),
        &[
            "render", "p.toml", "-o", "frames/", "--size", "32x18", "--fps", "2", "-q",
        ],
    );
    assert_quiet(&o, "render --quiet");
    assert_eq!(
        names(&frames),
        ["frame_00000.png", "frame_00001.png", "frame_00002.png"]
    );
    // A still says nothing either (not even the adapter) when all goes well.
    let o = run_in(
        dir.path(),
        &["still", "--size", "32x18", "-o", "s.png", "--quiet"],
    );
    assert_quiet(&o, "still --quiet");
}

/// A run that succeeded and printed nothing at all.
fn assert_quiet(o: &Output, what: &str) {
    assert!(o.status.success(), "{}", stderr(o));
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "{what}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
}

#[test]
fn an_encoder_error_leaves_nothing() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.toml"), TWO_KEYS).unwrap();
    // A file size limit is a full disk in miniature: writes fail with EFBIG once past it
    // (SIGXFSZ ignored, so the write fails instead of killing the process).
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -f 64; trap '' XFSZ; exec {} render p.toml -o v.mkv --codec ffv1 \
             --size 256x144 --fps 30",
            env!("CARGO_BIN_EXE_mandelfly")
        ))
        .env("MESA_SHADER_CACHE_DISABLE", "true")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let msg = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    assert!(msg.contains("v.mkv"), "{msg}");
    assert_eq!(names(dir.path()), ["p.toml"]);
}

#[test]
fn an_interrupted_still_leaves_nothing() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args([
            "still",
            "--size",
            "4096x4096",
            "--samples",
            "16",
            "-o",
            "big.png",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until its temporary file exists, then interrupt.
    let mut seen = false;
    for _ in 0..500 {
        if names(dir.path()).iter().any(|n| n.ends_with(".partial")) {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(seen, "no temporary file appeared");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        // Finished before the signal (a fast GPU): nothing to check.
        return;
    }
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn still_is_named_after_its_scene_and_never_overwrites_silently() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("seahorse.toml"), "").unwrap();
    let args = ["still", "seahorse.toml", "--size", "32x18"];
    let o = run_in(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("seahorse.png").exists());
    // The same image again: fine.
    let o = run_in(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    // A different one: refused unless --force.
    std::fs::write(dir.path().join("seahorse.png"), b"not this").unwrap();
    refused(&run_in(dir.path(), &args), &["--force"]);
    assert_eq!(
        std::fs::read(dir.path().join("seahorse.png")).unwrap(),
        b"not this"
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    let o = run_in(dir.path(), &forced);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(
        std::fs::read(dir.path().join("seahorse.png")).unwrap(),
        b"not this"
    );
    // Stills anti-alias by default: one sample gives a different (harsher) image.
    let o = run_in(
        dir.path(),
        &[
            "still",
            "seahorse.toml",
            "--size",
            "32x18",
            "--samples",
            "1",
            "-o",
            "aa.png",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(
        std::fs::read(dir.path().join("aa.png")).unwrap(),
        std::fs::read(dir.path().join("seahorse.png")).unwrap()
    );
    assert_eq!(
        names(dir.path()),
        ["aa.png", "seahorse.png", "seahorse.toml"]
    );
}

#[test]
fn a_render_interrupted_at_once_leaves_no_temporary_file() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args(["render", &common::weave(), "-o", "v.mp4", "--size", "64x36"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // As soon as its temporary file exists.
    for _ in 0..1000 {
        if names(dir.path()).iter().any(|n| n.ends_with(".writing")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    // A playable partial file if frames were done, never a temporary one.
    let left = names(dir.path());
    assert!(
        left.is_empty() || left == ["v.partial.mp4"],
        "{left:?}: {}",
        stderr(&out)
    );
}

#[test]
fn info_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(dir.path(), &["info", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kinds = v["fractal_kinds"].as_array().unwrap();
    assert!(
        kinds
            .iter()
            .any(|k| k["name"] == "mandelbulb" && k["parameters"]["power"] == 8.0)
    );
    assert!(v["adapters"].is_array());
}

#[test]
fn formula_problems_are_located_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let de =
        "fn fractal_de(p: vec3<f32>) -> vec2<f32> { return vec2<f32>(length(p) - 1.0, 0.0); }\n";
    std::fs::write(dir.path().join("f.wgsl"), de).unwrap();
    // A WGSL keyword as parameter name: the TOML line, not the WGSL file.
    std::fs::write(
        dir.path().join("k.toml"),
        "[fractal]\nkind = \"custom\"\nformula = \"f.wgsl\"\n[fractal.params]\nloop = 1.0\n",
    )
    .unwrap();
    refused(
        &run_in(dir.path(), &["still", "k.toml", "-o", "k.png"]),
        &["k.toml:5:8", "keyword"],
    );
    // A huge private array: refused where declared, before any GPU sees it.
    std::fs::write(
        dir.path().join("big.wgsl"),
        format!("var<private> big: array<f32, 100000000>;\n{de}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        "[fractal]\nkind = \"custom\"\nformula = \"big.wgsl\"\n",
    )
    .unwrap();
    refused(
        &run_in(dir.path(), &["still", "b.toml", "-o", "b.png"]),
        &["big.wgsl:1:", "400000000 bytes"],
    );
    // An empty file: located in it, saying what is missing.
    std::fs::write(dir.path().join("empty.wgsl"), "").unwrap();
    std::fs::write(
        dir.path().join("e.toml"),
        "[fractal]\nkind = \"custom\"\nformula = \"empty.wgsl\"\n",
    )
    .unwrap();
    refused(
        &run_in(dir.path(), &["still", "e.toml", "-o", "e.png"]),
        &["empty.wgsl:1:1", "must define `fn fractal_de"],
    );
}

#[test]
fn no_runtime_dir_noise() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args(["info"])
        .env_remove("XDG_RUNTIME_DIR")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let msg = stderr(&o);
    assert!(!msg.contains("XDG_RUNTIME_DIR"), "{msg}");
}
