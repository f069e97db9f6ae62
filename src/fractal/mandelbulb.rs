//! The classic power-n Mandelbulb: z -> z^n + c in spherical coordinates (acos form), with the
//! analytic distance estimate DE = 0.5 ln(r) r / dr. GPU twin: shaders/fractals/mandelbulb.wgsl.

use bytemuck::{Pod, Zeroable};
use glam::DVec3;
use serde::Deserialize;

use super::steps::{self, mandelbulb_step};
use super::{DistanceSample, Family, Formula, ParamError, VolumeFormula};
use crate::camera::Camera;

/// Largest power accepted: beyond it f32 overflows r^n before the bailout test.
pub const MAX_POWER: f64 = 32.0;
/// Most iterations accepted; far beyond what any view needs.
pub const MAX_ITERATIONS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mandelbulb {
    pub power: f64,
    /// i64 so that a negative count is reported as such rather than as a type error.
    pub iterations: i64,
    pub bailout: f64,
}

impl Default for Mandelbulb {
    fn default() -> Self {
        Mandelbulb {
            power: 8.0,
            iterations: 12,
            bailout: 10.0,
        }
    }
}

/// Twin of `FractalParams` in shaders/fractals/mandelbulb.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct MandelbulbUniform {
    pub power: f32,
    pub bailout: f32,
    pub iterations: u32,
    pub integer_power: u32,
}

impl Mandelbulb {
    pub fn uniform(&self) -> MandelbulbUniform {
        MandelbulbUniform {
            power: self.power as f32,
            bailout: self.bailout as f32,
            iterations: self.iterations as u32,
            integer_power: steps::integer_power(self.power),
        }
    }
}

impl Formula for Mandelbulb {
    fn kind(&self) -> &'static str {
        "mandelbulb"
    }

    fn wgsl(&self) -> String {
        let module = crate::shader!("fractals/mandelbulb.wgsl");
        let module = steps::with_integer_power(&module, steps::integer_power(self.power));
        [steps::wgsl(), module].join("\n")
    }

    fn uniform_bytes(&self) -> Vec<u8> {
        bytemuck::bytes_of(&self.uniform()).to_vec()
    }

    fn validate(&self) -> Result<(), ParamError> {
        if !(self.power >= 2.0 && self.power <= MAX_POWER) {
            return Err(ParamError {
                key: "power",
                message: format!("power must be in [2, {MAX_POWER}], got {}", self.power),
            });
        }
        if !(1..=MAX_ITERATIONS).contains(&self.iterations) {
            return Err(ParamError {
                key: "iterations",
                message: format!(
                    "iterations must be in [1, {MAX_ITERATIONS}], got {}",
                    self.iterations
                ),
            });
        }
        if !(self.bailout > 1.0 && self.bailout.is_finite()) {
            return Err(ParamError {
                key: "bailout",
                message: format!("bailout must be a finite number > 1, got {}", self.bailout),
            });
        }
        Ok(())
    }

    fn params(&self) -> Vec<(String, f64)> {
        super::named({
            vec![
                ("power", self.power),
                ("iterations", self.iterations as f64),
                ("bailout", self.bailout),
            ]
        })
    }

    fn set_param(&mut self, name: &str, value: f64) -> bool {
        match name {
            "power" => self.power = value,
            "iterations" => self.iterations = value.round() as i64,
            "bailout" => self.bailout = value,
            _ => return false,
        }
        true
    }

    fn clone_box(&self) -> Box<dyn Formula> {
        Box::new(self.clone())
    }

    fn family(&self) -> Family<'_> {
        Family::Volume(self)
    }
}

impl VolumeFormula for Mandelbulb {
    fn distance(&self, c: DVec3) -> DistanceSample {
        let n = self.power;
        let mut z = c;
        let mut dr = 1.0;
        let mut r = z.length();
        let mut trap = r * r;
        for _ in 0..self.iterations {
            if r > self.bailout {
                break;
            }
            mandelbulb_step(&mut z, &mut dr, c, n);
            r = z.length();
            trap = trap.min(r * r);
        }
        DistanceSample {
            // The orbit of the origin stays there: inside, at distance 0 (not 0 * -inf).
            distance: if r == 0.0 { 0.0 } else { 0.5 * r.ln() * r / dr },
            trap,
        }
    }

    fn bounding_radius(&self) -> f64 {
        // A point with |c| = R > 2^(1/(n-1)) escapes: |z^n + c| >= R^n - R > R, and so on.
        // The margin keeps the sphere clear of the hit threshold at the silhouette.
        2f64.powf(1.0 / (self.power - 1.0)).max(1.0) * 1.05 + 0.05
    }

    fn default_camera(&self) -> Camera {
        Camera::reference()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_estimate_is_a_lower_bound_along_a_ray() {
        // From outside, stepping by the DE never passes the surface: the point stepped to is
        // still outside (DE > 0) until the DE becomes tiny.
        let bulb = Mandelbulb::default();
        let dir = DVec3::new(-1.0, 1.0, -0.7).normalize();
        let mut p = DVec3::new(2.0, -2.0, 1.4);
        for _ in 0..500 {
            let d = bulb.distance(p).distance;
            assert!(d > -1e-9, "stepped inside at {p}");
            if d < 1e-6 {
                return;
            }
            p += dir * d;
        }
        panic!("ray towards the centre never reached the surface");
    }

    #[test]
    fn inside_and_outside() {
        let bulb = Mandelbulb::default();
        assert!(bulb.distance(DVec3::ZERO).distance <= 0.0);
        assert!(bulb.distance(DVec3::new(0.0, 0.0, 0.5)).distance <= 0.0);
        let far = bulb.distance(DVec3::new(3.0, 0.0, 0.0)).distance;
        assert!(far > 1.0 && far < 3.0, "{far}");
    }

    #[test]
    fn bounding_sphere_contains_the_set() {
        let bulb = Mandelbulb::default();
        let r = bulb.bounding_radius();
        for i in 0..2000 {
            let a = i as f64 * 2.399963;
            let zc = 1.0 - 2.0 * (i as f64 + 0.5) / 2000.0;
            let s = (1.0 - zc * zc).sqrt();
            let p = DVec3::new(s * a.cos(), s * a.sin(), zc) * r;
            assert!(
                bulb.distance(p).distance > 0.0,
                "{p} on the bound is inside"
            );
        }
    }

    #[test]
    fn integer_power_flag() {
        assert_eq!(Mandelbulb::default().uniform().integer_power, 8);
        let b = Mandelbulb {
            power: 7.5,
            ..Default::default()
        };
        assert_eq!(b.uniform().integer_power, 0);
        // The pipeline is specialised on it: the module's constant carries the power.
        assert!(
            Mandelbulb::default()
                .wgsl()
                .contains("const INTEGER_POWER: u32 = 8u;")
        );
        assert!(b.wgsl().contains("const INTEGER_POWER: u32 = 0u;"));
    }
}
