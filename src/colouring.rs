//! The colouring of plane kinds (the Mandelbrot set, deep zooms): how a pixel's smooth
//! iteration count, distance estimate, slope and stripe average become a colour. One place for
//! it, so that whatever has those numbers (a frame being rendered, or stored counts coloured
//! later) colours them the same way; the orbit is not needed.
//!
//! The palette position is relative to the view's iteration range: the counts of a view are
//! measured (a low-resolution pass, [`CountScale::measure`]) as quantiles, a transfer (linear,
//! square root, log, histogram-equalised) maps a count into [0, 1] over that range, and
//! `density` palette cycles span it. Flights key the measurement on the path (see
//! [`crate::flight`]), so a video never re-normalises per frame. Where the palette's bands get
//! finer than a pixel (known from the distance estimate), the cycling fades to the palette's
//! mean colour instead of aliasing into moiré.
//!
//! GPU twin: shaders/colouring.wgsl (`colour_of`); tests/gpu_vs_cpu.rs compares them.

use bytemuck::{Pod, Zeroable};
use serde::{Deserialize, Serialize};

use crate::scene::{Look, MAX_STOPS};

/// How a count maps into [0, 1] across the view's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transfer {
    /// In proportion to the count (Kalles Fraktaler's linear iteration division).
    Linear = 0,
    /// The square root of the linear position: more colour where counts are low.
    Sqrt = 1,
    /// By the ratio of the count to the range's start: strong near the top of a shallow view,
    /// nearly linear deep down where counts span a narrow band.
    Log = 2,
    /// Histogram-equalised: each palette colour covers an equal share of the view's pixels,
    /// except that no stretch of counts gets less of the palette than `linear` gives it (so
    /// the intricate high-count regions, few pixels but a wide range of counts, still cycle);
    /// beyond the range it continues linearly.
    #[default]
    Histogram = 3,
}

impl Transfer {
    pub const NAMES: &[&str] = &["linear", "sqrt", "log", "histogram"];
}

/// Quantiles measured of a view's escaped smooth counts.
pub const QUANTILES: usize = 17;
/// The share of the measured pixels left out at each end of the range (stray counts of a
/// few pixels next to the set must not squeeze the rest of the view into one colour).
const TRIM: f64 = 0.005;

/// The distribution of a view's smooth iteration counts: `QUANTILES` counts at evenly spaced
/// levels from `TRIM` to 1 - `TRIM`, ascending.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountScale {
    pub quantiles: [f32; QUANTILES],
}

impl CountScale {
    /// A range given as two counts: the quantiles spread evenly between them.
    pub fn fixed(low: f64, high: f64) -> Self {
        let mut quantiles = [0.0; QUANTILES];
        for (i, q) in quantiles.iter_mut().enumerate() {
            let t = i as f64 / (QUANTILES - 1) as f64;
            *q = (low + (high - low) * t) as f32;
        }
        CountScale { quantiles }
    }

    /// The scale of a view from the smooth counts of its pixels (negative inside the set,
    /// left out); None when no pixel escaped.
    pub fn measure(counts: &[f32]) -> Option<Self> {
        let mut escaped: Vec<f32> = counts
            .iter()
            .copied()
            .filter(|n| *n >= 0.0 && n.is_finite())
            .collect();
        if escaped.is_empty() {
            return None;
        }
        escaped.sort_by(f32::total_cmp);
        let last = (escaped.len() - 1) as f64;
        let mut quantiles = [0.0; QUANTILES];
        for (i, q) in quantiles.iter_mut().enumerate() {
            let level = TRIM + (1.0 - 2.0 * TRIM) * i as f64 / (QUANTILES - 1) as f64;
            let at = level * last;
            let (k, f) = (at.floor() as usize, at.fract());
            let next = escaped[(k + 1).min(escaped.len() - 1)];
            *q = (escaped[k] as f64 * (1.0 - f) + next as f64 * f) as f32;
        }
        Some(CountScale { quantiles })
    }

