//! Video straight out of the renderer: decode what `render` wrote with FFmpeg and check timing,
//! pixels, every codec present, interruption and bad input.
#![cfg(feature = "video")]

mod common;

use common::{mandelfly, weave};

use std::path::Path;
use std::process::{Command, Stdio};

use ffmpeg_next as ffmpeg;

/// A decoded video: RGB24 frames, the stream's frame rate and the container's duration.
struct Decoded {
    frames: Vec<Vec<u8>>,
    rate: f64,
    duration: f64,
    width: u32,
    height: u32,
}

fn decode(path: &Path) -> Decoded {
    ffmpeg::init().unwrap();
    let mut input = ffmpeg::format::input(path).unwrap();
    let stream = input.streams().best(ffmpeg::media::Type::Video).unwrap();
    let index = stream.index();
    let rate = f64::from(stream.avg_frame_rate());
    let context = ffmpeg::codec::context::Context::from_parameters(stream.parameters()).unwrap();
    let mut decoder = context.decoder().video().unwrap();
    let (width, height) = (decoder.width(), decoder.height());
    let mut scaler = ffmpeg::software::scaling::Context::get(
        decoder.format(),
        width,
        height,
        ffmpeg::format::Pixel::RGB24,
        width,
        height,
        ffmpeg::software::scaling::Flags::BICUBIC | ffmpeg::software::scaling::Flags::ACCURATE_RND,
    )
    .unwrap();
    // The same BT.709 limited-range matrix the encoder side used.
    unsafe {
        let c = ffmpeg::ffi::sws_getCoefficients(1);
        ffmpeg::ffi::sws_setColorspaceDetails(scaler.as_mut_ptr(), c, 0, c, 1, 0, 1 << 16, 1 << 16);
    }
    let mut frames = Vec::new();
    let mut take = |decoder: &mut ffmpeg::decoder::Video, frames: &mut Vec<Vec<u8>>| {
        let mut decoded = ffmpeg::frame::Video::empty();
        while decoder.receive_frame(&mut decoded).is_ok() {
            let mut rgb = ffmpeg::frame::Video::empty();
            scaler.run(&decoded, &mut rgb).unwrap();
            let stride = rgb.stride(0);
            let mut packed = Vec::with_capacity((width * height * 3) as usize);
            for row in 0..height as usize {
                packed.extend_from_slice(
                    &rgb.data(0)[row * stride..row * stride + width as usize * 3],
                );
            }
            frames.push(packed);
        }
    };
    for (s, packet) in input.packets() {
        if s.index() == index {
            decoder.send_packet(&packet).unwrap();
            take(&mut decoder, &mut frames);
        }
    }
    decoder.send_eof().unwrap();
    take(&mut decoder, &mut frames);
    let duration = input.duration() as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE);
    Decoded {
        frames,
        rate,
        duration,
        width,
        height,
    }
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
}

#[test]
fn round_trip_timing_and_pixels() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (pix_fmt, min_psnr) in [("yuv444p", 38.0), ("yuv420p", 30.0)] {
        let video = dir.path().join(format!("{pix_fmt}.mp4"));
        let out = mandelfly(&[
            "render",
            &weave(),
            "-o",
            video.to_str().unwrap(),
            "--size",
            "96x54",
            "--fps",
            "12",
            "--frames",
            "0..12",
            "--crf",
            "8",
            "--pix-fmt",
            pix_fmt,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // An ordinary file, not the temporary file's 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&video).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "{pix_fmt}: mode {mode:o}");
        }
        let d = decode(&video);
        assert_eq!(d.frames.len(), 12, "{pix_fmt}: frame count");
        assert_eq!((d.width, d.height), (96, 54));
        assert!((d.rate - 12.0).abs() < 1e-9, "frame rate {}", d.rate);
        assert!((d.duration - 1.0).abs() < 1e-6, "duration {}", d.duration);
        // Frames against stills at the same times. 4:4:4 at crf 8 is near-lossless: what is
        // left is 8-bit YUV rounding (about 45 dB on this content). 4:2:0 halves the colour
        // resolution, which costs most on a tiny image's saturated edges.
        for k in [0u64, 5, 11] {
            let still = dir.path().join(format!("still{k}.png"));
            let t = format!("{}", k as f64 / 12.0);
            let out = mandelfly(&[
                "still",
                "--samples",
                "1",
                &weave(),
                "--time",
                &t,
                "--size",
                "96x54",
                "-o",
                still.to_str().unwrap(),
            ]);
            assert!(out.status.success());
            let png = image::open(&still).unwrap().into_rgb8();
            let p = psnr(png.as_raw(), &d.frames[k as usize]);
            eprintln!("{pix_fmt} frame {k}: PSNR {p:.1} dB");
            assert!(
                p > min_psnr,
                "{pix_fmt} frame {k}: PSNR {p:.1} dB < {min_psnr}"
            );
        }
    }
}

