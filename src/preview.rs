//! A flight's preview (`mandelfly path preview`): the flight drawn over the fractal, seen from above (left panel,
//! +X right, +Y up) and from the side (right panel, +X right, +Z up). The fractal is rendered
//! by the GPU renderer through a distant, narrow camera, which is as good as orthographic.

use glam::{DVec2, DVec3};

use crate::camera::Camera;
use crate::error::Result;
use crate::frame::Passes;
use crate::gpu::renderer::Renderer;
use crate::path::CameraPath;
use crate::scene::Scene;

/// Distance of the panel cameras: far enough that perspective is negligible.
const VIEW_DISTANCE: f64 = 1000.0;

/// One panel's projection: world point to pixel.
struct Panel {
    /// World axes shown as the panel's x and y (y up on screen).
    axes: (DVec3, DVec3),
    centre: DVec2,
    /// Pixels per scene unit.
    scale: f64,
    origin_px: u32,
    size: u32,
}

impl Panel {
    fn project(&self, p: DVec3) -> DVec2 {
        let q = DVec2::new(p.dot(self.axes.0), p.dot(self.axes.1)) - self.centre;
        DVec2::new(
            self.origin_px as f64 + self.size as f64 * 0.5 + q.x * self.scale,
            self.size as f64 * 0.5 - q.y * self.scale,
        )
    }
}

/// An RGB canvas with the few drawing operations the preview needs.
struct Canvas {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Canvas {
    fn blend(&mut self, x: i64, y: i64, color: [u8; 3], alpha: f64) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        for (dst, src) in self.rgb[i..i + 3].iter_mut().zip(color) {
            *dst = (*dst as f64 * (1.0 - alpha) + src as f64 * alpha).round() as u8;
        }
    }

    /// A soft round dot (anti-aliased edge).
    fn dot(&mut self, centre: DVec2, radius: f64, color: [u8; 3]) {
        let r = radius.ceil() as i64 + 1;
        let (cx, cy) = (centre.x.floor() as i64, centre.y.floor() as i64);
        for y in cy - r..=cy + r {
            for x in cx - r..=cx + r {
                let d = DVec2::new(x as f64 + 0.5, y as f64 + 0.5).distance(centre);
                let alpha = (radius + 0.5 - d).clamp(0.0, 1.0);
                if alpha > 0.0 {
                    self.blend(x, y, color, alpha);
                }
            }
        }
    }

    fn line(&mut self, a: DVec2, b: DVec2, width: f64, color: [u8; 3]) {
        let steps = (a.distance(b) * 2.0).ceil().max(1.0) as usize;
        for i in 0..=steps {
            self.dot(a.lerp(b, i as f64 / steps as f64), width * 0.5, color);
        }
    }
}

/// Colour along the flight: from cyan at the start to orange at the end.
fn time_color(u: f64) -> [u8; 3] {
    let a = DVec3::new(60.0, 200.0, 255.0);
    let b = DVec3::new(255.0, 150.0, 40.0);
    let c = a.lerp(b, u.clamp(0.0, 1.0));
    [c.x as u8, c.y as u8, c.z as u8]
}

/// The smallest preview (width, height): two panels of at least 16 pixels.
pub const MIN_SIZE: (u32, u32) = (32, 16);

/// Draws the preview; returns RGB8 pixels of `width` x `height`.
pub fn draw(
    path: &CameraPath,
    renderer: &mut Renderer,
    width: u32,
    height: u32,
) -> Result<Vec<u8>> {
    let samples = 2000;
    let points: Vec<DVec3> = (0..=samples)
        .map(|i| {
            path.sample(path.duration() * i as f64 / samples as f64)
                .camera
                .position
        })
        .collect();
    let radius = path
        .file
        .base
        .fractal
        .volume()
        .map_or(2.0, |v| v.bounding_radius());
    let panel_size = (width / 2).min(height).max(1);
    let mut canvas = Canvas {
        width,
        height,
        rgb: vec![18; width as usize * height as usize * 3],
    };

    let views = [
        (DVec3::X, DVec3::Y, DVec3::Z),
        (DVec3::X, DVec3::Z, -DVec3::Y),
    ];
    for (index, (ax, ay, towards_viewer)) in views.into_iter().enumerate() {
        // Frame the path and the fractal's bounding sphere with a margin.
        let mut lo = DVec2::splat(-radius);
        let mut hi = DVec2::splat(radius);
        for p in &points {
            let q = DVec2::new(p.dot(ax), p.dot(ay));
            lo = lo.min(q);
            hi = hi.max(q);
        }
        let extent = (hi - lo).max_element() * 1.1;
        let panel = Panel {
            axes: (ax, ay),
            centre: (lo + hi) * 0.5,
            scale: panel_size as f64 / extent,
            origin_px: index as u32 * panel_size,
            size: panel_size,
        };

        // The fractal, from a distant camera on the viewer's side of the panel plane.
        let centre3 = ax * panel.centre.x + ay * panel.centre.y;
        let mut scene = Scene {
            plane: path.file.base.plane.clone(),
            fractal: path.file.base.fractal.clone(),
            camera: Camera {
                position: centre3 + towards_viewer * VIEW_DISTANCE,
                look_at: centre3,
                up: ay,
                fov: 2.0 * (extent * 0.5 / VIEW_DISTANCE).atan().to_degrees(),
                roll: 0.0,
            },
            look: path.file.base.look.clone(),
        };
        scene.look.background = [0.07, 0.07, 0.08];
        scene.look.shadows = false;
        scene.look.light_direction = (towards_viewer + ay * 0.6 + ax * 0.3).to_array();
        let frame = renderer.render(&scene, panel_size, panel_size, Passes::COLOR)?;
        for y in 0..panel_size.min(height) {
            // Clipped to the canvas whatever the size.
            for x in 0..panel_size.min(width.saturating_sub(panel.origin_px)) {
                let src = ((y * panel_size + x) * 4) as usize;
                let dst = ((y * width + panel.origin_px + x) * 3) as usize;
                canvas.rgb[dst..dst + 3].copy_from_slice(&frame.color[src..src + 3]);
            }
        }

        // The flight, coloured by time; keys as white dots, the start larger.
        for (i, pair) in points.windows(2).enumerate() {
            let u = i as f64 / samples as f64;
            canvas.line(
                panel.project(pair[0]),
                panel.project(pair[1]),
                2.5,
                time_color(u),
            );
        }
        for (i, key) in path.file.keys.iter().enumerate() {
            let p = path.sample(key.time).camera.position;
            let r = if i == 0 { 6.0 } else { 4.5 };
            canvas.dot(panel.project(p), r + 1.5, [0, 0, 0]);
            canvas.dot(panel.project(p), r, [255, 255, 255]);
        }
        // The direction of view at the start, as a short stroke.
        let start = path.sample(0.0).camera;
        let a = panel.project(start.position);
        let b = panel.project(start.position + start.basis().forward * (24.0 / panel.scale));
        canvas.line(a, b, 2.0, [255, 255, 255]);
    }
    // A thin divider between the panels.
    for y in 0..height {
        canvas.blend(panel_size as i64, y as i64, [90, 90, 90], 1.0);
    }
    Ok(canvas.rgb)
}
