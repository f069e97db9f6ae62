//! The flight loop: the frames of a camera path (fps, range, samples, shutter) rendered in order
//! and handed to a [`FrameSink`]. Frames are pipelined where they fit one GPU piece: frame k+1
//! renders while frame k is read back and the sink (an encoder thread, a PNG writer) works on
//! the frames before it. A stop request ends the loop after the frames already on the GPU, and
//! the sink is finished as interrupted; an error finishes it as failed.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::colouring::CountScale;
use crate::error::Result;
use crate::explore::stats::Percentiles;
use crate::frame::{ColorFormat, Frame, Readout, Sample, sample_jitter};
use crate::gpu::renderer::Renderer;
use crate::path::CameraPath;
use crate::scene::Scene;
use crate::sink::{Finished, FrameSink, Outcome};

/// Most shards of one flight (segment names have four digits).
pub const MAX_SHARDS: u32 = 9999;

/// What every frame of a render shares.
pub struct FramePlan<'a> {
    pub path: &'a CameraPath,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    pub samples: u32,
    /// Fraction of the frame interval the shutter is open (motion blur), in [0, 1].
    pub shutter: f64,
}

impl FramePlan<'_> {
    /// The scenes of frame k's samples: spread over the shutter interval (centred on k / fps)
    /// for motion blur, each with its own sub-pixel offset.
    pub fn scenes(&self, k: u64) -> Vec<(Scene, [f32; 2])> {
        let t = k as f64 / self.fps;
        let n = self.samples;
        (0..n)
            .map(|i| {
                let mut ti = t;
                if self.shutter > 0.0 && n > 1 {
                    ti += self.shutter / self.fps * ((i as f64 + 0.5) / n as f64 - 0.5);
                }
                if !self.path.is_loop() {
                    ti = ti.clamp(0.0, self.path.duration());
                }
                (self.path.sample(ti), sample_jitter(i, n))
            })
            .collect()
    }

    /// The time at which frame k reads the count track: its own time, wrapped round a loop.
    pub fn track_time(&self, k: u64) -> f64 {
        let t = k as f64 / self.fps;
        let duration = self.path.duration();
        if self.path.is_loop() && duration > 0.0 {
            t.rem_euclid(duration)
        } else {
            t
        }
    }

    /// Frames in the whole flight.
    pub fn frame_count(&self) -> u64 {
        self.path.frame_count(self.fps)
    }
}

/// Seconds of flight between two measurements of a plane path's counts.
const COUNT_INTERVAL: f64 = 0.5;
/// Most measurements of one path.
const MAX_COUNT_KEYS: usize = 129;

/// A plane path's count scales keyed along it: at evenly spaced times of the whole path (the
/// same times whatever frames one render or shard makes), interpolated between, so the palette
/// follows a zoom smoothly and never re-normalises frame by frame (see [`crate::colouring`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CountTrack {
    /// (time, scale), ascending in time.
    keys: Vec<(f64, CountScale)>,
}

impl CountTrack {
    /// The track of a plane path whose look gives no `count_range`, for rendering `frames`; None
    /// for other paths. Only the keys those frames read are measured: the keys of the whole
    /// track's times that lie among theirs, and beyond them on each side the nearest key whose
    /// view escapes somewhere (views that escape nowhere have no key). So each frame gets the
    /// scale the whole track gives it, a shard costs what its frames need, and a short excerpt
    /// of a deep zoom does not measure the whole dive first.
    pub fn measure(
        plan: &FramePlan<'_>,
        renderer: &mut Renderer,
        frames: Range<u64>,
    ) -> Result<Option<CountTrack>> {
        let first = plan.path.sample(0.0);
        if !first.fractal.is_plane() || first.look.count_range.is_some() {
            return Ok(None);
        }
        let duration = plan.path.duration();
        let n = ((duration / COUNT_INTERVAL).ceil() as usize + 1).clamp(2, MAX_COUNT_KEYS);
        let time = |i: usize| duration * i as f64 / (n - 1) as f64;
        let mut measure = |i: usize| -> Result<Option<(f64, CountScale)>> {
            let scene = plan.path.sample(time(i));
            Ok(renderer
                .measure_counts(&scene, plan.width, plan.height)?
                .map(|scale| (time(i), scale)))
        };
        let (low, high) = key_span(plan, &frames, n);
        let mut keys = Vec::new();
        for i in low..=high {
            keys.extend(measure(i)?);
        }
        if keys.first().is_none_or(|(t, _)| *t > time(low)) {
            for i in (0..low).rev() {
                if let Some(key) = measure(i)? {
                    keys.insert(0, key);
                    break;
                }
            }
        }
        if keys.last().is_none_or(|(t, _)| *t < time(high)) {
            for i in high + 1..n {
                if let Some(key) = measure(i)? {
                    keys.push(key);
                    break;
                }
            }
        }
        // A path that escapes nowhere shows only the set: any scale will do.
        if keys.is_empty() {
            keys.push((0.0, CountScale::fixed(0.0, 1.0)));
        }
        Ok(Some(CountTrack { keys }))
    }

