//! Numbers with an f64 mantissa and a 64-bit binary exponent: the range of deep zooms (view
//! heights like 1e-1000 and BLA coefficients like 1e+5000) with double-precision digits. The GPU
//! twin is the (f32 mantissa, i32 exponent) pairs of shaders/fractals/mandelbrot-deep.wgsl.

use std::cmp::Ordering;

/// `mantissa * 2^exp`, with 0.5 <= |mantissa| < 1, or mantissa 0 (then exp is 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatExp {
    pub mantissa: f64,
    pub exp: i64,
}

/// Splits a finite `x` into a mantissa in [0.5, 1) and a power of two.
pub fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    if biased == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(x * 2f64.powi(64));
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, biased - 1022)
}

/// `m * 2^e`, saturating to 0 or infinity outside f64's range.
pub fn ldexp(m: f64, e: i64) -> f64 {
    if m == 0.0 {
        return m;
    }
    let e = e.clamp(-2200, 2200) as i32;
    // Two steps, so neither factor leaves the normal range.
    let half = e / 2;
    m * 2f64.powi(half) * 2f64.powi(e - half)
}

impl FloatExp {
    pub const ZERO: FloatExp = FloatExp {
        mantissa: 0.0,
        exp: 0,
    };
    pub const ONE: FloatExp = FloatExp {
        mantissa: 0.5,
        exp: 1,
    };

    /// `m * 2^e`, normalised.
    pub fn new(m: f64, e: i64) -> Self {
        let (mantissa, shift) = frexp(m);
        if mantissa == 0.0 {
            return FloatExp::ZERO;
        }
        FloatExp {
            mantissa,
            exp: e.saturating_add(shift),
        }
    }

    pub fn from_f64(v: f64) -> Self {
        FloatExp::new(v, 0)
    }

    /// The nearest f64 (0 or infinity when out of range).
    pub fn to_f64(self) -> f64 {
        ldexp(self.mantissa, self.exp)
    }

    pub fn is_zero(self) -> bool {
        self.mantissa == 0.0
    }

    pub fn abs(self) -> Self {
        FloatExp {
            mantissa: self.mantissa.abs(),
            ..self
        }
    }

    /// Natural logarithm (of a positive number).
    pub fn ln(self) -> f64 {
        self.mantissa.ln() + self.exp as f64 * std::f64::consts::LN_2
    }

    pub fn log2(self) -> f64 {
        self.mantissa.log2() + self.exp as f64
    }

    /// e^`l`, for any finite `l`.
    pub fn from_ln(l: f64) -> Self {
        let l2 = l / std::f64::consts::LN_2;
        let whole = l2.floor();
        FloatExp::new((l2 - whole).exp2(), whole as i64)
    }

    pub fn scale(self, f: f64) -> Self {
        FloatExp::new(self.mantissa * f, self.exp)
    }

    pub fn max(self, o: Self) -> Self {
        if self.total_cmp(o) == Ordering::Less {
            o
        } else {
            self
        }
    }

    pub fn min(self, o: Self) -> Self {
        if self.total_cmp(o) == Ordering::Greater {
            o
        } else {
            self
        }
    }

    pub fn total_cmp(self, o: Self) -> Ordering {
        (self - o).mantissa.total_cmp(&0.0)
    }

    /// Parses a decimal number of any size ("1e-1000", "2.5E+40", "0.001").
    pub fn parse(text: &str) -> Option<Self> {
        let v = super::precise::parse(text, 96)?;
        Some(super::precise::to_floatexp(&v))
    }

    /// Decimal text with `digits` significant digits, in exponent form ("1.265e-321").
    pub fn to_decimal(self, digits: usize) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let l10 = self.abs().log2() * std::f64::consts::LOG10_2;
        let mut e10 = l10.floor();
        let mut m = 10f64.powf(l10 - e10);
        // Rounding to `digits` may carry into the next decade.
        let unit = 10f64.powi(digits.saturating_sub(1) as i32);
        if (m * unit).round() >= 10.0 * unit {
            m /= 10.0;
            e10 += 1.0;
        }
        let sign = if self.mantissa < 0.0 { "-" } else { "" };
        format!("{sign}{:.*}e{}", digits.saturating_sub(1), m, e10 as i64)
    }
}

/// `{:e}`: f64's shortest form where f64 holds the value, else 17 significant digits.
impl std::fmt::LowerExp for FloatExp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.to_f64();
        if v == 0.0 && !self.is_zero() || v.is_infinite() || v.abs() < f64::MIN_POSITIVE && v != 0.0
        {
            f.write_str(&self.to_decimal(f.precision().map_or(17, |p| p + 1)))
        } else {
            std::fmt::LowerExp::fmt(&v, f)
        }
    }
}

/// A complex number with one shared exponent: `(re + i im) * 2^exp`, with
/// max(|re|, |im|) in [0.5, 1) or both 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComplexExp {
    pub re: f64,
    pub im: f64,
    pub exp: i64,
}

