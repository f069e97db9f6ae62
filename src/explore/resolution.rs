//! How much the live window marches per frame for volume kinds: a level is the fraction of the
//! window's resolution shown while moving and the side of the block of shown pixels that one
//! marched pixel stands for (see [`crate::gpu::temporal`]); a still view shows the whole window
//! with blocks that keep the marched frame the same size. The level steps to hold a frame time,
//! but seldom: lavapipe compiles the march shader again for each new frame size (it specialises
//! on the size), which costs far more than a frame.
//! No winit here.

/// (fraction of the window's resolution shown while moving, block side), cheapest last.
pub const LEVELS: [(f64, u32); 6] = [(1.0, 1), (1.0, 2), (0.75, 2), (0.5, 2), (0.5, 3), (0.5, 4)];

/// Where CPU adapters start: half the window's resolution, a quarter of its pixels marched.
pub const CPU_LEVEL: usize = 3;
/// Where GPUs start.
pub const GPU_LEVEL: usize = 1;

/// Frames measured before each decision.
const WINDOW: usize = 20;
/// Step to a cheaper level when the median frame takes longer than this many targets...
const SLOWER: f64 = 1.25;
/// ...and to a finer one (which costs about twice as much) when it takes less than this many.
const FASTER: f64 = 0.4;

/// The history's size and block side at `level` in a `window`, moving or still.
pub fn layout(level: usize, (width, height): (u32, u32), moving: bool) -> ((u32, u32), u32) {
    let (scale, block) = LEVELS[level.min(LEVELS.len() - 1)];
    let (march_w, march_h, block) = if moving {
        // Rounded up: never less than the level's share of the window.
        let side = |s: u32| {
            ((s as f64 * scale / block as f64).ceil() as u32)
                .min(s / block)
                .max(1)
        };
        (side(width), side(height), block)
    } else {
        // The whole window, in blocks as large as keep the marched frame's size.
        let still = ((block as f64 / scale).round() as u32).max(1);
        ((width / still).max(1), (height / still).max(1), still)
    };
    ((march_w * block, march_h * block), block)
}

/// Steps the level to hold a frame time.
#[derive(Debug, Clone)]
pub struct LevelControl {
    level: usize,
    recent: Vec<f64>,
}

impl LevelControl {
    pub fn new(level: usize) -> Self {
        LevelControl {
            level: level.min(LEVELS.len() - 1),
            recent: Vec::with_capacity(WINDOW),
        }
    }

    pub fn level(&self) -> usize {
        self.level
    }

    /// Records the time of a frame that marched; returns true when the level changed.
    pub fn record(&mut self, seconds: f64, target: f64) -> bool {
        self.recent.push(seconds);
        if self.recent.len() < WINDOW {
            return false;
        }
        self.recent.sort_by(f64::total_cmp);
        let median = self.recent[WINDOW / 2];
        self.recent.clear();
        let before = self.level;
        if median > SLOWER * target {
            self.level = (self.level + 1).min(LEVELS.len() - 1);
        } else if median < FASTER * target {
            self.level = self.level.saturating_sub(1);
        }
        self.level != before
    }
}

/// Plane kinds: the rows of the next band of a full-resolution sample, from the rows of the
/// last one and the time its frame took, to hold `target` seconds a frame: at most twice or
/// half the last, in multiples of `step` (at least one), and no more than the frame's `height`.
pub fn next_band_rows(last: u32, seconds: f64, target: f64, step: u32, height: u32) -> u32 {
    let wanted = if seconds > 0.0 {
        (last as f64 * target / seconds).clamp(last as f64 / 2.0, last as f64 * 2.0)
    } else {
        last as f64 * 2.0
    };
    let steps = (wanted / step as f64).floor().max(1.0) as u32;
    (steps * step).min(height.div_ceil(step) * step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_grow_and_shrink_towards_the_frame_time() {
        // Fast frames: twice the rows, up to the whole frame (rounded up to a step).
        assert_eq!(next_band_rows(32, 0.01, 0.04, 32, 720), 64);
        assert_eq!(next_band_rows(512, 0.001, 0.04, 32, 720), 736);
        // Slow frames: half at most each time, never below one step.
        assert_eq!(next_band_rows(256, 1.0, 0.04, 32, 720), 128);
        assert_eq!(next_band_rows(32, 4.0, 0.04, 32, 720), 32);
        // On target: unchanged.
        assert_eq!(next_band_rows(96, 0.04, 0.04, 32, 720), 96);
        assert_eq!(next_band_rows(96, 0.0, 0.04, 32, 720), 192);
    }

    #[test]
    fn moving_and_still_march_the_same_size_at_half_resolution() {
        let window = (1280, 720);
        let (moving, block) = layout(CPU_LEVEL, window, true);
        assert_eq!((moving, block), ((640, 360), 2));
        let (still, still_block) = layout(CPU_LEVEL, window, false);
        assert_eq!((still, still_block), ((1280, 720), 4));
        assert_eq!(
            (moving.0 / block, moving.1 / block),
            (still.0 / still_block, still.1 / still_block)
        );
        // Every level shows at least half the window while moving, and all of it once still.
        for level in 0..LEVELS.len() {
            let ((w, h), b) = layout(level, window, true);
            assert!(
                w >= 640 && h >= 360 && w % b == 0 && h % b == 0,
                "level {level}"
            );
            let ((w, h), b) = layout(level, window, false);
            assert!(w > 1270 && h > 710 && w % b == 0, "level {level}");
        }
    }

    #[test]
    fn slow_frames_step_down_and_fast_ones_up() {
        let mut c = LevelControl::new(CPU_LEVEL);
        for _ in 0..WINDOW - 1 {
            assert!(!c.record(0.1, 0.04));
        }
        assert!(c.record(0.1, 0.04));
        assert_eq!(c.level(), CPU_LEVEL + 1);
        // On target: stays.
        for _ in 0..3 * WINDOW {
            c.record(0.04, 0.04);
        }
        assert_eq!(c.level(), CPU_LEVEL + 1);
        for _ in 0..2 * WINDOW {
            c.record(0.005, 0.04);
        }
        assert_eq!(c.level(), CPU_LEVEL - 1);
        for _ in 0..100 * WINDOW {
            c.record(1.0, 0.04);
        }
        assert_eq!(c.level(), LEVELS.len() - 1);
    }
}
