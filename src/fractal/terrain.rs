//! `kind = "mandelbrot-terrain"`: the Mandelbrot set (or a Julia set) as a landscape to fly
//! over. Height = `height` * exp(-d / `width`) where d is the exterior distance estimate: the
//! set is a plateau, its filaments are ridges, and the slope never exceeds height / width, which
//! makes the height field safe to ray-march (no holes or stair-steps at grazing angles).
//! GPU twin: shaders/fractals/mandelbrot-terrain.wgsl.

use bytemuck::{Pod, Zeroable};
use glam::{DVec2, DVec3};
use serde::Deserialize;

use super::mandelbrot::{Mandelbrot, julia};
use super::steps::check_range;
use super::{DistanceSample, Family, Formula, ParamError, VolumeFormula};
use crate::camera::Camera;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Terrain {
    pub iterations: i64,
    /// Height of the plateau (the set), scene units.
    pub height: f64,
    /// How far from the set the land falls away, plane units.
    pub width: f64,
    /// A Julia set's constant instead of the Mandelbrot set (keyable as julia_x, julia_y).
    pub julia: Option<[f64; 2]>,
    /// Radius of the land rendered about the origin.
    pub extent: f64,
}

impl Default for Terrain {
    fn default() -> Self {
        Terrain {
            iterations: 200,
            height: 0.12,
            width: 0.02,
            julia: None,
            extent: 3.0,
        }
    }
}

/// Twin of `FractalParams` in shaders/fractals/mandelbrot-terrain.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct TerrainUniform {
    pub julia: [f32; 4],
    pub iterations: u32,
    pub height: f32,
    pub width: f32,
    pub lipschitz: f32,
}

impl Terrain {
    fn lipschitz(&self) -> f64 {
        // The distance estimate is within a factor of 2 of the true distance: halve again.
        0.5 / (1.0 + (self.height / self.width).powi(2)).sqrt()
    }

    fn plane(&self) -> Mandelbrot {
        Mandelbrot {
            iterations: self.iterations,
            bailout: 256.0,
            julia: self.julia,
            ..Default::default()
        }
    }

    /// Terrain height at a plane point.
    pub fn height_at(&self, p: DVec2) -> f64 {
        let e = self.plane().escape(p);
        let d = if e.smooth_count.is_some() {
            e.distance
        } else {
            0.0
        };
        self.height * (-d / self.width).exp()
    }
}

impl Formula for Terrain {
    fn kind(&self) -> &'static str {
        "mandelbrot-terrain"
    }

    fn wgsl(&self) -> String {
        crate::shader!("fractals/mandelbrot-terrain.wgsl")
    }

    fn uniform_bytes(&self) -> Vec<u8> {
        let j = self.julia.unwrap_or([0.0, 0.0]);
        let u = TerrainUniform {
            julia: [
                j[0] as f32,
                j[1] as f32,
                if self.julia.is_some() { 1.0 } else { 0.0 },
                0.0,
            ],
            iterations: self.iterations as u32,
            height: self.height as f32,
            width: self.width as f32,
            lipschitz: self.lipschitz() as f32,
        };
        bytemuck::bytes_of(&u).to_vec()
    }

    fn validate(&self) -> Result<(), ParamError> {
        check_range("iterations", self.iterations as f64, 1.0, 100_000.0)?;
        check_range("height", self.height, 0.0, 10.0)?;
        check_range("width", self.width, 1e-6, 10.0)?;
        check_range("extent", self.extent, 0.1, 100.0)?;
        julia::validate(self.julia)
    }

    fn params(&self) -> Vec<(String, f64)> {
        let mut v = super::named(vec![
            ("iterations", self.iterations as f64),
            ("height", self.height),
            ("width", self.width),
            ("extent", self.extent),
        ]);
        julia::push_params(self.julia, &mut v);
        v
    }

    fn set_param(&mut self, name: &str, value: f64) -> bool {
        match name {
            "iterations" => self.iterations = value.round() as i64,
            "height" => self.height = value,
            "width" => self.width = value,
            "extent" => self.extent = value,
            _ => return julia::set_param(&mut self.julia, name, value),
        }
        true
    }

    fn fixed_toml(&self) -> String {
        julia::fixed_toml(self.kind(), self.julia)
    }

    fn clone_box(&self) -> Box<dyn Formula> {
        Box::new(self.clone())
    }

    fn family(&self) -> Family<'_> {
        Family::Volume(self)
    }
}

impl VolumeFormula for Terrain {
    fn distance(&self, p: DVec3) -> DistanceSample {
        let e = self.plane().escape(p.truncate());
        let d = if e.smooth_count.is_some() {
            e.distance
        } else {
            0.0
        };
        let h = self.height * (-d / self.width).exp();
        let band = e.smooth_count.map_or(0.0, |n| (0.1 * n).fract());
        DistanceSample {
            distance: (p.z - h) * self.lipschitz(),
            trap: band,
        }
    }

    fn bounding_radius(&self) -> f64 {
        self.extent
    }

    /// The plateau: heights are `height * exp(-d / width)`, at most `height` (and above 0);
    /// the estimate is the gap times `lipschitz`.
    fn ceiling(&self) -> Option<(f64, f64)> {
        Some((self.height.max(0.0), 1.0 / self.lipschitz()))
    }

    /// Chosen by eye on the example scene: its trap (the escape count's bands) changes more
    /// slowly across a landscape than the Mandelbulb's over its surface.
    fn trap_scale(&self) -> f64 {
        0.8
    }

    fn default_camera(&self) -> Camera {
        Camera {
            position: DVec3::new(-0.2, -1.1, 0.35),
            look_at: DVec3::new(-0.6, 0.0, 0.0),
            up: DVec3::Z,
            fov: 55.0,
            roll: 0.0,
        }
    }
}
