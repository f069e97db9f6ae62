//! The 2D view of a plane fractal (the Mandelbrot set): where the image is centred, how tall it
//! is in plane units, and how it is turned. The centre keeps the decimal text it was written
//! with, so deep zooms read it at whatever precision their depth needs; the height has an
//! extended exponent, so views far below f64's range (1e-1000) are still views.

use astro_float_num::BigFloat;
use glam::DVec2;

use crate::deep::{floatexp::FloatExp, precise};

#[derive(Debug, Clone, PartialEq)]
pub struct PlaneView {
    pub center: DVec2,
    /// The centre as written (decimal strings); empty when it came from numbers.
    pub center_text: [String; 2],
    /// Height of the image in plane units.
    pub zoom: FloatExp,
    /// Degrees, counter-clockwise.
    pub rotation: f64,
}

impl Default for PlaneView {
    fn default() -> Self {
        PlaneView {
            center: DVec2::new(-0.75, 0.0),
            center_text: [String::new(), String::new()],
            zoom: FloatExp::from_f64(2.6),
            rotation: 0.0,
        }
    }
}

impl PlaneView {
    /// The plane point at the centre of pixel (x, y), row 0 at the top (largest imaginary part):
    /// the CPU twin of the shader's mapping.
    pub fn pixel_point(&self, x: u32, y: u32, width: u32, height: u32) -> DVec2 {
        let scale = self.zoom.to_f64() / height as f64;
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
        if !(self.zoom.mantissa > 0.0 && self.zoom.mantissa.is_finite()) {
            return Err((
                "zoom",
                format!(
                    "zoom must be a positive height, got {}",
                    self.zoom.to_decimal(4)
                ),
            ));
        }
        if !self.rotation.is_finite() {
            return Err(("rotation", "rotation must be finite".into()));
        }
        Ok(())
    }
}

impl PlaneView {
    /// The centre at `bits` of precision: from its decimal text where written, else from the f64.
    pub fn precise_center(&self, bits: usize) -> [BigFloat; 2] {
        let axis = |text: &str, v: f64| {
            precise::parse(text, bits).unwrap_or_else(|| precise::from_f64(v, bits))
        };
        [
            axis(&self.center_text[0], self.center.x),
            axis(&self.center_text[1], self.center.y),
        ]
    }

    /// The centre as decimal text: every digit where it was written or computed at full
    /// precision, else the f64 (which reads back exactly).
    pub fn center_strings(&self) -> [String; 2] {
        let axis = |text: &str, x: f64| {
            if text.is_empty() {
                format!("{x}")
            } else {
                text.to_string()
            }
        };
        [
            axis(&self.center_text[0], self.center.x),
            axis(&self.center_text[1], self.center.y),
        ]
    }

    /// Moves the centre by `delta` view heights (x right, y up, before rotation), keeping
    /// full precision when the view is deeper than f64 resolves.
    pub fn pan(&mut self, delta: DVec2) {
        let (s, c) = self.rotation.to_radians().sin_cos();
        let d = DVec2::new(c * delta.x - s * delta.y, s * delta.x + c * delta.y);
        if self.center_text[0].is_empty() && f64_holds(self.zoom, self.center.abs().max_element()) {
            self.center += d * self.zoom.to_f64();
            return;
        }
        let bits = precise::precision_for(self.zoom.scale(1.0 / 4096.0));
        let [x, y] = self.precise_center(bits);
        let step = |v: f64| precise::from_floatexp(self.zoom.scale(v), bits);
        let moved = [
            precise::add(&x, &step(d.x), bits),
            precise::add(&y, &step(d.y), bits),
        ];
        self.set_precise_center(&moved);
    }

    /// Sets the centre from full-precision values (keeping every digit as text).
    pub fn set_precise_center(&mut self, center: &[BigFloat; 2]) {
        self.center = DVec2::new(precise::to_f64(&center[0]), precise::to_f64(&center[1]));
        self.center_text = [
            precise::to_decimal(&center[0]),
            precise::to_decimal(&center[1]),
        ];
    }
}

/// Whether f64 places a centre of magnitude `scale` finely enough for a view `zoom` tall: to
/// a billionth of the view (f64 resolves about 4e-16 of the magnitude). Deeper, centres are
/// computed at full precision from their text.
pub fn f64_holds(zoom: FloatExp, scale: f64) -> bool {
    zoom.to_f64() > scale.max(1.0) * 1e-6
}

/// Parses a plane coordinate or zoom written as a number or a decimal string ("1e-9").
pub fn parse_real(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parses a view height of any depth ("1e-1000"); None unless positive.
pub fn parse_zoom(text: &str) -> Option<FloatExp> {
    FloatExp::parse(text).filter(|z| z.mantissa > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_mapping() {
        let v = PlaneView {
            center: DVec2::new(1.0, 2.0),
            zoom: FloatExp::from_f64(2.0),
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
