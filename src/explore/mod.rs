//! `mandelfly explore`: the live window. The camera controller and the recorder are plain
//! logic (tested without a window); `app` is the winit/egui shell around them.

#[cfg(feature = "window")]
pub mod app;
pub mod controller;
pub mod look_panel;
pub mod overlay;
pub mod recorder;
pub mod resolution;
pub mod stats;
