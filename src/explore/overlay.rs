//! When the window draws its controls again. The controls are drawn into a texture of their own
//! that the blit lays over every frame, and drawn again only when they change: on lavapipe,
//! rasterising egui's panel cost about 12 ms a frame (a fifth of a moving frame), most frames
//! for nothing new. Readouts that change every frame while flying (the frame rate, the camera)
//! are drawn again once a second; what the pointer or the keyboard does in the panel
//! shows at once. The blit then blends the overlay only within the rectangle the controls
//! cover ([`painted_rect`]), not at every pixel of the window. No winit here.

use std::time::{Duration, Instant};

/// How often changed readouts are drawn again when no one is using the controls: once a
/// second, as frame-rate counters do. Drawing the panel takes about 30 ms on lavapipe, so at four
/// times a second it cost about 6 ms of every moving frame.
pub const READOUT_PERIOD: Duration = Duration::from_secs(1);

/// Decides when to draw the controls (`S`: egui's shapes) again, and remembers what was drawn.
#[derive(Debug)]
pub struct RedrawPolicy<S> {
    drawn_at: Option<Instant>,
    shapes: Vec<S>,
}

impl<S> Default for RedrawPolicy<S> {
    fn default() -> Self {
        RedrawPolicy {
            drawn_at: None,
            shapes: Vec::new(),
        }
    }
}

impl<S: PartialEq + Clone> RedrawPolicy<S> {
    /// The overlay no longer holds the controls (new, resized): the next frame draws them.
    pub fn invalidate(&mut self) {
        self.drawn_at = None;
    }

    /// Whether to draw `shapes` now: never drawn, or changed and either something in the panel
    /// is in use, egui's textures changed, or the last drawing is a readout period old.
    /// Remembers them when it says yes.
    pub fn decide(
        &mut self,
        shapes: &[S],
        textures_changed: bool,
        interacting: bool,
        now: Instant,
    ) -> bool {
        let due = match self.drawn_at {
            None => true,
            Some(at) => {
                let changed = textures_changed || shapes != self.shapes.as_slice();
                changed
                    && (textures_changed
                        || interacting
                        || now.saturating_duration_since(at) >= READOUT_PERIOD)
            }
        };
        if due {
            self.drawn_at = Some(now);
            self.shapes = shapes.to_vec();
        }
        due
    }
}

