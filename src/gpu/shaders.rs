//! WGSL composition by plain ordered concatenation: shared declarations first, then one fractal
//! module, then the entry points that use it. Shaders are embedded so one binary is enough.

use crate::fractal::Formula;

pub const COMMON: &str = include_str!("../../shaders/common.wgsl");
pub const MARCH: &str = include_str!("../../shaders/march.wgsl");
pub const PROBE: &str = include_str!("../../shaders/probe.wgsl");
pub const PLANE: &str = include_str!("../../shaders/plane.wgsl");
pub const PLANE_PROBE: &str = include_str!("../../shaders/plane_probe.wgsl");

/// The probe shader for a plane kind (entry point `probe_main`).
pub fn plane_probe_source(fractal: &dyn Formula, f64: bool) -> String {
    let real = if f64 { "f64" } else { "f32" };
    format!("alias real = {real};\n{}\n{PLANE_PROBE}", fractal.wgsl())
}

/// The shader for a plane kind (entry point `plane_main`), iterating in f64 or f32.
pub fn plane_source(fractal: &dyn Formula, f64: bool) -> String {
    let real = if f64 { "f64" } else { "f32" };
    format!("alias real = {real};\n{}\n{PLANE}", fractal.wgsl())
}

/// The frame-rendering shader for one fractal kind (entry point `render_main`).
pub fn render_source(fractal: &dyn Formula) -> String {
    [COMMON, &fractal.wgsl(), MARCH].join("\n")
}

/// The distance-probe shader for one fractal kind (entry point `probe_main`).
pub fn probe_source(fractal: &dyn Formula) -> String {
    [&fractal.wgsl(), PROBE].join("\n")
}
