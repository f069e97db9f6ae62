//! The command line as a user meets it: bad input gives a non-zero exit, a message naming the
//! problem (file:line:col for files) and no output file; good input gives the image asked for.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn mandelfly(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a failing command and checks exit code, message and that nothing was written.
fn fails(args: &[&str], dir: &Path, expect_in_message: &[&str]) {
    let out = mandelfly(args, dir);
    assert!(!out.status.success(), "{args:?} should fail");
    let msg = stderr(&out);
    for e in expect_in_message {
        assert!(msg.contains(e), "{args:?}: message {msg:?} lacks {e:?}");
    }
    // Anything but the inputs (scene files, formula folders) is left behind output.
    let entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".toml"))
        .collect();
    assert!(entries.is_empty(), "{args:?} left {entries:?} behind");
}

#[test]
fn malformed_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[camera]\nfov = 50\nposition = [1, 2\n",
    )
    .unwrap();
    fails(
        &["still", "bad.toml", "-o", "out.png"],
        dir.path(),
        &["bad.toml:3:"],
    );
}

#[test]
fn unknown_fractal_kind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k.toml"),
        "[fractal]\nkind = \"mandelbox9\"\n",
    )
    .unwrap();
    let out = mandelfly(&["still", "k.toml", "-o", "out.png"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    fails(
        &["still", "k.toml", "-o", "out.png"],
        dir.path(),
        &["k.toml:2:8", "unknown fractal kind", "mandelbox9"],
    );
}

#[test]
fn impossible_values_name_their_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v.toml"), "[fractal]\niterations = -4\n").unwrap();
    fails(
        &["still", "v.toml", "-o", "o.png"],
        dir.path(),
        &["v.toml:2:14", "iterations"],
    );
    std::fs::write(dir.path().join("u.toml"), "[look]\nshadow = true\n").unwrap();
    fails(
        &["still", "u.toml", "-o", "o.png"],
        dir.path(),
        &["u.toml:2:1", "shadow"],
    );
}

#[test]
fn zero_size() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        &["still", "--size", "0x0", "-o", "o.png"],
        dir.path(),
        &["0x0"],
    );
}

#[test]
fn missing_scene_file() {
    let dir = tempfile::tempdir().unwrap();
    fails(&["still", "nope.toml"], dir.path(), &["nope.toml"]);
}

#[test]
fn bad_camera_override() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        &["still", "--fov", "190", "-o", "o.png"],
        dir.path(),
        &["fov"],
    );
    fails(
        &["still", "--look-at", "2,-2,1.4", "-o", "o.png"],
        dir.path(),
        &["look_at"],
    );
}

#[test]
fn unwritable_output() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        &["still", "--size", "32x18", "-o", "no/such/dir/o.png"],
        dir.path(),
        &["no/such/dir/o.png"],
    );
    fails(
        &["still", "-o", "picture.jpg"],
        dir.path(),
        &["picture.jpg", ".png"],
    );
}

#[test]
fn stills_anti_alias_by_default() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let render = |name: &str, extra: &[&str]| {
        let mut args = vec!["still", "--size", "64x36", "-o", name];
        args.extend_from_slice(extra);
        let out = mandelfly(&args, dir.path());
        assert!(out.status.success(), "{}", stderr(&out));
        image::open(dir.path().join(name)).unwrap().into_rgb8()
    };
    let default = render("default.png", &[]);
    let four = render("four.png", &["--samples", "4"]);
    let one = render("one.png", &["--samples", "1"]);
    // The default is four jittered samples: the same image, byte for byte (deterministic), and
    // not the one-sample image (edges and fine detail differ).
    assert_eq!(default.as_raw(), four.as_raw());
    let differing = default
        .pixels()
        .zip(one.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        differing > 20,
        "only {differing} pixels differ from one sample"
    );
}