/// The window pixels egui's meshes cover, each within its clip rectangle: `[x, y, width,
/// height]`, rounded out to whole pixels and clipped to the window (`size`); None when nothing
/// shows.
pub fn painted_rect(
    jobs: &[egui::ClippedPrimitive],
    pixels_per_point: f32,
    size: (u32, u32),
) -> Option<[u32; 4]> {
    let covered = jobs
        .iter()
        .map(|job| match &job.primitive {
            egui::epaint::Primitive::Mesh(mesh) => mesh.calc_bounds().intersect(job.clip_rect),
            egui::epaint::Primitive::Callback(_) => job.clip_rect,
        })
        .filter(|r| r.is_positive())
        .reduce(|a, b| a.union(b))?;
    let (w, h) = (size.0 as f32, size.1 as f32);
    let x0 = (covered.min.x * pixels_per_point).floor().clamp(0.0, w) as u32;
    let y0 = (covered.min.y * pixels_per_point).floor().clamp(0.0, h) as u32;
    let x1 = (covered.max.x * pixels_per_point).ceil().clamp(0.0, w) as u32;
    let y1 = (covered.max.y * pixels_per_point).ceil().clamp(0.0, h) as u32;
    (x1 > x0 && y1 > y0).then_some([x0, y0, x1 - x0, y1 - y0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mesh(min: (f32, f32), max: (f32, f32), clip: egui::Rect) -> egui::ClippedPrimitive {
        let mut mesh = egui::Mesh::default();
        mesh.add_colored_rect(
            egui::Rect::from_min_max(min.into(), max.into()),
            egui::Color32::WHITE,
        );
        egui::ClippedPrimitive {
            clip_rect: clip,
            primitive: egui::epaint::Primitive::Mesh(mesh),
        }
    }

    #[test]
    fn the_painted_rect_covers_every_mesh_within_its_clip() {
        let all = egui::Rect::EVERYTHING;
        let jobs = [
            mesh((10.0, 20.0), (100.5, 60.0), all),
            // Clipped to its panel: only (50..80, 50..70) shows.
            mesh(
                (50.0, 50.0),
                (300.0, 300.0),
                egui::Rect::from_min_max((0.0, 0.0).into(), (80.0, 70.0).into()),
            ),
        ];
        // Points are two pixels: rounded out to whole pixels.
        assert_eq!(
            painted_rect(&jobs, 2.0, (1280, 720)),
            Some([20, 40, 181, 100])
        );
        assert_eq!(
            painted_rect(&jobs, 1.0, (1280, 720)),
            Some([10, 20, 91, 50])
        );
    }

    #[test]
    fn the_painted_rect_stays_in_the_window_and_may_be_empty() {
        let all = egui::Rect::EVERYTHING;
        let beyond = [mesh((-50.0, -50.0), (2000.0, 30.0), all)];
        assert_eq!(
            painted_rect(&beyond, 1.0, (640, 360)),
            Some([0, 0, 640, 30])
        );
        let outside = [mesh((700.0, 10.0), (800.0, 30.0), all)];
        assert_eq!(painted_rect(&outside, 1.0, (640, 360)), None);
        assert_eq!(painted_rect(&[], 1.0, (640, 360)), None);
        let clipped_away = [mesh(
            (10.0, 10.0),
            (20.0, 20.0),
            egui::Rect::from_min_max((30.0, 30.0).into(), (40.0, 40.0).into()),
        )];
        assert_eq!(painted_rect(&clipped_away, 1.0, (640, 360)), None);
    }

    #[test]
    fn draws_at_first_and_after_invalidation() {
        let mut policy = RedrawPolicy::default();
        let t = Instant::now();
        assert!(policy.decide(&[1], false, false, t));
        assert!(!policy.decide(&[1], false, false, t));
        policy.invalidate();
        assert!(policy.decide(&[1], false, false, t));
    }

    #[test]
    fn unchanged_controls_are_not_drawn_again() {
        let mut policy = RedrawPolicy::default();
        let t = Instant::now();
        policy.decide(&[1, 2], false, false, t);
        for k in 1..10 {
            let later = t + READOUT_PERIOD * k;
            assert!(!policy.decide(&[1, 2], false, true, later));
        }
    }

    #[test]
    fn changing_readouts_are_drawn_once_a_second() {
        let mut policy = RedrawPolicy::default();
        let t = Instant::now();
        policy.decide(&[0], false, false, t);
        let frame = Duration::from_millis(50);
        let drawn = (1..=40)
            .filter(|&k| policy.decide(&[k], false, false, t + frame * k))
            .count();
        // Two seconds of frames whose readout changes every frame: one drawing per period.
        assert_eq!(drawn, 2);
    }

    #[test]
    fn a_throttled_change_is_drawn_once_its_period_is_over() {
        let mut policy = RedrawPolicy::default();
        let t = Instant::now();
        policy.decide(&[0], false, false, t);
        assert!(!policy.decide(&[1], false, false, t + READOUT_PERIOD / 2));
        // Nothing changes any more, but what is shown is still the old readout.
        assert!(policy.decide(&[1], false, false, t + READOUT_PERIOD));
        assert!(!policy.decide(&[1], false, false, t + READOUT_PERIOD * 3));
    }

    #[test]
    fn using_the_panel_or_new_textures_draw_at_once() {
        let mut policy = RedrawPolicy::default();
        let t = Instant::now();
        policy.decide(&[0], false, false, t);
        let soon = t + Duration::from_millis(1);
        assert!(policy.decide(&[1], false, true, soon));
        assert!(policy.decide(&[1], true, false, soon));
    }
}
