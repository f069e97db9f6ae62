//! The reference orbit: one point iterated at full precision on the CPU, rounded to f64 for
//! the per-pixel perturbation on the GPU. Also the direct full-precision iteration of any
//! point, which the tests use as the truth.

use std::sync::atomic::{AtomicBool, Ordering};

use astro_float_num::BigFloat;
use glam::DVec2;

use super::precise;

/// Z_0 .. Z_len of one point, rounded to f64.
#[derive(Debug, Clone)]
pub struct ReferenceOrbit {
    /// The reference point (c for the Mandelbrot set, z0 for a Julia set), `bits` precise.
    pub point: [BigFloat; 2],
    pub bits: usize,
    /// Z_0 (0 for the Mandelbrot set) to the last iterate: the one that escaped, or the one at
    /// the iteration limit.
    pub orbit: Vec<DVec2>,
    /// The limit it was computed to (an escaped orbit is complete for any limit).
    pub limit: u32,
    pub escaped: bool,
    pub julia: Option<[f64; 2]>,
}

/// What one full-precision iteration visits.
struct Iteration {
    /// Iterations done when it stopped.
    count: u32,
    escaped: bool,
}

/// Iterates z -> z^2 + c from `z0` at `bits` precision until |z|^2 > `bailout2` or `limit`
/// iterations, handing each iterate (from z0) to `visit`. Stops early (not escaped) when
/// `cancel` is set.
fn iterate(
    z0: [BigFloat; 2],
    c: &[BigFloat; 2],
    bits: usize,
    limit: u32,
    bailout2: f64,
    cancel: Option<&AtomicBool>,
    mut visit: impl FnMut(DVec2),
) -> Iteration {
    let [mut x, mut y] = z0;
    visit(DVec2::new(precise::to_f64(&x), precise::to_f64(&y)));
    for n in 0..limit {
        if n % 4096 == 0 && cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Iteration {
                count: n,
                escaped: false,
            };
        }
        // (x + iy)^2 = (x + y)(x - y) + 2xy i: two multiplications.
        let re = precise::mul(
            &precise::add(&x, &y, bits),
            &precise::sub(&x, &y, bits),
            bits,
        );
        let mut im = precise::mul(&x, &y, bits);
        if let Some(e) = im.exponent() {
            im.set_exponent(e + 1);
        }
        x = precise::add(&re, &c[0], bits);
        y = precise::add(&im, &c[1], bits);
        let z = DVec2::new(precise::to_f64(&x), precise::to_f64(&y));
        visit(z);
        if z.length_squared() > bailout2 {
            return Iteration {
                count: n + 1,
                escaped: true,
            };
        }
    }
    Iteration {
        count: limit,
        escaped: false,
    }
}

fn zero(bits: usize) -> BigFloat {
    precise::from_f64(0.0, bits)
}

impl ReferenceOrbit {
    /// The orbit of `point` (c, or z0 of the Julia set of `julia`) for up to `limit` iterations.
    /// `bailout` should be at least the pixels' escape radius.
    pub fn compute(
        point: [BigFloat; 2],
        bits: usize,
        limit: u32,
        bailout: f64,
        julia: Option<[f64; 2]>,
        cancel: Option<&AtomicBool>,
    ) -> Self {
        let mut orbit = Vec::with_capacity(limit.min(1 << 20) as usize + 1);
        let (z0, c) = match julia {
            Some(j) => (
                point.clone(),
                [precise::from_f64(j[0], bits), precise::from_f64(j[1], bits)],
            ),
            None => ([zero(bits), zero(bits)], point.clone()),
        };
        let run = iterate(z0, &c, bits, limit, bailout * bailout, cancel, |z| {
            orbit.push(z)
        });
        ReferenceOrbit {
            point,
            bits,
            orbit,
            limit,
            escaped: run.escaped,
            julia,
        }
    }

    /// The index of the last iterate.
    pub fn len(&self) -> usize {
        self.orbit.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.orbit.len() <= 1
    }

    /// Whether it serves pixels iterated up to `limit` times.
    pub fn covers(&self, limit: u32) -> bool {
        self.escaped || self.limit >= limit
    }
}

/// Iterations before the point escapes past `bailout`, by direct full-precision iteration
/// (None: still bounded after `limit`). The truth that perturbation is tested against.
pub fn escape_count(
    point: &[BigFloat; 2],
    bits: usize,
    limit: u32,
    bailout: f64,
    julia: Option<[f64; 2]>,
) -> Option<u32> {
    let (z0, c) = match julia {
        Some(j) => (
            point.clone(),
            [precise::from_f64(j[0], bits), precise::from_f64(j[1], bits)],
        ),
        None => ([zero(bits), zero(bits)], point.clone()),
    };
    let run = iterate(z0, &c, bits, limit, bailout * bailout, None, |_| {});
    run.escaped.then_some(run.count)
}

/// The nucleus of period `period` that Newton's method reaches from the real `start` (real
/// nuclei: the centres of the minibrots on the real axis), at `bits` precision. None when it
/// does not converge.
pub fn real_nucleus(start: &BigFloat, period: u32, bits: usize) -> Option<BigFloat> {
    let mut c = start.clone();
    let one = precise::from_f64(1.0, bits);
    for _ in 0..200 {
        let (mut z, mut d) = (zero(bits), zero(bits));
        for _ in 0..period {
            // d/dc (z^2 + c) = 2 z d + 1.
            let two_z = precise::mul_f64(&z, 2.0, bits);
            d = precise::add(&precise::mul(&two_z, &d, bits), &one, bits);
            z = precise::add(&precise::mul(&z, &z, bits), &c, bits);
        }
        let step = precise::div(&z, &d, bits);
        c = precise::sub(&c, &step, bits);
        let (s, cf) = (precise::to_floatexp(&step), precise::to_floatexp(&c));
        if step.is_zero() || s.abs().log2() < cf.abs().log2() - bits as f64 + 8.0 {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orbit_matches_f64_iteration_where_f64_suffices() {
        let c = [
            precise::parse("-0.743643887", 128).unwrap(),
            precise::parse("0.131825904", 128).unwrap(),
        ];
        let r = ReferenceOrbit::compute(c, 128, 50, 256.0, None, None);
        assert_eq!(r.orbit.len(), 51);
        let cf = DVec2::new(-0.743643887, 0.131825904);
        let mut z = DVec2::ZERO;
        for (n, zr) in r.orbit.iter().enumerate().take(30) {
            assert!((z - *zr).length() < 1e-12, "iteration {n}: {z} vs {zr}");
            z = DVec2::new(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + cf;
        }
        // c = 1 escapes past 256 at the 5th iteration (1, 2, 5, 26, 677).
        let one = [precise::from_f64(1.0, 128), zero(128)];
        assert_eq!(escape_count(&one, 128, 100, 256.0, None), Some(5));
        let r = ReferenceOrbit::compute(one, 128, 100, 256.0, None, None);
        assert!(r.escaped && r.len() == 5 && r.covers(1_000_000));
    }
}
