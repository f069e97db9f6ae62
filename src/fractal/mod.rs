//! Fractal kinds. Each kind is one Rust module here (its parameters, its uniform block, its f64
//! CPU twin) and one WGSL module in shaders/fractals/ defining the uniform block `fractal`
//! (binding 1) and `fractal_de(p: vec3<f32>) -> vec2<f32>` (distance estimate, orbit trap).
//! Adding a kind means adding those two files and one line in [`REGISTRY`].

pub mod apollonian;
pub mod custom;
pub mod hybrid;
pub mod julia_quaternion;
pub mod kleinian;
pub mod mandelbox;
pub mod mandelbrot;
pub mod mandelbulb;
pub mod menger;
pub mod steps;
pub mod terrain;

use glam::DVec3;

use crate::camera::Camera;
use crate::error::SourceError;

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

/// What every fractal kind has: its name, WGSL, uniform block and parameters. Kinds come in
/// families that render differently ([`Family`]): each implements its family's trait too, so a
/// plane kind has no 3D distance to stub out, and a new family is an addition.
pub trait Formula: std::fmt::Debug + Send + Sync {
    /// The `kind` name in scene files.
    fn kind(&self) -> &'static str;
    /// The WGSL of the kind's module: for volume kinds the uniform block `fractal` (binding 1)
    /// and `fractal_de`, for plane kinds `pixel_escape`'s formula, with what they need (shared
    /// steps, helpers). Pipelines are cached by a hash of this text.
    fn wgsl(&self) -> String;
    /// The bytes of this kind's uniform block, laid out as its WGSL twin.
    fn uniform_bytes(&self) -> Vec<u8>;
    fn validate(&self) -> Result<(), ParamError>;
    /// The numeric parameters (what path keys may animate) with their values.
    fn params(&self) -> Vec<(String, f64)>;
    /// Sets a numeric parameter (integers are rounded); false when the kind has no such one.
    fn set_param(&mut self, name: &str, value: f64) -> bool;
    /// The `[fractal]` section with what a path key cannot set (the kind, and for some kinds a
    /// formula file or a step sequence); numeric parameters go into keys.
    fn fixed_toml(&self) -> String {
        format!("[fractal]\nkind = \"{}\"\n", self.kind())
    }
    fn clone_box(&self) -> Box<dyn Formula>;
    /// The kind's family, with the interface the renderer uses for it.
    fn family(&self) -> Family<'_>;
}

/// How a kind is rendered.
#[derive(Clone, Copy)]
pub enum Family<'a> {
    /// Ray-marched in 3D by a distance estimator (shaders/march.wgsl).
    Volume(&'a dyn VolumeFormula),
    /// Iterated per pixel of a 2D view (shaders/plane.wgsl).
    Plane(&'a dyn PlaneFormula),
}

/// A kind ray-marched in 3D.
pub trait VolumeFormula: Formula {
    /// The f64 CPU twin of `fractal_de`.
    fn distance(&self, p: DVec3) -> DistanceSample;
    /// Radius of a sphere about the origin that contains the whole fractal.
    fn bounding_radius(&self) -> f64;
    /// A camera that shows the fractal well when a scene gives none.
    fn default_camera(&self) -> Camera;
    /// How far the march may step, as a fraction of the distance estimate: 1 where the
    /// estimate is a true lower bound; less where it overestimates (hybrids of several kinds'
    /// steps), so that rays do not step through thin features.
    fn step_factor(&self) -> f64 {
        1.0
    }
    /// How much faster this kind's orbit trap changes over its surface than the Mandelbulb's,
    /// for which the presets' `trap_density` was chosen: a preset's density is divided by it,
    /// so that a palette neither smears nor turns to zebra stripes on another kind.
    fn trap_scale(&self) -> f64 {
        1.0
    }
    /// Whether the estimate is a true lower bound of the distance, so that the march may start
    /// each 8x8 cell of pixels where one cone about them stops clearing it (shaders/march.wgsl
    /// `cone_cell`). Kinds whose estimate overshoots march every pixel from the bounding sphere.
    fn cone_safe(&self) -> bool {
        true
    }
    /// The height (world z) above which the fractal has no surface, where it has one, and
    /// the most vertical gap per unit of the estimate above it: rays start marching where they
    /// come down to it and stop where they rise above it, and shadow rays stop above it once
    /// nothing further can darken them (shaders/march.wgsl `below_ceiling`, `soft_shadow`).
    fn ceiling(&self) -> Option<(f64, f64)> {
        None
    }
}

/// A kind iterated over a 2D view (the Mandelbrot set and its Julia sets).
pub trait PlaneFormula: Formula {
    /// The uniform block for a view whose pixels are `pixel_size` wide.
    fn plane_uniform_bytes(&self, pixel_size: f64) -> Vec<u8>;
    /// For kinds that zoom deeper than f64 by perturbation (shaders/fractals/
    /// mandelbrot-deep.wgsl): what that iteration needs.
    fn perturbation(&self) -> Option<crate::deep::Iteration> {
        None
    }
}

impl dyn Formula + '_ {
    pub fn is_plane(&self) -> bool {
        matches!(self.family(), Family::Plane(_))
    }
    /// The volume interface, for a ray-marched kind.
    pub fn volume(&self) -> Option<&dyn VolumeFormula> {
        match self.family() {
            Family::Volume(v) => Some(v),
            Family::Plane(_) => None,
        }
    }
    /// The camera a scene of this kind starts from: a volume kind's own; the reference camera
    /// for plane kinds, whose scenes carry a 3D camera they do not use.
    pub fn scene_camera(&self) -> Camera {
        self.volume()
            .map_or_else(Camera::reference, |v| v.default_camera())
    }
    /// The plane interface, for a plane kind.
    pub fn plane(&self) -> Option<&dyn PlaneFormula> {
        match self.family() {
            Family::Plane(p) => Some(p),
            Family::Volume(_) => None,
        }
    }
}

