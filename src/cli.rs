//! The command line (clap derive). Commands live in `commands`; this only declares them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use glam::DVec3;

#[derive(Debug, Parser)]
#[command(
    name = "mandelfly",
    version,
    about = "Fly a camera through fractals on the GPU",
    after_help = "Examples:\n  mandelfly still                         the reference view to mandelbulb.png\n  mandelfly still seahorse.toml           a scene to seahorse.png\n  mandelfly render paths/dive.toml -o dive.mp4\n  mandelfly path check paths/dive.toml\n  mandelfly completions bash > /etc/bash_completion.d/mandelfly\n\nExit codes: 0 success, 2 bad input, 130 interrupted, 1 anything else."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Use the first GPU adapter whose name contains this text (see `mandelfly info`).
    #[arg(long, global = true, value_name = "NAME")]
    pub adapter: Option<String>,
    /// Report the adapter, timings and other details on stderr.
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print only errors and the data asked for: no progress, no "wrote ..." lines.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render one still image of a scene (or of a path at --time) to PNG; the reference view by
    /// default.
    #[command(
        after_help = "Examples:\n  mandelfly still                                 the reference view to mandelbulb.png\n  mandelfly still seahorse.toml --size 1920x1080  to seahorse.png\n  mandelfly still flight.toml --time 3.5 -o t.png\n  mandelfly still --pass depth --depth-max 5 -o depth.png"
    )]
    Still(StillArgs),
    /// Render a path (the built-in flight by default) to a video or a PNG sequence.
    #[command(
        after_help = "Examples:\n  mandelfly render                                the built-in flight to mandelfly.mp4\n  mandelfly render paths/dive.toml -o dive.mp4 --size 1920x1080 --samples 4\n  mandelfly render flight.toml -o frames/ --frames 0..100\n  mandelfly render flight.toml --codec ffv1 -o master.mkv\n  mandelfly render flight.toml --shard 0/8 -o /shared/segments/"
    )]
    Render(RenderArgs),
    /// Open the live window: fly, tune, record keyframes, play them back.
    #[command(
        after_help = "Examples:\n  mandelfly explore\n  mandelfly explore paths/dive.toml -o edited.toml"
    )]
    Explore(ExploreArgs),
    /// Tools for path files: check, sample, preview, import from glTF.
    #[command(subcommand)]
    Path(PathCommand),
    /// List the GPU adapters, backends and features wgpu sees, and which one mandelfly uses.
    #[command(
        after_help = "Examples:\n  mandelfly info\n  mandelfly info --json | jq '.adapters[].name'"
    )]
    Info {
        /// Print JSON (adapters, the one in use, fractal kinds and parameters, codecs).
        #[arg(long)]
        json: bool,
    },
    /// Run the benchmark suite: a table, or JSON for CI, optionally against a baseline.
    #[command(
        after_help = "Examples:\n  mandelfly bench\n  mandelfly bench --quick --json -o report.json\n  mandelfly bench --baseline report.json --max-regression 15"
    )]
    Bench(BenchArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    #[command(
        after_help = "Examples:\n  mandelfly completions bash > ~/.local/share/bash-completion/completions/mandelfly\n  mandelfly completions zsh > ~/.zfunc/_mandelfly\n  mandelfly completions fish > ~/.config/fish/completions/mandelfly.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout.
    #[command(after_help = "Examples:\n  mandelfly man > mandelfly.1 && man ./mandelfly.1")]
    Man,
    /// Join the segments that `render --shard` wrote into one video, without re-encoding.
    #[command(after_help = "Examples:\n  mandelfly concat /shared/segments/ -o flight.mp4")]
    Concat {
        /// The directory holding shard-*.mkv and shard-*.json.
        dir: PathBuf,
        /// The video to write (.mp4, .mkv, .mov, .webm).
        #[arg(short, long, value_name = "OUT.mp4")]
        output: PathBuf,
    },
    /// Tools for sharded renders: which shards are done and which to run again.
    #[command(subcommand)]
    Shards(ShardsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ShardsCommand {
    /// Which shards in DIR are done, missing, partial or stale, the frames each covers, and
    /// which to run again.
    Status {
        /// The directory `render --shard I/N -o DIR/` writes into.
        dir: PathBuf,
        /// Print the report as JSON (schema in the README).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PathCommand {
    /// Validate a path and summarise it: duration, frames, keys, length, closest approach.
    #[command(
        after_help = "Examples:\n  mandelfly path check paths/dive.toml\n  mandelfly path check flight.toml --json --strict"
    )]
    Check {
        /// The path file (TOML with [[key]] tables).
        path: PathBuf,
        /// Frame rate for the frame count (default: the file's [output] fps).
        #[arg(long)]
        fps: Option<f64>,
        /// Print the summary as JSON, warnings included as data.
        #[arg(long)]
        json: bool,
        /// Exit with status 1 when there are warnings.
        #[arg(long)]
        strict: bool,
    },
    /// Print one CSV row per frame: time, position, forward, up, fov and animated parameters.
    #[command(
        after_help = "Examples:\n  mandelfly path sample paths/dive.toml --fps 10 | head\n  mandelfly path sample flight.toml -o flight.csv"
    )]
    Sample {
        /// The path file.
        path: PathBuf,
        /// Frame rate (default: the file's [output] fps).
        #[arg(long)]
        fps: Option<f64>,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Draw the flight from above and from the side over the fractal, keys marked.
    #[command(
        after_help = "Examples:\n  mandelfly path preview paths/dive.toml -o dive-preview.png"
    )]
    Preview {
        /// The path file.
        path: PathBuf,
        /// The PNG to write.
        #[arg(short, long, default_value = "preview.png")]
        output: PathBuf,
        /// Size of the whole picture (two square panels side by side).
        #[arg(long, value_name = "WxH", default_value = "1200x600", value_parser = parse_size)]
        size: (u32, u32),
    },
    /// Find the minibrot of a period near a point (Newton's method at full precision) and write
    /// a scene framing it.
    #[command(
        after_help = "Examples:\n  mandelfly path find-minibrot --near=-1.76,0 --period 3\n  mandelfly path find-minibrot --near=-0.7436,0.1318 --period 20 -o minibrot.toml"
    )]
    FindMinibrot {
        /// Where to start: RE,IM as decimal text (any number of digits).
        #[arg(long, value_name = "RE,IM", allow_hyphen_values = true)]
        near: String,
        /// The minibrot's period (how many steps its centre's orbit takes back to 0).
        #[arg(long, required_unless_present = "radius")]
        period: Option<u32>,
        /// Without --period: take the lowest period of a minibrot within this distance of
        /// --near (decimal text, e.g. 1e-150), found by iterating the disc (the ball method).
        #[arg(
            long,
            value_name = "R",
            conflicts_with = "period",
            allow_hyphen_values = true
        )]
        radius: Option<String>,
        /// The view's height in minibrot sizes.
        #[arg(long, default_value_t = 8.0)]
        frame: f64,
        /// Write the scene here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Find a Misiurewicz point (whose critical orbit lands on a repelling cycle: the centre of
    /// an endless spiral) near a point, by Newton's method at full precision, and write a scene
    /// centred on it.
    #[command(
        after_help = "Preperiod and period count from z_0 = 0: c = i (0, i, -1+i, -i, -1+i, ...) is preperiod 2,\nperiod 2; c = -2 is preperiod 2, period 1.\n\nExamples:\n  mandelfly path find-misiurewicz --near=0.05,0.95 --preperiod 2 --period 2\n  mandelfly path find-misiurewicz --near=-0.7757,0.1365 --preperiod 24 --period 2 --zoom 1e-100 -o spiral.toml"
    )]
    FindMisiurewicz {
        /// Where to start: RE,IM as decimal text (any number of digits).
        #[arg(long, value_name = "RE,IM", allow_hyphen_values = true)]
        near: String,
        /// Steps before the critical orbit lands on the cycle (the first k with z_k = z_(k+p)).
        #[arg(long)]
        preperiod: u32,
        /// The cycle's length.
        #[arg(long)]
        period: u32,
        /// The view's height (decimal text: 1e-100 is fine); the centre keeps the digits it needs.
        #[arg(long, default_value = "1e-6", allow_hyphen_values = true)]
        zoom: String,
        /// Write the scene here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Convert a camera animation from glTF (.glb/.gltf, e.g. exported by Blender) to a path.
    #[command(after_help = "Examples:\n  mandelfly path import-gltf camera.glb -o flight.toml")]
    ImportGltf {
        /// The glTF file (.glb, or .gltf with embedded or adjacent buffers).
        file: PathBuf,
        /// The path file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Path file (TOML with [[key]] tables). Without it, the built-in flight.
    pub path: Option<PathBuf>,
    /// Output: a video file (.mp4, .mkv, .mov, .webm; container by extension) or a directory
    /// for an image sequence (DIR/frame_00000.png, ...; see --format). Default: mandelfly.mp4.
    #[arg(short, long, value_name = "OUT.mp4|DIR/")]
    pub output: Option<PathBuf>,
    /// Image sequence format for a directory output: png (8-bit sRGB), png16 (16-bit sRGB) or
    /// exr (OpenEXR: linear half-float RGBA, with Z depth for 3D kinds, N smooth iteration
    /// count and DE distance estimate for plane kinds).
    #[arg(long, value_enum, default_value = "png")]
    pub format: ImageFormat,
    /// Frame size (default: the path's [output] size).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// Frames per second (default: the path's [output] fps).
    #[arg(long)]
    pub fps: Option<f64>,
    /// Render only frames A to B-1 (`A..B`, `A..` or `..B`); frame k is at time k / fps.
    #[arg(long, value_name = "A..B", value_parser = parse_frames)]
    pub frames: Option<FrameRange>,
    /// Samples per pixel (anti-aliasing), jittered over the pixel and averaged. Default 1, or 8
    /// with --shutter.
    #[arg(long, value_name = "N")]
    pub samples: Option<u32>,
    /// Motion blur: the shutter stays open for this fraction of the frame interval (centred on
    /// the frame's time), the samples spread over it. 0 = none; 0.5 is a film-like 180 degrees.
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    pub shutter: f64,
    /// Video codec: h264 (libx264), hevc (libx265), vp9 (libvpx-vp9), av1 (libsvtav1),
    /// prores (prores_ks) or ffv1.
    #[arg(long, default_value = "h264")]
    pub codec: String,
    /// Constant rate factor (quality; lower is better): h264/hevc 0-51, default 18; vp9 0-63,
    /// default 31; av1 0-63, default 30.
    #[arg(long, conflicts_with = "bitrate")]
    pub crf: Option<u32>,
    /// Encoder speed preset: x264/x265 names (ultrafast ... veryslow, default medium), vp9
    /// cpu-used (0-8, default 4), av1 0-13 (default 8), prores profile (0-5).
    #[arg(long)]
    pub preset: Option<String>,
    /// Target bit rate instead of constant quality, e.g. 8M or 2500k.
    #[arg(long, value_parser = parse_bitrate)]
    pub bitrate: Option<u64>,
    /// Pixel format: yuv420p (default), yuv444p, yuv420p10le, ... where the codec allows
    /// (prores defaults to yuv422p10le).
    #[arg(long, value_name = "FMT")]
    pub pix_fmt: Option<String>,
    /// Render only the I-th of N contiguous shares of the frames (I from 0) into a segment and
    /// a manifest in the -o directory, for `mandelfly concat` to join.
    #[arg(long, value_name = "I/N", value_parser = crate::cli::parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// Where RGB becomes YUV for 8-bit yuv420p/yuv444p: a GPU compute pass, or swscale on the
    /// encoder thread (other pixel formats always use swscale).
    #[arg(long, value_enum, default_value = "gpu")]
    pub yuv: YuvArg,
    /// How the frames are made: auto (through a zoom map where the path zooms about one point
    /// and that saves work, else each frame), frames (each frame rendered from scratch) or
    /// map (through the map; an error where the path does not qualify). --verbose says which
    /// and why.
    #[arg(long, value_enum, default_value = "auto")]
    pub method: MethodArg,
    /// Keep the zoom map in an OpenEXR file (smooth count, distance estimate and slope per
    /// sample; the map's centre and sampling as attributes) for --map-in. The whole map is
    /// written, also with --frames; implies the map method.
    #[arg(long, value_name = "MAP.exr")]
    pub map_out: Option<PathBuf>,
    /// Assemble the frames from a map written by --map-out instead of computing it (to
    /// re-colour or re-time a zoom); refused where the map does not cover the path.
    #[arg(long, value_name = "MAP.exr", conflicts_with = "map_out")]
    pub map_in: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    Auto,
    Frames,
    Map,
}

impl From<MethodArg> for crate::zoommap::Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Auto => crate::zoommap::Method::Auto,
            MethodArg::Frames => crate::zoommap::Method::Frames,
            MethodArg::Map => crate::zoommap::Method::Map,
        }
    }
}

