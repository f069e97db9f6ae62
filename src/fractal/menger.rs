//! The Menger sponge as a kaleidoscopic IFS (Knighty): fold into one octant, sort the axes,
//! optionally rotate, scale about a corner; the distance to the unit cube of the last step,
//! divided by the accumulated scale. GPU twin: shaders/fractals/menger.wgsl.

use bytemuck::{Pod, Zeroable};
use glam::DVec3;
use serde::Deserialize;

use super::steps::check_range;
use super::{DistanceSample, Family, Formula, ParamError, VolumeFormula};
use crate::camera::Camera;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Menger {
    pub iterations: i64,
    pub scale: f64,
    /// Where each step's copies sit (1 gives the classic sponge).
    pub offset: f64,
    /// Rotation about +Z applied at every step, degrees (0 gives the classic sponge).
    pub rotation: f64,
}

impl Default for Menger {
    fn default() -> Self {
        Menger {
            iterations: 6,
            scale: 3.0,
            offset: 1.0,
            rotation: 0.0,
        }
    }
}

/// Twin of `FractalParams` in shaders/fractals/menger.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct MengerUniform {
    pub scale: f32,
    pub offset: f32,
    pub rotation_cos: f32,
    pub rotation_sin: f32,
    pub iterations: u32,
    pub _pad: [u32; 3],
}

fn box_distance(p: DVec3, half: f64) -> f64 {
    let q = p.abs() - DVec3::splat(half);
    q.max(DVec3::ZERO).length() + q.max_element().min(0.0)
}

impl Formula for Menger {
    fn kind(&self) -> &'static str {
        "menger"
    }

    fn wgsl(&self) -> String {
        crate::shader!("fractals/menger.wgsl")
    }

    fn uniform_bytes(&self) -> Vec<u8> {
        let (s, c) = self.rotation.to_radians().sin_cos();
        let u = MengerUniform {
            scale: self.scale as f32,
            offset: self.offset as f32,
            rotation_cos: c as f32,
            rotation_sin: s as f32,
            iterations: self.iterations as u32,
            _pad: [0; 3],
        };
        bytemuck::bytes_of(&u).to_vec()
    }

    fn validate(&self) -> Result<(), ParamError> {
        check_range("iterations", self.iterations as f64, 1.0, 20.0)?;
        check_range("scale", self.scale, 1.5, 5.0)?;
        check_range("offset", self.offset, 0.1, 3.0)?;
        check_range("rotation", self.rotation, -360.0, 360.0)
    }

    fn params(&self) -> Vec<(String, f64)> {
        super::named({
            vec![
                ("iterations", self.iterations as f64),
                ("scale", self.scale),
                ("offset", self.offset),
                ("rotation", self.rotation),
            ]
        })
    }

    fn set_param(&mut self, name: &str, value: f64) -> bool {
        match name {
            "iterations" => self.iterations = value.round() as i64,
            "scale" => self.scale = value,
            "offset" => self.offset = value,
            "rotation" => self.rotation = value,
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

impl VolumeFormula for Menger {
    fn distance(&self, p: DVec3) -> DistanceSample {
        let (sin, cos) = self.rotation.to_radians().sin_cos();
        let (scale, offset) = (self.scale, self.offset);
        let mut z = p;
        let mut factor = 1.0;
        let mut trap = z.length_squared();
        for _ in 0..self.iterations {
            z = z.abs();
            if z.x < z.y {
                z = DVec3::new(z.y, z.x, z.z);
            }
            if z.x < z.z {
                z = DVec3::new(z.z, z.y, z.x);
            }
            if z.y < z.z {
                z = DVec3::new(z.x, z.z, z.y);
            }
            z = DVec3::new(cos * z.x - sin * z.y, sin * z.x + cos * z.y, z.z);
            z = z * scale - DVec3::splat(offset * (scale - 1.0));
            if z.z < -0.5 * offset * (scale - 1.0) {
                z.z += offset * (scale - 1.0);
            }
            factor *= scale;
            trap = trap.min(z.length_squared());
        }
        DistanceSample {
            distance: box_distance(z, 1.0) / factor,
            trap,
        }
    }

    fn bounding_radius(&self) -> f64 {
        // The sponge fills at most the cube of half-size `offset` (and the unit cube of the
        // last step), rotated or not.
        3f64.sqrt() * self.offset.abs().max(1.0) * 1.05 + 0.05
    }

    /// Chosen by eye on the example scene: the sponge's folds make its trap change three times as fast than the Mandelbulb's.
    fn trap_scale(&self) -> f64 {
        3.0
    }

    fn default_camera(&self) -> Camera {
        Camera {
            position: DVec3::new(2.6, -2.1, 1.7),
            look_at: DVec3::ZERO,
            up: DVec3::Z,
            fov: 45.0,
            roll: 0.0,
        }
    }
}
