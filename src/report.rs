//! Status output that `-q/--quiet` silences: "wrote ..." lines and progress. Data asked for
//! (reports, CSV, JSON) and errors are never silenced.

use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `println!` unless quiet.
#[macro_export]
macro_rules! status {
    ($($arg:tt)*) => {
        if !$crate::report::quiet() {
            println!($($arg)*);
        }
    };
}

/// `n frame` or `n frames`.
pub fn frames(n: u64) -> String {
    if n == 1 {
        "1 frame".into()
    } else {
        format!("{n} frames")
    }
}

/// A rate with three significant digits ("0.812", "14.2", "356").
pub fn rate(per_second: f64) -> String {
    match per_second {
        r if r >= 100.0 => format!("{r:.0}"),
        r if r >= 10.0 => format!("{r:.1}"),
        r if r >= 1.0 => format!("{r:.2}"),
        r => format!("{r:.3}"),
    }
}

/// Seconds as `m:ss` or `h:mm:ss`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The rate over the last `window` seconds: frames get slower in a dive, and an ETA from the
/// average since the start would stay too hopeful.
#[derive(Debug, Clone)]
pub struct RecentRate {
    window: f64,
    /// (seconds since start, frames done), oldest first.
    points: std::collections::VecDeque<(f64, u64)>,
}

impl RecentRate {
    pub fn new(window: f64) -> Self {
        RecentRate {
            window,
            points: [(0.0, 0)].into(),
        }
    }

    /// Records `done` frames at `t` seconds; returns frames per second over the window.
    pub fn update(&mut self, t: f64, done: u64) -> f64 {
        self.points.push_back((t, done));
        // Keep one point at or before the window's start.
        while self.points.len() > 2 && self.points[1].0 <= t - self.window {
            self.points.pop_front();
        }
        let (t0, d0) = self.points[0];
        (done - d0) as f64 / (t - t0).max(1e-9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_durations_read_well() {
        assert_eq!(rate(0.81234), "0.812");
        assert_eq!(rate(1.4235), "1.42");
        assert_eq!(rate(14.23), "14.2");
        assert_eq!(rate(356.4), "356");
        assert_eq!(duration(65.0), "1:05");
        assert_eq!(duration(3725.0), "1:02:05");
    }

    #[test]
    fn the_rate_follows_recent_frames() {
        let mut r = RecentRate::new(10.0);
        // 10 frames a second for 60 s, then 1 a second (a dive into detail).
        for s in 1..=60 {
            r.update(s as f64, s * 10);
        }
        let mut last = 0.0;
        for s in 61..=80u64 {
            last = r.update(s as f64, 600 + (s - 60));
        }
        assert!((last - 1.0).abs() < 1e-9, "{last}");
    }

    #[test]
    fn one_frame_is_singular() {
        assert_eq!(super::frames(1), "1 frame");
        assert_eq!(super::frames(0), "0 frames");
        assert_eq!(super::frames(2), "2 frames");
    }
}
