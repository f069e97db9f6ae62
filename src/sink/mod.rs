//! Where frames go. Every output is a [`FrameSink`]: it says which pixels it needs from the post
//! stage ([`Readout`]), takes finished frames in order, and is finished once with how the render
//! ended. A sink never knows how a frame was made; the flight loop ([`crate::flight`]) never
//! knows where it goes. A new output is one added module here.

pub mod background;
pub mod exr;
pub mod png;
#[cfg(feature = "video")]
pub mod segments;
#[cfg(feature = "video")]
pub mod video;

use std::path::PathBuf;

use crate::error::Result;
use crate::frame::{Frame, Readout};

/// How a render ended, as the sink is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every planned frame was pushed.
    Complete,
    /// Stopped early (Ctrl-C, SIGTERM): keep what was done, complete and valid.
    Interrupted,
    /// An error elsewhere: leave nothing half-written behind.
    Failed,
}

/// What a finished sink left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The file or folder that holds the frames.
    pub path: PathBuf,
    /// Frames it holds.
    pub frames: u64,
}

/// An output of rendered frames.
pub trait FrameSink {
    /// What the post stage should deliver for this sink.
    fn readout(&self) -> Readout;
    /// One finished frame; `index` is its number in the flight. Frames arrive in order.
    fn push(&mut self, index: u64, frame: Frame) -> Result<()>;
    /// Ends the output. Called once; a sink dropped unfinished behaves as for `Failed`.
    fn finish(&mut self, outcome: Outcome) -> Result<Finished>;
}

/// File name of frame k in a sequence, with the format's extension.
pub fn frame_file_name(k: u64, extension: &str) -> String {
    format!("frame_{k:05}.{extension}")
}
