//! Misiurewicz points: the c whose critical orbit (z_0 = 0, z_{n+1} = z_n^2 + c) is
//! preperiodic, landing after `preperiod` steps on a repelling cycle of `period`. The set
//! around one is asymptotically self-similar: the endless spirals of seahorse and elephant
//! valley, turning by the cycle's multiplier at each scale.
//!
//! Newton's method at full precision on the preperiodic condition z_{k+p} = z_k, with the
//! factors of the lower preperiods divided out (Heiland-Allen's reduced form)
//!
//! ```text
//! g(c) = (z_{k+p} - z_k) / prod_{i<k} (z_{i+p} - z_i)
//! ```
//!
//! so that it does not settle on a point of a lower preperiod. Counting starts at z_0 = 0:
//! c = -2 (0, -2, 2, 2, ...) is preperiod 2, period 1, and c = i (0, i, -1+i, -i, -1+i, ...) is
//! preperiod 2, period 2. Preperiod 1 never happens (z_1 = z_{1+p} forces z_p = 0: a nucleus).

use astro_float_num::BigFloat;

use super::floatexp::FloatExp;
use super::precise;

/// A complex number at full precision.
#[derive(Debug, Clone)]
struct Cx {
    re: BigFloat,
    im: BigFloat,
}

impl Cx {
    fn zero(bits: usize) -> Cx {
        Cx {
            re: precise::from_f64(0.0, bits),
            im: precise::from_f64(0.0, bits),
        }
    }

    fn add(&self, o: &Cx, bits: usize) -> Cx {
        Cx {
            re: precise::add(&self.re, &o.re, bits),
            im: precise::add(&self.im, &o.im, bits),
        }
    }

    fn sub(&self, o: &Cx, bits: usize) -> Cx {
        Cx {
            re: precise::sub(&self.re, &o.re, bits),
            im: precise::sub(&self.im, &o.im, bits),
        }
    }

    fn mul(&self, o: &Cx, bits: usize) -> Cx {
        Cx {
            re: precise::sub(
                &precise::mul(&self.re, &o.re, bits),
                &precise::mul(&self.im, &o.im, bits),
                bits,
            ),
            im: precise::add(
                &precise::mul(&self.re, &o.im, bits),
                &precise::mul(&self.im, &o.re, bits),
                bits,
            ),
        }
    }

    fn scale(&self, f: f64, bits: usize) -> Cx {
        Cx {
            re: precise::mul_f64(&self.re, f, bits),
            im: precise::mul_f64(&self.im, f, bits),
        }
    }

    /// self / o; None when o is 0.
    fn div(&self, o: &Cx, bits: usize) -> Option<Cx> {
        let norm = precise::add(
            &precise::mul(&o.re, &o.re, bits),
            &precise::mul(&o.im, &o.im, bits),
            bits,
        );
        if norm.is_zero() {
            return None;
        }
        Some(Cx {
            re: precise::div(
                &precise::add(
                    &precise::mul(&self.re, &o.re, bits),
                    &precise::mul(&self.im, &o.im, bits),
                    bits,
                ),
                &norm,
                bits,
            ),
            im: precise::div(
                &precise::sub(
                    &precise::mul(&self.im, &o.re, bits),
                    &precise::mul(&self.re, &o.im, bits),
                    bits,
                ),
                &norm,
                bits,
            ),
        })
    }

    /// max(|re|, |im|), with its whole exponent.
    fn size(&self) -> FloatExp {
        precise::to_floatexp(&self.re)
            .abs()
            .max(precise::to_floatexp(&self.im).abs())
    }

    fn is_finite(&self) -> bool {
        let s = self.size();
        s.mantissa.is_finite()
    }
}