/// An image file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImageFormat {
    Png,
    Png16,
    Exr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YuvArg {
    Gpu,
    Cpu,
}

pub use crate::flight::MAX_SHARDS;

/// Parses `I/N` (shard I of N, I from 0).
pub fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected I/N (e.g. 0/8), got \"{s}\""))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("\"{v}\" is not a whole number in \"{s}\""))
    };
    let (i, n) = (parse(i)?, parse(n)?);
    if n == 0 || i >= n {
        return Err(format!(
            "shard {i}/{n}: I counts from 0 and must be less than N"
        ));
    }
    let max = MAX_SHARDS;
    if n > max {
        return Err(format!("shard {i}/{n}: at most {max} shards"));
    }
    Ok((i, n))
}

/// Parses a bit rate: `8000000`, `2500k`, `8M`.
pub fn parse_bitrate(s: &str) -> Result<u64, String> {
    let (digits, scale) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1_000.0),
        Some('m' | 'M') => (&s[..s.len() - 1], 1_000_000.0),
        _ => (s, 1.0),
    };
    let v: f64 = digits
        .parse()
        .map_err(|_| format!("\"{s}\" is not a bit rate (e.g. 8M, 2500k)"))?;
    if !(v > 0.0 && v.is_finite()) {
        return Err(format!("bit rate must be positive, got \"{s}\""));
    }
    Ok((v * scale) as u64)
}