    /// How many keys were measured (views that escape nowhere have none).
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// The scale at time `t` (held beyond the ends).
    pub fn at(&self, t: f64) -> CountScale {
        let i = self.keys.partition_point(|(kt, _)| *kt <= t);
        if i == 0 {
            return self.keys[0].1;
        }
        if i == self.keys.len() {
            return self.keys[i - 1].1;
        }
        let (t0, a) = &self.keys[i - 1];
        let (t1, b) = &self.keys[i];
        a.mix(b, (t - t0) / (t1 - t0))
    }

    /// Sets the scale of a frame's scenes (those without a `count_range` of their own).
    pub fn apply(&self, t: f64, scenes: &mut [(Scene, [f32; 2])]) {
        let scale = self.at(t);
        for (scene, _) in scenes {
            if scene.look.count_range.is_none() {
                scene.look.measured_counts = Some(scale);
            }
        }
    }
}

/// The first and last of a track's `n` key indices whose times bracket the times at which
/// `frames` read the track ([`FramePlan::track_time`]).
fn key_span(plan: &FramePlan<'_>, frames: &Range<u64>, n: usize) -> (usize, usize) {
    let duration = plan.path.duration();
    let whole = (0, n - 1);
    if frames.is_empty() || duration <= 0.0 || !duration.is_finite() {
        return whole;
    }
    let (from, to) = (
        plan.track_time(frames.start),
        plan.track_time(frames.end - 1),
    );
    // Frames that wrap round a loop read its end and its start.
    let span = (frames.end - 1 - frames.start) as f64 / plan.fps;
    if from > to || span >= duration {
        return whole;
    }
    // One key more on each side than the times need, against rounding in the key times.
    let at = |t: f64| t.clamp(0.0, duration) / duration * (n - 1) as f64;
    let low = (at(from).floor() as usize).saturating_sub(1);
    let high = (at(to).ceil() as usize + 1).min(n - 1);
    (low.min(high), high)
}

/// The samples of a frame, borrowing its scenes.
pub fn as_samples(scenes: &[(Scene, [f32; 2])]) -> Vec<Sample<'_>> {
    scenes
        .iter()
        .map(|(scene, jitter)| Sample {
            scene,
            jitter: *jitter,
        })
        .collect()
}

/// How a flight ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FlightReport {
    /// Frames handed to the sink.
    pub frames: u64,
    /// Stopped before the last planned frame.
    pub interrupted: bool,
    /// What the sink left behind.
    pub output: Finished,
    /// Where the wall time went.
    pub times: FlightTimes,
}

/// Where a flight's wall time went (for `--verbose`): the phases run one after another on
/// the calling thread, while the GPU works on the frame in flight.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlightTimes {
    /// Measuring the path's count scales before the first frame.
    pub measure: Duration,
    /// Preparing and submitting frames (for the zoom map, computing the chunks they show).
    pub submit: Duration,
    /// Waiting for frames to finish on the GPU and reading them back.
    pub collect: Duration,
    /// Handing frames to the sink (encoding, writing).
    pub sink: Duration,
    /// The time from one frame's turn of the loop to the next's.
    pub intervals: FrameIntervals,
}

