//! Any sink on a thread of its own: the flight hands each frame over and goes on rendering the
//! next while this one is encoded and written. Encoding a 1280x720 PNG takes about 10 ms of CPU,
//! as long as a GPU takes for several frames (and a quarter of a zoom-map frame's assembly on
//! lavapipe). One worker, so the sink still sees its frames in order; at most `QUEUE` frames
//! wait, so memory stays bounded. Beside a renderer on the CPU it runs at a lower priority
//! (see [`WORKER_NICE`]).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::error::{Error, Result};
use crate::frame::{Frame, Readout};
use crate::sink::{Finished, FrameSink, Outcome};

/// Frames handed over and not yet taken by the worker.
const QUEUE: usize = 2;

/// How much lower than the flight's threads the worker runs when the renderer is on the CPU
/// ([`WorkerPriority::BelowRenderer`]; a nice increment, on Linux, where it is a thread's
/// own). On a CPU "GPU" such as lavapipe the renderer's threads keep every core busy, and
/// lavapipe gives each of its threads a fixed share of a dispatch: a worker at their priority
/// takes its time (about 10 ms a PNG frame) by pre-empting one of them, whose share then
/// finishes late while the other cores idle. Lowered, it mostly runs in those idle moments,
/// and should it fall behind, the bounded queue holds the flight until it catches up. With a
/// real GPU it keeps its priority: the cores are free, and lowered it would only lose to
/// other programs.
const WORKER_NICE: i32 = 10;

/// The worker's priority against the flight's threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerPriority {
    /// The same (the renderer runs on a GPU).
    Same,
    /// Lower by [`WORKER_NICE`] (the renderer runs on the CPU's cores).
    BelowRenderer,
}

impl WorkerPriority {
    /// For a renderer on an adapter of type `device`.
    pub fn for_device(device: wgpu::DeviceType) -> Self {
        if device == wgpu::DeviceType::Cpu {
            WorkerPriority::BelowRenderer
        } else {
            WorkerPriority::Same
        }
    }
}

/// Lowers the calling thread's priority by [`WORKER_NICE`] (capped at the lowest).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: nice(2) changes only the calling thread's scheduling priority; a failure (none
    // is expected: lowering needs no privilege) leaves it as it was.
    unsafe {
        libc::nice(WORKER_NICE);
    }
}

type Sink = Box<dyn FrameSink + Send>;

/// The worker's end: the sink back, with the error that stopped it early, if one did.
type WorkerEnd = (Sink, Option<Error>);

/// `inner`, running on a worker thread.
pub struct Background {
    /// What the sink writes (for messages).
    path: PathBuf,
    readout: Readout,
    sender: Option<mpsc::SyncSender<(u64, Frame)>>,
    worker: Option<JoinHandle<WorkerEnd>>,
    /// The sink once the worker has ended, and the error it ended with.
    stopped: Option<WorkerEnd>,
}

impl Background {
    /// `path`: what `inner` writes, named in errors of the thread itself.
    pub fn new(inner: Sink, path: &Path, priority: WorkerPriority) -> Result<Self> {
        let readout = inner.readout();
        let (sender, receiver) = mpsc::sync_channel::<(u64, Frame)>(QUEUE);
        let worker = std::thread::Builder::new()
            .name("sink".into())
            .spawn(move || {
                if priority == WorkerPriority::BelowRenderer {
                    lower_priority();
                }
                let mut sink = inner;
                for (index, frame) in receiver {
                    if let Err(e) = sink.push(index, frame) {
                        return (sink, Some(e));
                    }
                }
                (sink, None)
            })
            .map_err(|e| Error::io(path, e))?;
        Ok(Background {
            path: path.to_path_buf(),
            readout,
            sender: Some(sender),
            worker: Some(worker),
            stopped: None,
        })
    }

    /// Lets the worker write what is queued and end, and keeps what it returns.
    fn stop(&mut self) -> Result<&mut WorkerEnd> {
        self.sender = None;
        if let Some(worker) = self.worker.take()
            && let Ok(end) = worker.join()
        {
            self.stopped = Some(end);
        }
        let path = &self.path;
        self.stopped.as_mut().ok_or_else(|| Error::Encode {
            path: path.clone(),
            message: "the thread writing it stopped unexpectedly".into(),
        })
    }
}

impl FrameSink for Background {
    fn readout(&self) -> Readout {
        self.readout
    }

    fn push(&mut self, index: u64, frame: Frame) -> Result<()> {
        if let Some(sender) = &self.sender
            && sender.send((index, frame)).is_ok()
        {
            return Ok(());
        }
        // The worker stopped: at an error of the sink's, which this push reports.
        let path = self.path.clone();
        let (_, error) = self.stop()?;
        Err(error.take().unwrap_or_else(|| Error::Encode {
            path,
            message: "the thread writing it stopped taking frames".into(),
        }))
    }

