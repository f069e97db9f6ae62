//! When the window draws its controls again. The controls are drawn into a texture of their own
//! that the blit lays over every frame, and drawn again only when they change: on lavapipe,
//! rasterising egui's panel cost about 12 ms a frame (a fifth of a moving frame), most frames
//! for nothing new. Readouts that change every frame while flying (the frame rate, the camera)
//! are drawn again a few times a second; what the pointer or the keyboard does in the panel
//! shows at once. No winit here.

use std::time::{Duration, Instant};

/// How often changed readouts are drawn again when no one is using the controls.
pub const READOUT_PERIOD: Duration = Duration::from_millis(250);

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn changing_readouts_are_drawn_a_few_times_a_second() {
        let mut policy = RedrawPolicy::default();
        let t = Instant::now();
        policy.decide(&[0], false, false, t);
        let frame = Duration::from_millis(50);
        let drawn = (1..=40)
            .filter(|&k| policy.decide(&[k], false, false, t + frame * k))
            .count();
        // Two seconds of frames whose readout changes every frame: one drawing per period.
        assert_eq!(drawn, 8);
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