#[test]
fn still_writes_the_image_asked_for() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = mandelfly(&["still", "--size", "96x54", "-o", "c.png"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image::open(dir.path().join("c.png")).unwrap().into_rgb8();
    assert_eq!(img.dimensions(), (96, 54));
    // The default look: a blue sky in the top corner, the lit, coloured fractal in the middle.
    let [r, _, b] = img.get_pixel(0, 0).0;
    assert!(b > r, "the sky is blue: {:?}", img.get_pixel(0, 0).0);
    assert!(img.get_pixel(48, 27).0[0] > 60);

    let out = mandelfly(
        &[
            "still",
            "--size",
            "96x54",
            "--pass",
            "depth",
            "--depth-max",
            "4",
            "-o",
            "d.png",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let depth = image::open(dir.path().join("d.png")).unwrap();
    assert_eq!(depth.color(), image::ColorType::L16);
    let depth = depth.into_luma16();
    assert_eq!(depth.get_pixel(0, 0).0[0], 0, "escaped rays are 0");
    // The surface at the centre lies within the bounding sphere (radius < 1.25 about the origin,
    // 3.16 from the camera); grey = 65535 * d / 4.
    let centre = depth.get_pixel(48, 27).0[0] as f64 * 4.0 / 65535.0;
    assert!((1.9..4.0).contains(&centre), "centre depth {centre}");

    // Camera overrides apply: looking away from the fractal shows only background.
    // Looking away from the fractal shows only the background (the reference look's flat grey).
    std::fs::write(
        dir.path().join("reference.toml"),
        "[look]\npreset = \"reference\"\n",
    )
    .unwrap();
    let out = mandelfly(
        &[
            "still",
            "reference.toml",
            "--size",
            "32x18",
            "--look-at",
            "4,-4,2",
            "-o",
            "away.png",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image::open(dir.path().join("away.png"))
        .unwrap()
        .into_rgb8();
    assert!(img.pixels().all(|p| p.0 == [51, 51, 51]));
}

#[test]
fn info_lists_the_adapter_in_use() {
    if common::gpu().is_none() {
        return;
    }
    let out = mandelfly(&["info"], Path::new("."));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("adapters ("), "{text}");
    assert!(text.contains("using: "), "{text}");
    for kind in [
        "mandelbulb",
        "mandelbox",
        "julia-quaternion",
        "menger",
        "kleinian",
        "apollonian",
        "hybrid",
        "custom",
    ] {
        assert!(
            text.contains(&format!("  {kind} ")),
            "{kind} missing from {text}"
        );
    }
    assert!(text.contains("power = 8"), "{text}");
}

/// A user's WGSL formula renders like a built-in kind; a broken one is reported at its own
/// file, line and column with the compiler's message, and nothing is written.
#[test]
fn custom_formulas_from_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("f")).unwrap();
    std::fs::write(
        dir.path().join("f/blob.wgsl"),
        "fn fractal_de(p: vec3<f32>) -> vec2<f32> {\n    \
         return vec2<f32>(length(p) - fractal.radius, dot(p, p));\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("blob.toml"),
        "[fractal]\nkind = \"custom\"\nformula = \"f/blob.wgsl\"\n[fractal.params]\nradius = 0.8\n",
    )
    .unwrap();
    if common::gpu().is_some() {
        let out = mandelfly(
            &["still", "blob.toml", "--size", "48x27", "-o", "blob.png"],
            dir.path(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let img = image::open(dir.path().join("blob.png"))
            .unwrap()
            .into_rgb8();
        // A sphere of radius 0.8 seen from its default camera fills the centre; the sky shows
        // in the corner.
        let (centre, corner) = (img.get_pixel(24, 13).0, img.get_pixel(0, 0).0);
        let distance: i32 = (0..3)
            .map(|i| (centre[i] as i32 - corner[i] as i32).abs())
            .sum();
        assert!(distance > 40, "centre {centre:?} corner {corner:?}");
        std::fs::remove_file(dir.path().join("blob.png")).unwrap();
    }

    std::fs::write(
        dir.path().join("f/blob.wgsl"),
        "fn fractal_de(p: vec3<f32>) -> vec2<f32> {\n    let r = length(p);\n    return vec2<f32>(r - fractal.radius, undefined_thing);\n}\n",
    )
    .unwrap();
    fails(
        &["still", "blob.toml", "-o", "blob.png"],
        dir.path(),
        &["f/blob.wgsl:3:42", "undefined_thing"],
    );
    std::fs::write(
        dir.path().join("missing.toml"),
        "[fractal]\nkind = \"custom\"\nformula = \"nope.wgsl\"\n",
    )
    .unwrap();
    fails(
        &["still", "missing.toml", "-o", "x.png"],
        dir.path(),
        &["missing.toml:3:11", "nope.wgsl"],
    );
}

/// The 2D view's keys belong to plane kinds, the 3D camera's to the others; a zoom beyond
/// double precision is refused with a reason.
#[test]
fn plane_views() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "[fractal]\nkind = \"mandelbrot\"\n[camera]\nposition = [1, 2, 3]\n",
    )
    .unwrap();
    fails(
        &["still", "p.toml", "-o", "p.png"],
        dir.path(),
        &["p.toml:4:1", "position"],
    );
    std::fs::write(dir.path().join("b.toml"), "[camera]\nzoom = \"1e-3\"\n").unwrap();
    fails(
        &["still", "b.toml", "-o", "b.png"],
        dir.path(),
        &["b.toml:2:1", "zoom"],
    );
    std::fs::write(
        dir.path().join("z.toml"),
        "[fractal]\nkind = \"mandelbrot\"\n[camera]\ncenter = [\"-0.75\", \"0.1\"]\nzoom = \"zero\"\n",
    )
    .unwrap();
    fails(
        &["still", "z.toml", "-o", "z.png"],
        dir.path(),
        &["z.toml:5:8", "zoom"],
    );
    std::fs::write(
        dir.path().join("deep.toml"),
        "[fractal]\nkind = \"mandelbrot\"\n[camera]\ncenter = [\"-0.75\", \"0.1\"]\nzoom = \"1e-20\"\n",
    )
    .unwrap();
    if common::gpu().is_some() {
        // Beyond f32 (and f64 too, with 1e-1000): perturbation renders it.
        for zoom in ["1e-20", "1e-1000"] {
            std::fs::write(
                dir.path().join("deep.toml"),
                format!("[fractal]\nkind = \"mandelbrot\"\niterations = 300\n[camera]\ncenter = [\"-0.75\", \"0.1\"]\nzoom = \"{zoom}\"\n"),
            )
            .unwrap();
            let out = mandelfly(
                &["still", "deep.toml", "--size", "32x18", "-o", "d.png"],
                dir.path(),
            );
            assert!(out.status.success(), "{zoom}: {}", stderr(&out));
            assert!(dir.path().join("d.png").exists());
        }
        std::fs::write(
            dir.path().join("ok.toml"),
            "[fractal]\nkind = \"mandelbrot\"\niterations = 300\n[camera]\ncenter = [\"-0.75\", \"0\"]\nzoom = 3\n",
        )
        .unwrap();
        let out = mandelfly(
            &["still", "ok.toml", "--size", "64x36", "-o", "ok.png"],
            dir.path(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let img = image::open(dir.path().join("ok.png")).unwrap().into_rgb8();
        // The main cardioid (around -0.25 + 0i, right of centre) is the black interior.
        assert_eq!(img.get_pixel(38, 18).0, [0, 0, 0]);
        assert_ne!(img.get_pixel(2, 2).0, [0, 0, 0]);
    }
}

/// `path find-minibrot` writes a scene framed on the nucleus Newton's method finds, and names
/// what is wrong with its arguments.
#[test]
fn find_minibrot_frames_a_nucleus() {
    let dir = tempfile::tempdir().unwrap();
    let out = mandelfly(
        &["path", "find-minibrot", "--near=-1.76,0", "--period", "3"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let scene = mandelfly::scene::Scene::parse("minibrot.toml", &text).expect("a scene");
    assert!(
        (scene.plane.center.x + 1.754_877_666_246_693).abs() < 1e-14,
        "{text}"
    );
    assert_eq!(scene.plane.center.y, 0.0);
    // About eight sizes tall: the period-3 minibrot is a few hundredths across.
    let zoom = scene.plane.zoom.to_f64();
    assert!((0.02..1.0).contains(&zoom), "{zoom}");
    fails(
        &["path", "find-minibrot", "--near", "1", "--period", "3"],
        dir.path(),
        &["--near", "RE,IM"],
    );
    fails(
        &["path", "find-minibrot", "--near=-1.76,x", "--period", "3"],
        dir.path(),
        &["`x`"],
    );
    fails(
        &["path", "find-minibrot", "--near=-1.76,0", "--period", "0"],
        dir.path(),
        &["--period"],
    );
    // Without a period: the lowest period within --radius (3 here, nothing lower nearby).
    let out = mandelfly(
        &[
            "path",
            "find-minibrot",
            "--near=-1.76,0",
            "--radius",
            "0.01",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("period-3 minibrot (the lowest period within 0.01)"),
        "{text}"
    );
    let scene = mandelfly::scene::Scene::parse("minibrot.toml", &text).expect("a scene");
    assert!((scene.plane.center.x + 1.754_877_666_246_693).abs() < 1e-14);
    fails(
        &["path", "find-minibrot", "--near=1,1", "--radius", "0.01"],
        dir.path(),
        &["--radius", "no minibrot"],
    );
    fails(
        &["path", "find-minibrot", "--near=-1.76,0", "--radius", "-1"],
        dir.path(),
        &["--radius -1"],
    );
    fails(
        &["path", "find-minibrot", "--near=-1.76,0"],
        dir.path(),
        &["--period"],
    );
}

/// `path find-misiurewicz` centres a scene on the point Newton's method reaches, at the
/// precision the zoom needs, and says why when there is none.
#[test]
fn find_misiurewicz_centres_on_the_point() {
    let dir = tempfile::tempdir().unwrap();
    let out = mandelfly(
        &[
            "path",
            "find-misiurewicz",
            "--near=-0.77568377,0.13646737",
            "--preperiod",
            "24",
            "--period",
            "1",
            "--zoom",
            "1e-100",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let scene = mandelfly::scene::Scene::parse("point.toml", &text).expect("a scene");
    // mpmath (Newton at 1200 bits): -0.77568376800905379746948350393474104572824650461580...
    assert!(
        scene.plane.center_text[0]
            .starts_with("-7.75683768009053797469483503934741045728246504615")
            || scene.plane.center_text[0]
                .starts_with("-0.775683768009053797469483503934741045728246504615"),
        "{text}"
    );
    assert_eq!(scene.plane.zoom.log2().round(), (1e-100f64).log2().round());
    // c = i, preperiod 2 and period 2 counting from z_0 = 0.
    let out = mandelfly(
        &[
            "path",
            "find-misiurewicz",
            "--near=0.05,0.95",
            "--preperiod",
            "2",
            "--period",
            "2",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let scene = mandelfly::scene::Scene::parse("point.toml", &text).expect("a scene");
    assert!(
        scene.plane.center.x.abs() < 1e-40 && scene.plane.center.y == 1.0,
        "{text}"
    );
    fails(
        &[
            "path",
            "find-misiurewicz",
            "--near=0,1",
            "--preperiod",
            "1",
            "--period",
            "2",
        ],
        dir.path(),
        &["--preperiod 1", "preperiod 2, period 2"],
    );
    fails(
        &[
            "path",
            "find-misiurewicz",
            "--near=40,40",
            "--preperiod",
            "5",
            "--period",
            "3",
        ],
        dir.path(),
        &["did not converge"],
    );
    fails(
        &[
            "path",
            "find-misiurewicz",
            "--near=-0.77568377,0.13646737",
            "--preperiod",
            "24",
            "--period",
            "2",
        ],
        dir.path(),
        &["preperiod 24 and period 1"],
    );
    fails(
        &[
            "path",
            "find-misiurewicz",
            "--near=0,1",
            "--preperiod",
            "2",
            "--period",
            "2",
            "--zoom",
            "0",
        ],
        dir.path(),
        &["--zoom 0"],
    );
}
