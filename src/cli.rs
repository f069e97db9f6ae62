//! The command line (clap derive). Commands live in `commands`; this only declares them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use glam::DVec3;

#[derive(Debug, Parser)]
#[command(
    name = "mandelfly",
    version,
    about = "Fly a camera through fractals on the GPU"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Use the first GPU adapter whose name contains this text (see `mandelfly info`).
    #[arg(long, global = true, value_name = "NAME")]
    pub adapter: Option<String>,
    /// Report the adapter, timings and other details on stderr.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render one still image of a scene to PNG (the reference view by default).
    Still(StillArgs),
    /// List the GPU adapters, backends and features wgpu sees, and which one mandelfly uses.
    Info,
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
    /// Output PNG. Default: <kind>.png, or <kind>-depth.png for the depth pass.
    #[arg(short, long, value_name = "OUT.png")]
    pub output: Option<PathBuf>,
    /// Image size, up to 16384x16384.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
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
    let max = crate::gpu::renderer::MAX_SIDE;
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
    fn sizes() {
        assert_eq!(parse_size("1920x1080"), Ok((1920, 1080)));
        assert!(parse_size("0x0").is_err());
        assert!(parse_size("16385x10").is_err());
        assert!(parse_size("abc").is_err());
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
