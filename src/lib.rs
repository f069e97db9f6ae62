//! mandelfly: fly a camera through fractals on the GPU.
//!
//! The flow of a frame, one module for each step: a [`scene::Scene`] (parsed from TOML, or
//! sampled from a [`path::CameraPath`]) becomes the [`frame::Sample`]s of a frame; the
//! [`flight`] loop plans the frames of a path and drives the [`gpu::renderer::Renderer`], which
//! ray-marches (or iterates) them into a linear HDR frame and runs the post stage
//! ([`gpu::post`]: exposure, tone mapping, the format the sink asked for); the
//! [`frame::Frame`] that comes back goes to a [`sink::FrameSink`] (PNG, EXR, video, shard
//! segment). The command layer (`cli`, `commands`) only parses arguments and calls these.
//!
//! ```no_run
//! use mandelfly::{frame::Passes, gpu::{GpuContext, GpuOptions, renderer::Renderer}, scene::Scene};
//! let mut renderer = Renderer::new(GpuContext::new(&GpuOptions::default())?);
//! let frame = renderer.render(&Scene::reference(), 640, 360, Passes::COLOR)?;
//! assert_eq!(frame.color.len(), 640 * 360 * 4);
//! # Ok::<(), mandelfly::error::Error>(())
//! ```

pub mod bench;
pub mod camera;
pub mod cli;
pub mod colouring;
pub mod commands;
pub mod deep;
pub mod error;
pub mod explore;
pub mod flight;
pub mod fractal;
pub mod frame;
pub mod gpu;
pub mod interrupt;
pub mod look;
pub mod path;
pub mod plane;
pub mod preview;
pub mod report;
pub mod scene;
pub mod sink;
pub mod zoommap;
