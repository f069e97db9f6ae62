//! Series approximation (SA): the iterations every pixel of a frame shares, skipped at once.
//!
//! While a frame's deltas are small, dz_n is a polynomial in dc: dz_n = sum_k a_{k,n} dc^k,
//! with a_{1,n+1} = 2 Z_n a_{1,n} + 1 and a_{k,n+1} = 2 Z_n a_{k,n} + sum_{i+j=k} a_{i,n}
//! a_{j,n} (dz -> 2 Z dz + dz^2 + dc, matched power by power). A BLA step is linear in dz and
//! must stop wherever Z passes near 0 (there dz^2 matters); the polynomial carries dz^2 along,
//! so at views like floral_fantasy it reaches 92% of the way to the pixels' escape, where BLA
//! needs some sixty steps per pixel, in the more expensive extended-exponent arithmetic.
//!
//! The coefficients are kept for u = dc / dc_max (|u| <= 1 at every pixel): b_k = a_k dc_max^k,
//! as f64 mantissas sharing one exponent (terms that far below the largest are below every
//! pixel's precision). The skip ends before the first iteration where the polynomial and probe
//! pixels iterated step by step disagree by more than the tolerance relative to each probe's
//! own dz (a pixel near the reference has a dz far smaller than one at the edge, and its
//! future depends on that dz's relative precision: probes only on the circle |u| = 1, where
//! an analytic error is largest, let through noise at mitosis), where the polynomial's terms
//! cancel too much at a probe for the GPU's f32 evaluation, or where a pixel could come near
//! escape (|Z| plus the largest |dz| on the disc reaches 2).
//!
//! GPU twin: `series_start` in shaders/fractals/mandelbrot-deep.wgsl.

use glam::DVec2;

use super::floatexp::{ComplexExp, FloatExp, frexp, ldexp};

/// Terms of the polynomial (an early version of the checks, at floral_fantasy: 16 terms
/// reached iteration 1704, 32 terms 2027 and 64 terms 2041 of about 2157, the last for four
/// times the CPU work). `gpu::deep::DeepUniform::series` holds this many.
pub const TERMS: usize = 32;

/// The largest relative error of the skipped deltas: f32 mantissas carry 2^-24, so a few units
/// of their last place.
pub const TOLERANCE: f64 = 1.0 / (1u64 << 21) as f64;

/// The smallest coefficient the GPU keeps, relative to the largest (2^-120, short of f32's
/// smallest normal number, 2^-126).
const F32_RANGE: f64 = 7.52316384526264e-37;

/// Probes per side of the grid over the disc |u| <= 1.
const PROBE_GRID: usize = 12;

/// The largest sum of |terms| over |value| of the polynomial at a probe: its f32 evaluation
/// on the GPU then keeps 2^-19 of the value.
const CANCELLATION: f64 = 32.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Iterations every pixel skips (0: none; then there are no coefficients).
    pub skip: u32,
    /// b_k 2^-exp for k = 1, 2, ...: dz_skip = 2^exp sum_k coefficients[k-1] u^k.
    pub coefficients: Vec<DVec2>,
    pub exp: i64,
    /// The extent u is measured in.
    pub dc_max: FloatExp,
}

fn cmul(a: DVec2, b: DVec2) -> DVec2 {
    DVec2::new(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x)
}

/// sum_k c[k-1] u^k, by Horner's rule.
fn polynomial(c: &[DVec2], u: DVec2) -> DVec2 {
    c.iter().rev().fold(DVec2::ZERO, |acc, &b| cmul(acc + b, u))
}

/// The coefficients as the GPU sees them: those below f32's range once the largest is
/// scaled to 1 are 0.
fn in_f32(c: &[DVec2]) -> Vec<DVec2> {
    let high = c
        .iter()
        .fold(0.0f64, |m, v| m.max(v.x.abs()).max(v.y.abs()));
    c.iter()
        .map(|&v| {
            if v.x.abs().max(v.y.abs()) < high * F32_RANGE {
                DVec2::ZERO
            } else {
                v
            }
        })
        .collect()
}

/// sum_k |c[k-1]| r^k: the largest |term| sum on the circle |u| = r.
fn polynomial_bound(c: &[DVec2], r: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, b| (acc + b.length()) * r)
}

/// sum_k k c[k-1] u^(k-1), the derivative in u.
fn derivative(c: &[DVec2], u: DVec2) -> DVec2 {
    c.iter()
        .enumerate()
        .rev()
        .fold(DVec2::ZERO, |acc, (i, &b)| {
            cmul(acc, u) + b * (i + 1) as f64
        })
}

/// The polynomial after `n` iterations and the probes' deltas, all times 2^`exp`.
#[derive(Clone)]
struct State {
    n: usize,
    b: Vec<DVec2>,
    delta: Vec<DVec2>,
    exp: i64,
}

