//! What the window measures of itself: frame times, input latency and the resolution shown,
//! as recent figures for the panel and whole-run figures for `--verbose`. No winit here.
//! [`Percentiles`] also summarises a rendered flight's frame intervals (`crate::flight`).

use std::collections::VecDeque;

/// Frames the panel's figures cover.
const RECENT: usize = 120;

/// Median, 95th and 99th percentile of a set of durations (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles; zeros for no values.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut v: Vec<f64> = values.into_iter().collect();
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Percentiles {
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
        }
    }

    /// In milliseconds, for people.
    pub fn millis(&self) -> String {
        format!(
            "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            self.p50 * 1e3,
            self.p95 * 1e3,
            self.p99 * 1e3
        )
    }
}

/// One frame as measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameRecord {
    /// Seconds since the previous frame started.
    pub interval: f64,
    /// Seconds from reading the input to the GPU finishing the frame that shows it.
    pub latency: f64,
    /// Fraction of the window's width (and height) shown.
    pub scale: f64,
    /// Fraction of the window's pixels marched (or iterated) this frame.
    pub marched: f64,
}

/// Frame records: the recent ones, and all since the warm-up.
#[derive(Debug, Clone, Default)]
pub struct FrameStats {
    recent: VecDeque<FrameRecord>,
    all: Vec<FrameRecord>,
}

impl FrameStats {
    pub fn push(&mut self, record: FrameRecord, counted: bool) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(record);
        if counted {
            self.all.push(record);
        }
    }

    pub fn recent(&self) -> Summary {
        Summary::of(self.recent.iter())
    }

    /// Every frame counted (those after the warm-up).
    pub fn whole_run(&self) -> Summary {
        Summary::of(self.all.iter())
    }
}

/// Frame rate, frame times, latency and resolution over some frames.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    pub frames: usize,
    pub fps: f64,
    pub frame_time: Percentiles,
    pub latency: Percentiles,
    /// The least and the median fraction of the window's resolution shown.
    pub min_scale: f64,
    pub median_scale: f64,
    /// The median fraction of the window's pixels marched per frame.
    pub median_marched: f64,
}

impl Summary {
    fn of<'a>(records: impl Iterator<Item = &'a FrameRecord> + Clone) -> Self {
        let frames = records.clone().count();
        if frames == 0 {
            return Summary::default();
        }
        let total: f64 = records.clone().map(|r| r.interval).sum();
        let scales = Percentiles::of(records.clone().map(|r| r.scale));
        Summary {
            frames,
            fps: frames as f64 / total.max(1e-9),
            frame_time: Percentiles::of(records.clone().map(|r| r.interval)),
            latency: Percentiles::of(records.clone().map(|r| r.latency)),
            min_scale: records
                .clone()
                .map(|r| r.scale)
                .fold(f64::INFINITY, f64::min),
            median_scale: scales.p50,
            median_marched: Percentiles::of(records.map(|r| r.marched)).p50,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let p = Percentiles::of((1..=100).map(f64::from));
        assert_eq!((p.p50, p.p95, p.p99), (50.0, 95.0, 99.0));
        let one = Percentiles::of([0.25]);
        assert_eq!((one.p50, one.p99), (0.25, 0.25));
        assert_eq!(Percentiles::of([]), Percentiles::default());
    }

    #[test]
    fn the_run_counts_frames_after_the_warm_up_and_the_panel_recent_ones() {
        let mut s = FrameStats::default();
        let record = |interval, scale| FrameRecord {
            interval,
            latency: interval,
            scale,
            marched: scale * scale / 4.0,
        };
        s.push(record(1.0, 0.25), false);
        for _ in 0..200 {
            s.push(record(0.05, 0.5), true);
        }
        s.push(record(0.1, 1.0), true);
        let run = s.whole_run();
        assert_eq!(run.frames, 201);
        assert!((run.fps - 201.0 / 10.1).abs() < 1e-9);
        assert_eq!(run.frame_time.p50, 0.05);
        assert_eq!(run.frame_time.p99, 0.05);
        assert_eq!((run.min_scale, run.median_scale), (0.5, 0.5));
        assert_eq!(run.median_marched, 0.0625);
        assert_eq!(s.recent().frames, RECENT);
        assert_eq!(s.recent().latency.p50, 0.05);
    }
}
