//! The Mandelbox (Tom Lowe): box fold, sphere fold, scale. DE = |z| / |dr|.
//! GPU twin: shaders/fractals/mandelbox.wgsl.

use bytemuck::{Pod, Zeroable};
use glam::DVec3;
use serde::Deserialize;

use super::steps::{self, check_range, mandelbox_step};
use super::{DistanceSample, Family, Formula, ParamError, VolumeFormula};
use crate::camera::Camera;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mandelbox {
    pub scale: f64,
    pub folding_limit: f64,
    pub min_radius: f64,
    pub fixed_radius: f64,
    pub iterations: i64,
    pub bailout: f64,
}

impl Default for Mandelbox {
    fn default() -> Self {
        Mandelbox {
            scale: 2.0,
            folding_limit: 1.0,
            min_radius: 0.5,
            fixed_radius: 1.0,
            iterations: 14,
            bailout: 100.0,
        }
    }
}

/// Twin of `FractalParams` in shaders/fractals/mandelbox.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct MandelboxUniform {
    pub scale: f32,
    pub folding_limit: f32,
    pub min_r2: f32,
    pub fixed_r2: f32,
    pub bailout: f32,
    pub iterations: u32,
    pub _pad: [u32; 2],
}

impl Mandelbox {
    pub fn uniform(&self) -> MandelboxUniform {
        MandelboxUniform {
            scale: self.scale as f32,
            folding_limit: self.folding_limit as f32,
            min_r2: (self.min_radius * self.min_radius) as f32,
            fixed_r2: (self.fixed_radius * self.fixed_radius) as f32,
            bailout: self.bailout as f32,
            iterations: self.iterations as u32,
            _pad: [0; 2],
        }
    }
}

impl Formula for Mandelbox {
    fn kind(&self) -> &'static str {
        "mandelbox"
    }

    fn wgsl(&self) -> String {
        [steps::wgsl(), crate::shader!("fractals/mandelbox.wgsl")].join("\n")
    }

    fn uniform_bytes(&self) -> Vec<u8> {
        bytemuck::bytes_of(&self.uniform()).to_vec()
    }

    fn validate(&self) -> Result<(), ParamError> {
        check_range("scale", self.scale, -4.0, 4.0)?;
        check_range("folding_limit", self.folding_limit, 0.01, 10.0)?;
        check_range("min_radius", self.min_radius, 0.001, 10.0)?;
        check_range("fixed_radius", self.fixed_radius, self.min_radius, 10.0)?;
        check_range("iterations", self.iterations as f64, 1.0, 1000.0)?;
        check_range("bailout", self.bailout, 2.0, 1e6)
    }

    fn params(&self) -> Vec<(String, f64)> {
        super::named({
            vec![
                ("scale", self.scale),
                ("folding_limit", self.folding_limit),
                ("min_radius", self.min_radius),
                ("fixed_radius", self.fixed_radius),
                ("iterations", self.iterations as f64),
                ("bailout", self.bailout),
            ]
        })
    }

    fn set_param(&mut self, name: &str, value: f64) -> bool {
        match name {
            "scale" => self.scale = value,
            "folding_limit" => self.folding_limit = value,
            "min_radius" => self.min_radius = value,
            "fixed_radius" => self.fixed_radius = value,
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

impl VolumeFormula for Mandelbox {
    fn distance(&self, c: DVec3) -> DistanceSample {
        let (min_r2, fixed_r2) = (
            self.min_radius * self.min_radius,
            self.fixed_radius * self.fixed_radius,
        );
        let mut z = c;
        let mut dr = 1.0;
        let mut trap = z.length_squared();
        for _ in 0..self.iterations {
            mandelbox_step(
                &mut z,
                &mut dr,
                c,
                self.scale,
                self.folding_limit,
                min_r2,
                fixed_r2,
            );
            let r2 = z.length_squared();
            trap = trap.min(r2);
            if r2 > self.bailout * self.bailout {
                break;
            }
        }
        DistanceSample {
            distance: z.length() / dr.abs(),
            trap,
        }
    }

    fn bounding_radius(&self) -> f64 {
        // For |scale| > 1 points beyond 2 (|s| + 1) / (|s| - 1) times the folding limit escape
        // (each step grows |z| by more than |c|); capped for scales near 1.
        let s = self.scale.abs();
        let r = if s > 1.05 {
            2.0 * (s + 1.0) / (s - 1.0) * self.folding_limit
        } else {
            40.0
        };
        (r * 3f64.sqrt()).min(40.0)
    }

    /// Chosen by eye on the example scene: the box folds make its trap change four times as fast than the Mandelbulb's.
    fn trap_scale(&self) -> f64 {
        4.0
    }

    fn default_camera(&self) -> Camera {
        Camera {
            position: DVec3::new(12.0, -10.0, 8.0),
            look_at: DVec3::ZERO,
            up: DVec3::Z,
            fov: 50.0,
            roll: 0.0,
        }
    }
}