impl State {
    /// One iteration at reference point `z`; false where numbers leave f64's range.
    fn step(&mut self, z: DVec2, dc_max: FloatExp, probes: &[DVec2], square: &mut [DVec2]) -> bool {
        let terms = self.b.len();
        let two_z = 2.0 * z;
        let b = &mut self.b;
        // sum_{i+j=k} b_i b_j: terms i and j (from 0) make power i + j + 2, index i + j + 1.
        square.fill(DVec2::ZERO);
        for i in 0..terms {
            if b[i] == DVec2::ZERO {
                continue;
            }
            for j in i..terms.saturating_sub(i + 1) {
                let p = cmul(b[i], b[j]);
                square[i + j + 1] += if i == j { p } else { 2.0 * p };
            }
        }
        // dz -> 2 Z dz + dz^2 + dc, in units of 2^exp.
        let f = ldexp(1.0, self.exp);
        let constant = ldexp(dc_max.mantissa, dc_max.exp - self.exp);
        for k in 0..terms {
            b[k] = cmul(two_z, b[k]) + square[k] * f;
        }
        b[0].x += constant;
        for (d, u) in self.delta.iter_mut().zip(probes) {
            *d = cmul(two_z, *d) + cmul(*d, *d) * f + *u * constant;
        }
        self.n += 1;
        // Renormalise so the largest mantissa stays near 1.
        let top = b
            .iter()
            .fold(0.0f64, |m, v| m.max(v.x.abs()).max(v.y.abs()));
        if !top.is_finite() {
            return false;
        }
        if top != 0.0 {
            let (_, shift) = frexp(top);
            if shift.abs() > 32 {
                let s = ldexp(1.0, -shift);
                for v in b.iter_mut().chain(self.delta.iter_mut()) {
                    *v *= s;
                }
                self.exp += shift;
            }
        }
        true
    }

    /// Whether the polynomial matches every probe to within `tolerance` of the probe's own
    /// |dz| (a probe near the reference has a far smaller dz than one at the edge, and its
    /// future depends on that dz's relative precision), with little enough cancellation for
    /// the GPU's f32 evaluation.
    fn agrees(&self, probes: &[DVec2], tolerance: f64) -> bool {
        let b = in_f32(&self.b);
        probes.iter().zip(&self.delta).all(|(&u, &d)| {
            let value = polynomial(&b, u);
            let terms = polynomial_bound(&b, u.length());
            (value - d).length() <= tolerance * d.length() && terms <= CANCELLATION * value.length()
        })
    }
}

impl Series {
    /// No skip (and no extent: `build` gives a frame's series without a skip its extent).
    pub fn none() -> Self {
        Series {
            skip: 0,
            coefficients: Vec::new(),
            exp: 0,
            dc_max: FloatExp::ZERO,
        }
    }

    /// The polynomial for `orbit` (Z_0 .. Z_M of the Mandelbrot set, not a Julia set) and
    /// pixels with |dc| <= `dc_max`, skipping at most `limit - 1` iterations, with `terms`
    /// terms, to within `tolerance`.
    pub fn build(
        orbit: &[DVec2],
        dc_max: FloatExp,
        limit: u32,
        terms: usize,
        tolerance: f64,
    ) -> Self {
        let last = orbit.len().saturating_sub(1);
        // The skip stays short of the orbit's end (pixels rebase there) and of the limit.
        let end = last.min(limit as usize).saturating_sub(1);
        if terms == 0 || dc_max.is_zero() || end < 1 {
            return Series {
                dc_max,
                ..Series::none()
            };
        }
        // dz_1 = dc: b_1 = dc_max.
        let mut b = vec![DVec2::ZERO; terms];
        b[0] = DVec2::new(dc_max.mantissa, 0.0);
        let exp = dc_max.exp;
        // A grid over the disc, off the centre (where dz = 0).
        let probes: Vec<DVec2> = (0..PROBE_GRID)
            .flat_map(|i| (0..PROBE_GRID).map(move |j| (i, j)))
            .map(|(i, j)| {
                let at = |k: usize| (k as f64 + 0.5) / PROBE_GRID as f64 * 2.0 - 1.0;
                DVec2::new(at(i), at(j))
            })
            .filter(|u| u.length() <= 1.0)
            .collect();
        // The probes' deltas share the coefficients' exponent: dz = delta 2^exp, |delta| at
        // most the sum of the coefficients' mantissas.
        let mut state = State {
            n: 1,
            b,
            delta: probes.iter().map(|u| *u * dc_max.mantissa).collect(),
            exp,
        };
        let mut square = vec![DVec2::ZERO; terms];
        // Probes are compared every STRIDE iterations (a comparison costs as much as many
        // steps); after a failed comparison the last good state steps again, comparing at
        // every iteration, to find the exact end.
        const STRIDE: usize = 16;
        let mut good = state.clone();
        let mut stride = STRIDE;
        loop {
            let mut ok = true;
            for _ in 0..stride {
                if state.n >= end || !state.step(orbit[state.n], dc_max, &probes, &mut square) {
                    ok = false;
                    break;
                }
                // Near escape (|Z| plus the largest |dz| on the disc past 2), stop.
                let reach = ldexp(
                    state.b.iter().map(|v| v.x.abs() + v.y.abs()).sum(),
                    state.exp,
                );
                if orbit[state.n].length() + reach > 2.0 {
                    ok = false;
                    break;
                }
            }
            if ok && state.agrees(&probes, tolerance) {
                good = state.clone();
            } else if stride > 1 {
                state = good.clone();
                stride = 1;
            } else {
                break;
            }
        }
        let (skip, mut coefficients, mut exp) = (good.n, in_f32(&good.b), good.exp);
        // Normalised so the largest mantissa is in [0.5, 1) (the GPU's f32 copy then neither
        // overflows nor loses the leading terms), and trailing zero terms dropped.
        let top = coefficients
            .iter()
            .fold(0.0f64, |m, v| m.max(v.x.abs()).max(v.y.abs()));
        if top != 0.0 {
            let (_, shift) = frexp(top);
            let s = ldexp(1.0, -shift);
            for v in &mut coefficients {
                *v *= s;
            }
            exp += shift;
        }
        while coefficients.last() == Some(&DVec2::ZERO) {
            coefficients.pop();
        }
        Series {
            skip: skip as u32,
            coefficients,
            exp,
            dc_max,
        }
    }

