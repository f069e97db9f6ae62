//! The Mandelbrot set in the plane (`kind = "mandelbrot"`), and its Julia sets
//! (`julia = [cx, cy]`), by escape time. GPU twin: shaders/fractals/mandelbrot.wgsl, rendered
//! by shaders/plane.wgsl in f32; deeper views go to the perturbation of `crate::deep` (Julia
//! sets too) and its shader shaders/fractals/mandelbrot-deep.wgsl.

use bytemuck::{Pod, Zeroable};
use glam::DVec2;
use serde::Deserialize;

use super::steps::check_range;
use super::{Family, Formula, ParamError, PlaneFormula};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mandelbrot {
    pub iterations: i64,
    /// Escape radius (large values make the smooth count smoother).
    pub bailout: f64,
    /// Render the Julia set of this constant instead (keyable as julia_x, julia_y).
    pub julia: Option<[f64; 2]>,
    /// Deep zoom: the mantissas of the per-pixel deltas ("single" or "double").
    pub precision: crate::deep::Precision,
}

impl Default for Mandelbrot {
    fn default() -> Self {
        Mandelbrot {
            iterations: 1000,
            bailout: 256.0,
            julia: None,
            precision: crate::deep::Precision::Single,
        }
    }
}

/// Twin of `FractalParams` in shaders/fractals/mandelbrot.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct MandelbrotUniform {
    pub julia: [f32; 4],
    pub iterations: u32,
    pub bailout2: f32,
    pub period_epsilon2: f32,
    pub _pad: u32,
}

/// The optional Julia constant of the Mandelbrot kinds (plane and terrain): its check, its
/// keyable components `julia_x`, `julia_y`, and its TOML.
pub(crate) mod julia {
    use super::super::ParamError;
    use super::super::steps::check_range;

    pub fn validate(julia: Option<[f64; 2]>) -> Result<(), ParamError> {
        if let Some(j) = julia {
            check_range("julia", j[0], -4.0, 4.0)?;
            check_range("julia", j[1], -4.0, 4.0)?;
        }
        Ok(())
    }

    pub fn push_params(julia: Option<[f64; 2]>, params: &mut Vec<(String, f64)>) {
        if let Some(j) = julia {
            params.push(("julia_x".into(), j[0]));
            params.push(("julia_y".into(), j[1]));
        }
    }

    /// Sets `julia_x` or `julia_y` (when a Julia constant is set); false for other names.
    pub fn set_param(julia: &mut Option<[f64; 2]>, name: &str, value: f64) -> bool {
        match (name, julia.as_mut()) {
            ("julia_x", Some(j)) => j[0] = value,
            ("julia_y", Some(j)) => j[1] = value,
            _ => return false,
        }
        true
    }

    /// The `[fractal]` section of `kind`, with the constant when set.
    pub fn fixed_toml(kind: &str, julia: Option<[f64; 2]>) -> String {
        let mut s = format!("[fractal]\nkind = \"{kind}\"\n");
        if let Some(j) = julia {
            s += &format!("julia = [{:?}, {:?}]\n", j[0], j[1]);
        }
        s
    }
}

/// The escape of one point: the CPU twin of the shader's `escape`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Escape {
    /// Smooth iteration count, None inside (or not escaped within the iterations).
    pub smooth_count: Option<f64>,
    /// Whole iterations before escape.
    pub iterations: u32,
    /// Exterior distance estimate, plane units (0 inside).
    pub distance: f64,
}

fn cmul(a: DVec2, b: DVec2) -> DVec2 {
    DVec2::new(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x)
}

/// Inside the main cardioid or the period-2 bulb.
pub fn in_main_components(c: DVec2) -> bool {
    let x = c.x - 0.25;
    let q = x * x + c.y * c.y;
    q * (q + x) <= 0.25 * c.y * c.y || (c.x + 1.0).powi(2) + c.y * c.y <= 0.0625
}

