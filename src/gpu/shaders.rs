//! WGSL composition by plain ordered concatenation: shared declarations first, then one fractal
//! module, then the entry points that use it. Shaders are embedded so one binary is enough.

use crate::fractal::Formula;

pub const COMMON: &str = include_str!("../../shaders/common.wgsl");
pub const MARCH: &str = include_str!("../../shaders/march.wgsl");
pub const PROBE: &str = include_str!("../../shaders/probe.wgsl");

/// The frame-rendering shader for one fractal kind (entry point `render_main`).
pub fn render_source(fractal: &dyn Formula) -> String {
    [COMMON, &fractal.wgsl(), MARCH].join("\n")
}

/// The distance-probe shader for one fractal kind (entry point `probe_main`).
pub fn probe_source(fractal: &dyn Formula) -> String {
    [&fractal.wgsl(), PROBE].join("\n")
}
