//! The per-pixel perturbation loop: CPU twin of `pixel_escape` in
//! shaders/fractals/mandelbrot-deep.wgsl (the same steps, in f64 mantissas with 64-bit
//! exponents, where the GPU uses f32 with i32 exponents; except that once deltas are in f32's
//! range the GPU looks for BLA steps only between blocks of 32 single steps, and takes only
//! those of 16 iterations or more, which on SIMD hardware cost less than the steps they save).
//!
//! A pixel iterates its delta dz from the reference orbit: dz -> 2 Z_m dz + dz^2 + dc, taking
//! BLA skips where valid. When the full z = Z_m + dz gets smaller than dz, or the reference
//! runs out, it rebases (Zhuoran): dz = z, m = 0. That keeps the delta small relative to
//! the orbit it follows, so no pixel glitches and one reference serves the whole frame.

use glam::DVec2;

use super::bla::BlaTable;
use super::floatexp::ComplexExp;
use super::series::Series;

fn at(z: DVec2) -> ComplexExp {
    ComplexExp::from_f64(z.x, z.y)
}

/// Iterations before |z| passes `bailout` for the pixel whose parameter is `reference + dc`
/// (Mandelbrot set) or whose start is `reference + dc` (Julia set, `julia`); None: still
/// bounded at `limit`. `series` (of the Mandelbrot set; `Series::none()` for none) skips
/// the first iterations.
pub fn escape(
    orbit: &[DVec2],
    bla: &BlaTable,
    series: &Series,
    dc: ComplexExp,
    limit: u32,
    bailout: f64,
    julia: bool,
) -> Option<u32> {
    let last = orbit.len() - 1;
    let (mut dz, add) = if julia {
        (dc, ComplexExp::ZERO)
    } else {
        (ComplexExp::ZERO, dc)
    };
    let (mut m, mut n) = (0usize, 0u32);
    let bailout2 = bailout * bailout;
    if !julia && series.skip > 0 && series.skip < limit {
        dz = series.evaluate(dc).0;
        m = series.skip as usize;
        n = series.skip;
        let z = at(orbit[m]) + dz;
        if z.norm().total_cmp(dz.norm()).is_lt() {
            dz = z;
            m = 0;
        }
    }
    while n < limit {
        let room = (limit - n) as usize;
        if let Some((step, len)) = bla.lookup(m, dz.norm(), room) {
            dz = step.a * dz + step.b * add;
            m += len;
            n += len as u32;
        } else {
            let z_ref = at(orbit[m]);
            let two_z = ComplexExp::new(2.0 * z_ref.re, 2.0 * z_ref.im, z_ref.exp);
            dz = (two_z + dz) * dz + add;
            m += 1;
            n += 1;
        }
        let z = at(orbit[m]) + dz;
        if z.norm().to_f64().powi(2) > bailout2 {
            return Some(n);
        }
        if m == last || z.norm().total_cmp(dz.norm()).is_lt() {
            dz = z;
            m = 0;
        }
    }
    None
}
