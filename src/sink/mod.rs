//! Where frames go. A sink never knows how a frame was made.

pub mod png;
#[cfg(feature = "video")]
pub mod segments;
#[cfg(feature = "video")]
pub mod video;