    /// Between two scales (`t` in [0, 1]): quantile by quantile, so the result stays ascending.
    pub fn mix(&self, other: &CountScale, t: f64) -> CountScale {
        let mut quantiles = self.quantiles;
        for (q, o) in quantiles.iter_mut().zip(other.quantiles) {
            *q = (*q as f64 * (1.0 - t) + o as f64 * t) as f32;
        }
        CountScale { quantiles }
    }
}

pub const FLAG_EDGES: u32 = 1;
pub const FLAG_RELIEF: u32 = 2;
pub const FLAG_BAND_LIMIT: u32 = 4;
pub const FLAG_STRIPES: u32 = 8;

/// The choices of a look that shape the colouring's code: its transfer, which effects
/// (FLAG_* bits) are on and how many stops its gradient has. Pipelines made for one look take
/// them as the pipeline constants `colour_transfer`, `colour_flags` and `colour_stops` of
/// shaders/colouring.wgsl, so that the GPU compiles only the code they choose; the block
/// carries them too, for pipelines that read them there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColourVariant {
    pub transfer: Transfer,
    pub flags: u32,
    pub stops: u32,
}

impl ColourVariant {
    pub fn of(look: &Look) -> Self {
        let mut flags = 0;
        for (on, flag) in [
            (look.edges > 0.0, FLAG_EDGES),
            (look.relief > 0.0, FLAG_RELIEF),
            (look.band_limit, FLAG_BAND_LIMIT),
            (look.stripes > 0.0, FLAG_STRIPES),
        ] {
            if on {
                flags |= flag;
            }
        }
        ColourVariant {
            transfer: look.transfer,
            flags,
            stops: look.stops().len() as u32,
        }
    }

    /// The pipeline constants that compile this variant in.
    pub fn constants(&self) -> [(&'static str, f64); 3] {
        [
            ("colour_transfer", self.transfer as u32 as f64),
            ("colour_flags", self.flags as f64),
            ("colour_stops", self.stops as f64),
        ]
    }
}

/// The colouring's parameters: twin of `ColourMapping` in shaders/colouring.wgsl (colours in
/// linear light).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct ColourMapping {
    /// Gradient stops, FLAG_* bits, transfer, 0.
    pub control: [u32; 4],
    /// Density (palette cycles across the view's range), offset, edge strength, relief strength.
    pub colouring: [f32; 4],
    /// Interior colour; w: edge width in pixels.
    pub interior: [f32; 4],
    /// Relief light direction in the plane (xy), its height; w: stripe strength.
    pub relief: [f32; 4],
    /// The palette's mean colour (where bands are finer than a pixel); w: stripe density.
    pub mean: [f32; 4],
    /// The count quantiles (`QUANTILES` of them, then padding).
    pub counts: [[f32; 4]; 5],
    /// `histogram`: the position in [0, 1] at each quantile.
    pub levels: [[f32; 4]; 5],
    /// x: `histogram`'s slope beyond the range (position per count).
    pub tail: [f32; 4],
    /// Colour (rgb) at position w in [0, 1), cyclic.
    pub stops: [[f32; 4]; MAX_STOPS],
}

fn srgb_to_linear(c: f64) -> f64 {
    crate::gpu::uniforms::srgb_to_linear(c)
}

