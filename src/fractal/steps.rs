//! CPU twins of shaders/fractals/steps.wgsl: iteration steps shared by kinds and hybrids.

use glam::DVec3;

/// The shared steps' WGSL.
pub fn wgsl() -> String {
    crate::shader!("fractals/steps.wgsl")
}

/// The Mandelbulb step's integer power: `power` when it is a whole number, else 0 (the
/// trigonometric path).
pub fn integer_power(power: f64) -> u32 {
    if power.fract() == 0.0 {
        power as u32
    } else {
        0
    }
}

/// A kind's module with its `INTEGER_POWER` constant set to `integer_power`: pipelines are
/// specialised on it (and cached by their text). Read from the uniform block, the power's
/// loops (`complex_pow`) are data-dependent control flow to lavapipe, which then cannot unroll
/// them: a reference frame took 720 ms of GPU time instead of 510.
pub fn with_integer_power(source: &str, integer_power: u32) -> String {
    source.replace(
        "const INTEGER_POWER: u32 = 0u;",
        &format!("const INTEGER_POWER: u32 = {integer_power}u;"),
    )
}

/// The classic Mandelbulb step (acos form, trigonometric definition): z -> z^n + c,
/// dr -> n r^(n-1) dr + 1.
pub fn mandelbulb_step(z: &mut DVec3, dr: &mut f64, c: DVec3, power: f64) {
    let r = z.length();
    *dr = power * r.powf(power - 1.0) * *dr + 1.0;
    // z^n is 0 at the origin (where the angles are undefined).
    let zn = if r > 0.0 {
        let theta = power * (z.z / r).clamp(-1.0, 1.0).acos();
        let phi = power * z.y.atan2(z.x);
        let st = theta.sin();
        r.powf(power) * DVec3::new(st * phi.cos(), st * phi.sin(), theta.cos())
    } else {
        DVec3::ZERO
    };
    *z = zn + c;
}

/// The Mandelbox step: box fold at `fold`, sphere fold (radii squared), scale, add c.
pub fn mandelbox_step(
    z: &mut DVec3,
    dr: &mut f64,
    c: DVec3,
    scale: f64,
    fold: f64,
    min_r2: f64,
    fixed_r2: f64,
) {
    let mut p = z.clamp(DVec3::splat(-fold), DVec3::splat(fold)) * 2.0 - *z;
    let r2 = p.length_squared();
    let k = if r2 < min_r2 {
        fixed_r2 / min_r2
    } else if r2 < fixed_r2 {
        fixed_r2 / r2
    } else {
        1.0
    };
    p *= k;
    *dr = *dr * k * scale.abs() + 1.0;
    *z = p * scale + c;
}

/// Checks `value` is within [lo, hi] (and not NaN).
pub fn check_range(
    key: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
) -> Result<(), super::ParamError> {
    if value >= lo && value <= hi {
        Ok(())
    } else {
        Err(super::ParamError {
            key,
            message: format!("{key} must be in [{lo}, {hi}], got {value}"),
        })
    }
}