/// Parameter names as owned strings (custom formulas name their own).
pub(crate) fn named(params: Vec<(&str, f64)>) -> Vec<(String, f64)> {
    params
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect()
}

impl Clone for Box<dyn Formula> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// What a kind's parser may need besides its table.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext<'a> {
    /// The scene or path file being read (relative file names resolve against its folder).
    pub file: &'a str,
}

/// Why a `[fractal]` table could not be read.
#[derive(Debug)]
pub enum ParseFailure {
    /// A wrong type or unknown key, located by the TOML parser.
    Toml(toml::de::Error),
    /// A value that cannot be used, located at its key.
    Param(ParamError),
    /// A problem in another file the table names (a custom formula's WGSL).
    Source(SourceError),
    /// A value that cannot be used, located at `key` of the sub-table `table` (a custom
    /// formula's `[fractal.params]`).
    NestedParam {
        table: &'static str,
        key: String,
        message: String,
    },
}

impl From<toml::de::Error> for ParseFailure {
    fn from(e: toml::de::Error) -> Self {
        ParseFailure::Toml(e)
    }
}

/// Parses a kind's `[fractal]` table (without its `kind` key).
pub type ParseFn = fn(
    toml::de::ValueDeserializer<'_>,
    &ParseContext<'_>,
) -> Result<Box<dyn Formula>, ParseFailure>;

/// The usual parser: serde with the kind's defaults.
pub fn parse_with_serde<T>(
    de: toml::de::ValueDeserializer<'_>,
    _: &ParseContext<'_>,
) -> Result<Box<dyn Formula>, ParseFailure>
where
    T: Formula + serde::de::DeserializeOwned + 'static,
{
    Ok(Box::new(T::deserialize(de)?))
}

/// A fractal kind as scene files name it.
pub struct KindEntry {
    pub name: &'static str,
    pub parse: ParseFn,
    pub default: fn() -> Box<dyn Formula>,
}

macro_rules! kind {
    ($name:literal, $ty:ty) => {
        KindEntry {
            name: $name,
            parse: parse_with_serde::<$ty>,
            default: || Box::new(<$ty>::default()),
        }
    };
}

/// Every fractal kind, by name.
pub const REGISTRY: &[KindEntry] = &[
    kind!("mandelbulb", mandelbulb::Mandelbulb),
    kind!("mandelbox", mandelbox::Mandelbox),
    kind!("mandelbrot", mandelbrot::Mandelbrot),
    kind!("mandelbrot-terrain", terrain::Terrain),
    kind!("julia-quaternion", julia_quaternion::JuliaQuaternion),
    kind!("menger", menger::Menger),
    kind!("kleinian", kleinian::Kleinian),
    kind!("apollonian", apollonian::Apollonian),
    kind!("hybrid", hybrid::Hybrid),
    KindEntry {
        name: "custom",
        parse: custom::Custom::parse,
        default: || Box::new(custom::Custom::example()),
    },
];

pub fn find_kind(name: &str) -> Option<&'static KindEntry> {
    REGISTRY.iter().find(|k| k.name == name)
}

pub fn kind_names() -> Vec<&'static str> {
    REGISTRY.iter().map(|k| k.name).collect()
}