/// The times between successive frames of a flight, for their median: frames that also did
/// work once (a zoom map's chunks, the first frame's reference orbit) stand out above it, so
/// the median is what each further frame costs. Bounded: once [`FrameIntervals::KEPT`] are
/// kept, every other one is dropped and from then on only every other interval is kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameIntervals {
    kept: Vec<f32>,
    /// Intervals seen (kept or not), and every how many one is kept (0: 1).
    seen: u64,
    stride: u64,
}

impl FrameIntervals {
    pub const KEPT: usize = 1 << 16;

    pub fn push(&mut self, interval: Duration) {
        let stride = self.stride.max(1);
        if self.seen.is_multiple_of(stride) {
            self.kept.push(interval.as_secs_f32());
            if self.kept.len() >= Self::KEPT {
                let mut i = 0;
                self.kept.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride = 2 * stride;
            }
        }
        self.seen += 1;
    }

    /// The intervals seen.
    pub fn count(&self) -> u64 {
        self.seen
    }

    /// The median, 95th and 99th percentile of the kept intervals, in seconds (None before
    /// the second frame).
    pub fn percentiles(&self) -> Option<Percentiles> {
        (!self.kept.is_empty()).then(|| Percentiles::of(self.kept.iter().map(|&t| t as f64)))
    }
}

impl std::fmt::Display for FlightTimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "flight time: {:.2} s measuring counts, {:.2} s preparing and submitting frames, \
             {:.2} s waiting for the GPU and reading back, {:.2} s in the sink",
            self.measure.as_secs_f64(),
            self.submit.as_secs_f64(),
            self.collect.as_secs_f64(),
            self.sink.as_secs_f64()
        )?;
        if let Some(p) = self.intervals.percentiles() {
            write!(
                f,
                "\nframe interval: median {:.4} s (p95 {:.4} s, p99 {:.4} s, {} intervals)",
                p.p50,
                p.p95,
                p.p99,
                self.intervals.count()
            )?;
        }
        Ok(())
    }
}

/// Renders `frames` of the plan into `sink` and finishes it. `on_frame(done)` is called after
/// each frame the sink took; `stop` is polled before each frame. A flight stopped before its
/// first frame finishes the sink as failed: it leaves nothing.
pub fn fly(
    plan: &FramePlan<'_>,
    renderer: &mut Renderer,
    sink: &mut dyn FrameSink,
    frames: Range<u64>,
    stop: &AtomicBool,
    on_frame: &mut dyn FnMut(u64),
) -> Result<FlightReport> {
    let planned = frames.end.saturating_sub(frames.start);
    let mut times = FlightTimes::default();
    match render_frames(plan, renderer, sink, frames, stop, on_frame, &mut times) {
        Ok(done) => {
            let interrupted = done < planned;
            let outcome = match (interrupted, done) {
                (false, _) => Outcome::Complete,
                // Stopped before the first frame: nothing worth keeping.
                (true, 0) => Outcome::Failed,
                (true, _) => Outcome::Interrupted,
            };
            Ok(FlightReport {
                frames: done,
                interrupted,
                output: sink.finish(outcome)?,
                times,
            })
        }
        Err(e) => {
            let _ = sink.finish(Outcome::Failed);
            Err(e)
        }
    }
}