    /// dz after `skip` iterations for the pixel at `dc`, and its derivative d dz / d dc.
    pub fn evaluate(&self, dc: ComplexExp) -> (ComplexExp, ComplexExp) {
        if self.skip == 0 {
            return (ComplexExp::ZERO, ComplexExp::ZERO);
        }
        let scale = (FloatExp::new(1.0, dc.exp) / self.dc_max).to_f64();
        let u = DVec2::new(dc.re, dc.im) * scale;
        let v = polynomial(&self.coefficients, u);
        let d = derivative(&self.coefficients, u);
        let dz = ComplexExp::new(v.x, v.y, self.exp);
        // d dz / d dc = (d dz / d u) / dc_max.
        let inv = FloatExp::ONE / self.dc_max;
        let der = ComplexExp::new(d.x * inv.mantissa, d.y * inv.mantissa, self.exp + inv.exp);
        (dz, der)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deep::{DeepFrame, locations, precise, reference::ReferenceOrbit};

    /// A test location's reference orbit, the frame of a `w` x `h` image and its series.
    fn frame_series(
        location: &locations::Location,
        (w, h): (u32, u32),
    ) -> (ReferenceOrbit, DeepFrame, Series) {
        let view = &location.view;
        let bits = precise::precision_for(view.zoom.scale(1.0 / h as f64));
        let center = view.precise_center(bits);
        let limit = location.iterations;
        let reference = ReferenceOrbit::compute(center.clone(), bits, limit, 256.0, None, None);
        let frame = DeepFrame::new(view, &center, &reference.point, bits, w, h);
        let series = Series::build(&reference.orbit, frame.dc_max, limit, TERMS, TOLERANCE);
        (reference, frame, series)
    }

    /// At every test location the series skips a good part of the way, and where it leaves a
    /// pixel, that pixel's delta matches its own step-by-step iteration (f64 mantissas) to
    /// within the tolerance, at pixels all over the frame (not only the probes).
    #[test]
    fn the_skip_matches_step_by_step_iteration() {
        let (w, h) = (64u32, 36u32);
        for location in locations::test_views() {
            let (reference, frame, series) = frame_series(&location, (w, h));
            eprintln!("{}: skips {}", location.name, series.skip);
            assert!(series.skip >= 50, "{}: {}", location.name, series.skip);
            assert!((series.skip as usize) < reference.orbit.len() - 1);
            for (x, y) in [(0, 0), (63, 35), (5, 30), (40, 10), (32, 18), (20, 20)] {
                let dc = frame.pixel_dc(x, y, w, h);
                let mut dz = ComplexExp::ZERO;
                for z in &reference.orbit[..series.skip as usize] {
                    let two_z = ComplexExp::from_f64(2.0 * z.x, 2.0 * z.y);
                    dz = (two_z + dz) * dz + dc;
                }
                let (skipped, _) = series.evaluate(dc);
                let error = skipped + ComplexExp::new(-dz.re, -dz.im, dz.exp);
                assert!(
                    error.norm().total_cmp(dz.norm().scale(1e-5)).is_le(),
                    "{} pixel {x},{y}: {skipped:?} against {dz:?}",
                    location.name
                );
            }
        }
    }

    /// The derivative the series gives is the polynomial's: a difference quotient agrees.
    #[test]
    fn the_derivative_is_the_polynomials() {
        let location = &locations::test_views()[1];
        let (_, frame, series) = frame_series(location, (64, 36));
        let dc = frame.dc(10.0, 5.0);
        let step = frame.dc(10.001, 5.0);
        let (a, der) = series.evaluate(dc);
        let (b, _) = series.evaluate(step);
        let difference = b + ComplexExp::new(-a.re, -a.im, a.exp);
        let h_dc = step + ComplexExp::new(-dc.re, -dc.im, dc.exp);
        let quotient =
            FloatExp::new(difference.norm().mantissa, difference.norm().exp) / h_dc.norm();
        let ratio = (quotient / der.norm()).to_f64();
        assert!((ratio - 1.0).abs() < 1e-3, "{ratio}");
    }
}