impl ComplexExp {
    pub const ZERO: ComplexExp = ComplexExp {
        re: 0.0,
        im: 0.0,
        exp: 0,
    };

    pub fn new(re: f64, im: f64, e: i64) -> Self {
        let (m, shift) = frexp(re.abs().max(im.abs()));
        if m == 0.0 {
            return ComplexExp::ZERO;
        }
        // Scaling by an exact power of two keeps every digit.
        let f = ldexp(1.0, -shift);
        ComplexExp {
            re: re * f,
            im: im * f,
            exp: e.saturating_add(shift),
        }
    }

    pub fn from_f64(re: f64, im: f64) -> Self {
        ComplexExp::new(re, im, 0)
    }

    pub fn norm(self) -> FloatExp {
        FloatExp::new(self.re.hypot(self.im), self.exp)
    }
}

impl std::ops::Mul for FloatExp {
    type Output = FloatExp;

    fn mul(self, o: Self) -> Self {
        FloatExp::new(self.mantissa * o.mantissa, self.exp + o.exp)
    }
}

impl std::ops::Div for FloatExp {
    type Output = FloatExp;

    fn div(self, o: Self) -> Self {
        FloatExp::new(self.mantissa / o.mantissa, self.exp - o.exp)
    }
}

impl std::ops::Add for FloatExp {
    type Output = FloatExp;

    fn add(self, o: Self) -> Self {
        if self.is_zero() {
            return o;
        }
        if o.is_zero() {
            return self;
        }
        let e = self.exp.max(o.exp);
        FloatExp::new(
            ldexp(self.mantissa, self.exp - e) + ldexp(o.mantissa, o.exp - e),
            e,
        )
    }
}

impl std::ops::Sub for FloatExp {
    type Output = FloatExp;

    fn sub(self, o: Self) -> Self {
        self + FloatExp {
            mantissa: -o.mantissa,
            ..o
        }
    }
}

impl std::ops::Mul for ComplexExp {
    type Output = ComplexExp;

    fn mul(self, o: Self) -> Self {
        ComplexExp::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
            self.exp + o.exp,
        )
    }
}

impl std::ops::Add for ComplexExp {
    type Output = ComplexExp;

    fn add(self, o: Self) -> Self {
        if self.re == 0.0 && self.im == 0.0 {
            return o;
        }
        if o.re == 0.0 && o.im == 0.0 {
            return self;
        }
        let e = self.exp.max(o.exp);
        let (a, b) = (self.exp - e, o.exp - e);
        ComplexExp::new(
            ldexp(self.re, a) + ldexp(o.re, b),
            ldexp(self.im, a) + ldexp(o.im, b),
            e,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_arithmetic() {
        for v in [1.0, -3.5, 1e-310, 6.02e23, -2.0f64.powi(-1070)] {
            let f = FloatExp::from_f64(v);
            assert!((0.5..1.0).contains(&f.mantissa.abs()), "{f:?}");
            assert_eq!(f.to_f64(), v);
        }
        let tiny = FloatExp::parse("1e-1000").unwrap();
        assert!((tiny.log2() - (-1000.0 * 10f64.log2())).abs() < 1e-9);
        assert_eq!(tiny.to_f64(), 0.0);
        let back = tiny * FloatExp::parse("1e+1000").unwrap();
        assert!((back.to_f64() - 1.0).abs() < 1e-12);
        assert!((FloatExp::from_ln(tiny.ln()).log2() - tiny.log2()).abs() < 1e-9);
        assert_eq!(tiny.to_decimal(4), "1.000e-1000");
        assert_eq!(FloatExp::from_f64(-9.9996).to_decimal(4), "-1.000e1");
        let sum = FloatExp::from_f64(1.5) + FloatExp::from_f64(-0.25);
        assert_eq!(sum.to_f64(), 1.25);
        assert_eq!(tiny.max(FloatExp::ZERO), tiny);
        assert_eq!(tiny.min(FloatExp::ZERO), FloatExp::ZERO);
    }

    #[test]
    fn complex_products_keep_their_range() {
        let a = ComplexExp::from_f64(1e-200, 2e-200);
        let p = a * a * a;
        // (1 + 2i)^3 = -11 - 2i, times 1e-600: far below f64.
        let norm = p.norm();
        let expect = 1.5 * 5f64.log2() - 600.0 * 10f64.log2();
        assert!((norm.log2() - expect).abs() < 1e-9, "{norm:?}");
        let len = p.re.hypot(p.im);
        assert!((p.re / len + 11.0 / 125f64.sqrt()).abs() < 1e-12);
        assert!((p.im / len + 2.0 / 125f64.sqrt()).abs() < 1e-12);
        let s = a + ComplexExp::from_f64(1.0, 0.0);
        assert_eq!((s.re, s.exp), (0.5, 1));
    }
}