/// The critical orbit z_0..=z_n of c and its derivatives dz/dc, at full precision.
fn orbit(c: &Cx, n: u32, bits: usize) -> (Vec<Cx>, Vec<Cx>) {
    let mut z = vec![Cx::zero(bits)];
    let mut dz = vec![Cx::zero(bits)];
    let one = Cx {
        re: precise::from_f64(1.0, bits),
        im: precise::from_f64(0.0, bits),
    };
    for i in 0..n as usize {
        // d/dc (z^2 + c) = 2 z dz + 1, with the z before the step.
        let d = z[i].mul(&dz[i], bits).scale(2.0, bits).add(&one, bits);
        let next = z[i].mul(&z[i], bits).add(c, bits);
        dz.push(d);
        z.push(next);
    }
    (z, dz)
}

/// Why no Misiurewicz point came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Preperiod 0 or 1, or period 0: no Misiurewicz point has them (counting from z_0 = 0).
    BadOrder(String),
    /// The start is not a decimal number.
    BadStart(String),
    /// Newton's method wandered off or did not settle in its step budget.
    NoConvergence { steps: u32 },
    /// It settled on a point whose orbit repeats sooner than asked.
    Lower { preperiod: u32, period: u32 },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::BadOrder(m) | Failure::BadStart(m) => f.write_str(m),
            Failure::NoConvergence { steps } => write!(
                f,
                "Newton's method did not converge in {steps} steps; start nearer the point or \
                 try another preperiod and period"
            ),
            Failure::Lower { preperiod, period } => write!(
                f,
                "Newton's method converged to a point of preperiod {preperiod} and period \
                 {period} instead; start nearer the point asked for"
            ),
        }
    }
}

/// The most Newton steps one precision gets.
pub const STEPS: u32 = 200;

/// The Misiurewicz point of (`preperiod`, `period`) that Newton's method reaches from `near`,
/// at `bits` precision.
pub fn find(
    near: &[BigFloat; 2],
    preperiod: u32,
    period: u32,
    bits: usize,
) -> Result<[BigFloat; 2], Failure> {
    check_order(preperiod, period)?;
    let (k, p) = (preperiod as usize, period as usize);
    let mut c = Cx {
        re: near[0].clone(),
        im: near[1].clone(),
    };
    for _ in 0..STEPS {
        let (z, dz) = orbit(&c, preperiod + period, bits);
        let f = z[k + p].sub(&z[k], bits);
        if f.re.is_zero() && f.im.is_zero() {
            return Ok([c.re, c.im]);
        }
        let df = dz[k + p].sub(&dz[k], bits);
        // g'/g = f'/f - sum_{i<k} (dz_{i+p} - dz_i) / (z_{i+p} - z_i).
        let Some(mut ratio) = df.div(&f, bits) else {
            return Err(Failure::NoConvergence { steps: STEPS });
        };
        for i in 0..k {
            let num = dz[i + p].sub(&dz[i], bits);
            let den = z[i + p].sub(&z[i], bits);
            let Some(q) = num.div(&den, bits) else {
                // c sits on a point of a lower preperiod exactly.
                return Err(Failure::NoConvergence { steps: STEPS });
            };
            ratio = ratio.sub(&q, bits);
        }
        let one = Cx {
            re: precise::from_f64(1.0, bits),
            im: precise::from_f64(0.0, bits),
        };
        let Some(step) = one.div(&ratio, bits) else {
            return Err(Failure::NoConvergence { steps: STEPS });
        };
        c = c.sub(&step, bits);
        if !step.is_finite() || !c.is_finite() || c.size().log2() > 3.0 {
            // Outside |c| <= 2 there is nothing to find.
            return Err(Failure::NoConvergence { steps: STEPS });
        }
        let s = step.size();
        if s.is_zero() || s.log2() < -(bits as f64) + 8.0 {
            return Ok([c.re, c.im]);
        }
    }
    Err(Failure::NoConvergence { steps: STEPS })
}

fn check_order(preperiod: u32, period: u32) -> Result<(), Failure> {
    if period == 0 {
        return Err(Failure::BadOrder("period 0: a period is at least 1".into()));
    }
    if preperiod < 2 {
        return Err(Failure::BadOrder(format!(
            "preperiod {preperiod}: no Misiurewicz point has it (counting from z_0 = 0, \
             preperiod 0 is a minibrot's nucleus, preperiod 1 is impossible, and c = i has \
             preperiod 2, period 2)"
        )));
    }
    Ok(())
}