/// A range of frame numbers, end exclusive; `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRange {
    pub start: Option<u64>,
    pub end: Option<u64>,
}

impl FrameRange {
    /// The range within `count` frames, or an error when it selects nothing.
    pub fn resolve(&self, count: u64) -> Result<std::ops::Range<u64>, String> {
        let start = self.start.unwrap_or(0);
        let end = self.end.unwrap_or(count).min(count);
        if start >= end {
            return Err(format!(
                "--frames selects no frame: the path has frames 0..{count}"
            ));
        }
        Ok(start..end)
    }
}

/// Parses `A..B`, `A..` or `..B`.
pub fn parse_frames(s: &str) -> Result<FrameRange, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("expected A..B (e.g. 0..100), got \"{s}\""))?;
    let bound = |v: &str| -> Result<Option<u64>, String> {
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<u64>()
            .map(Some)
            .map_err(|_| format!("\"{v}\" is not a frame number in \"{s}\""))
    };
    Ok(FrameRange {
        start: bound(a)?,
        end: bound(b)?,
    })
}

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// A scene, or a path whose keys to edit and play. Without it, the reference view.
    pub file: Option<PathBuf>,
    /// Where `Save` writes the recorded path.
    #[arg(short, long, value_name = "PATH.toml", default_value = "recorded.toml")]
    pub output: PathBuf,
    /// Window size in pixels.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Close after this many frames (for scripts and tests).
    #[arg(long, value_name = "N")]
    pub exit_after: Option<u64>,
    /// On closing, write a full-resolution PNG of the view here.
    #[arg(long, value_name = "FILE.png")]
    pub screenshot: Option<PathBuf>,
    /// Fly by itself (forward, turning gently; the same flight frame by frame at any frame
    /// rate), to measure the frame rate while moving; the frame rate is printed on closing
    /// (with --verbose, frame-time and latency percentiles and the resolution shown too).
    #[arg(long)]
    pub autopilot: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print the report as JSON (schema in the README) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Small sizes and few runs: a smoke test.
    #[arg(long)]
    pub quick: bool,
    /// Timed runs per case (default 5; 2 with --quick).
    #[arg(long, value_name = "N")]
    pub runs: Option<u32>,
    /// Compare with an earlier `--json` report; exit with status 1 when a case got slower by
    /// more than --max-regression.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Percent a case may slow down against the baseline.
    #[arg(long, value_name = "PCT", default_value_t = 10.0)]
    pub max_regression: f64,
    /// Also write the JSON report to this file.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Run only this case (repeatable; names as in the report, e.g. reference-720p).
    #[arg(long = "case", value_name = "NAME")]
    pub cases: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PassArg {
    /// Shaded colour, 8-bit sRGB.
    Color,
    /// Distance from the camera to the surface, 16-bit grey (0 where the ray escapes).
    Depth,
}

