//! Flying the camera: plain input in, camera out. No winit here, so tests can fly it.
//!
//! Speed scales with the distance estimate at the camera, so one flight goes from the overview
//! into microscopic detail without touching the speed; a step never covers more than a
//! fraction of that distance, so the camera never passes into the fractal.

use glam::{DQuat, DVec3};

use crate::camera::Camera;
use crate::fractal::Formula;

/// Keys and pointer motion since the last frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FlyInput {
    pub forward: bool,
    pub back: bool,
    pub left: bool,
    pub right: bool,
    pub up: bool,
    pub down: bool,
    pub roll_left: bool,
    pub roll_right: bool,
    /// Pointer motion in pixels (looking around).
    pub look: [f64; 2],
    /// Scroll steps: up speeds up, down slows down.
    pub scroll: f64,
}

impl FlyInput {
    pub fn moving(&self) -> bool {
        self.forward
            || self.back
            || self.left
            || self.right
            || self.up
            || self.down
            || self.roll_left
            || self.roll_right
            || self.look != [0.0, 0.0]
    }
}

/// The flying camera's state.
#[derive(Debug, Clone, PartialEq)]
pub struct FlyController {
    pub position: DVec3,
    /// Camera-to-world rotation (forward = +Y, up = +Z in camera space).
    pub orientation: DQuat,
    pub fov: f64,
    /// Multiplies the distance-scaled speed (the scroll wheel changes it).
    pub speed: f64,
    /// Radians of turn per pixel of pointer motion.
    pub look_sensitivity: f64,
}

/// A step may cover at most this fraction of the distance to the surface.
const SAFE_FRACTION: f64 = 0.5;
/// Degrees of roll per second.
const ROLL_RATE: f64 = 60.0;

impl FlyController {
    pub fn new(camera: &Camera) -> Self {
        let b = camera.basis();
        FlyController {
            position: camera.position,
            orientation: DQuat::from_mat3(&glam::DMat3::from_cols(b.right, b.forward, b.up))
                .normalize(),
            fov: camera.fov,
            speed: 1.0,
            look_sensitivity: 0.003,
        }
    }

    pub fn camera(&self) -> Camera {
        let forward = self.orientation * DVec3::Y;
        Camera {
            position: self.position,
            look_at: self.position + forward,
            up: self.orientation * DVec3::Z,
            fov: self.fov,
            roll: 0.0,
        }
    }

    /// Advances by `dt` seconds of `input` around `fractal`; returns true when the view changed.
    pub fn update(&mut self, input: &FlyInput, dt: f64, fractal: &dyn Formula) -> bool {
        if input.scroll != 0.0 {
            self.speed = (self.speed * 1.25f64.powf(input.scroll)).clamp(1e-3, 1e3);
        }
        let mut changed = false;
        if input.look != [0.0, 0.0] {
            // Yaw about the camera's own up and pitch about its right: no gimbal lock.
            let yaw = DQuat::from_rotation_z(-input.look[0] * self.look_sensitivity);
            let pitch = DQuat::from_rotation_x(-input.look[1] * self.look_sensitivity);
            self.orientation = (self.orientation * yaw * pitch).normalize();
            changed = true;
        }
        let roll = (input.roll_right as i32 - input.roll_left as i32) as f64;
        if roll != 0.0 {
            let r = DQuat::from_rotation_y((roll * ROLL_RATE * dt).to_radians());
            self.orientation = (self.orientation * r).normalize();
            changed = true;
        }
        let axis = |a: bool, b: bool| (a as i32 - b as i32) as f64;
        let local = DVec3::new(
            axis(input.right, input.left),
            axis(input.forward, input.back),
            axis(input.up, input.down),
        );
        if local != DVec3::ZERO {
            let distance = fractal
                .volume()
                .map_or(f64::INFINITY, |v| v.distance(self.position).distance);
            // Inside already (a scene may start there): crawl, but let the user back out.
            let reach = if distance.is_finite() && distance > 0.0 {
                distance
            } else if distance.is_finite() {
                1e-6
            } else {
                // No distance (plane kinds): a fixed pace.
                1.0
            };
            let dir = (self.orientation * local).normalize();
            let step = (reach * self.speed * dt).min(reach * SAFE_FRACTION);
            self.position += dir * step;
            changed = true;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fractal::VolumeFormula;
    use crate::fractal::mandelbulb::Mandelbulb;

    fn forward() -> FlyInput {
        FlyInput {
            forward: true,
            ..Default::default()
        }
    }

    #[test]
    fn starts_where_the_camera_is_and_looks_the_same_way() {
        let cam = Camera::reference();
        let c = FlyController::new(&cam).camera();
        assert!((c.position - cam.position).length() < 1e-12);
        assert!((c.basis().forward - cam.basis().forward).length() < 1e-9);
        assert!((c.basis().up - cam.basis().up).length() < 1e-9);
    }

    #[test]
    fn flies_into_detail_without_entering() {
        let bulb = Mandelbulb::default();
        let mut c = FlyController::new(&Camera::reference());
        let start = bulb.distance(c.position).distance;
        // Ten seconds of holding "forward" at 60 frames a second, straight at the bulb.
        for _ in 0..600 {
            c.update(&forward(), 1.0 / 60.0, &bulb);
            assert!(
                bulb.distance(c.position).distance > 0.0,
                "entered the fractal"
            );
        }
        let end = bulb.distance(c.position).distance;
        // Exponentially closer: the speed follows the distance down.
        assert!(end < start / 100.0, "got close: {start} -> {end}");
        // The speed fell with the distance: the last step was tiny.
        let before = c.position;
        c.update(&forward(), 1.0 / 60.0, &bulb);
        assert!(before.distance(c.position) < end);
    }

    #[test]
    fn scroll_changes_speed_and_look_turns() {
        let bulb = Mandelbulb::default();
        let mut a = FlyController::new(&Camera::reference());
        let mut b = a.clone();
        b.update(
            &FlyInput {
                scroll: 4.0,
                ..Default::default()
            },
            0.0,
            &bulb,
        );
        assert!(b.speed > 2.0);
        a.update(&forward(), 0.1, &bulb);
        b.update(&forward(), 0.1, &bulb);
        let start = Camera::reference().position;
        assert!(b.position.distance(start) > a.position.distance(start));

        let mut c = FlyController::new(&Camera::reference());
        let f0 = c.camera().basis().forward;
        assert!(c.update(
            &FlyInput {
                look: [100.0, 0.0],
                ..Default::default()
            },
            0.016,
            &bulb
        ));
        let f1 = c.camera().basis().forward;
        assert!(f0.dot(f1) < 0.99 && (c.camera().basis().up.length() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn roll_keys_roll() {
        let bulb = Mandelbulb::default();
        let mut c = FlyController::new(&Camera::reference());
        let up0 = c.camera().basis().up;
        let f0 = c.camera().basis().forward;
        c.update(
            &FlyInput {
                roll_right: true,
                ..Default::default()
            },
            0.5,
            &bulb,
        );
        let b = c.camera().basis();
        assert!(
            (b.forward - f0).length() < 1e-9,
            "roll keeps the view direction"
        );
        assert!(b.up.dot(up0) < 0.99);
    }
}
