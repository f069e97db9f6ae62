//! The quaternion Julia set z -> z^2 + c, seen in the 3D slice w = `slice`.
//! DE = 0.5 |z| ln|z| / |dz|. GPU twin: shaders/fractals/julia-quaternion.wgsl.

use bytemuck::{Pod, Zeroable};
use glam::{DVec3, DVec4};
use serde::Deserialize;

use super::steps::check_range;
use super::{DistanceSample, Family, Formula, ParamError, VolumeFormula};
use crate::camera::Camera;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JuliaQuaternion {
    /// The constant: real part first, then i, j, k (keyable as c_x, c_y, c_z, c_w).
    pub c: [f64; 4],
    /// The fourth coordinate of the 3D slice.
    pub slice: f64,
    pub iterations: i64,
    pub bailout: f64,
}

impl Default for JuliaQuaternion {
    fn default() -> Self {
        JuliaQuaternion {
            c: [-0.2, 0.6, 0.2, 0.2],
            slice: 0.0,
            iterations: 12,
            bailout: 4.0,
        }
    }
}

/// Twin of `FractalParams` in shaders/fractals/julia-quaternion.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct JuliaUniform {
    pub c: [f32; 4],
    pub slice: f32,
    pub bailout: f32,
    pub iterations: u32,
    pub _pad: u32,
}

/// q^2 for q = (real, i, j, k) stored as (x, y, z, w).
fn square(q: DVec4) -> DVec4 {
    DVec4::new(
        q.x * q.x - q.y * q.y - q.z * q.z - q.w * q.w,
        2.0 * q.x * q.y,
        2.0 * q.x * q.z,
        2.0 * q.x * q.w,
    )
}

const C_NAMES: [&str; 4] = ["c_x", "c_y", "c_z", "c_w"];

impl Formula for JuliaQuaternion {
    fn kind(&self) -> &'static str {
        "julia-quaternion"
    }

    fn wgsl(&self) -> String {
        crate::shader!("fractals/julia-quaternion.wgsl")
    }

    fn uniform_bytes(&self) -> Vec<u8> {
        let u = JuliaUniform {
            c: self.c.map(|v| v as f32),
            slice: self.slice as f32,
            bailout: self.bailout as f32,
            iterations: self.iterations as u32,
            _pad: 0,
        };
        bytemuck::bytes_of(&u).to_vec()
    }

    fn validate(&self) -> Result<(), ParamError> {
        for (name, v) in C_NAMES.iter().zip(self.c) {
            check_range(name, v, -2.0, 2.0)?;
        }
        check_range("slice", self.slice, -2.0, 2.0)?;
        check_range("iterations", self.iterations as f64, 1.0, 1000.0)?;
        check_range("bailout", self.bailout, 2.0, 1e6)
    }

    fn params(&self) -> Vec<(String, f64)> {
        super::named({
            let mut v: Vec<(&'static str, f64)> = C_NAMES.iter().copied().zip(self.c).collect();
            v.extend([
                ("slice", self.slice),
                ("iterations", self.iterations as f64),
                ("bailout", self.bailout),
            ]);
            v
        })
    }

    fn set_param(&mut self, name: &str, value: f64) -> bool {
        if let Some(i) = C_NAMES.iter().position(|n| *n == name) {
            self.c[i] = value;
            return true;
        }
        match name {
            "slice" => self.slice = value,
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

impl VolumeFormula for JuliaQuaternion {
    fn distance(&self, p: DVec3) -> DistanceSample {
        let c = DVec4::from_array(self.c);
        let mut z = DVec4::new(p.x, p.y, p.z, self.slice);
        // |dz|: the derivative's norm grows by 2|z| each step.
        let mut dz = 1.0;
        let mut r2 = z.length_squared();
        let mut trap = r2;
        for _ in 0..self.iterations {
            if r2 > self.bailout * self.bailout {
                break;
            }
            dz *= 2.0 * r2.sqrt();
            z = square(z) + c;
            r2 = z.length_squared();
            trap = trap.min(r2);
        }
        let r = r2.sqrt();
        DistanceSample {
            distance: if r == 0.0 { 0.0 } else { 0.5 * r * r.ln() / dz },
            trap,
        }
    }

    fn bounding_radius(&self) -> f64 {
        // |z| > R with R^2 - |c| > R escapes: R = (1 + sqrt(1 + 4|c|)) / 2; the slice
        // coordinate counts towards |z| too.
        let cn = DVec4::from_array(self.c).length();
        let r = 0.5 * (1.0 + (1.0 + 4.0 * cn).sqrt());
        ((r * r - self.slice * self.slice).max(0.0).sqrt() + 0.05).max(0.1)
    }

    /// Chosen by eye on the example scene: its smooth lobes carry a trap that changes faster than the Mandelbulb's.
    fn trap_scale(&self) -> f64 {
        2.4
    }

    fn default_camera(&self) -> Camera {
        Camera {
            position: DVec3::new(1.9, -1.9, 1.2),
            look_at: DVec3::ZERO,
            up: DVec3::Z,
            fov: 45.0,
            roll: 0.0,
        }
    }
}
