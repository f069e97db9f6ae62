//! The camera: f64 on the CPU so that deep close-ups keep their precision; the GPU gets
//! camera-relative f32 (see `gpu::uniforms`).

use glam::DVec3;

/// A pinhole camera in the world (right-handed, +Z up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub position: DVec3,
    pub look_at: DVec3,
    pub up: DVec3,
    /// Vertical field of view, degrees, in (0, 180).
    pub fov: f64,
    /// Rotation about the view direction, degrees (positive turns the image clockwise).
    pub roll: f64,
}

/// Orthonormal camera frame in world space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CameraBasis {
    pub right: DVec3,
    pub up: DVec3,
    pub forward: DVec3,
}

/// What makes a camera unusable, with the scene key it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraError {
    pub key: &'static str,
    pub message: String,
}

impl Camera {
    /// The reference view of DESIGN.md.
    pub fn reference() -> Self {
        Camera {
            position: DVec3::new(2.0, -2.0, 1.4),
            look_at: DVec3::ZERO,
            up: DVec3::Z,
            fov: 53.130,
            roll: 0.0,
        }
    }

    pub fn validate(&self) -> Result<(), CameraError> {
        let err = |key, message: String| Err(CameraError { key, message });
        for (key, v) in [
            ("position", self.position),
            ("look_at", self.look_at),
            ("up", self.up),
        ] {
            if !v.is_finite() {
                return err(key, format!("{key} must be finite, got {v}"));
            }
        }
        if !(self.fov > 0.0 && self.fov < 180.0) {
            return err(
                "fov",
                format!("fov must be in (0, 180) degrees, got {}", self.fov),
            );
        }
        if !self.roll.is_finite() {
            return err("roll", format!("roll must be finite, got {}", self.roll));
        }
        if self.up.length() == 0.0 {
            return err("up", "up must not be a zero-length vector".into());
        }
        let forward = self.look_at - self.position;
        if forward.length() == 0.0 {
            return err("look_at", "look_at must differ from position".into());
        }
        if forward.normalize().cross(self.up.normalize()).length() < 1e-9 {
            return err(
                "up",
                "up must not be parallel to the view direction (look_at - position)".into(),
            );
        }
        Ok(())
    }

    /// The camera frame, roll applied. Call on a validated camera.
    pub fn basis(&self) -> CameraBasis {
        let forward = (self.look_at - self.position).normalize();
        let right = forward.cross(self.up).normalize();
        let up = right.cross(forward);
        let (s, c) = self.roll.to_radians().sin_cos();
        CameraBasis {
            right: right * c + up * s,
            up: up * c - right * s,
            forward,
        }
    }

    /// World-space width of one pixel at unit distance along the view axis.
    pub fn pixel_footprint(&self, image_height: u32) -> f64 {
        2.0 * (self.fov.to_radians() * 0.5).tan() / image_height as f64
    }

    /// Unit direction of the ray through the centre of pixel (x, y), row 0 at the top: the CPU
    /// twin of `camera_ray` in shaders/common.wgsl.
    pub fn ray_direction(&self, x: u32, y: u32, width: u32, height: u32) -> DVec3 {
        let b = self.basis();
        let half_h = (self.fov.to_radians() * 0.5).tan();
        let half_w = half_h * width as f64 / height as f64;
        let u = (x as f64 + 0.5) / width as f64 * 2.0 - 1.0;
        let v = (y as f64 + 0.5) / height as f64 * 2.0 - 1.0;
        (b.forward + b.right * (u * half_w) - b.up * (v * half_h)).normalize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_is_orthonormal_and_right_handed() {
        let b = Camera::reference().basis();
        assert!((b.right.length() - 1.0).abs() < 1e-12);
        assert!((b.up.length() - 1.0).abs() < 1e-12);
        assert!(b.right.dot(b.up).abs() < 1e-12);
        assert!((b.right.cross(b.up) - (-b.forward)).length() < 1e-12);
        // +Z up in the world appears up on screen.
        assert!(b.up.z > 0.0);
    }

    #[test]
    fn centre_ray_looks_at_target_and_top_row_looks_up() {
        let cam = Camera::reference();
        let centre = cam.ray_direction(0, 0, 1, 1);
        assert!((centre - cam.basis().forward).length() < 1e-12);
        let top = cam.ray_direction(320, 0, 640, 360);
        assert!(top.dot(cam.basis().up) > 0.0);
    }

    #[test]
    fn roll_rotates_the_image() {
        let mut cam = Camera::reference();
        cam.roll = 90.0;
        let b = cam.basis();
        let b0 = Camera::reference().basis();
        assert!((b.up - (-b0.right)).length() < 1e-12);
    }

    #[test]
    fn rejects_impossible_cameras() {
        let mut cam = Camera::reference();
        cam.fov = 180.0;
        assert_eq!(cam.validate().unwrap_err().key, "fov");
        let mut cam = Camera::reference();
        cam.up = DVec3::ZERO;
        assert_eq!(cam.validate().unwrap_err().key, "up");
        let mut cam = Camera::reference();
        cam.look_at = cam.position;
        assert_eq!(cam.validate().unwrap_err().key, "look_at");
        let mut cam = Camera::reference();
        cam.up = cam.look_at - cam.position;
        assert_eq!(cam.validate().unwrap_err().key, "up");
    }
}