impl ColourMapping {
    /// The mapping of a plane look over the counts `scale` (a placeholder scale when the
    /// view escaped nowhere: then only the interior colour shows).
    pub fn new(look: &Look, scale: Option<&CountScale>) -> Self {
        let stops = look.stops();
        let mut packed = [[0.0f32; 4]; MAX_STOPS];
        for (slot, stop) in packed.iter_mut().zip(&stops) {
            *slot = [
                srgb_to_linear(stop[1]) as f32,
                srgb_to_linear(stop[2]) as f32,
                srgb_to_linear(stop[3]) as f32,
                stop[0] as f32,
            ];
        }
        let flags = ColourVariant::of(look).flags;
        let scale = scale.copied().unwrap_or(CountScale::fixed(0.0, 1.0));
        let mut counts = [[0.0f32; 4]; 5];
        for (i, q) in scale.quantiles.iter().enumerate() {
            counts[i / 4][i % 4] = *q;
        }
        let (levels, tail) = histogram_levels(&scale);
        let (ls, lc) = look.relief_angle.to_radians().sin_cos();
        let mut mapping = ColourMapping {
            control: [stops.len() as u32, flags, look.transfer as u32, 0],
            colouring: [
                look.density as f32,
                look.palette_offset.rem_euclid(1.0) as f32,
                look.edges as f32,
                look.relief as f32,
            ],
            interior: [
                srgb_to_linear(look.interior[0]) as f32,
                srgb_to_linear(look.interior[1]) as f32,
                srgb_to_linear(look.interior[2]) as f32,
                look.edge_width as f32,
            ],
            relief: [
                lc as f32,
                ls as f32,
                look.relief_height as f32,
                look.stripes as f32,
            ],
            mean: [0.0, 0.0, 0.0, look.stripe_density as f32],
            counts,
            levels,
            tail: [tail, 0.0, 0.0, 0.0],
            stops: packed,
        };
        // The mean over one cycle, from the gradient itself (so it is exactly what the
        // cycling averages to).
        let n = 256;
        let mut sum = [0.0f64; 3];
        for i in 0..n {
            let c = mapping.gradient((i as f32 + 0.5) / n as f32);
            for k in 0..3 {
                sum[k] += c[k] as f64;
            }
        }
        for (mean, total) in mapping.mean.iter_mut().zip(sum) {
            *mean = (total / n as f64) as f32;
        }
        mapping
    }

    fn quantile(&self, i: usize) -> f32 {
        self.counts[i / 4][i % 4]
    }

    fn level(&self, i: usize) -> f32 {
        self.levels[i / 4][i % 4]
    }

    /// The palette's colour at position t (cyclic).
    pub fn gradient(&self, t: f32) -> [f32; 3] {
        let n = self.control[0] as usize;
        let x = t - t.floor();
        let mut i = n - 1;
        for k in 0..n {
            if self.stops[k][3] <= x {
                i = k;
            }
        }
        let a = self.stops[i];
        let b = self.stops[(i + 1) % n];
        let mut span = b[3] - a[3];
        let mut along = x - a[3];
        if span <= 0.0 {
            span += 1.0;
        }
        if along < 0.0 {
            along += 1.0;
        }
        let f = (along / span.max(1e-6)).clamp(0.0, 1.0);
        [
            a[0] + (b[0] - a[0]) * f,
            a[1] + (b[1] - a[1]) * f,
            a[2] + (b[2] - a[2]) * f,
        ]
    }

    /// The count's position in the view's range after the transfer (0 at the range's start,
    /// 1 at its end, continuing beyond), and its derivative by the count.
    pub fn position(&self, n: f32) -> (f32, f32) {
        let lo = self.quantile(0);
        let hi = self.quantile(QUANTILES - 1);
        let span = (hi - lo).max(1e-3);
        let u = (n - lo) / span;
        match self.control[2] {
            0 => (u, 1.0 / span),
            1 => {
                let r = u.abs().max(1e-4).sqrt();
                // WGSL's sign: 0 at 0.
                let sign = if u > 0.0 {
                    1.0
                } else if u < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                (sign * r, 0.5 / (r * span))
            }
            2 => {
                let ratio = ((hi + 1.0) / (lo + 1.0)).ln().max(1e-3);
                (
                    ((n.max(0.0) + 1.0) / (lo + 1.0)).ln() / ratio,
                    1.0 / ((n.max(0.0) + 1.0) * ratio),
                )
            }
            _ => {
                let tail = self.tail[0];
                if n < lo {
                    return ((n - lo) * tail, tail);
                }
                if n >= hi {
                    return (1.0 + (n - hi) * tail, tail);
                }
                let mut k = 0;
                while k + 2 < QUANTILES && n >= self.quantile(k + 1) {
                    k += 1;
                }
                let (a, b) = (self.quantile(k), self.quantile(k + 1));
                let slope = (self.level(k + 1) - self.level(k)) / (b - a).max(1e-6);
                (self.level(k) + (n - a) * slope, slope)
            }
        }
    }

