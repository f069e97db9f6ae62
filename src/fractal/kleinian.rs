//! The pseudo-Kleinian (Knighty): a box fold and a sphere inversion repeated, then the distance
//! to a tube; it tiles space, so `extent` bounds how far the camera sees.
//! GPU twin: shaders/fractals/kleinian.wgsl.

use bytemuck::{Pod, Zeroable};
use glam::DVec3;
use serde::Deserialize;

use super::steps::check_range;
use super::{DistanceSample, Family, Formula, ParamError, VolumeFormula};
use crate::camera::Camera;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Kleinian {
    /// Half-sizes of the folding box (keyable as box_x, box_y, box_z).
    pub box_size: [f64; 3],
    /// Radius squared of the sphere inversion.
    pub fold_size: f64,
    /// Radius of the final tube.
    pub thickness: f64,
    pub iterations: i64,
    /// Radius of the region rendered (the structure repeats forever).
    pub extent: f64,
}

impl Default for Kleinian {
    fn default() -> Self {
        Kleinian {
            box_size: [0.92436, 0.90756, 0.92436],
            fold_size: 1.0,
            thickness: 0.92784,
            iterations: 10,
            extent: 12.0,
        }
    }
}

/// Twin of `FractalParams` in shaders/fractals/kleinian.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct KleinianUniform {
    pub box_size: [f32; 4],
    pub fold_size: f32,
    pub thickness: f32,
    pub iterations: u32,
    pub _pad: u32,
}

const BOX_NAMES: [&str; 3] = ["box_x", "box_y", "box_z"];

impl Formula for Kleinian {
    fn kind(&self) -> &'static str {
        "kleinian"
    }

    fn wgsl(&self) -> String {
        crate::shader!("fractals/kleinian.wgsl")
    }

    fn uniform_bytes(&self) -> Vec<u8> {
        let b = self.box_size;
        let u = KleinianUniform {
            box_size: [b[0] as f32, b[1] as f32, b[2] as f32, 0.0],
            fold_size: self.fold_size as f32,
            thickness: self.thickness as f32,
            iterations: self.iterations as u32,
            _pad: 0,
        };
        bytemuck::bytes_of(&u).to_vec()
    }

    fn validate(&self) -> Result<(), ParamError> {
        for (name, v) in BOX_NAMES.iter().zip(self.box_size) {
            check_range(name, v, 0.1, 4.0)?;
        }
        check_range("fold_size", self.fold_size, 0.1, 4.0)?;
        check_range("thickness", self.thickness, 0.0, 4.0)?;
        check_range("iterations", self.iterations as f64, 1.0, 100.0)?;
        check_range("extent", self.extent, 0.5, 1000.0)
    }

    fn params(&self) -> Vec<(String, f64)> {
        super::named({
            let mut v: Vec<(&'static str, f64)> =
                BOX_NAMES.iter().copied().zip(self.box_size).collect();
            v.extend([
                ("fold_size", self.fold_size),
                ("thickness", self.thickness),
                ("iterations", self.iterations as f64),
                ("extent", self.extent),
            ]);
            v
        })
    }

    fn set_param(&mut self, name: &str, value: f64) -> bool {
        if let Some(i) = BOX_NAMES.iter().position(|n| *n == name) {
            self.box_size[i] = value;
            return true;
        }
        match name {
            "fold_size" => self.fold_size = value,
            "thickness" => self.thickness = value,
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

impl VolumeFormula for Kleinian {
    fn distance(&self, p: DVec3) -> DistanceSample {
        let size = DVec3::from_array(self.box_size);
        let mut z = p;
        let mut factor = 1.0;
        let mut trap = f64::INFINITY;
        for _ in 0..self.iterations {
            z = 2.0 * z.clamp(-size, size) - z;
            let r2 = z.length_squared();
            trap = trap.min(r2);
            let k = (self.fold_size / r2).max(1.0);
            z *= k;
            factor *= k;
        }
        let rxy = z.truncate().length();
        let d = (rxy - self.thickness).max((rxy * z.z).abs() / z.length());
        DistanceSample {
            distance: d / factor,
            trap,
        }
    }

    fn bounding_radius(&self) -> f64 {
        self.extent
    }

    /// The pseudo-Kleinian's estimate overshoots near its thin walls: a cone that trusts it
    /// starts pixels past surfaces they would have met.
    fn cone_safe(&self) -> bool {
        false
    }

    fn default_camera(&self) -> Camera {
        Camera {
            position: DVec3::new(0.3, -1.6, 0.35),
            look_at: DVec3::new(0.0, 0.0, 0.1),
            up: DVec3::Z,
            fov: 60.0,
            roll: 0.0,
        }
    }
}
