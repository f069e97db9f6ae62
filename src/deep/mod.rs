//! Deep zoom: Mandelbrot views far beyond double precision by perturbation.
//!
//! The flow of a deep frame: the view's centre, read at the precision its depth needs
//! ([`precise`]), picks or reuses a [`reference::ReferenceOrbit`] iterated at full precision on
//! the CPU; a [`bla::BlaTable`] is built for the frame's extent; [`DeepFrame`] places the
//! pixels relative to the reference in extended-exponent units ([`floatexp`]); the GPU runs
//! the per-pixel loop whose CPU twin is [`perturb::escape`].

pub mod bla;
pub mod floatexp;
pub mod locations;
pub mod misiurewicz;
pub mod nucleus;
pub mod perturb;
pub mod precise;
pub mod reference;
pub mod series;

use astro_float_num::BigFloat;
use glam::DVec2;

use crate::plane::PlaneView;
use floatexp::{ComplexExp, FloatExp};

/// The iteration a deep view runs (from the fractal kind).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iteration {
    pub iterations: u32,
    /// Escape radius.
    pub bailout: f64,
    /// The constant of a Julia set (the reference point is then z0).
    pub julia: Option<[f64; 2]>,
    pub precision: Precision,
}

/// The mantissas of the per-pixel deltas on the GPU (`precision` in `[fractal]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32: fast on every GPU. Escape counts match full precision at the test locations; at
    /// published deep locations 97-99.9% of pixels match f64 exactly, the rest by one
    /// iteration (55 dB PSNR between the images).
    #[default]
    Single,
    /// f64: exact escape counts; needs SHADER_F64, and GPUs without fast f64 pay for it.
    Double,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::Single => "single",
            Precision::Double => "double",
        }
    }
}

/// Where a frame's pixels lie relative to the reference point, in units of 2^`unit_exp`
/// (about a pixel), so every offset is an ordinary f32/f64 however deep the view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeepFrame {
    pub unit_exp: i64,
    /// The image centre minus the reference point, in units.
    pub offset: DVec2,
    /// One pixel right and one pixel up, in units (rotation applied).
    pub axis_x: DVec2,
    pub axis_y: DVec2,
    /// The largest |dc| of any pixel.
    pub dc_max: FloatExp,
}

impl DeepFrame {
    /// The frame of `view` at `width` x `height` relative to `reference` (both `bits` precise).
    pub fn new(
        view: &PlaneView,
        center: &[BigFloat; 2],
        reference: &[BigFloat; 2],
        bits: usize,
        width: u32,
        height: u32,
    ) -> Self {
        let pixel = view.zoom.scale(1.0 / height as f64);
        let unit_exp = pixel.exp;
        let size = pixel.mantissa;
        let (s, c) = view.rotation.to_radians().sin_cos();
        let in_units = |v: &BigFloat| {
            let f = precise::to_floatexp(v);
            floatexp::ldexp(f.mantissa, f.exp - unit_exp)
        };
        let offset = DVec2::new(
            in_units(&precise::sub(&center[0], &reference[0], bits)),
            in_units(&precise::sub(&center[1], &reference[1], bits)),
        );
        let axis_x = DVec2::new(c, s) * size;
        let axis_y = DVec2::new(-s, c) * size;
        let half_diagonal = DVec2::new(width as f64, height as f64).length() * 0.5 * size;
        let dc_max = FloatExp::new(offset.length() + half_diagonal, unit_exp);
        DeepFrame {
            unit_exp,
            offset,
            axis_x,
            axis_y,
            dc_max,
        }
    }

    /// dc of the point `(x, y)` pixels from the image centre (y up).
    pub fn dc(&self, x: f64, y: f64) -> ComplexExp {
        let v = self.offset + self.axis_x * x + self.axis_y * y;
        ComplexExp::new(v.x, v.y, self.unit_exp)
    }

    /// dc of the centre of pixel (x, y), row 0 at the top.
    pub fn pixel_dc(&self, x: u32, y: u32, width: u32, height: u32) -> ComplexExp {
        self.dc(
            x as f64 + 0.5 - width as f64 * 0.5,
            height as f64 * 0.5 - y as f64 - 0.5,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deep::bla::BlaTable;
    use crate::deep::reference::{ReferenceOrbit, escape_count};
    use crate::deep::series::Series;

    /// Perturbation (the CPU twin) against direct full-precision iteration at a grid of
    /// pixels of a `size` image: (matching escape counts, pixels checked).
    fn compare(
        v: &PlaneView,
        limit: u32,
        (w, h): (u32, u32),
        grid: u32,
        with_series: bool,
    ) -> (usize, usize) {
        let bits = precise::precision_for(v.zoom.scale(1.0 / h as f64));
        let center = v.precise_center(bits);
        let reference = ReferenceOrbit::compute(center.clone(), bits, limit, 256.0, None, None);
        let frame = DeepFrame::new(v, &center, &reference.point, bits, w, h);
        let table = BlaTable::build(&reference.orbit, frame.dc_max, false, bla::epsilon(true));
        let series = if with_series {
            Series::build(
                &reference.orbit,
                frame.dc_max,
                limit,
                series::TERMS,
                series::TOLERANCE,
            )
        } else {
            Series::none()
        };
        let (mut same, mut total) = (0, 0);
        for gy in 0..grid {
            for gx in 0..grid {
                let (x, y) = (
                    (gx * w) / grid + w / (2 * grid),
                    (gy * h) / grid + h / (2 * grid),
                );
                let dc = frame.pixel_dc(x, y, w, h);
                let deep =
                    perturb::escape(&reference.orbit, &table, &series, dc, limit, 256.0, false);
                // The pixel's own point (the reference plus dc), iterated directly.
                let point = [
                    precise::add(
                        &reference.point[0],
                        &precise::from_floatexp(FloatExp::new(dc.re, dc.exp), bits),
                        bits,
                    ),
                    precise::add(
                        &reference.point[1],
                        &precise::from_floatexp(FloatExp::new(dc.im, dc.exp), bits),
                        bits,
                    ),
                ];
                let truth = escape_count(&point, bits, limit, 256.0, None);
                total += 1;
                if truth == deep {
                    same += 1;
                } else {
                    eprintln!("pixel {x},{y}: direct {truth:?}, perturbation {:?}", deep);
                }
            }
        }
        (same, total)
    }

    #[test]
    fn perturbation_matches_direct_iteration_from_1e_20_to_1e_300() {
        for with_series in [false, true] {
            for location in locations::test_views() {
                let (same, total) = compare(
                    &location.view,
                    location.iterations,
                    (64, 36),
                    6,
                    with_series,
                );
                eprintln!(
                    "{} (series {with_series}): {same} of {total}",
                    location.name
                );
                assert!(
                    same * 100 >= total * 97,
                    "{} (series {with_series}): {same} of {total}",
                    location.name
                );
            }
        }
    }
}