fn render_frames(
    plan: &FramePlan<'_>,
    renderer: &mut Renderer,
    sink: &mut dyn FrameSink,
    frames: Range<u64>,
    stop: &AtomicBool,
    on_frame: &mut dyn FnMut(u64),
    times: &mut FlightTimes,
) -> Result<u64> {
    let single = renderer.max_single_tile(plan.samples);
    let pipelined = plan.width <= single && plan.height <= single;
    let mut readout = sink.readout();
    if !pipelined && matches!(readout.color, ColorFormat::Yuv(_)) {
        // Too large to convert in one piece: the sink takes 8-bit RGB and converts it itself.
        readout = Readout {
            color: ColorFormat::Srgb8,
            ..readout
        };
    }
    let started = Instant::now();
    let track = CountTrack::measure(plan, renderer, frames.clone())?;
    times.measure = started.elapsed();
    let mut in_flight = VecDeque::new();
    let mut done = 0;
    let mut sink_time = Duration::ZERO;
    let mut deliver = |k: u64, frame: Frame, done: &mut u64| -> Result<()> {
        let started = Instant::now();
        sink.push(k, frame)?;
        sink_time += started.elapsed();
        *done += 1;
        on_frame(*done);
        Ok(())
    };
    let mut turn_ended: Option<Instant> = None;
    for k in frames {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let mut scenes = plan.scenes(k);
        if let Some(track) = &track {
            track.apply(plan.track_time(k), &mut scenes);
        }
        let samples = as_samples(&scenes);
        let started = Instant::now();
        if pipelined {
            in_flight.push_back((
                k,
                renderer.submit(&samples, plan.width, plan.height, readout)?,
            ));
            times.submit += started.elapsed();
            if in_flight.len() >= 2 {
                let (k, pending) = in_flight.pop_front().expect("two in flight");
                let started = Instant::now();
                let frame = renderer.collect(pending)?;
                times.collect += started.elapsed();
                deliver(k, frame, &mut done)?;
            }
        } else {
            let frame = renderer.render_samples(&samples, plan.width, plan.height, readout)?;
            times.submit += started.elapsed();
            deliver(k, frame, &mut done)?;
        }
        let now = Instant::now();
        if let Some(then) = turn_ended {
            times.intervals.push(now - then);
        }
        turn_ended = Some(now);
    }
    // Frames already on the GPU are finished even when stopping: they are nearly done.
    while let Some((k, pending)) = in_flight.pop_front() {
        let started = Instant::now();
        let frame = renderer.collect(pending)?;
        times.collect += started.elapsed();
        deliver(k, frame, &mut done)?;
    }
    times.sink = sink_time;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_intervals_give_the_median_in_bounded_memory() {
        let mut intervals = FrameIntervals::default();
        assert_eq!(intervals.percentiles(), None);
        // Every tenth frame also computes something slow: the median stays with the others.
        for k in 0..200_000u64 {
            let ms = if k % 10 == 0 { 900 } else { 100 + k % 7 };
            intervals.push(Duration::from_millis(ms));
        }
        assert_eq!(intervals.count(), 200_000);
        assert!(intervals.kept.len() < FrameIntervals::KEPT);
        let p = intervals.percentiles().unwrap();
        assert!((0.1..=0.106).contains(&p.p50), "{p:?}");
        assert!((p.p95 - 0.9).abs() < 1e-6, "{p:?}");
        assert!((p.p99 - 0.9).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn samples_spread_over_the_shutter_and_clamp_to_an_open_path() {
        let file = crate::path::PathFile::parse(
            "p.toml",
            "[[key]]\ntime = 0\nposition = [3, 0, 0]\n[[key]]\ntime = 1\nposition = [2, 0, 0]\n",
        )
        .unwrap();
        let path = CameraPath::new(file);
        let plan = FramePlan {
            path: &path,
            fps: 10.0,
            width: 8,
            height: 8,
            samples: 4,
            shutter: 0.5,
        };
        let x = |scenes: &[(Scene, [f32; 2])]| -> Vec<f64> {
            scenes.iter().map(|s| s.0.camera.position.x).collect()
        };
        // Frame 5 (t = 0.5): samples spread over 0.05 s either side, in time order.
        let mid = x(&plan.scenes(5));
        assert!(mid.windows(2).all(|w| w[1] < w[0]), "{mid:?}");
        assert!(mid[0] > path.sample(0.5).camera.position.x);
        // Frame 0: the samples before t = 0 clamp to the first key.
        let first = x(&plan.scenes(0));
        assert_eq!(first[0], path.sample(0.0).camera.position.x);
        assert_eq!(first[1], first[0]);
        let jitters: Vec<[f32; 2]> = plan.scenes(0).iter().map(|s| s.1).collect();
        assert_ne!(jitters[0], jitters[1]);
    }
}