    /// The colour of one pixel (linear light): the CPU twin of `colour_of`.
    pub fn colour(&self, input: &ColourInput) -> [f32; 3] {
        if input.count < 0.0 {
            return [self.interior[0], self.interior[1], self.interior[2]];
        }
        let flags = self.control[1];
        let (u, du) = self.position(input.count);
        let mut t = self.colouring[0] * u + self.colouring[1];
        if flags & FLAG_STRIPES != 0 {
            t += self.relief[3] * (input.stripe - 0.5);
        }
        let mut c = self.gradient(t);
        if flags & FLAG_BAND_LIMIT != 0 && input.distance > 0.0 {
            // Palette cycles per pixel: |dn/dpixel| = 1 / (distance ln 2) for the smooth count.
            let cycles = self.colouring[0] * du / (input.distance * std::f32::consts::LN_2);
            let keep = 1.0 - smoothstep(0.2, 0.5, cycles);
            for (v, mean) in c.iter_mut().zip(self.mean) {
                *v = mean + (*v - mean) * keep;
            }
        }
        if flags & FLAG_RELIEF != 0 {
            let l = [self.relief[0], self.relief[1]];
            let lit = ((input.slope[0] * l[0] + input.slope[1] * l[1] + self.relief[2])
                / (1.0 + self.relief[2]))
                .clamp(0.0, 1.0);
            let k = 1.0 + (lit - 1.0) * self.colouring[3];
            c = c.map(|v| v * k);
        }
        if flags & FLAG_EDGES != 0 {
            let edge = smoothstep(0.0, self.interior[3], input.distance);
            let k = 1.0 - self.colouring[2] + self.colouring[2] * edge;
            c = c.map(|v| v * k);
        }
        c
    }
}

/// `histogram`'s positions at the quantiles, and its slope beyond them: each segment between
/// two quantiles gets the larger of its share of the pixels and its share of the count range,
/// normalised to span [0, 1].
fn histogram_levels(scale: &CountScale) -> ([[f32; 4]; 5], f32) {
    let q = &scale.quantiles;
    let span = ((q[QUANTILES - 1] - q[0]) as f64).max(1e-3);
    let segments = (QUANTILES - 1) as f64;
    let shares: Vec<f64> = q
        .windows(2)
        .map(|w| (1.0 / segments).max((w[1] - w[0]) as f64 / span))
        .collect();
    let total: f64 = shares.iter().sum();
    let mut levels = [[0.0f32; 4]; 5];
    let mut at = 0.0;
    for i in 0..QUANTILES {
        levels[i / 4][i % 4] = (at / total) as f32;
        if i + 1 < QUANTILES {
            at += shares[i];
        }
    }
    (levels, (1.0 / (span * total)) as f32)
}

/// What colouring needs of a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ColourInput {
    /// Smooth iteration count; negative inside the set.
    pub count: f32,
    /// Distance estimate to the set in pixels (0 where unknown).
    pub distance: f32,
    /// Unit direction of z / (dz/dc): the slope of the potential.
    pub slope: [f32; 2],
    /// Stripe average in [0, 1].
    pub stripe: f32,
}

