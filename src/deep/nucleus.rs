//! Minibrots anywhere in the plane: Newton's method for the nucleus of period p (the c whose
//! orbit returns to 0 after p steps) from a nearby point, at full precision, and the size
//! estimate that frames the minibrot around it (Heiland-Allen's: 1 / |b l^2|, l the orbit's
//! derivative product and b the sum of its reciprocals).

use astro_float_num::BigFloat;

use super::floatexp::{FloatExp, frexp, ldexp};
use super::precise;

fn zero(bits: usize) -> BigFloat {
    precise::from_f64(0.0, bits)
}

/// The nucleus of period `period` that Newton's method reaches from `near` (re, im), at `bits`
/// precision; None when it does not converge in 100 steps.
pub fn find(near: &[BigFloat; 2], period: u32, bits: usize) -> Option<[BigFloat; 2]> {
    find_in(near, period, bits, 100)
}

/// [`find`] with at most `steps` Newton steps.
pub fn find_in(
    near: &[BigFloat; 2],
    period: u32,
    bits: usize,
    steps: u32,
) -> Option<[BigFloat; 2]> {
    if period == 0 {
        return None;
    }
    let one = precise::from_f64(1.0, bits);
    let [mut cr, mut ci] = near.clone();
    for _ in 0..steps {
        let (mut zr, mut zi) = (zero(bits), zero(bits));
        let (mut dr, mut di) = (zero(bits), zero(bits));
        for _ in 0..period {
            // d/dc (z^2 + c) = 2 z d + 1, with the z before the step.
            let ndr = precise::sub(
                &precise::mul(&zr, &dr, bits),
                &precise::mul(&zi, &di, bits),
                bits,
            );
            let ndi = precise::add(
                &precise::mul(&zr, &di, bits),
                &precise::mul(&zi, &dr, bits),
                bits,
            );
            dr = precise::add(&precise::mul_f64(&ndr, 2.0, bits), &one, bits);
            di = precise::mul_f64(&ndi, 2.0, bits);
            let nzr = precise::add(
                &precise::sub(
                    &precise::mul(&zr, &zr, bits),
                    &precise::mul(&zi, &zi, bits),
                    bits,
                ),
                &cr,
                bits,
            );
            zi = precise::add(
                &precise::mul_f64(&precise::mul(&zr, &zi, bits), 2.0, bits),
                &ci,
                bits,
            );
            zr = nzr;
        }
        // step = z / d = z conj(d) / |d|^2.
        let norm = precise::add(
            &precise::mul(&dr, &dr, bits),
            &precise::mul(&di, &di, bits),
            bits,
        );
        if norm.is_zero() {
            return None;
        }
        let sr = precise::div(
            &precise::add(
                &precise::mul(&zr, &dr, bits),
                &precise::mul(&zi, &di, bits),
                bits,
            ),
            &norm,
            bits,
        );
        let si = precise::div(
            &precise::sub(
                &precise::mul(&zi, &dr, bits),
                &precise::mul(&zr, &di, bits),
                bits,
            ),
            &norm,
            bits,
        );
        cr = precise::sub(&cr, &sr, bits);
        ci = precise::sub(&ci, &si, bits);
        let step = precise::to_floatexp(&sr)
            .abs()
            .max(precise::to_floatexp(&si).abs());
        let scale = precise::to_floatexp(&cr)
            .abs()
            .max(precise::to_floatexp(&ci).abs())
            .max(FloatExp::ONE);
        if !step.mantissa.is_finite() || !scale.mantissa.is_finite() {
            return None;
        }
        if step.is_zero() || step.log2() < scale.log2() - bits as f64 + 8.0 {
            return Some([cr, ci]);
        }
    }
    None
}

