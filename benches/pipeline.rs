//! Video pipeline speed: render-only, encode-only and the full pipeline, for the built-in
//! flight, with the colour conversion on the GPU and by swscale. Each figure comes from the
//! same run, so the ratios hold on a noisy machine.
//!
//! `cargo bench --bench pipeline` (1280x720, 30 frames); MANDELFLY_BENCH_SIZE=WxH and
//! MANDELFLY_BENCH_FRAMES=N change the workload.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use mandelfly::flight::{FramePlan, as_samples, fly};
use mandelfly::frame::{ColorFormat, Readout};
use mandelfly::gpu::renderer::Renderer;
use mandelfly::gpu::{GpuContext, GpuOptions};
use mandelfly::sink::video::{FrameData, VideoCodec, VideoSettings, VideoSink};

fn main() {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: a measurement is
    // not a test, so there it only says how to run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("pipeline: a benchmark; run it with `cargo bench --bench pipeline`");
        return;
    }
    let (width, height) = std::env::var("MANDELFLY_BENCH_SIZE")
        .ok()
        .and_then(|s| {
            let (w, h) = s.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        })
        .unwrap_or((1280, 720));
    let frames: u64 = std::env::var("MANDELFLY_BENCH_FRAMES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let path = mandelfly::path::bench_orbit();
    let plan = FramePlan {
        path: &path,
        fps: 30.0,
        width,
        height,
        samples: 1,
        shutter: 0.0,
    };
    let mut renderer =
        Renderer::new(GpuContext::new(&GpuOptions::default()).expect("a GPU adapter"));
    let settings = VideoSettings {
        width,
        height,
        fps: 30.0,
        codec: VideoCodec::H264,
        crf: None,
        preset: None,
        bitrate: None,
        pixel_format: None,
        no_b_frames: false,
    };
    let layout = settings.gpu_yuv_layout().expect("yuv420p");
    let dir = tempfile::tempdir().unwrap();
    // Frames spread over the flight, so every stage sees varied content.
    let step = (path.frame_count(30.0) / frames).max(1);
    let ks: Vec<u64> = (0..frames).map(|i| i * step).collect();

    // Warm-up: compile the pipelines.
    let rgba = Readout::COLOR;
    let yuv = Readout::color(ColorFormat::Yuv(layout));
    for readout in [rgba, yuv] {
        let scenes = plan.scenes(0);
        let p = renderer
            .submit(&as_samples(&scenes), width, height, readout)
            .unwrap();
        renderer.collect(p).unwrap();
    }

    let mut rendered_rgba = Vec::new();
    let mut rendered_yuv = Vec::new();
    let mut render_fps = |readout: Readout, keep: &mut Vec<FrameData>| {
        let start = Instant::now();
        let mut pending = std::collections::VecDeque::new();
        let mut take = |f: mandelfly::frame::Frame| {
            keep.push(match readout.color {
                ColorFormat::Yuv(l) => FrameData::Yuv(f.yuv, l),
                _ => FrameData::Rgba(f.color),
            })
        };
        for &k in &ks {
            let scenes = plan.scenes(k);
            pending.push_back(
                renderer
                    .submit(&as_samples(&scenes), width, height, readout)
                    .unwrap(),
            );
            if pending.len() >= 2 {
                take(renderer.collect(pending.pop_front().unwrap()).unwrap());
            }
        }
        while let Some(p) = pending.pop_front() {
            take(renderer.collect(p).unwrap());
        }
        frames as f64 / start.elapsed().as_secs_f64()
    };
    let render_rgba = render_fps(rgba, &mut rendered_rgba);
    let render_yuv = render_fps(yuv, &mut rendered_yuv);

    let encode_fps = |input: Vec<FrameData>, name: &str| {
        let out = dir.path().join(format!("{name}.mp4"));
        let mut sink = VideoSink::create(&out, &settings).unwrap();
        let start = Instant::now();
        for f in input {
            sink.push_data(f).unwrap();
        }
        sink.finish().unwrap();
        frames as f64 / start.elapsed().as_secs_f64()
    };
    let encode_swscale = encode_fps(rendered_rgba, "rgba");
    let encode_planes = encode_fps(rendered_yuv, "planes");

    let full = |gpu_yuv: bool, name: &str, renderer: &mut Renderer| {
        let out = dir.path().join(format!("full-{name}.mp4"));
        let mut sink = VideoSink::create(&out, &settings).unwrap();
        if !gpu_yuv {
            sink.convert_on_cpu();
        }
        let start = Instant::now();
        let report = fly(
            &plan,
            renderer,
            &mut sink,
            0..frames,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap();
        report.frames as f64 / start.elapsed().as_secs_f64()
    };
    let full_gpu = full(true, "gpu", &mut renderer);
    let full_cpu = full(false, "cpu", &mut renderer);

    let adapter = renderer.gpu().adapter_info();
    println!(
        "video pipeline, the orbit flight (reference look), {width}x{height}, {frames} frames, h264 crf 18 medium, on {} ({:?})",
        adapter.name, adapter.backend
    );
    println!("  render only, RGBA readback        {render_rgba:8.2} fps");
    println!("  render only, GPU YUV readback     {render_yuv:8.2} fps");
    println!("  encode only, swscale RGBA->YUV    {encode_swscale:8.2} fps");
    println!("  encode only, planes from the GPU  {encode_planes:8.2} fps");
    println!(
        "  full pipeline, GPU YUV            {full_gpu:8.2} fps  ({:.0}% of the slower stage alone)",
        100.0 * full_gpu / render_yuv.min(encode_planes)
    );
    println!(
        "  full pipeline, swscale            {full_cpu:8.2} fps  ({:.0}% of the slower stage alone)",
        100.0 * full_cpu / render_rgba.min(encode_swscale)
    );
    println!(
        "  GPU conversion costs {:+.2} ms/frame on the render side; swscale {:+.2} ms/frame on the encoder thread",
        1e3 / render_yuv - 1e3 / render_rgba,
        1e3 / encode_swscale - 1e3 / encode_planes
    );
}
