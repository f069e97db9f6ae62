//! The 2D view of a plane fractal (the Mandelbrot set): where the image is centred, how tall it
//! is in plane units, and how it is turned. The centre keeps the decimal text it was written
//! with, so deeper zooms can read it at any precision.

use glam::DVec2;

#[derive(Debug, Clone, PartialEq)]
pub struct PlaneView {
    pub center: DVec2,
    /// The centre as written (decimal strings); empty when it came from numbers.
    pub center_text: [String; 2],
    /// Height of the image in plane units.
    pub zoom: f64,
    /// Degrees, counter-clockwise.
    pub rotation: f64,
}

impl Default for PlaneView {
    fn default() -> Self {
        PlaneView {
            center: DVec2::new(-0.75, 0.0),
            center_text: [String::new(), String::new()],
            zoom: 2.6,
            rotation: 0.0,
        }
    }
}

impl PlaneView {
    /// The plane point at the centre of pixel (x, y), row 0 at the top (largest imaginary part):
    /// the CPU twin of the shader's mapping.
    pub fn pixel_point(&self, x: u32, y: u32, width: u32, height: u32) -> DVec2 {
        let scale = self.zoom / height as f64;
        let offset = DVec2::new(
            (x as f64 + 0.5 - width as f64 * 0.5) * scale,
            (height as f64 * 0.5 - y as f64 - 0.5) * scale,
        );
        let (s, c) = self.rotation.to_radians().sin_cos();
        self.center + DVec2::new(c * offset.x - s * offset.y, s * offset.x + c * offset.y)
    }

    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.center.is_finite() {
            return Err(("center", "center must be finite".into()));
        }
        if !(self.zoom > 0.0 && self.zoom.is_finite()) {
            return Err((
                "zoom",
                format!("zoom must be a positive height, got {}", self.zoom),
            ));
        }
        if !self.rotation.is_finite() {
            return Err(("rotation", "rotation must be finite".into()));
        }
        Ok(())
    }
}

/// Parses a plane coordinate or zoom written as a number or a decimal string ("1e-9").
pub fn parse_real(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_mapping() {
        let v = PlaneView {
            center: DVec2::new(1.0, 2.0),
            zoom: 2.0,
            ..Default::default()
        };
        // The view is `zoom` tall, centred, row 0 at the top.
        let top_left = v.pixel_point(0, 0, 4, 2);
        assert!((top_left - DVec2::new(1.0 - 1.5, 2.0 + 0.5)).length() < 1e-12);
        let mut r = v.clone();
        r.rotation = 90.0;
        let p = r.pixel_point(3, 0, 4, 2) - r.center;
        assert!((p - DVec2::new(-0.5, 1.5)).length() < 1e-12, "{p}");
    }
}
