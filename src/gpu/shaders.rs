//! WGSL composition by plain ordered concatenation: shared declarations first, then one fractal
//! module, then the entry points that use it. Shaders are embedded so one binary is enough;
//! with the `dev-shaders` feature they are read from the source tree each time they are
//! composed, so `explore` picks up edits (the pipeline cache is keyed by the text).

use crate::fractal::Formula;
use crate::gpu::deep::TextureAccess;

/// A shader file's text: `shaders/PATH` from the source tree with `dev-shaders` (falling back
/// to the embedded copy when unreadable), else embedded.
#[macro_export]
macro_rules! shader {
    ($path:literal) => {
        $crate::gpu::shaders::source(
            $path,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/", $path)),
        )
    };
}

#[cfg(feature = "dev-shaders")]
pub fn source(path: &str, embedded: &'static str) -> String {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("shaders")
        .join(path);
    std::fs::read_to_string(file).unwrap_or_else(|_| embedded.to_string())
}

#[cfg(not(feature = "dev-shaders"))]
pub fn source(_path: &str, embedded: &'static str) -> String {
    embedded.to_string()
}

pub fn common() -> String {
    shader!("common.wgsl")
}
pub fn march() -> String {
    shader!("march.wgsl")
}
pub fn probe() -> String {
    shader!("probe.wgsl")
}
pub fn plane() -> String {
    shader!("plane.wgsl")
}

/// The targets and the sample mean both kinds of frame write (shaders/output.wgsl), with the
/// display encoding that frames writing their display colour use (shaders/post/display.wgsl).
pub fn output() -> String {
    [display(), shader!("output.wgsl")].join("\n")
}

/// Vignette, tone mapping and sRGB encoding (shaders/post/display.wgsl), for the post stage and
/// frames that write their display colour.
pub fn display() -> String {
    shader!("post/display.wgsl")
}

pub fn plane_probe() -> String {
    shader!("plane_probe.wgsl")
}

/// The `Escape` struct of the plane kinds (shaders/escape.wgsl).
pub fn escape() -> String {
    shader!("escape.wgsl")
}

/// A plane shader's text with the stripe average on (`STRIPE_AVERAGE` in shaders/escape.wgsl;
/// off by default, so its loops carry no trace of it).
pub fn with_stripe_average(source: &str) -> String {
    source.replace(
        "const STRIPE_AVERAGE: bool = false;",
        "const STRIPE_AVERAGE: bool = true;",
    )
}

/// The colouring of plane kinds (shaders/colouring.wgsl, `colour_of`).
pub fn colouring() -> String {
    [gradient(), shader!("colouring.wgsl")].join("\n")
}

/// The colouring with its parameters read from `block` (a `ColourMapping` the composing module
/// declares) instead of the plane block's `plane.mapping`. On lavapipe a storage buffer read
/// inside control flow, even at an index the same for all lanes, is made lane by lane; a
/// uniform buffer's is one load: the zoom map's frames, whose colouring is most of their cost,
/// carry the mapping in their uniform block.
pub fn colouring_from(block: &str) -> String {
    colouring().replace("plane.mapping", block)
}

/// The interpolation between gradient stops that both colourings use (shaders/gradient.wgsl).
fn gradient() -> String {
    shader!("gradient.wgsl")
}

/// `colour_of` at a list of inputs (entry point `colour_probe_main`): the GPU half of the
/// colouring's GPU-against-CPU test.
pub fn colour_probe_source() -> String {
    format!("{}\n{}", colouring(), shader!("colour_probe.wgsl"))
}

/// The probe shader for a plane kind (entry point `probe_main`).
pub fn plane_probe_source(fractal: &dyn Formula, f64: bool) -> String {
    let real = if f64 { "f64" } else { "f32" };
    format!(
        "alias real = {real};\n{}\n{}\n{}",
        escape(),
        fractal.wgsl(),
        plane_probe()
    )
}

/// The shader for a plane kind (entry point `plane_main`), iterating in f64 or f32.
pub fn plane_source(fractal: &dyn Formula, f64: bool) -> String {
    let real = if f64 { "f64" } else { "f32" };
    format!(
        "alias real = {real};\n{}\n{}\n{}\n{}\n{}\n{}",
        escape(),
        fractal.wgsl(),
        colouring(),
        plane(),
        shader!("plane_direct.wgsl"),
        output()
    )
}

/// The deep-zoom shader for the Mandelbrot kinds (entry point `plane_main`): perturbation of a
/// reference orbit with f32 or f64 mantissas, see [`crate::deep`]. The orbit and BLA table are
/// read from textures (f32; bindings 8 to 11, read as `access` says) or storage buffers (f64),
/// see [`crate::gpu::deep`].
pub fn plane_deep_source(f64: bool, access: TextureAccess) -> String {
    let (real, data) = if f64 {
        ("f64", shader!("fractals/deep-storage.wgsl"))
    } else {
        (
            "f32",
            access.wgsl(8) + &shader!("fractals/deep-textures.wgsl"),
        )
    };
    format!(
        "alias real = {real};\n{}\n{}\n{}\n{}\n{}\n{}",
        escape(),
        shader!("fractals/mandelbrot-deep.wgsl"),
        data,
        colouring(),
        plane(),
        output()
    )
}

/// The frame-rendering shader for one fractal kind (entry point `render_main`).
pub fn render_source(fractal: &dyn Formula) -> String {
    [common(), fractal.wgsl(), gradient(), march(), output()].join("\n")
}

/// The distance-probe shader for one fractal kind (entry point `probe_main`).
pub fn probe_source(fractal: &dyn Formula) -> String {
    [fractal.wgsl(), probe()].join("\n")
}

/// The module `source` parses to, validated with every capability; panics with the compiler's
/// message, naming `what` (for tests of composed shaders).
#[cfg(test)]
pub fn validated_module(source: &str, what: &str) -> naga::Module {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{what}: {e:?}"));
    module
}
