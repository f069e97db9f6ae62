//! An Apollonian gasket in 3D (after Inigo Quilez): space folded into a repeating cell, then a
//! sphere inversion, repeated. It tiles space, so `extent` bounds how far the camera sees.
//! GPU twin: shaders/fractals/apollonian.wgsl.

use bytemuck::{Pod, Zeroable};
use glam::DVec3;
use serde::Deserialize;

use super::steps::check_range;
use super::{DistanceSample, Family, Formula, ParamError, VolumeFormula};
use crate::camera::Camera;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Apollonian {
    /// Inversion strength; about 1 to 1.6 (1.3 is a classic look).
    pub scale: f64,
    pub iterations: i64,
    /// Radius of the region rendered (the structure repeats forever).
    pub extent: f64,
}

impl Default for Apollonian {
    fn default() -> Self {
        Apollonian {
            scale: 1.3,
            iterations: 8,
            extent: 6.0,
        }
    }
}

/// Twin of `FractalParams` in shaders/fractals/apollonian.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct ApollonianUniform {
    pub scale: f32,
    pub iterations: u32,
    pub _pad: [u32; 2],
}

impl Formula for Apollonian {
    fn kind(&self) -> &'static str {
        "apollonian"
    }

    fn wgsl(&self) -> String {
        crate::shader!("fractals/apollonian.wgsl")
    }

    fn uniform_bytes(&self) -> Vec<u8> {
        let u = ApollonianUniform {
            scale: self.scale as f32,
            iterations: self.iterations as u32,
            _pad: [0; 2],
        };
        bytemuck::bytes_of(&u).to_vec()
    }

    fn validate(&self) -> Result<(), ParamError> {
        check_range("scale", self.scale, 0.5, 3.0)?;
        check_range("iterations", self.iterations as f64, 1.0, 100.0)?;
        check_range("extent", self.extent, 0.5, 1000.0)
    }

    fn params(&self) -> Vec<(String, f64)> {
        super::named({
            vec![
                ("scale", self.scale),
                ("iterations", self.iterations as f64),
                ("extent", self.extent),
            ]
        })
    }

    fn set_param(&mut self, name: &str, value: f64) -> bool {
        match name {
            "scale" => self.scale = value,
            "iterations" => self.iterations = value.round() as i64,
            "extent" => self.extent = value,
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

impl VolumeFormula for Apollonian {
    fn distance(&self, p: DVec3) -> DistanceSample {
        let mut z = p;
        let mut factor = 1.0;
        let mut trap = f64::INFINITY;
        for _ in 0..self.iterations {
            // Fold into the cell [-1, 1]^3.
            let h = 0.5 * z + DVec3::splat(0.5);
            z = -DVec3::ONE + 2.0 * (h - h.floor());
            let r2 = z.length_squared();
            trap = trap.min(r2);
            let k = self.scale / r2;
            z *= k;
            factor *= k;
        }
        DistanceSample {
            distance: 0.25 * z.y.abs() / factor,
            trap,
        }
    }

    fn bounding_radius(&self) -> f64 {
        self.extent
    }

    /// Chosen by eye on the example scene: sphere inversions make its trap change faster than the Mandelbulb's.
    fn trap_scale(&self) -> f64 {
        2.4
    }

    fn default_camera(&self) -> Camera {
        Camera {
            position: DVec3::new(1.6, -1.2, 0.9),
            look_at: DVec3::new(0.0, 0.0, 0.0),
            up: DVec3::Z,
            fov: 60.0,
            roll: 0.0,
        }
    }
}
