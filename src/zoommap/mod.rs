//! Zoom videos from an exponential (log-polar) map: a zoom about one fixed point is computed
//! once, as rows of angle samples at log-spaced radii around that point, and every frame is
//! assembled from the rows it shows instead of iterating each pixel again.
//!
//! - [`plan`]: which flights qualify (a zoom about a fixed point: the zoom monotonic, the point
//!   staying near the screen), and the map's size (angle samples, rows, chunks of depth, the
//!   window of chunks a frame needs).
//! - [`compute`]: the map's chunks computed on the GPU by the plane kinds' own per-point code
//!   (direct iteration or perturbation with BLA, one reference orbit for the whole dive), with
//!   mip levels, in a ring of chunks bounded whatever the depth.
//! - [`assemble`]: the frames: a [`crate::gpu::renderer::PlaneSource`] whose per-sample escape
//!   values come from the map, so colouring, anti-aliasing, the post stage and the sinks are the
//!   per-frame render's own.
//! - [`file`]: the map as an OpenEXR file (`render --map-out`, `--map-in`), written and read
//!   chunk by chunk.

pub mod assemble;
pub mod compute;
pub mod file;
pub mod plan;

pub use assemble::MapAssembler;
pub use plan::{Decision, MapPlan, Method, choose};