/// The lowest period of a minibrot within `radius` of `center` (up to `max_period`): the
/// first n where the disc of the c that far from `center`, carried through n iterations, holds
/// 0 (the ball method: the disc's z_n lies within r_n of the centre's, r_{n+1} =
/// 2 |z_n| r_n + r_n^2 + radius). Newton's method for that period from `center` then finds
/// the minibrot. None when the disc escapes first or no period up to `max_period` fits.
pub fn ball_period(
    center: &[BigFloat; 2],
    radius: FloatExp,
    max_period: u32,
    bits: usize,
) -> Option<u32> {
    let (mut zr, mut zi) = (zero(bits), zero(bits));
    let mut r = FloatExp::ZERO;
    let four = FloatExp::from_f64(4.0);
    for n in 1..=max_period {
        let z = Scaled::from_parts(precise::to_floatexp(&zr), precise::to_floatexp(&zi));
        let az = FloatExp::new(z.re.hypot(z.im), z.exp);
        r = az.scale(2.0) * r + r * r + radius;
        let nzr = precise::add(
            &precise::sub(
                &precise::mul(&zr, &zr, bits),
                &precise::mul(&zi, &zi, bits),
                bits,
            ),
            &center[0],
            bits,
        );
        zi = precise::add(
            &precise::mul_f64(&precise::mul(&zr, &zi, bits), 2.0, bits),
            &center[1],
            bits,
        );
        zr = nzr;
        let z = Scaled::from_parts(precise::to_floatexp(&zr), precise::to_floatexp(&zi));
        let az = FloatExp::new(z.re.hypot(z.im), z.exp);
        if az.total_cmp(r).is_lt() {
            return Some(n);
        }
        if (az - r).total_cmp(four).is_gt() || !r.mantissa.is_finite() {
            return None;
        }
    }
    None
}

/// A complex number as mantissas and one shared power of two (the derivative products of
/// deep minibrots leave f64's range).
#[derive(Debug, Clone, Copy)]
struct Scaled {
    re: f64,
    im: f64,
    exp: i64,
}

impl Scaled {
    fn new(re: f64, im: f64, exp: i64) -> Self {
        let (_, shift) = frexp(re.abs().max(im.abs()));
        Scaled {
            re: ldexp(re, -shift),
            im: ldexp(im, -shift),
            exp: exp + shift,
        }
    }

    fn from_parts(re: FloatExp, im: FloatExp) -> Self {
        let exp = re.exp.max(im.exp);
        Scaled::new(
            ldexp(re.mantissa, re.exp - exp),
            ldexp(im.mantissa, im.exp - exp),
            exp,
        )
    }

    fn mul(self, o: Scaled) -> Scaled {
        Scaled::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
            self.exp + o.exp,
        )
    }

    /// 1 / self, as an f64 pair (0 where it is below f64's range).
    fn recip_f64(self) -> (f64, f64) {
        let n = self.re * self.re + self.im * self.im;
        (
            ldexp(self.re / n, -self.exp),
            ldexp(-self.im / n, -self.exp),
        )
    }

    fn ln_abs(self) -> f64 {
        self.re.hypot(self.im).ln() + self.exp as f64 * std::f64::consts::LN_2
    }
}

/// The size estimate of the minibrot whose nucleus is `c` (period `period`): about the
/// distance from the nucleus to its cusp, so a view 4-10 times as tall frames it.
pub fn size(c: &[BigFloat; 2], period: u32, bits: usize) -> FloatExp {
    let (mut zr, mut zi) = (zero(bits), zero(bits));
    let mut l = Scaled::new(1.0, 0.0, 0);
    let mut b = (1.0f64, 0.0f64);
    for _ in 1..period {
        let nzr = precise::add(
            &precise::sub(
                &precise::mul(&zr, &zr, bits),
                &precise::mul(&zi, &zi, bits),
                bits,
            ),
            &c[0],
            bits,
        );
        zi = precise::add(
            &precise::mul_f64(&precise::mul(&zr, &zi, bits), 2.0, bits),
            &c[1],
            bits,
        );
        zr = nzr;
        let z = Scaled::from_parts(precise::to_floatexp(&zr), precise::to_floatexp(&zi));
        l = l.mul(Scaled::new(2.0 * z.re, 2.0 * z.im, z.exp));
        let r = l.recip_f64();
        b = (b.0 + r.0, b.1 + r.1);
    }
    // |1 / (b l^2)|.
    let ln = -(b.0.hypot(b.1).ln() + 2.0 * l.ln_abs());
    FloatExp::from_ln(ln)
}

