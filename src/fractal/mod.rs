//! Fractal kinds. Each kind is one Rust module here (its parameters, its uniform block, its f64
//! CPU twin) and one WGSL module in shaders/fractals/ defining
//! `fractal_de(p: vec3<f32>) -> vec2<f32>` (distance estimate, orbit trap). Adding a kind means
//! adding those two files and one line in [`REGISTRY`].

pub mod mandelbulb;

use glam::DVec3;

use crate::camera::Camera;

/// One evaluation of a distance estimator: the CPU twin of what `fractal_de` returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistanceSample {
    /// Lower bound of the distance to the fractal's surface (<= 0 inside).
    pub distance: f64,
    /// Orbit trap value used for colouring (smallest |z|^2 along the orbit).
    pub trap: f64,
}

/// A parameter value that cannot be used, with the key it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    pub key: &'static str,
    pub message: String,
}

/// What the renderer needs of a fractal kind.
pub trait Formula: std::fmt::Debug + Send + Sync {
    /// The `kind` name in scene files.
    fn kind(&self) -> &'static str;
    /// The WGSL module defining the uniform block `fractal` (binding 1) and `fractal_de`.
    fn wgsl(&self) -> &'static str;
    /// The bytes of this kind's uniform block, laid out as its WGSL twin.
    fn uniform_bytes(&self) -> Vec<u8>;
    /// The f64 CPU twin of `fractal_de`.
    fn distance(&self, p: DVec3) -> DistanceSample;
    /// Radius of a sphere about the origin that contains the whole fractal.
    fn bounding_radius(&self) -> f64;
    /// A camera that shows the fractal well when a scene gives none.
    fn default_camera(&self) -> Camera;
    fn validate(&self) -> Result<(), ParamError>;
    /// The numeric parameters (what path keys may animate) with their values.
    fn params(&self) -> Vec<(&'static str, f64)>;
    /// Sets a numeric parameter (integers are rounded); false when the kind has no such one.
    fn set_param(&mut self, name: &str, value: f64) -> bool;
    fn clone_box(&self) -> Box<dyn Formula>;
}

impl Clone for Box<dyn Formula> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Parses a kind's `[fractal]` table (without its `kind` key).
pub type ParseFn = fn(toml::de::ValueDeserializer<'_>) -> Result<Box<dyn Formula>, toml::de::Error>;

/// A fractal kind as scene files name it.
pub struct KindEntry {
    pub name: &'static str,
    pub parse: ParseFn,
    pub default: fn() -> Box<dyn Formula>,
}

/// Every fractal kind, by name.
pub const REGISTRY: &[KindEntry] = &[KindEntry {
    name: "mandelbulb",
    parse: mandelbulb::Mandelbulb::parse,
    default: || Box::new(mandelbulb::Mandelbulb::default()),
}];

pub fn find_kind(name: &str) -> Option<&'static KindEntry> {
    REGISTRY.iter().find(|k| k.name == name)
}

pub fn kind_names() -> Vec<&'static str> {
    REGISTRY.iter().map(|k| k.name).collect()
}