/// The same frames through three sinks: a lossless RGB video (FFV1, bgr0) decodes to exactly
/// the PNG sequence's pixels, and the EXR sequence's linear colour encodes to them too.
#[test]
fn every_sink_holds_the_same_frames() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let weave_path = weave();
    let render = |output: &str, extra: &[&str]| {
        let mut args = vec![
            "render",
            &weave_path,
            "-o",
            output,
            "--size",
            "64x36",
            "--frames",
            "2..5",
            "--samples",
            "2",
        ];
        args.extend_from_slice(extra);
        let out = mandelfly(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let path = mandelfly::path::CameraPath::load(Path::new(&weave_path)).unwrap();
    let video = dir.path().join("lossless.mkv");
    let pngs = dir.path().join("png");
    let exrs = dir.path().join("exr");
    render(
        video.to_str().unwrap(),
        &["--codec", "ffv1", "--pix-fmt", "bgr0"],
    );
    render(&format!("{}/", pngs.display()), &[]);
    render(&format!("{}/", exrs.display()), &["--format", "exr"]);
    let decoded = decode(&video);
    assert_eq!(decoded.frames.len(), 3);
    for (i, k) in (2..5).enumerate() {
        let png = image::open(pngs.join(format!("frame_{k:05}.png")))
            .unwrap()
            .into_rgb8();
        assert_eq!(png.as_raw(), &decoded.frames[i], "frame {k}: video vs PNG");
        let image = exr::prelude::read_first_rgba_layer_from_file(
            exrs.join(format!("frame_{k:05}.exr")),
            |size, _| (size.width(), vec![0f32; size.width() * size.height() * 3]),
            |(width, pixels), position, (r, g, b, _a): (f32, f32, f32, f32)| {
                let i = (position.y() * *width + position.x()) * 3;
                pixels[i..i + 3].copy_from_slice(&[r, g, b]);
            },
        )
        .unwrap();
        let linear = &image.layer_data.channel_data.pixels.1;
        // The EXR holds linear light with exposure and vignette; tone-mapping it as the post
        // stage does (its CPU twin) and sRGB-encoding gives the 8-bit frame, to within the half
        // floats' rounding.
        let mut look = path.sample(k as f64 / path.file.output.fps).look;
        look.exposure = 0.0;
        let display: Vec<f32> = linear
            .chunks(3)
            .flat_map(|c| mandelfly::gpu::post::display_color(&look, [c[0], c[1], c[2]]))
            .collect();
        for (value, byte) in display.iter().zip(png.as_raw()) {
            let c = value.clamp(0.0, 1.0);
            let srgb = if c <= 0.0031308 {
                12.92 * c
            } else {
                1.055 * c.powf(1.0 / 2.4) - 0.055
            };
            assert!(
                (srgb * 255.0 - *byte as f32).abs() <= 1.5,
                "frame {k}: EXR {value} vs PNG {byte}"
            );
        }
    }
}

#[test]
fn every_codec_present_writes_a_decodable_file() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let codecs = mandelfly_codecs();
    assert!(
        codecs.contains(&"h264".to_string()),
        "libx264 is expected: {codecs:?}"
    );
    for codec in &codecs {
        let video = dir.path().join(format!("{codec}.mkv"));
        let out = mandelfly(&[
            // SVT-AV1 takes nothing under 64x64.
            "render",
            &weave(),
            "-o",
            video.to_str().unwrap(),
            "--size",
            "96x64",
            "--fps",
            "10",
            "--frames",
            "0..5",
            "--codec",
            codec,
        ]);
        assert!(
            out.status.success(),
            "{codec}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let d = decode(&video);
        assert_eq!(d.frames.len(), 5, "{codec}");
    }
}

/// The codecs `mandelfly info` reports.
fn mandelfly_codecs() -> Vec<String> {
    let out = mandelfly(&["info"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.starts_with("video codecs:"))
        .unwrap_or_else(|| panic!("no codec line in {text}"));
    line["video codecs:".len()..]
        .split(',')
        .map(|s| s.trim().split(' ').next().unwrap().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn interrupted_render_keeps_a_playable_file() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("long.mp4");
    let child = Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args([
            "render",
            &weave(),
            "-o",
            video.to_str().unwrap(),
            "--size",
            "64x36",
            "--fps",
            "100",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let msg = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{msg}");
    assert!(
        !video.exists(),
        "the destination only ever holds complete videos"
    );
    let partial = dir.path().join("long.partial.mp4");
    assert!(
        msg.contains("long.partial.mp4") && msg.contains("playable"),
        "{msg}"
    );
    let held: usize = msg
        .split("holds ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no frame count in {msg}"));
    assert!(held > 0 && held < 1600, "{held}");
    let d = decode(&partial);
    assert_eq!(d.frames.len(), held);
    assert!(
        (d.duration - held as f64 / 100.0).abs() < 1e-6,
        "{}",
        d.duration
    );
}

#[test]
fn bad_video_settings_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("v.mp4");
    let out_str = out_path.to_str().unwrap();
    let webm = dir.path().join("v.webm");
    for (args, expected) in [
        (vec!["--codec", "divx"], "unknown codec"),
        (vec!["--size", "65x36"], "even width and height"),
        (vec!["--codec", "ffv1"], "cannot hold ffv1"),
        (
            vec!["--codec", "h264", "--pix-fmt", "rgb48be"],
            "cannot encode rgb48be",
        ),
        (
            vec!["--codec", "h264", "--pix-fmt", "nonsense"],
            "unknown pixel format",
        ),
        (vec!["--shutter", "2"], "--shutter"),
        (vec!["--samples", "0"], "--samples"),
    ] {
        let mut all = vec!["render", "--frames", "0..2", "-o", out_str];
        all.extend(args.iter().copied());
        let out = mandelfly(&all);
        let msg = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {msg}");
        assert!(msg.contains(expected), "{args:?}: {msg}");
    }
    let out = mandelfly(&["render", "--frames", "0..2", "-o", webm.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot hold h264"));
    let out = mandelfly(&["render", "--frames", "0..2", "-o", "/nonexistent-dir/v.mp4"]);
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("/nonexistent-dir/v.mp4: its directory /nonexistent-dir does not exist"),
        "{msg}"
    );
    // Not the temporary file's name.
    assert!(!msg.contains(".writing"), "{msg}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The GPU colour conversion agrees with swscale (lossless FFV1, so only the conversions
/// differ): luma within 1 level, chroma within 3 (box average against swscale's filter).
#[test]
fn gpu_yuv_matches_swscale() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut decoded = Vec::new();
    for (yuv, size, pix_fmt) in [
        ("gpu", "96x54", "yuv420p"),
        ("cpu", "96x54", "yuv420p"),
        ("gpu", "97x55", "yuv444p"),
        ("cpu", "97x55", "yuv444p"),
    ] {
        let video = dir.path().join(format!("{yuv}-{pix_fmt}.mkv"));
        let out = mandelfly(&[
            "render",
            &weave(),
            "-o",
            video.to_str().unwrap(),
            "--size",
            size,
            "--frames",
            "0..2",
            "--codec",
            "ffv1",
            "--pix-fmt",
            pix_fmt,
            "--yuv",
            yuv,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        decoded.push(decode(&video));
    }
    for pair in decoded.chunks(2) {
        let (gpu, cpu) = (&pair[0], &pair[1]);
        assert_eq!(gpu.frames.len(), 2);
        for (a, b) in gpu.frames.iter().zip(&cpu.frames) {
            // Compared after decoding to RGB, where chroma error spreads over the channels.
            let worst = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
            let p = psnr(a, b);
            eprintln!("gpu vs swscale: PSNR {p:.1} dB, worst {worst}");
            assert!(p > 40.0 && worst <= 12, "PSNR {p:.1} dB, worst {worst}");
        }
    }
}