    fn finish(&mut self, outcome: Outcome) -> Result<Finished> {
        let (sink, error) = self.stop()?;
        match error.take() {
            // An error no push has reported yet: the render failed after all.
            Some(e) => {
                let _ = sink.finish(Outcome::Failed);
                Err(e)
            }
            None => sink.finish(outcome),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // Unfinished: the worker still ends and the sink is dropped on this thread, as the
        // sink itself would have been.
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    type Shared<T> = Arc<Mutex<T>>;

    /// Records what it is given; fails at frame `fail_at`.
    struct Recorder {
        seen: Shared<Vec<u64>>,
        finished: Shared<Option<Outcome>>,
        fail_at: Option<u64>,
    }

    impl FrameSink for Recorder {
        fn readout(&self) -> Readout {
            Readout::COLOR
        }
        fn push(&mut self, index: u64, _frame: Frame) -> Result<()> {
            if Some(index) == self.fail_at {
                return Err(Error::Encode {
                    path: PathBuf::from("frame"),
                    message: "disk full".into(),
                });
            }
            self.seen.lock().unwrap().push(index);
            Ok(())
        }
        fn finish(&mut self, outcome: Outcome) -> Result<Finished> {
            *self.finished.lock().unwrap() = Some(outcome);
            Ok(Finished {
                path: PathBuf::from("out"),
                frames: self.seen.lock().unwrap().len() as u64,
            })
        }
    }

    fn recorder(fail_at: Option<u64>) -> (Background, Shared<Vec<u64>>, Shared<Option<Outcome>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let finished = Arc::new(Mutex::new(None));
        let sink = Background::new(
            Box::new(Recorder {
                seen: seen.clone(),
                finished: finished.clone(),
                fail_at,
            }),
            Path::new("out"),
            WorkerPriority::Same,
        )
        .unwrap();
        (sink, seen, finished)
    }

    #[test]
    fn frames_arrive_in_order_and_finish_waits_for_them() {
        let (mut sink, seen, finished) = recorder(None);
        for k in 0..20 {
            sink.push(k, Frame::default()).unwrap();
        }
        let done = sink.finish(Outcome::Interrupted).unwrap();
        assert_eq!(done.frames, 20);
        assert_eq!(*seen.lock().unwrap(), (0..20).collect::<Vec<_>>());
        assert_eq!(*finished.lock().unwrap(), Some(Outcome::Interrupted));
    }

    #[test]
    fn a_failed_push_is_reported_and_the_sink_finishes_as_failed() {
        let (mut sink, seen, finished) = recorder(Some(3));
        let mut error = None;
        for k in 0..50 {
            if let Err(e) = sink.push(k, Frame::default()) {
                error = Some(e);
                break;
            }
        }
        // Reported by a later push (the queue may still take a few) or else by finish; the
        // flight finishes a sink as failed after an error.
        let outcome = if error.is_some() {
            Outcome::Failed
        } else {
            Outcome::Complete
        };
        let result = sink.finish(outcome);
        let message = error
            .or(result.err())
            .expect("the sink's error is reported")
            .to_string();
        assert!(message.contains("disk full"), "{message}");
        assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2]);
        assert_eq!(*finished.lock().unwrap(), Some(Outcome::Failed));
    }

    /// The calling thread's nice value (Linux: a thread's own).
    #[cfg(target_os = "linux")]
    fn thread_nice() -> i32 {
        // SAFETY: getpriority(2) reads the calling thread's priority (who = 0).
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }

    /// Records the nice value of the thread that pushes to it.
    #[cfg(target_os = "linux")]
    struct NiceProbe(Shared<Option<i32>>);

    #[cfg(target_os = "linux")]
    impl FrameSink for NiceProbe {
        fn readout(&self) -> Readout {
            Readout::COLOR
        }
        fn push(&mut self, _index: u64, _frame: Frame) -> Result<()> {
            *self.0.lock().unwrap() = Some(thread_nice());
            Ok(())
        }
        fn finish(&mut self, _outcome: Outcome) -> Result<Finished> {
            Ok(Finished {
                path: PathBuf::from("out"),
                frames: 1,
            })
        }
    }

    /// The nice value of a worker of `priority`, and the caller's after it.
    #[cfg(target_os = "linux")]
    fn worker_nice(priority: WorkerPriority) -> (i32, i32) {
        let seen = Arc::new(Mutex::new(None));
        let mut sink = Background::new(
            Box::new(NiceProbe(seen.clone())),
            Path::new("out"),
            priority,
        )
        .unwrap();
        sink.push(0, Frame::default()).unwrap();
        sink.finish(Outcome::Complete).unwrap();
        let worker = seen.lock().unwrap().expect("the worker took the frame");
        (worker, thread_nice())
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_worker_runs_below_a_renderer_on_the_cpu_only() {
        let caller = thread_nice();
        assert_eq!(
            worker_nice(WorkerPriority::for_device(wgpu::DeviceType::Cpu)),
            ((caller + WORKER_NICE).min(19), caller)
        );
        assert_eq!(
            worker_nice(WorkerPriority::for_device(wgpu::DeviceType::DiscreteGpu)),
            (caller, caller)
        );
    }
}