/// GLSL's smoothstep (WGSL's `smoothstep`).
pub fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look() -> Look {
        Look::reference()
    }

    #[test]
    fn measured_quantiles_ascend_and_leave_the_set_out() {
        let counts: Vec<f32> = (0..1000)
            .map(|i| 100.0 + i as f32)
            .chain([-1.0; 500])
            .collect();
        let s = CountScale::measure(&counts).unwrap();
        assert!(s.quantiles.windows(2).all(|w| w[0] <= w[1]));
        assert!((s.quantiles[0] - 105.0).abs() < 1.0, "{:?}", s.quantiles);
        assert!((s.quantiles[QUANTILES - 1] - 1094.0).abs() < 1.0);
        assert_eq!(CountScale::measure(&[-1.0, -1.0]), None);
    }

    #[test]
    fn transfers_span_the_range() {
        let scale = CountScale::measure(
            &(0..4000)
                .map(|i| 20000.0 + (i as f32).powi(2) / 1000.0)
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let (lo, hi) = (scale.quantiles[0], scale.quantiles[QUANTILES - 1]);
        for transfer in [
            Transfer::Linear,
            Transfer::Sqrt,
            Transfer::Log,
            Transfer::Histogram,
        ] {
            let mut l = look();
            l.transfer = transfer;
            let m = ColourMapping::new(&l, Some(&scale));
            let (a, _) = m.position(lo);
            let (b, _) = m.position(hi);
            assert!(
                a.abs() < 1e-3 && (b - 1.0).abs() < 1e-3,
                "{transfer:?}: {a} {b}"
            );
            // Ascending, with a positive derivative that matches the finite difference.
            let mid = 0.5 * (lo + hi);
            let (p, dp) = m.position(mid);
            let (q, _) = m.position(mid + 1.0);
            assert!(q > p && dp > 0.0, "{transfer:?}");
            assert!(
                ((q - p) - dp).abs() < 0.2 * dp,
                "{transfer:?}: {} vs {dp}",
                q - p
            );
        }
        // Histogram: where counts crowd (the low end of this skewed distribution) the
        // palette is spread by pixels, more than linear would; where they thin out, by the
        // count range, as linear does.
        let mut l = look();
        l.transfer = Transfer::Histogram;
        let m = ColourMapping::new(&l, Some(&scale));
        let linear = 1.0 / (hi - lo);
        let (crowded, sparse) = (m.position(lo + 0.01 * (hi - lo)).1, m.position(hi - 1.0).1);
        assert!(crowded > 2.0 * linear, "{crowded} {linear}");
        assert!(
            sparse < 1.5 * linear && sparse > 0.5 * linear,
            "{sparse} {linear}"
        );
        let first = scale.quantiles[1];
        assert!(m.position(first).0 >= 1.0 / 16.0 / 2.0);
    }

    #[test]
    fn bands_finer_than_a_pixel_fade_to_the_mean() {
        let mut l = look();
        l.edges = 0.0;
        l.relief = 0.0;
        l.density = 4.0;
        l.transfer = Transfer::Linear;
        let m = ColourMapping::new(&l, Some(&CountScale::fixed(0.0, 10.0)));
        let at = |distance| {
            m.colour(&ColourInput {
                count: 3.3,
                distance,
                ..Default::default()
            })
        };
        // Far from the set bands are wide: the gradient itself.
        let far = at(100.0);
        let bands = m.gradient(4.0 * 0.33);
        assert!(
            (0..3).all(|k| (far[k] - bands[k]).abs() < 1e-5),
            "{far:?} {bands:?}"
        );
        // Next to it, many cycles per pixel: the mean.
        let near = at(0.01);
        for (v, mean) in near.iter().zip(m.mean) {
            assert!((v - mean).abs() < 1e-6);
        }
        let inside = m.colour(&ColourInput {
            count: -1.0,
            ..Default::default()
        });
        assert_eq!(inside, [m.interior[0], m.interior[1], m.interior[2]]);
    }

    #[test]
    fn mixing_scales_keeps_them_ascending() {
        let a = CountScale::fixed(0.0, 100.0);
        let b = CountScale::fixed(5000.0, 9000.0);
        let m = a.mix(&b, 0.25);
        assert!(m.quantiles.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(m.quantiles[0], 1250.0);
    }
}
