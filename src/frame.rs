//! What a frame is, between the renderer and the sinks: the samples it is made of, the formats
//! the post stage can deliver, and the pixels that come back. Neither side knows the other.

use std::time::Duration;

use crate::gpu::yuv::YuvLayout;
use crate::scene::Scene;

/// Largest image side accepted.
pub const MAX_SIDE: u32 = 16384;
/// Most samples per pixel.
pub const MAX_SAMPLES: u32 = 1024;

/// One sample of every pixel: the scene at the sample's time and the offset from the pixel
/// centre, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    pub scene: &'a Scene,
    pub jitter: [f32; 2],
}

/// Offset of sample `index` of `count` from the pixel centre: a Halton (2, 3) point, so any
/// number of samples covers the pixel evenly. One sample sits at the centre.
pub fn sample_jitter(index: u32, count: u32) -> [f32; 2] {
    if count <= 1 {
        return [0.0, 0.0];
    }
    let halton = |mut i: u32, base: u32| {
        let (mut f, mut r) = (1.0f32, 0.0f32);
        while i > 0 {
            f /= base as f32;
            r += f * (i % base) as f32;
            i /= base;
        }
        r
    };
    [halton(index + 1, 2) - 0.5, halton(index + 1, 3) - 0.5]
}

/// Where sample `index` of `count` passes through a thin lens: a point of the unit disk
/// (Halton (5, 7), uncorrelated with the pixel jitter, mapped by Shirley's concentric map so the
/// disk is covered evenly).
pub fn lens_sample(index: u32, count: u32) -> [f32; 2] {
    if count <= 1 {
        return [0.0, 0.0];
    }
    let halton = |mut i: u32, base: u32| {
        let (mut f, mut r) = (1.0f32, 0.0f32);
        while i > 0 {
            f /= base as f32;
            r += f * (i % base) as f32;
            i /= base;
        }
        r
    };
    let (a, b) = (
        2.0 * halton(index + 1, 5) - 1.0,
        2.0 * halton(index + 1, 7) - 1.0,
    );
    if a == 0.0 && b == 0.0 {
        return [0.0, 0.0];
    }
    let quarter = std::f32::consts::FRAC_PI_4;
    let (r, angle) = if a.abs() > b.abs() {
        (a, quarter * (b / a))
    } else {
        (b, 2.0 * quarter - quarter * (a / b))
    };
    [r * angle.cos(), r * angle.sin()]
}

/// The colour the post stage delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorFormat {
    /// No colour (the auxiliary channels only).
    None,
    /// Tone-mapped, sRGB-encoded RGBA8.
    Srgb8,
    /// Tone-mapped, sRGB-encoded RGBA16.
    Srgb16,
    /// Tone-mapped BT.709 limited-range Y'CbCr planes (from the 8-bit sRGB frame).
    Yuv(YuvLayout),
    /// Scene-linear RGBA as half floats (exposure applied, no tone mapping).
    Linear,
}

/// What a frame reads back: a colour format, and whether the auxiliary channels come too
/// (depth for volume kinds; smooth iteration count and distance estimate for plane kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readout {
    pub color: ColorFormat,
    pub aux: bool,
}

/// The older name: which passes a still reads back.
pub type Passes = Readout;

impl Readout {
    pub const COLOR: Readout = Readout {
        color: ColorFormat::Srgb8,
        aux: false,
    };
    pub const DEPTH: Readout = Readout {
        color: ColorFormat::None,
        aux: true,
    };
    pub const ALL: Readout = Readout {
        color: ColorFormat::Srgb8,
        aux: true,
    };
    pub const fn color(color: ColorFormat) -> Readout {
        Readout { color, aux: false }
    }
}

/// A rendered frame, rows from the top. Only the buffers its [`Readout`] asked for are filled.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// sRGB-encoded RGBA8, `width * height * 4` bytes.
    pub color: Vec<u8>,
    /// sRGB-encoded RGBA16, `width * height * 4` values.
    pub color16: Vec<u16>,
    /// Scene-linear RGBA half floats (IEEE binary16 bit patterns), `width * height * 4`.
    pub linear: Vec<u16>,
    /// Volume kinds: distance from the camera to the surface along each pixel's ray, 0 where the
    /// ray escapes. Plane kinds: the smooth iteration count, negative inside the set.
    pub depth: Vec<f32>,
    /// Plane kinds: the distance estimate to the set, in pixels (0 for volume kinds).
    pub distance: Vec<f32>,
    /// Y'CbCr planes packed as [`YuvLayout`] describes.
    pub yuv: Vec<u8>,
    /// GPU time of the render passes, where the adapter has timestamp queries.
    pub gpu_time: Option<Duration>,
    /// Distance-estimator evaluations, when counting was on.
    pub de_evaluations: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_covers_the_pixel() {
        assert_eq!(sample_jitter(0, 1), [0.0, 0.0]);
        let n = 16;
        let pts: Vec<[f32; 2]> = (0..n).map(|i| sample_jitter(i, n)).collect();
        for p in &pts {
            assert!(p[0].abs() <= 0.5 && p[1].abs() <= 0.5);
        }
        // Every quadrant gets samples.
        for (sx, sy) in [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)] {
            assert!(pts.iter().any(|p| p[0] * sx > 0.0 && p[1] * sy > 0.0));
        }
    }

    #[test]
    fn lens_samples_cover_the_disk() {
        assert_eq!(lens_sample(0, 1), [0.0, 0.0]);
        let pts: Vec<[f32; 2]> = (0..64).map(|i| lens_sample(i, 64)).collect();
        for p in &pts {
            assert!(p[0].hypot(p[1]) <= 1.0 + 1e-6, "{p:?}");
        }
        let mean = pts
            .iter()
            .fold([0.0, 0.0], |m, p| [m[0] + p[0], m[1] + p[1]]);
        assert!(mean[0].abs() < 4.0 && mean[1].abs() < 4.0, "{mean:?}");
        assert!(pts.iter().any(|p| p[0].hypot(p[1]) > 0.8));
    }
}
