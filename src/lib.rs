//! mandelfly: fly a camera through fractals on the GPU.
//!
//! The flow of a frame: a [`scene::Scene`] (parsed from TOML, or sampled from a path) goes to
//! [`gpu::renderer::Renderer::render`], which ray-marches it in a WGSL compute shader; the
//! resulting [`gpu::renderer::Frame`] goes to a sink ([`sink::png`]).
//!
//! ```no_run
//! use mandelfly::{gpu::{GpuContext, GpuOptions, renderer::{Passes, Renderer}}, scene::Scene};
//! let mut renderer = Renderer::new(GpuContext::new(&GpuOptions::default())?);
//! let frame = renderer.render(&Scene::reference(), 640, 360, Passes::COLOR)?;
//! assert_eq!(frame.color.len(), 640 * 360 * 4);
//! # Ok::<(), mandelfly::error::Error>(())
//! ```

pub mod bench;
pub mod camera;
pub mod cli;
pub mod commands;
pub mod deep;
pub mod error;
pub mod explore;
pub mod fractal;
pub mod gpu;
pub mod interrupt;
pub mod path;
pub mod plane;
pub mod report;
pub mod scene;
pub mod sink;
