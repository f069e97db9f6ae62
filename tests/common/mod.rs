//! Shared by the integration tests: the GPU (or an explicit opt-out) and small image helpers.
#![allow(dead_code)]

use mandelfly::gpu::{GpuContext, GpuOptions};

/// Set to 1 to skip GPU tests on a machine without any adapter. Without it, a missing adapter
/// fails the test: a GPU test never passes by skipping silently.
pub const SKIP_GPU_ENV: &str = "MANDELFLY_SKIP_GPU_TESTS";

pub fn gpu() -> Option<GpuContext> {
    if std::env::var(SKIP_GPU_ENV).is_ok_and(|v| v == "1") {
        eprintln!("GPU test skipped: {SKIP_GPU_ENV}=1");
        return None;
    }
    match GpuContext::new(&GpuOptions::default()) {
        Ok(gpu) => Some(gpu),
        Err(e) => panic!(
            "{e}\nGPU tests need an adapter (lavapipe: apt-get install mesa-vulkan-drivers); \
             set {SKIP_GPU_ENV}=1 to opt out explicitly"
        ),
    }
}

/// A deterministic pseudo-random sequence in [0, 1) (xorshift), so tests need no rand crate.
pub struct Sequence(u64);

impl Sequence {
    pub fn new(seed: u64) -> Self {
        Sequence(seed.max(1))
    }
    pub fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Runs the mandelfly binary.
pub fn mandelfly(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args(args)
        .output()
        .expect("runs")
}

/// The banking loop flight, as a path argument.
pub fn weave() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("paths/weave.toml")
        .to_string_lossy()
        .into_owned()
}

#[cfg(feature = "video")]
/// Every decoded frame (raw planes) with its presentation time in seconds.
pub fn decode(path: &std::path::Path) -> (Vec<(f64, Vec<u8>)>, f64) {
    ffmpeg_next::init().unwrap();
    let mut input = ffmpeg_next::format::input(path).unwrap();
    let stream = input
        .streams()
        .best(ffmpeg_next::media::Type::Video)
        .unwrap();
    let (index, tb) = (stream.index(), f64::from(stream.time_base()));
    let ctx = ffmpeg_next::codec::context::Context::from_parameters(stream.parameters()).unwrap();
    let mut decoder = ctx.decoder().video().unwrap();
    let mut frames = Vec::new();
    let take = |decoder: &mut ffmpeg_next::decoder::Video, frames: &mut Vec<(f64, Vec<u8>)>| {
        let mut f = ffmpeg_next::frame::Video::empty();
        while decoder.receive_frame(&mut f).is_ok() {
            let mut bytes = Vec::new();
            for plane in 0..f.planes() {
                bytes.extend_from_slice(f.data(plane));
            }
            frames.push((f.timestamp().unwrap_or(0) as f64 * tb, bytes));
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
    let duration = input.duration() as f64 / f64::from(ffmpeg_next::ffi::AV_TIME_BASE);
    (frames, duration)
}
