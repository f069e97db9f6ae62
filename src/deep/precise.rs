//! Arbitrary-precision reals for deep zooms, on astro-float-num: pure Rust (one binary, no
//! system GMP/MPFR to build or ship), binary floating point with an explicit precision, and
//! fast enough here: a 1152-bit reference iteration takes under a microsecond.

use std::cell::RefCell;

use astro_float_num::{BigFloat, Consts, Radix, RoundingMode, Sign};

use super::floatexp::FloatExp;

pub const ROUNDING: RoundingMode = RoundingMode::ToEven;

/// Bits that place pixels `pixel` wide exactly, with guard bits for the reference orbit's
/// rounding; a multiple of 64 (the word size), at least 128.
pub fn precision_for(pixel: FloatExp) -> usize {
    let needed = (-pixel.log2()).max(0.0).ceil() as usize + 64;
    needed.div_ceil(64).max(2) * 64
}

thread_local! {
    // astro-float's caches of constants (e, pi, ln 2, ln 10, powers of ten) that decimal
    // conversion uses: a fresh set for each conversion computed them all again each time, which
    // was nearly all the time `path check` took for a deep zoom (thousands of centres sampled).
    static CONSTS: RefCell<Option<Consts>> = RefCell::new(Consts::new().ok());
}

/// Runs `f` with this thread's constant caches (None where they could not be allocated).
fn with_consts<T>(f: impl FnOnce(&mut Consts) -> Option<T>) -> Option<T> {
    CONSTS.with(|c| c.borrow_mut().as_mut().and_then(f))
}

/// Parses decimal text ("-1.25", "3E-211") to `bits` of precision.
pub fn parse(text: &str, bits: usize) -> Option<BigFloat> {
    let text = text.trim();
    // astro-float accepts some forms we do not (and the reverse); check the shape first.
    let shape_ok = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
        && text.chars().any(|c| c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let v = with_consts(|cc| Some(BigFloat::parse(text, Radix::Dec, bits, ROUNDING, cc)))?;
    (!v.is_nan() && !v.is_inf()).then_some(v)
}

pub fn from_f64(v: f64, bits: usize) -> BigFloat {
    BigFloat::from_f64(v, bits)
}

pub fn from_floatexp(v: FloatExp, bits: usize) -> BigFloat {
    if v.is_zero() {
        return BigFloat::from_f64(0.0, bits);
    }
    let mut b = BigFloat::from_f64(v.mantissa, bits);
    if let Some(e) = b.exponent() {
        b.set_exponent((e as i64 + v.exp).clamp(i32::MIN as i64 / 4, i32::MAX as i64 / 4) as i32);
    }
    b
}

/// The value with its top 64 bits of mantissa and its whole exponent.
pub fn to_floatexp(v: &BigFloat) -> FloatExp {
    match v.as_raw_parts() {
        Some((words, _, sign, exp, _)) if !v.is_zero() => {
            // Words are least significant first; the value is 0.(words) * 2^exp.
            let top = words.last().copied().unwrap_or(0);
            let next = if words.len() > 1 {
                words[words.len() - 2]
            } else {
                0
            };
            let m = (top as f64 + next as f64 / 18446744073709551616.0) / 18446744073709551616.0;
            let m = if sign == Sign::Neg { -m } else { m };
            FloatExp::new(m, exp as i64)
        }
        _ => FloatExp::ZERO,
    }
}

pub fn to_f64(v: &BigFloat) -> f64 {
    to_floatexp(v).to_f64()
}

pub fn add(a: &BigFloat, b: &BigFloat, bits: usize) -> BigFloat {
    a.add(b, bits, ROUNDING)
}

pub fn sub(a: &BigFloat, b: &BigFloat, bits: usize) -> BigFloat {
    a.sub(b, bits, ROUNDING)
}

pub fn mul(a: &BigFloat, b: &BigFloat, bits: usize) -> BigFloat {
    a.mul(b, bits, ROUNDING)
}

pub fn div(a: &BigFloat, b: &BigFloat, bits: usize) -> BigFloat {
    a.div(b, bits, ROUNDING)
}

/// `a * f` for an f64 `f`.
pub fn mul_f64(a: &BigFloat, f: f64, bits: usize) -> BigFloat {
    a.mul(&BigFloat::from_f64(f, 64), bits, ROUNDING)
}

/// Decimal text with every digit the precision holds (the form path and scene files use).
pub fn to_decimal(v: &BigFloat) -> String {
    if v.is_zero() {
        return "0".into();
    }
    with_consts(|cc| v.format(Radix::Dec, ROUNDING, cc).ok())
        .unwrap_or_else(|| format!("{:e}", to_f64(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_converts() {
        let v = parse("-1.5", 128).unwrap();
        assert_eq!(to_f64(&v), -1.5);
        let deep = parse("1.37178052E-211", 256).unwrap();
        assert!((to_f64(&deep) / 1.37178052e-211 - 1.0).abs() < 1e-15);
        let tiny = parse("2.5e-400", 1600).unwrap();
        let f = to_floatexp(&tiny);
        assert!((f.log2() - 2.5f64.log2() + 400.0 * 10f64.log2()).abs() < 1e-9);
        assert_eq!(to_floatexp(&from_floatexp(f, 128)), f);
        for bad in ["", "abc", "1.2.3x", "nan", "inf", "-"] {
            assert!(parse(bad, 128).is_none(), "{bad}");
        }
        // Digits beyond f64 survive: (1 + 1e-40) - 1 = 1e-40.
        let one = parse("1", 256).unwrap();
        let near = parse("1.0000000000000000000000000000000000000001", 256).unwrap();
        let d = to_f64(&sub(&near, &one, 256));
        assert!((d / 1e-40 - 1.0).abs() < 1e-12, "{d}");
        let text = to_decimal(&near);
        assert!(parse(&text, 256).is_some_and(|b| to_f64(&sub(&b, &one, 256)) > 0.0));
    }

    #[test]
    fn precision_grows_with_depth() {
        assert_eq!(precision_for(FloatExp::from_f64(1e-3)), 128);
        let deep = precision_for(FloatExp::parse("1e-300").unwrap());
        assert!((1060..1200).contains(&deep), "{deep}");
    }
}