/// The preperiod and period the orbit of `c` shows at `bits` precision: the least k and the
/// least p with z_{k+p} = z_k to within 2^-(bits/2), searching up to `max` for each.
pub fn order(c: &[BigFloat; 2], max: u32, bits: usize) -> Option<(u32, u32)> {
    let c = Cx {
        re: c[0].clone(),
        im: c[1].clone(),
    };
    let (z, _) = orbit(&c, 2 * max, bits);
    let tolerance = -(bits as f64) / 2.0;
    let close = |a: usize, b: usize| {
        let d = z[a].sub(&z[b], bits).size();
        d.is_zero() || d.log2() < tolerance
    };
    for k in 0..=max as usize {
        for p in 1..=max as usize {
            if close(k + p, k) {
                return Some((k as u32, p as u32));
            }
        }
    }
    None
}

/// A Misiurewicz point found, with what frames and colours a dive into it.
#[derive(Debug, Clone)]
pub struct Misiurewicz {
    pub preperiod: u32,
    pub period: u32,
    /// Centred on the point (with every digit `zoom` needs), `zoom` tall.
    pub view: crate::plane::PlaneView,
    /// The cycle's multiplier prod 2 z_i over one period: |multiplier| is how much the
    /// spirals shrink, its argument how much they turn, every period iterations.
    pub multiplier: [f64; 2],
    /// An iteration limit that resolves the view (the orbits of pixels near the point follow
    /// the repelling cycle about log(1 / zoom) / log|multiplier| periods).
    pub iterations: u32,
}