/// A minibrot found and framed.
#[derive(Debug, Clone)]
pub struct Minibrot {
    pub period: u32,
    /// Centred on the nucleus (with every digit the depth needs), `frame` sizes tall.
    pub view: crate::plane::PlaneView,
    pub size: FloatExp,
    /// An iteration limit that shows it (its interior runs to the limit).
    pub iterations: u32,
}

/// The period-`period` minibrot Newton's method reaches from `near` (decimal text, any
/// precision), framed in a view `frame` times its size estimate tall. The precision grows
/// until it resolves the minibrot. None when Newton's method does not converge.
pub fn find_minibrot(near: [&str; 2], period: u32, frame: f64) -> Option<Minibrot> {
    let digits = near[0].len().max(near[1].len());
    let mut bits = ((digits as f64 * 3.33) as usize + 128).div_ceil(64) * 64;
    let mut start = [
        precise::parse(near[0], bits)?,
        precise::parse(near[1], bits)?,
    ];
    for _ in 0..12 {
        let c = find(&start, period, bits)?;
        let s = size(&c, period, bits);
        let needed = precise::precision_for(s.scale(1.0 / 4096.0)) + 64;
        if needed <= bits {
            let mut view = crate::plane::PlaneView {
                zoom: s.scale(frame),
                ..Default::default()
            };
            view.set_precise_center(&c);
            return Some(Minibrot {
                period,
                view,
                size: s,
                iterations: period.saturating_mul(50).max(1000),
            });
        }
        bits = needed;
        start = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(re: &str, im: &str) -> [BigFloat; 2] {
        [
            precise::parse(re, 256).unwrap(),
            precise::parse(im, 256).unwrap(),
        ]
    }

    fn f64s(c: &[BigFloat; 2]) -> (f64, f64) {
        (precise::to_f64(&c[0]), precise::to_f64(&c[1]))
    }

    #[test]
    fn newton_finds_known_nuclei() {
        // The period-3 minibrot on the real axis and the rabbit's centre.
        let (re, im) = f64s(&find(&point("-1.76", "0"), 3, 256).unwrap());
        assert!(
            (re + 1.754_877_666_246_693).abs() < 1e-14 && im == 0.0,
            "{re} {im}"
        );
        let rabbit = find(&point("-0.1", "0.7"), 3, 256).unwrap();
        let (re, im) = f64s(&rabbit);
        assert!((re + 0.122_561_166_876_653_6).abs() < 1e-14, "{re}");
        assert!((im - 0.744_861_766_619_744_2).abs() < 1e-14, "{im}");
        // A nucleus returns to 0 after its period, at full precision.
        let c = find(&point("-0.1565", "1.0322"), 4, 256).unwrap();
        let (mut zr, mut zi) = (zero(256), zero(256));
        for _ in 0..4 {
            let nzr = precise::add(
                &precise::sub(
                    &precise::mul(&zr, &zr, 256),
                    &precise::mul(&zi, &zi, 256),
                    256,
                ),
                &c[0],
                256,
            );
            zi = precise::add(
                &precise::mul_f64(&precise::mul(&zr, &zi, 256), 2.0, 256),
                &c[1],
                256,
            );
            zr = nzr;
        }
        let residue = precise::to_floatexp(&zr)
            .abs()
            .max(precise::to_floatexp(&zi).abs());
        assert!(residue.log2() < -200.0, "{residue:?}");
    }

    #[test]
    fn sizes_match_the_components_they_estimate() {
        // The main cardioid is the unit, the period-2 disc (radius 1/4) half of it.
        let one = size(&point("0", "0"), 1, 128);
        assert!((one.to_f64() - 1.0).abs() < 1e-12);
        let two = size(&point("-1", "0"), 2, 128);
        assert!((two.to_f64() - 0.5).abs() < 1e-12);
        // Minibrots near -2 of period p are about 16^-p wide: each period shrinks them ~16x.
        let sizes: Vec<f64> = [6u32, 7, 8]
            .iter()
            .map(|&p| {
                let start =
                    precise::parse(&format!("{}", -2.0 + 1.1 * 4f64.powi(-(p as i32))), 256)
                        .unwrap();
                let c = find(&[start, zero(256)], p, 256).expect("converges");
                size(&c, p, 256).to_f64()
            })
            .collect();
        for w in sizes.windows(2) {
            let ratio = w[0] / w[1];
            assert!((10.0..25.0).contains(&ratio), "{sizes:?}");
        }
    }
}

#[cfg(test)]
mod ball_tests {
    use super::*;

    fn point(re: &str, im: &str) -> [BigFloat; 2] {
        [
            precise::parse(re, 256).unwrap(),
            precise::parse(im, 256).unwrap(),
        ]
    }

    #[test]
    fn the_ball_method_finds_the_period_newton_needs() {
        // The period-3 minibrot lies 0.005 from -1.76; nothing of a lower period within 0.01.
        let near = point("-1.76", "0");
        assert_eq!(
            ball_period(&near, FloatExp::from_f64(0.01), 100, 256),
            Some(3)
        );
        // Outside the set the disc escapes.
        let outside = point("1", "1");
        assert_eq!(
            ball_period(&outside, FloatExp::from_f64(0.01), 100, 256),
            None
        );
        // Beside -2, a quarter of 4^-p across: Newton's method for the period found lands on a
        // nucleus inside the disc (mpmath agrees: period p + 2, 0.70 radii away).
        for p in [10i32, 30] {
            let radius = FloatExp::new(1.0, -2 * (p as i64 + 1));
            let start = [
                precise::add(
                    &precise::from_f64(-2.0, 256),
                    &precise::from_floatexp(FloatExp::new(1.1, -2 * p as i64), 256),
                    256,
                ),
                zero(256),
            ];
            let period = ball_period(&start, radius, 1000, 256).expect("a period");
            assert_eq!(period, p as u32 + 2);
            let c = find(&start, period, 256).expect("converges");
            let gap = precise::to_floatexp(&precise::sub(&c[0], &start[0], 256)).abs();
            let ratio = (gap / radius).to_f64();
            assert!((0.6..0.8).contains(&ratio), "{ratio}");
        }
    }
}

#[cfg(test)]
mod framing_tests {
    use super::*;

    #[test]
    fn a_deep_minibrot_is_found_and_framed_at_full_precision() {
        // Period 60 near -2: about 16^-60 (1e-72) wide, far below f64.
        let start = precise::to_decimal(&precise::add(
            &precise::from_f64(-2.0, 512),
            &precise::from_floatexp(FloatExp::new(1.1, -120), 512),
            512,
        ));
        let m = find_minibrot([&start, "0"], 60, 8.0).expect("converges");
        let height = m.view.zoom.log2();
        assert!((-260.0..-220.0).contains(&height), "{:?}", m.view.zoom);
        // The centre carries the digits the depth needs.
        assert!(
            m.view.center_text[0].len() > 70,
            "{}",
            m.view.center_text[0]
        );
        assert!(m.iterations >= 3000);
        // Not a root of a lower period: the real nucleus from the same start agrees.
        let bits = precise::precision_for(m.size.scale(1.0 / 4096.0)) + 64;
        let real =
            super::super::reference::real_nucleus(&precise::parse(&start, bits).unwrap(), 60, bits)
                .unwrap();
        let center = precise::parse(&m.view.center_text[0], bits).unwrap();
        let gap = precise::to_floatexp(&precise::sub(&center, &real, bits)).abs();
        assert!(gap.log2() < m.size.log2() - 20.0, "{gap:?} vs {:?}", m.size);
    }
}