#[derive(Debug, Args)]
pub struct StillArgs {
    /// Scene file (TOML). Without it, the reference view.
    pub scene: Option<PathBuf>,
    /// Output image: .png, or .exr for OpenEXR (linear half-float RGBA with data channels:
    /// Z for 3D kinds, N and DE for plane kinds). Default: named after the scene file
    /// (seahorse.toml -> seahorse.png), or <kind>.png without one; -depth.png for the depth
    /// pass.
    #[arg(short, long, value_name = "OUT.png|OUT.exr")]
    pub output: Option<PathBuf>,
    /// Image format (default: by the output's extension, else png): png (8-bit sRGB), png16
    /// (16-bit sRGB) or exr.
    #[arg(long, value_enum)]
    pub format: Option<ImageFormat>,
    /// Replace an existing output file that differs from the new image.
    #[arg(long)]
    pub force: bool,
    /// Samples per pixel (anti-aliasing), jittered over the pixel and averaged in linear
    /// light (default 4 for the colour pass; the depth pass takes one).
    #[arg(long, value_name = "N")]
    pub samples: Option<u32>,
    /// Image size, up to 16384x16384 (default 1280x720, or a path's [output] size).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// For a path file: the time in seconds of the frame to render.
    #[arg(long, default_value_t = 0.0)]
    pub time: f64,
    /// Camera position (overrides the scene).
    #[arg(long, value_name = "x,y,z", value_parser = parse_vec3, allow_hyphen_values = true)]
    pub camera_pos: Option<DVec3>,
    /// Point the camera looks at (overrides the scene).
    #[arg(long, value_name = "x,y,z", value_parser = parse_vec3, allow_hyphen_values = true)]
    pub look_at: Option<DVec3>,
    /// Vertical field of view in degrees (overrides the scene).
    #[arg(long, value_name = "DEG")]
    pub fov: Option<f64>,
    /// Which image to write.
    #[arg(long, value_enum, default_value = "color")]
    pub pass: PassArg,
    /// Distance that maps to white (65535) in the depth pass. Default: the far side of the
    /// fractal's bounding sphere as seen from the camera, printed when the file is written.
    #[arg(long, value_name = "DIST")]
    pub depth_max: Option<f64>,
}