impl Mandelbrot {
    /// Escape time of `p` (c for the Mandelbrot set, z0 for a Julia set), in f64.
    pub fn escape(&self, p: DVec2) -> Escape {
        let (c, mut z, mut dz) = match self.julia {
            Some(j) => (DVec2::from_array(j), p, DVec2::X),
            None => (p, DVec2::ZERO, DVec2::ZERO),
        };
        let inside = Escape {
            smooth_count: None,
            iterations: self.iterations as u32,
            distance: 0.0,
        };
        if self.julia.is_none() && in_main_components(p) {
            return inside;
        }
        let add = if self.julia.is_some() {
            DVec2::ZERO
        } else {
            DVec2::X
        };
        for i in 0..self.iterations as u32 {
            dz = 2.0 * cmul(z, dz) + add;
            z = cmul(z, z) + c;
            let r2 = z.length_squared();
            if r2 > self.bailout * self.bailout {
                let log_r = 0.5 * r2.ln();
                return Escape {
                    smooth_count: Some((i as f64 + 1.0 - log_r.log2()).max(0.0)),
                    iterations: i + 1,
                    distance: log_r * r2.sqrt() / dz.length(),
                };
            }
        }
        inside
    }

    pub fn uniform(&self, pixel_size: f64) -> MandelbrotUniform {
        let j = self.julia.unwrap_or([0.0, 0.0]);
        // A cycle is caught when the orbit returns within a hundredth of a pixel.
        let eps = (pixel_size * 0.01).max(1e-300);
        MandelbrotUniform {
            julia: [
                j[0] as f32,
                j[1] as f32,
                if self.julia.is_some() { 1.0 } else { 0.0 },
                0.0,
            ],
            iterations: self.iterations as u32,
            bailout2: (self.bailout * self.bailout) as f32,
            period_epsilon2: (eps * eps) as f32,
            _pad: 0,
        }
    }
}

impl Formula for Mandelbrot {
    fn kind(&self) -> &'static str {
        "mandelbrot"
    }

    fn wgsl(&self) -> String {
        crate::shader!("fractals/mandelbrot.wgsl")
    }

    fn uniform_bytes(&self) -> Vec<u8> {
        bytemuck::bytes_of(&self.uniform(1e-3)).to_vec()
    }

    fn validate(&self) -> Result<(), ParamError> {
        check_range("iterations", self.iterations as f64, 1.0, 10_000_000.0)?;
        check_range("bailout", self.bailout, 2.0, 1e10)?;
        julia::validate(self.julia)
    }

    fn params(&self) -> Vec<(String, f64)> {
        let mut v = super::named(vec![
            ("iterations", self.iterations as f64),
            ("bailout", self.bailout),
        ]);
        julia::push_params(self.julia, &mut v);
        v
    }

    fn set_param(&mut self, name: &str, value: f64) -> bool {
        match name {
            "iterations" => self.iterations = value.round() as i64,
            "bailout" => self.bailout = value,
            _ => return julia::set_param(&mut self.julia, name, value),
        }
        true
    }

    fn fixed_toml(&self) -> String {
        let mut s = julia::fixed_toml(self.kind(), self.julia);
        if self.precision != crate::deep::Precision::Single {
            s += &format!("precision = \"{}\"\n", self.precision.name());
        }
        s
    }

    fn clone_box(&self) -> Box<dyn Formula> {
        Box::new(self.clone())
    }

    fn family(&self) -> Family<'_> {
        Family::Plane(self)
    }
}

impl PlaneFormula for Mandelbrot {
    fn plane_uniform_bytes(&self, pixel_size: f64) -> Vec<u8> {
        bytemuck::bytes_of(&self.uniform(pixel_size)).to_vec()
    }

    fn perturbation(&self) -> Option<crate::deep::Iteration> {
        Some(crate::deep::Iteration {
            iterations: self.iterations as u32,
            bailout: self.bailout,
            julia: self.julia,
            precision: self.precision,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_times() {
        let m = Mandelbrot::default();
        assert_eq!(m.escape(DVec2::ZERO).smooth_count, None);
        assert_eq!(m.escape(DVec2::new(-1.0, 0.0)).smooth_count, None);
        // c = 1 escapes: 1, 2, 5, 26, 677: past 256 at the 5th step.
        let e = m.escape(DVec2::new(1.0, 0.0));
        assert_eq!(e.iterations, 5);
        assert!(e.distance > 0.0);
        // Far points escape at once and lie far from the set.
        let far = m.escape(DVec2::new(50.0, 0.0));
        assert!(far.distance > 10.0, "{}", far.distance);
        // A point off the real axis near the boundary takes many iterations.
        let near = m.escape(DVec2::new(-0.743643887, 0.131825904));
        assert!(near.iterations > 100);
        let julia = Mandelbrot {
            julia: Some([-0.8, 0.156]),
            ..Default::default()
        };
        assert!(julia.escape(DVec2::new(1.5, 1.5)).smooth_count.is_some());
    }
}