/// The Misiurewicz point of (`preperiod`, `period`) Newton's method reaches from `near`
/// (decimal text), in a view `zoom` tall centred on it at the precision that depth needs.
pub fn find_point(
    near: [&str; 2],
    preperiod: u32,
    period: u32,
    zoom: FloatExp,
) -> Result<Misiurewicz, Failure> {
    check_order(preperiod, period)?;
    let digits = near[0].len().max(near[1].len());
    let bits = (precise::precision_for(zoom.scale(1.0 / 4096.0)) + 64)
        .max(((digits as f64 * 3.33) as usize + 128).div_ceil(64) * 64);
    let parse = |t: &str| {
        precise::parse(t, bits).ok_or_else(|| Failure::BadStart(format!("`{t}` is not a number")))
    };
    let start = [parse(near[0])?, parse(near[1])?];
    let c = find(&start, preperiod, period, bits)?;
    let (k, p) =
        order(&c, preperiod.max(period), bits).ok_or(Failure::NoConvergence { steps: STEPS })?;
    if (k, p) != (preperiod, period) {
        return Err(Failure::Lower {
            preperiod: k,
            period: p,
        });
    }
    let cx = Cx {
        re: c[0].clone(),
        im: c[1].clone(),
    };
    let (z, _) = orbit(&cx, preperiod + period, bits);
    let (mut mr, mut mi) = (1.0f64, 0.0f64);
    let mut log2 = 0.0;
    for zi in &z[preperiod as usize..(preperiod + period) as usize] {
        let (a, b) = (2.0 * precise::to_f64(&zi.re), 2.0 * precise::to_f64(&zi.im));
        (mr, mi) = (mr * a - mi * b, mr * b + mi * a);
        // Renormalise (long cycles overflow f64), keeping the scale apart.
        let n = mr.hypot(mi);
        if n > 0.0 {
            log2 += n.log2();
            mr /= n;
            mi /= n;
        }
    }
    let turns = (2.0 - zoom.log2()).max(1.0) / log2.max(1e-3);
    let iterations = (preperiod as f64 + 2.0 * turns * period as f64)
        .clamp(1000.0, 10_000_000.0)
        .round() as u32;
    let scale = 2f64.powf(log2.min(1000.0));
    let mut view = crate::plane::PlaneView {
        zoom,
        ..Default::default()
    };
    view.set_precise_center(&c);
    Ok(Misiurewicz {
        preperiod,
        period,
        view,
        multiplier: [mr * scale, mi * scale],
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(re: &str, im: &str, bits: usize) -> [BigFloat; 2] {
        [
            precise::parse(re, bits).unwrap(),
            precise::parse(im, bits).unwrap(),
        ]
    }

    #[test]
    fn newton_finds_known_points() {
        // c = i: 0, i, -1+i, -i, -1+i, ...
        let c = find(&point("0.05", "0.95", 256), 2, 2, 256).unwrap();
        let (re, im) = (precise::to_f64(&c[0]), precise::to_f64(&c[1]));
        assert!(re.abs() < 1e-60 && (im - 1.0).abs() < 1e-15, "{re} {im}");
        assert_eq!(order(&c, 4, 256), Some((2, 2)));
        // c = -2: 0, -2, 2, 2, ...
        let c = find(&point("-1.98", "0.01", 256), 2, 1, 256).unwrap();
        assert!((precise::to_f64(&c[0]) + 2.0).abs() < 1e-15);
        assert!(precise::to_f64(&c[1]).abs() < 1e-15);
        // The tip of the period-3 antenna: c^3 + 2c^2 + 2c + 2 = 0 (z_3 = -z_2, so z_4 = z_3),
        // the real root c = -1.5436890126920764 (by Cardano's formula).
        let c = find(&point("-1.54", "0", 256), 3, 1, 256).unwrap();
        let re = precise::to_f64(&c[0]);
        assert!((re + 1.543_689_012_692_076_4).abs() < 1e-14, "{re}");
        assert_eq!(order(&c, 4, 256), Some((3, 1)));
    }

    #[test]
    fn the_point_is_exact_to_the_precision_asked() {
        // The seahorse-valley point M(24, 1): -0.77568377 + 0.13646737i to the 8 digits
        // usually quoted (mpmath's Newton at 1200 bits: -0.775683768009053797...
        // + 0.136467368294690124...i). Asked for period 2 from there, Newton's method lands on
        // the same point, whose period is 1, and says so.
        let zoom = FloatExp::parse("1e-250").unwrap();
        let near = ["-0.77568377", "0.13646737"];
        assert_eq!(
            find_point(near, 24, 2, zoom).unwrap_err(),
            Failure::Lower {
                preperiod: 24,
                period: 1
            }
        );
        let m = find_point(near, 24, 1, zoom).expect("converges");
        assert_eq!((m.preperiod, m.period), (24, 1));
        let known = [
            "-0.7756837680090537974694835039347410457282465046158003947949520014",
            "0.1364673682946901247332744096178487651977721115924676964078001954",
        ];
        let found = m.view.precise_center(512);
        for i in 0..2 {
            let k = precise::parse(known[i], 512).unwrap();
            let gap = precise::to_floatexp(&precise::sub(&found[i], &k, 512)).abs();
            assert!(gap.log2() < -200.0, "{}", m.view.center_text[i]);
        }
        let bits = 1024;
        let c = m.view.precise_center(bits);
        let (z, _) = orbit(
            &Cx {
                re: c[0].clone(),
                im: c[1].clone(),
            },
            25,
            bits,
        );
        let gap = z[25].sub(&z[24], bits).size();
        assert!(gap.log2() < -800.0, "{gap:?}");
        // The repelling cycle: |multiplier| > 1.
        assert!(m.multiplier[0].hypot(m.multiplier[1]) > 1.0);
        assert!(m.view.center_text[0].len() > 250);
    }

    #[test]
    fn failures_say_why() {
        let near = point("0", "1", 128);
        assert!(matches!(find(&near, 1, 2, 128), Err(Failure::BadOrder(_))));
        assert!(matches!(find(&near, 3, 0, 128), Err(Failure::BadOrder(_))));
        // Far outside the set there is nothing for Newton's method to reach.
        let far = point("40", "40", 128);
        assert!(matches!(
            find(&far, 5, 3, 128),
            Err(Failure::NoConvergence { .. })
        ));
        assert!(
            Failure::NoConvergence { steps: STEPS }
                .to_string()
                .contains("did not converge")
        );
    }
}