/// Parses `WxH`, e.g. `1920x1080`.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, e.g. 1280x720, got \"{s}\""))?;
    let side = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("\"{v}\" is not a whole number of pixels in \"{s}\""))
    };
    let (w, h) = (side(w)?, side(h)?);
    let max = crate::frame::MAX_SIDE;
    if w == 0 || h == 0 || w > max || h > max {
        return Err(format!(
            "size {w}x{h} is out of range: each side must be 1 to {max}"
        ));
    }
    Ok((w, h))
}

/// Parses `x,y,z`.
pub fn parse_vec3(s: &str) -> Result<DVec3, String> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() != 3 {
        return Err(format!("expected three numbers x,y,z, got \"{s}\""));
    }
    let mut v = [0.0; 3];
    for (slot, part) in v.iter_mut().zip(&parts) {
        *slot = part
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("\"{part}\" is not a finite number in \"{s}\""))?;
    }
    Ok(DVec3::from_array(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_arguments() {
        assert!(parse_shard("3/3").is_err());
        assert!(parse_shard("0/0").is_err());
        assert_eq!(parse_shard("2/5"), Ok((2, 5)));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1920x1080"), Ok((1920, 1080)));
        assert!(parse_size("0x0").is_err());
        assert!(parse_size("16385x10").is_err());
        assert!(parse_size("abc").is_err());
    }

    #[test]
    fn bitrates() {
        assert_eq!(parse_bitrate("8M"), Ok(8_000_000));
        assert_eq!(parse_bitrate("2500k"), Ok(2_500_000));
        assert_eq!(parse_bitrate("1000"), Ok(1000));
        assert!(parse_bitrate("fast").is_err());
        assert!(parse_bitrate("-1M").is_err());
    }

    #[test]
    fn frame_ranges() {
        let r = parse_frames("3..7").unwrap();
        assert_eq!(r.resolve(10), Ok(3..7));
        assert_eq!(parse_frames("5..").unwrap().resolve(8), Ok(5..8));
        assert_eq!(parse_frames("..2").unwrap().resolve(8), Ok(0..2));
        assert!(parse_frames("9..").unwrap().resolve(8).is_err());
        assert!(parse_frames("a..b").is_err());
        assert!(parse_frames("7").is_err());
    }

    #[test]
    fn vectors() {
        assert_eq!(parse_vec3("1,-2,3.5"), Ok(DVec3::new(1.0, -2.0, 3.5)));
        assert!(parse_vec3("1,2").is_err());
        assert!(parse_vec3("1,nan,2").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
