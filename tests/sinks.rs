//! The frame pipeline's outputs: every sink gets the same frames from the flight loop, a new
//! output is one `FrameSink` implementation (the test-only sink below needs nothing else), the
//! post stage's formats agree with each other, and EXR files open in OpenEXR's own reader.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use common::mandelfly;
use mandelfly::error::Result;
use mandelfly::flight::{FramePlan, fly};
use mandelfly::frame::{ColorFormat, Frame, Readout, Sample};
use mandelfly::gpu::post::{DisplayVariant, PostUniform, display_color};
use mandelfly::gpu::renderer::{FrameOutputs, Renderer};
use mandelfly::gpu::uniforms::Tile;
use mandelfly::path::CameraPath;
use mandelfly::scene::Scene;
use mandelfly::sink::{Finished, FrameSink, Outcome};

/// A sink that only remembers what it was given: proof that an output needs nothing but this
/// trait (no change to the flight loop, the renderer or the commands).
struct Recorder {
    readout: Readout,
    frames: Vec<(u64, Frame)>,
    outcome: Option<Outcome>,
    /// Ask the flight to stop after this many frames.
    stop_after: Option<(u64, &'static AtomicBool)>,
}

impl FrameSink for Recorder {
    fn readout(&self) -> Readout {
        self.readout
    }
    fn push(&mut self, index: u64, frame: Frame) -> Result<()> {
        self.frames.push((index, frame));
        if let Some((n, stop)) = self.stop_after
            && self.frames.len() as u64 >= n
        {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }
    fn finish(&mut self, outcome: Outcome) -> Result<Finished> {
        self.outcome = Some(outcome);
        Ok(Finished {
            path: "memory".into(),
            frames: self.frames.len() as u64,
        })
    }
}

fn weave_path() -> CameraPath {
    CameraPath::load(Path::new(&common::weave())).expect("weave loads")
}

fn plan(path: &CameraPath) -> FramePlan<'_> {
    FramePlan {
        path,
        fps: 10.0,
        width: 48,
        height: 32,
        samples: 2,
        shutter: 0.0,
    }
}

#[test]
fn a_new_sink_is_one_trait_implementation() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    let path = weave_path();
    let plan = plan(&path);
    let mut sink = Recorder {
        readout: Readout::ALL,
        frames: Vec::new(),
        outcome: None,
        stop_after: None,
    };
    let report = fly(
        &plan,
        &mut renderer,
        &mut sink,
        3..6,
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(report.frames, 3);
    assert!(!report.interrupted);
    assert_eq!(sink.outcome, Some(Outcome::Complete));
    let indexes: Vec<u64> = sink.frames.iter().map(|f| f.0).collect();
    assert_eq!(indexes, [3, 4, 5]);
    // The frames are those a direct render of the same samples gives.
    let scenes = plan.scenes(4);
    let direct = renderer
        .render_samples(
            &mandelfly::flight::as_samples(&scenes),
            48,
            32,
            Readout::ALL,
        )
        .unwrap();
    assert_eq!(sink.frames[1].1.color, direct.color);
    assert_eq!(sink.frames[1].1.depth, direct.depth);
    assert!(
        direct.depth.iter().any(|&d| d > 0.0),
        "the weave is in view"
    );

    // A stop request ends the flight early and the sink hears it was interrupted.
    static STOP: AtomicBool = AtomicBool::new(false);
    let mut sink = Recorder {
        readout: Readout::COLOR,
        frames: Vec::new(),
        outcome: None,
        stop_after: Some((2, &STOP)),
    };
    let report = fly(&plan, &mut renderer, &mut sink, 0..20, &STOP, &mut |_| {}).unwrap();
    assert!(report.interrupted);
    assert_eq!(sink.outcome, Some(Outcome::Interrupted));
    // Frames already on the GPU when the stop came are still delivered.
    assert!((2..=3).contains(&report.frames), "{}", report.frames);
}

/// The sRGB encoding of a display-referred value (the CPU twin of the post stage's).
fn srgb(c: f32) -> f32 {
    if c <= 0.0031308 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

#[test]
fn the_post_stage_formats_agree() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    for (name, exposure, tone_map) in [
        ("reference", 0.0, "clamp"),
        ("reference", 1.5, "aces"),
        ("mandelbrot", 0.0, "clamp"),
    ] {
        let mut scene = if name == "reference" {
            Scene::reference()
        } else {
            Scene::parse(
                "m.toml",
                "[fractal]\nkind = \"mandelbrot\"\niterations = 200\n",
            )
            .unwrap()
        };
        scene.look.exposure = exposure;
        scene.look.tone_map = if tone_map == "aces" {
            mandelfly::scene::ToneMap::Aces
        } else {
            mandelfly::scene::ToneMap::Clamp
        };
        let render = |renderer: &mut Renderer, color| {
            renderer
                .render(&scene, 64, 40, Readout { color, aux: true })
                .unwrap()
        };
        let eight = render(&mut renderer, ColorFormat::Srgb8);
        let sixteen = render(&mut renderer, ColorFormat::Srgb16);
        let linear = render(&mut renderer, ColorFormat::Linear);
        // 16-bit and 8-bit sRGB are the same values at two precisions.
        for (a, b) in eight.color.iter().zip(&sixteen.color16) {
            let b8 = *b as f64 / 257.0;
            assert!((*a as f64 - b8).abs() <= 0.51, "{name}: {a} vs {b8}");
        }
        // Linear half floats, tone-mapped and encoded on the CPU, give the 8-bit frame (within
        // the half float's rounding). Exposure applies to the linear output already.
        let mut look = scene.look.clone();
        look.exposure = 0.0;
        let mut worst = 0.0f32;
        for (p, rgba) in eight.color.chunks(4).zip(linear.linear.chunks(4)) {
            let c = [0, 1, 2].map(|i| half::f16::from_bits(rgba[i]).to_f32());
            let display = display_color(&look, c);
            for i in 0..3 {
                worst = worst.max((srgb(display[i]) * 255.0 - p[i] as f32).abs());
            }
            assert_eq!(half::f16::from_bits(rgba[3]).to_f32(), 1.0);
        }
        assert!(worst <= 1.5, "{name} {tone_map}: worst difference {worst}");
        // The aux channels do not depend on the colour format.
        assert_eq!(eight.depth, linear.depth);
        assert_eq!(eight.distance, sixteen.distance);

        // A submitted frame of one sample is written to the 8-bit target by the render pass
        // itself (`frame_display`), tone mapped as the post stage would, vignette and contrast
        // included; with bloom, it goes through the HDR frame and the post stage.
        for (vignette, contrast, bloom) in [(0.0, 1.0, 0.0), (0.6, 1.4, 0.0), (0.6, 1.4, 0.3)] {
            let mut scene = scene.clone();
            scene.look.vignette = vignette;
            scene.look.contrast = contrast;
            scene.look.bloom = bloom;
            let readout = Readout {
                color: ColorFormat::Srgb8,
                aux: true,
            };
            let post = PostUniform::new(&scene.look, (64, 40), Tile::whole(64, 40));
            let outputs = FrameOutputs::submitted(1, &post, readout);
            // Compiled for the look's tone map, and for a contrast only where it has one.
            let variant = DisplayVariant {
                tone_map: scene.look.tone_map as u32,
                contrast: contrast != 1.0,
            };
            assert_eq!(
                outputs.display,
                (bloom == 0.0).then_some(variant),
                "{name} {outputs:?}"
            );
            assert!(FrameOutputs::submitted(2, &post, readout).display.is_none());
            let toned = renderer.render(&scene, 64, 40, readout).unwrap();
            let sample = Sample {
                scene: &scene,
                jitter: [0.0, 0.0],
            };
            let pending = renderer.submit(&[sample], 64, 40, readout).unwrap();
            let direct = renderer.collect(pending).unwrap();
            let worst = direct
                .color
                .iter()
                .zip(&toned.color)
                .map(|(a, b)| a.abs_diff(*b))
                .max();
            assert!(
                worst <= Some(1),
                "{name} vignette {vignette} contrast {contrast} bloom {bloom}: worst {worst:?}"
            );
            assert_eq!(direct.depth, toned.depth, "{name}");
        }
    }
}

#[test]
fn bloom_matches_its_cpu_twin() {
    let Some(gpu) = common::gpu() else { return };
    let mut renderer = Renderer::new(gpu);
    // The default look, over-exposed so that the sky and highlights pass the threshold.
    let mut scene = Scene::empty();
    scene.look.exposure = 1.5;
    scene.look.vignette = 0.0;
    scene.look.bloom_threshold = 0.8;
    scene.look.bloom_radius = 0.04;
    let (w, h) = (96u32, 60u32);
    let linear = |renderer: &mut Renderer, scene: &Scene| -> Vec<[f32; 3]> {
        let frame = renderer
            .render(scene, w, h, Readout::color(ColorFormat::Linear))
            .unwrap();
        frame
            .linear
            .chunks(4)
            .map(|p| [0, 1, 2].map(|i| half::f16::from_bits(p[i]).to_f32()))
            .collect()
    };
    scene.look.bloom = 0.0;
    let plain = linear(&mut renderer, &scene);
    scene.look.bloom = 0.6;
    let bloomed = linear(&mut renderer, &scene);
    let twin = mandelfly::gpu::bloom::bloom_cpu(&plain, w, h, &scene.look);
    let mut worst = 0.0f32;
    let mut changed = 0;
    for ((g, c), p) in bloomed.iter().zip(&twin).zip(&plain) {
        for i in 0..3 {
            // Half floats carry 11 significant bits.
            worst = worst.max((g[i] - c[i]).abs() / (c[i].abs() + 0.05));
        }
        changed += usize::from((g[0] - p[0]).abs() > 0.01);
    }
    assert!(
        worst < 0.01,
        "GPU and CPU bloom differ by {worst} (relative)"
    );
    assert!(changed > 100, "only {changed} pixels bloomed");
}

/// Reads an EXR with the Python OpenEXR package (installed by scripts/setup.sh test): size,
/// channel names, types and values, as JSON.
fn read_with_openexr(file: &Path) -> serde_json::Value {
    let script = r#"
import json, sys, OpenEXR
with OpenEXR.File(sys.argv[1], separate_channels=True) as f:
    out = {"channels": {}}
    for name, channel in f.channels().items():
        pixels = channel.pixels
        out["height"], out["width"] = pixels.shape[:2]
        out["channels"][name] = {
            "type": str(pixels.dtype),
            "values": pixels.astype("float64").ravel().tolist(),
        }
print(json.dumps(out))
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(file)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "OpenEXR could not read {}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

#[test]
fn exr_stills_open_in_openexr() {
    let Some(gpu) = common::gpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    // A 3D kind: colour and Z.
    let exr = dir.path().join("bulb.exr");
    let png = dir.path().join("bulb.png");
    let depth = dir.path().join("bulb-depth.png");
    // The reference look clamps, so the PNG is the EXR's colour sRGB-encoded.
    let reference = dir.path().join("reference.toml");
    std::fs::write(&reference, "[look]\npreset = \"reference\"\n").unwrap();
    let reference = reference.to_str().unwrap();
    for args in [
        vec![
            "still",
            "--samples",
            "1",
            reference,
            "-o",
            exr.to_str().unwrap(),
            "--size",
            "40x24",
        ],
        vec![
            "still",
            "--samples",
            "1",
            reference,
            "-o",
            png.to_str().unwrap(),
            "--size",
            "40x24",
        ],
    ] {
        let out = mandelfly(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = mandelfly(&[
        "still",
        "-o",
        depth.to_str().unwrap(),
        "--size",
        "40x24",
        "--pass",
        "depth",
        "--depth-max",
        "10",
    ]);
    assert!(out.status.success());
    let read = read_with_openexr(&exr);
    assert_eq!(
        (read["width"].as_u64(), read["height"].as_u64()),
        (Some(40), Some(24))
    );
    let channels = read["channels"].as_object().unwrap();
    let mut names: Vec<&String> = channels.keys().collect();
    names.sort();
    assert_eq!(names, ["A", "B", "G", "R", "Z"]);
    assert_eq!(channels["R"]["type"], "float16");
    assert_eq!(channels["Z"]["type"], "float32");
    // Z agrees with the 16-bit depth pass (grey = round(65535 * z / 10)).
    let grey = image::open(&depth).unwrap().into_luma16();
    let z: Vec<f64> = channels["Z"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(z.iter().any(|&v| v > 0.0) && z.contains(&0.0));
    for (zi, gi) in z.iter().zip(grey.as_raw()) {
        let expected = mandelfly::sink::png::depth_to_u16(*zi as f32, 10.0);
        assert!((expected as i32 - *gi as i32).abs() <= 1, "{zi} {gi}");
    }
    // Colour: the reference look clamps, so sRGB-encoding the linear values gives the PNG.
    let rgb = image::open(&png).unwrap().into_rgb8();
    let r = channels["R"]["values"].as_array().unwrap();
    for (i, p) in rgb.pixels().enumerate() {
        let lin = r[i].as_f64().unwrap() as f32;
        let encoded = srgb(lin.clamp(0.0, 1.0)) * 255.0;
        assert!(
            (encoded - p[0] as f32).abs() <= 1.5,
            "pixel {i}: {encoded} vs {}",
            p[0]
        );
    }
    drop(gpu);

    // A plane kind: colour, N and DE.
    let scene = dir.path().join("m.toml");
    std::fs::write(
        &scene,
        "[fractal]\nkind = \"mandelbrot\"\niterations = 300\n",
    )
    .unwrap();
    let exr = dir.path().join("m.exr");
    let out = mandelfly(&[
        "still",
        "--samples",
        "1",
        scene.to_str().unwrap(),
        "-o",
        exr.to_str().unwrap(),
        "--size",
        "32x20",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = read_with_openexr(&exr);
    let channels = read["channels"].as_object().unwrap();
    let mut names: Vec<&String> = channels.keys().collect();
    names.sort();
    assert_eq!(names, ["A", "B", "DE", "G", "N", "R"]);
    let n: Vec<f64> = channels["N"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    // The overview holds both the set (negative) and escaping points (positive counts).
    assert!(n.iter().any(|&v| v < 0.0) && n.iter().any(|&v| v > 1.0));
    let de = channels["DE"]["values"].as_array().unwrap();
    assert!(de.iter().any(|v| v.as_f64().unwrap() > 1.0));
}

#[test]
fn sequences_in_each_format() {
    let Some(_gpu) = common::gpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    let weave = common::weave();
    for format in ["png", "png16", "exr"] {
        let out_dir = dir.path().join(format);
        let out = mandelfly(&[
            "render",
            &weave,
            "-o",
            &format!("{}/", out_dir.display()),
            "--format",
            format,
            "--size",
            "32x18",
            "--frames",
            "0..2",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ext = if format == "exr" { "exr" } else { "png" };
        let mut names: Vec<String> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [format!("frame_00000.{ext}"), format!("frame_00001.{ext}")]
        );
        if format == "png16" {
            let img = image::open(out_dir.join("frame_00001.png")).unwrap();
            assert_eq!(img.color(), image::ColorType::Rgb16);
        }
    }
    // The 16-bit and 8-bit sequences hold the same frames.
    let a = image::open(dir.path().join("png/frame_00001.png"))
        .unwrap()
        .into_rgb8();
    let b = image::open(dir.path().join("png16/frame_00001.png"))
        .unwrap()
        .into_rgb16();
    for (x, y) in a.as_raw().iter().zip(b.as_raw()) {
        assert!((*x as f64 - *y as f64 / 257.0).abs() <= 0.51);
    }
    let read = read_with_openexr(&dir.path().join("exr/frame_00001.exr"));
    assert_eq!(read["width"].as_u64(), Some(32));
}
