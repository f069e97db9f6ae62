//! Scene files: one frame's fractal, camera and look, parsed from TOML with every problem located
//! at file:line:col. A path file (a later module) is a scene whose values change over time.

use std::path::Path;

use glam::DVec3;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::camera::Camera;
use crate::colouring::{CountScale, Transfer};
use crate::deep::floatexp::FloatExp;
use crate::error::{Error, Result, SourceError};
use crate::fractal::{self, Formula};
use crate::plane::{self, PlaneView};

/// Everything one frame needs: what to render, from where, and how it looks.
#[derive(Debug, Clone)]
pub struct Scene {
    pub fractal: Box<dyn Formula>,
    /// The 3D camera (ray-marched kinds).
    pub camera: Camera,
    /// The 2D view (plane kinds such as the Mandelbrot set).
    pub plane: PlaneView,
    pub look: Look,
}

/// Lighting and rendering quality. Colours are display (sRGB-encoded) values in [0, 1], as a
/// colour picker gives them; shading happens in linear light.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Look {
    pub background: [f64; 3],
    /// Direction towards the directional light (need not be unit length).
    pub light_direction: [f64; 3],
    pub light_intensity: f64,
    pub albedo: [f64; 3],
    /// Hit threshold in pixels of footprint: the surface is resolved to about this many pixels.
    /// Smaller is finer (and slower).
    pub detail: f64,
    /// Ambient light level (multiplied by the ambient occlusion).
    pub ambient: f64,
    pub specular: f64,
    pub shininess: f64,
    pub ambient_occlusion: bool,
    pub ao_strength: f64,
    /// Reach of the occlusion samples, as a fraction of the distance from the camera.
    pub ao_radius: f64,
    pub shadows: bool,
    /// Angular radius of the light for soft shadows, degrees.
    pub shadow_softness: f64,
    /// Shadow rays step at least this fraction of the distance they have travelled (0 = by
    /// the distance estimate alone, exact but slow close to the surface).
    pub shadow_stride: f64,
    /// Colour the surface by the orbit trap: albedo where the orbit stays near the origin,
    /// `trap_color` where it does not.
    pub orbit_trap: bool,
    pub trap_color: [f64; 3],
    /// Most sphere-tracing steps per ray.
    pub max_steps: u32,
    /// Plane kinds: a built-in palette (see [`PALETTES`]), unless `gradient` is given.
    pub palette: String,
    /// Plane kinds: colour stops `[position, r, g, b]` (position in [0, 1), cyclic).
    pub gradient: Vec<[f64; 4]>,
    /// Plane kinds: palette cycles across the view's range of iteration counts (after the
    /// transfer); see [`crate::colouring`].
    pub density: f64,
    /// Plane kinds: shifts the palette (cyclic, so 1 is a full turn); animate it to cycle.
    pub palette_offset: f64,
    /// Plane kinds: how counts map onto the view's range (linear, sqrt, log, histogram).
    pub transfer: Transfer,
    /// Plane kinds: the range of smooth counts the palette spans, `[low, high]`; measured from
    /// the view when not given (stills: the view itself; flights: keyed along the path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count_range: Option<[f64; 2]>,
    /// Plane kinds: the count distribution measured from the view (not written in files).
    #[serde(skip)]
    pub measured_counts: Option<CountScale>,
    /// Plane kinds: fade the palette's cycling to its mean colour where bands get finer than
    /// a pixel (by the distance estimate), instead of moiré.
    pub band_limit: bool,
    /// Plane kinds: stripe-average colouring, the palette shift it adds (0 = none, 1 = a
    /// full cycle).
    pub stripes: f64,
    /// Plane kinds: stripes per turn about the origin of the stripe average.
    pub stripe_density: f64,
    /// Plane kinds: the colour of the set itself.
    pub interior: [f64; 3],
    /// Plane kinds: darkening of the set's boundary by the distance estimate (0 = none).
    pub edges: f64,
    /// Plane kinds: width of that darkening, in pixels.
    pub edge_width: f64,
    /// Plane kinds: slope (relief) shading strength (0 = none).
    pub relief: f64,
    /// Plane kinds: direction of the relief light in the plane, degrees from +x.
    pub relief_angle: f64,
    /// Plane kinds: height of the relief light (larger is flatter).
    pub relief_height: f64,
    /// Exposure in stops (EV): linear light is scaled by 2^exposure before tone mapping.
    pub exposure: f64,
    /// How the post stage maps linear light to the display.
    pub tone_map: ToneMap,
    /// The preset these values started from (`[look] preset = "NAME"`, see [`crate::look`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Colour of the key light (the directional light, `light_direction`).
    pub key_color: [f64; 3],
    /// A second, unshadowed light that lifts the shadows.
    pub fill_direction: [f64; 3],
    pub fill_color: [f64; 3],
    pub fill_intensity: f64,
    /// Light at grazing angles along silhouettes (a Fresnel-like rim).
    pub rim_color: [f64; 3],
    pub rim_intensity: f64,
    /// Sharpness of the rim: higher keeps it closer to the silhouette.
    pub rim_power: f64,
    /// A sky instead of the flat `background`: a gradient from `sky_ground` below the horizon
    /// through `sky_horizon` to `sky_zenith`, with a halo about the key light. It also lights
    /// the surface (the ambient term takes its colour).
    pub sky: bool,
    pub sky_zenith: [f64; 3],
    pub sky_horizon: [f64; 3],
    pub sky_ground: [f64; 3],
    /// Strength of the halo about the key light in the sky.
    pub sun_glow: f64,
    /// Distance fog: the fraction of light kept over a distance d is exp(-fog_density * d / R),
    /// R the radius of the fractal's bounding sphere (so a look suits kinds of any size).
    pub fog_color: [f64; 3],
    pub fog_density: f64,
    /// Height fog: density multiplied by exp(-fog_height_falloff * (z - fog_height)).
    pub fog_height_falloff: f64,
    pub fog_height: f64,
    /// Glow near the surface: light added where rays pass close to the fractal (the halo of
    /// fractal flights), strongest along silhouettes.
    pub glow_color: [f64; 3],
    pub glow_strength: f64,
    /// Reach of the glow, as a fraction of the distance from the camera.
    pub glow_width: f64,
    /// 3D kinds: colour the surface by the orbit trap through `surface_palette` (or `cosine`).
    pub trap_palette: bool,
    /// 3D kinds: a built-in palette for the surface (see [`PALETTES`]).
    pub surface_palette: String,
    /// Palette cycles per unit of sqrt(orbit trap).
    pub trap_density: f64,
    /// A cosine palette `[a, b, c, d]` (each RGB): colour(t) = a + b cos(2π(c t + d)); takes
    /// the place of `palette` / `gradient` when given.
    pub cosine: Vec<[f64; 3]>,
    /// Depth of field: radius of the lens in scene units (0 = pinhole). Needs several samples.
    pub aperture: f64,
    /// Distance from the camera that is in focus.
    pub focus_distance: f64,
    /// Darkening towards the corners (0 = none, 1 = strong).
    pub vignette: f64,
    /// Contrast about mid grey before tone mapping (1 = unchanged).
    pub contrast: f64,
    /// Bloom: light that spills around bright parts of the frame (highlights, glow, the sun's
    /// halo), added before tone mapping; the strength of the spill (0 = none).
    pub bloom: f64,
    /// Reach of the bloom (its Gaussian's standard deviation), as a fraction of the image height.
    pub bloom_radius: f64,
    /// Linear brightness (after exposure) above which light blooms, with a soft knee below it.
    pub bloom_threshold: f64,
}

/// The post stage's tone mapping operator (twin of `TONE_MAP_*` in shaders/post/tonemap.wgsl).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ToneMap {
    /// Clip to [0, 1]: the classic look, and the reference view's.
    #[default]
    Clamp = 0,
    /// The ACES filmic curve (Narkowicz's fit): highlights roll off instead of clipping.
    Aces = 1,
}

/// Built-in palettes: colour stops `[position, r, g, b]` (sRGB).
pub const PALETTES: &[(&str, &[[f64; 4]])] = &[
    (
        "classic",
        &[
            [0.0, 0.0, 0.03, 0.39],
            [0.16, 0.13, 0.42, 0.8],
            [0.42, 0.93, 1.0, 1.0],
            [0.64, 1.0, 0.67, 0.0],
            [0.86, 0.0, 0.01, 0.0],
        ],
    ),
    (
        "fire",
        &[
            [0.0, 0.02, 0.0, 0.0],
            [0.3, 0.7, 0.08, 0.0],
            [0.55, 1.0, 0.55, 0.0],
            [0.75, 1.0, 0.95, 0.6],
            [0.9, 0.5, 0.1, 0.02],
        ],
    ),
    (
        "ocean",
        &[
            [0.0, 0.0, 0.05, 0.15],
            [0.3, 0.0, 0.35, 0.5],
            [0.55, 0.6, 0.95, 0.95],
            [0.75, 0.05, 0.5, 0.6],
        ],
    ),
    ("grey", &[[0.0, 0.05, 0.05, 0.05], [0.5, 0.95, 0.95, 0.95]]),
    // Surface palettes for 3D kinds, by the orbit trap (any kind may use any palette).
    (
        "copper",
        &[
            [0.0, 0.55, 0.27, 0.12],
            [0.3, 0.92, 0.66, 0.38],
            [0.55, 0.2, 0.55, 0.55],
            [0.8, 0.08, 0.3, 0.38],
        ],
    ),
    (
        "nebula",
        &[
            [0.0, 0.32, 0.12, 0.62],
            [0.3, 0.85, 0.3, 0.75],
            [0.55, 0.2, 0.75, 0.95],
            [0.8, 0.1, 0.25, 0.6],
        ],
    ),
    (
        "magma",
        &[
            [0.0, 0.35, 0.05, 0.02],
            [0.3, 0.95, 0.35, 0.05],
            [0.55, 1.0, 0.8, 0.3],
            [0.8, 0.7, 0.15, 0.05],
        ],
    ),
    (
        "ice",
        &[
            [0.0, 0.9, 0.95, 1.0],
            [0.3, 0.35, 0.65, 0.9],
            [0.6, 0.7, 0.88, 0.97],
            [0.85, 0.15, 0.4, 0.7],
        ],
    ),
    (
        "sunset",
        &[
            [0.0, 0.95, 0.55, 0.3],
            [0.35, 0.75, 0.3, 0.45],
            [0.65, 0.98, 0.8, 0.5],
            [0.85, 0.5, 0.2, 0.35],
        ],
    ),
];

/// Most colour stops in a gradient.
pub const MAX_STOPS: usize = 16;

impl Default for Look {
    /// The default look of 3D kinds (see [`crate::look`]).
    fn default() -> Self {
        crate::look::default_look()
    }
}

impl Look {
    /// The reference view's look (DESIGN.md): grey clay under one light on a flat grey ground,
    /// pixel for pixel as mandelfly first rendered it; `preset = "reference"`.
    pub fn reference() -> Self {
        Look {
            background: [0.2, 0.2, 0.2],
            light_direction: [0.0, -1.0, 1.0],
            light_intensity: 1.0,
            albedo: [0.76, 0.76, 0.76],
            detail: 1.0,
            ambient: 0.15,
            specular: 0.4,
            shininess: 24.0,
            ambient_occlusion: true,
            ao_strength: 1.0,
            ao_radius: 0.08,
            shadows: true,
            shadow_softness: 2.0,
            shadow_stride: 0.0,
            orbit_trap: false,
            trap_color: [0.85, 0.45, 0.2],
            max_steps: 512,
            palette: "classic".into(),
            gradient: Vec::new(),
            density: 3.0,
            palette_offset: 0.0,
            transfer: Transfer::Histogram,
            count_range: None,
            measured_counts: None,
            band_limit: true,
            stripes: 0.0,
            stripe_density: 5.0,
            interior: [0.0, 0.0, 0.0],
            edges: 0.6,
            edge_width: 1.5,
            relief: 0.35,
            relief_angle: 45.0,
            relief_height: 1.5,
            exposure: 0.0,
            tone_map: ToneMap::Clamp,
            preset: None,
            key_color: [1.0, 1.0, 1.0],
            fill_direction: [-0.5, 0.6, 0.3],
            fill_color: [1.0, 1.0, 1.0],
            fill_intensity: 0.0,
            rim_color: [1.0, 1.0, 1.0],
            rim_intensity: 0.0,
            rim_power: 3.0,
            sky: false,
            sky_zenith: [0.2, 0.2, 0.2],
            sky_horizon: [0.2, 0.2, 0.2],
            sky_ground: [0.2, 0.2, 0.2],
            sun_glow: 0.0,
            fog_color: [0.2, 0.2, 0.2],
            fog_density: 0.0,
            fog_height_falloff: 0.0,
            fog_height: 0.0,
            glow_color: [1.0, 1.0, 1.0],
            glow_strength: 0.0,
            glow_width: 0.02,
            trap_palette: false,
            surface_palette: "copper".into(),
            trap_density: 1.0,
            cosine: Vec::new(),
            aperture: 0.0,
            focus_distance: 1.0,
            vignette: 0.0,
            contrast: 1.0,
            bloom: 0.0,
            bloom_radius: 0.02,
            bloom_threshold: 1.0,
        }
    }
}

/// A `[look]` value that cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub struct LookError {
    pub key: &'static str,
    pub message: String,
}

/// The numeric `[look]` values a path may animate.
const LOOK_PARAMS: &[&str] = &[
    "detail",
    "light_intensity",
    "ambient",
    "specular",
    "shininess",
    "ao_strength",
    "ao_radius",
    "shadow_softness",
    "shadow_stride",
    "max_steps",
    "density",
    "palette_offset",
    "stripes",
    "stripe_density",
    "edges",
    "edge_width",
    "relief",
    "relief_angle",
    "relief_height",
    "exposure",
    "fill_intensity",
    "rim_intensity",
    "rim_power",
    "sun_glow",
    "fog_density",
    "fog_height_falloff",
    "fog_height",
    "glow_strength",
    "glow_width",
    "trap_density",
    "aperture",
    "focus_distance",
    "vignette",
    "contrast",
    "bloom",
    "bloom_radius",
    "bloom_threshold",
];

/// The `[look]` vectors (colours, directions) a path may animate, as three components each:
/// a key gives the whole vector (`fog_color = [0.6, 0.7, 0.9]`), channels are per component.
pub const LOOK_VECTORS: &[(&str, [&str; 3])] = &[
    (
        "background",
        ["background.0", "background.1", "background.2"],
    ),
    ("albedo", ["albedo.0", "albedo.1", "albedo.2"]),
    (
        "trap_color",
        ["trap_color.0", "trap_color.1", "trap_color.2"],
    ),
    (
        "light_direction",
        [
            "light_direction.0",
            "light_direction.1",
            "light_direction.2",
        ],
    ),
    ("key_color", ["key_color.0", "key_color.1", "key_color.2"]),
    (
        "fill_direction",
        ["fill_direction.0", "fill_direction.1", "fill_direction.2"],
    ),
    (
        "fill_color",
        ["fill_color.0", "fill_color.1", "fill_color.2"],
    ),
    ("rim_color", ["rim_color.0", "rim_color.1", "rim_color.2"]),
    (
        "sky_zenith",
        ["sky_zenith.0", "sky_zenith.1", "sky_zenith.2"],
    ),
    (
        "sky_horizon",
        ["sky_horizon.0", "sky_horizon.1", "sky_horizon.2"],
    ),
    (
        "sky_ground",
        ["sky_ground.0", "sky_ground.1", "sky_ground.2"],
    ),
    ("fog_color", ["fog_color.0", "fog_color.1", "fog_color.2"]),
    (
        "glow_color",
        ["glow_color.0", "glow_color.1", "glow_color.2"],
    ),
    ("interior", ["interior.0", "interior.1", "interior.2"]),
];

impl Look {
    fn scalar_mut(&mut self, name: &str) -> Option<&mut f64> {
        Some(match name {
            "detail" => &mut self.detail,
            "light_intensity" => &mut self.light_intensity,
            "ambient" => &mut self.ambient,
            "specular" => &mut self.specular,
            "shininess" => &mut self.shininess,
            "ao_strength" => &mut self.ao_strength,
            "ao_radius" => &mut self.ao_radius,
            "shadow_softness" => &mut self.shadow_softness,
            "shadow_stride" => &mut self.shadow_stride,
            "density" => &mut self.density,
            "palette_offset" => &mut self.palette_offset,
            "stripes" => &mut self.stripes,
            "stripe_density" => &mut self.stripe_density,
            "edges" => &mut self.edges,
            "edge_width" => &mut self.edge_width,
            "relief" => &mut self.relief,
            "relief_angle" => &mut self.relief_angle,
            "relief_height" => &mut self.relief_height,
            "exposure" => &mut self.exposure,
            "fill_intensity" => &mut self.fill_intensity,
            "rim_intensity" => &mut self.rim_intensity,
            "rim_power" => &mut self.rim_power,
            "sun_glow" => &mut self.sun_glow,
            "fog_density" => &mut self.fog_density,
            "fog_height_falloff" => &mut self.fog_height_falloff,
            "fog_height" => &mut self.fog_height,
            "glow_strength" => &mut self.glow_strength,
            "glow_width" => &mut self.glow_width,
            "trap_density" => &mut self.trap_density,
            "aperture" => &mut self.aperture,
            "focus_distance" => &mut self.focus_distance,
            "vignette" => &mut self.vignette,
            "contrast" => &mut self.contrast,
            "bloom" => &mut self.bloom,
            "bloom_radius" => &mut self.bloom_radius,
            "bloom_threshold" => &mut self.bloom_threshold,
            _ => {
                // A component of a vector: "fog_color.1".
                let (vector, component) = name.split_once('.')?;
                let i: usize = component.parse().ok().filter(|i| *i < 3)?;
                &mut self.vector_mut(vector)?[i]
            }
        })
    }

    fn vector_mut(&mut self, name: &str) -> Option<&mut [f64; 3]> {
        Some(match name {
            "background" => &mut self.background,
            "albedo" => &mut self.albedo,
            "trap_color" => &mut self.trap_color,
            "light_direction" => &mut self.light_direction,
            "key_color" => &mut self.key_color,
            "fill_direction" => &mut self.fill_direction,
            "fill_color" => &mut self.fill_color,
            "rim_color" => &mut self.rim_color,
            "sky_zenith" => &mut self.sky_zenith,
            "sky_horizon" => &mut self.sky_horizon,
            "sky_ground" => &mut self.sky_ground,
            "fog_color" => &mut self.fog_color,
            "glow_color" => &mut self.glow_color,
            "interior" => &mut self.interior,
            _ => return None,
        })
    }

    /// `start` with the values of `keys` taken from `self` (the keys a `[look]` table gave).
    pub fn over(&self, start: Look, keys: &[String]) -> Look {
        let (Ok(given), Ok(mut merged)) =
            (toml::Table::try_from(self), toml::Table::try_from(&start))
        else {
            return self.clone();
        };
        for key in keys {
            match given.get(key) {
                Some(value) => {
                    merged.insert(key.clone(), value.clone());
                }
                None => {
                    merged.remove(key);
                }
            }
        }
        merged.try_into().unwrap_or_else(|_| self.clone())
    }

    /// The counts the palette spans: `count_range` where given, else what was measured of the
    /// view (None before that).
    pub fn count_scale(&self) -> Option<CountScale> {
        match self.count_range {
            Some([low, high]) => Some(CountScale::fixed(low, high)),
            None => self.measured_counts,
        }
    }

    /// The multiplier of linear light that `exposure` (in stops) stands for.
    pub fn exposure_scale(&self) -> f64 {
        self.exposure.exp2()
    }

    /// The colour stops in use, sorted by position: the gradient, else the palette.
    pub fn stops(&self) -> Vec<[f64; 4]> {
        let mut stops = if self.gradient.is_empty() {
            PALETTES
                .iter()
                .find(|p| p.0 == self.palette)
                .map_or_else(|| PALETTES[0].1.to_vec(), |p| p.1.to_vec())
        } else {
            self.gradient.clone()
        };
        stops.sort_by(|a, b| a[0].total_cmp(&b[0]));
        stops
    }

    /// The numeric parameters (what path keys may animate) with their values.
    /// Vectors appear as their components (`fog_color.0`, ...).
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        let mut copy = self.clone();
        let components = LOOK_VECTORS.iter().flat_map(|(_, c)| c.iter().copied());
        LOOK_PARAMS
            .iter()
            .copied()
            .chain(components)
            .map(|name| {
                let value = match copy.scalar_mut(name) {
                    Some(v) => *v,
                    None => copy.max_steps as f64,
                };
                (name, value)
            })
            .collect()
    }

    /// A numeric parameter's value (`fog_color.1` for a component), or None.
    pub fn param(&self, name: &str) -> Option<f64> {
        if name == "max_steps" {
            return Some(self.max_steps as f64);
        }
        self.clone().scalar_mut(name).map(|v| *v)
    }

    /// Sets a numeric parameter (integers are rounded); false when there is no such one.
    pub fn set_param(&mut self, name: &str, value: f64) -> bool {
        if name == "max_steps" {
            self.max_steps = value.round().clamp(0.0, u32::MAX as f64) as u32;
            return true;
        }
        match self.scalar_mut(name) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    pub fn validate(&self) -> Result<(), LookError> {
        let err = |key, message: String| Err(LookError { key, message });
        for (key, c) in [
            ("background", self.background),
            ("albedo", self.albedo),
            ("trap_color", self.trap_color),
            ("key_color", self.key_color),
            ("fill_color", self.fill_color),
            ("rim_color", self.rim_color),
            ("sky_zenith", self.sky_zenith),
            ("sky_horizon", self.sky_horizon),
            ("sky_ground", self.sky_ground),
            ("fog_color", self.fog_color),
            ("glow_color", self.glow_color),
        ] {
            if c.iter().any(|v| !(0.0..=1.0).contains(v)) {
                return err(
                    key,
                    format!("{key} components must be in [0, 1], got {c:?}"),
                );
            }
        }
        let light = DVec3::from_array(self.light_direction);
        if !light.is_finite() || light.length() == 0.0 {
            return err(
                "light_direction",
                "light_direction must be a finite, non-zero vector".into(),
            );
        }
        for (key, v, lo, hi) in [
            ("detail", self.detail, 1e-3, 1e3),
            ("light_intensity", self.light_intensity, 0.0, 1e3),
            ("ambient", self.ambient, 0.0, 1e3),
            ("specular", self.specular, 0.0, 1e3),
            ("shininess", self.shininess, 1.0, 1e4),
            ("ao_strength", self.ao_strength, 0.0, 10.0),
            ("ao_radius", self.ao_radius, 1e-5, 10.0),
            ("shadow_softness", self.shadow_softness, 0.01, 45.0),
            ("shadow_stride", self.shadow_stride, 0.0, 1.0),
        ] {
            if !(v >= lo && v <= hi) {
                return err(key, format!("{key} must be in [{lo}, {hi}], got {v}"));
            }
        }
        for (key, v, lo, hi) in [
            ("density", self.density, 0.0, 1e3),
            ("palette_offset", self.palette_offset, -1e6, 1e6),
            ("stripes", self.stripes, 0.0, 4.0),
            ("stripe_density", self.stripe_density, 0.0, 64.0),
            ("edges", self.edges, 0.0, 1.0),
            ("edge_width", self.edge_width, 0.01, 100.0),
            ("relief", self.relief, 0.0, 1.0),
            ("relief_angle", self.relief_angle, -1e6, 1e6),
            ("relief_height", self.relief_height, 0.0, 100.0),
            ("exposure", self.exposure, -20.0, 20.0),
            ("fill_intensity", self.fill_intensity, 0.0, 1e3),
            ("rim_intensity", self.rim_intensity, 0.0, 1e3),
            ("rim_power", self.rim_power, 0.5, 64.0),
            ("sun_glow", self.sun_glow, 0.0, 1e3),
            ("fog_density", self.fog_density, 0.0, 1e6),
            ("fog_height_falloff", self.fog_height_falloff, 0.0, 1e6),
            ("fog_height", self.fog_height, -1e6, 1e6),
            ("glow_strength", self.glow_strength, 0.0, 1e3),
            ("glow_width", self.glow_width, 1e-6, 10.0),
            ("trap_density", self.trap_density, 0.0, 1e3),
            ("aperture", self.aperture, 0.0, 1e3),
            ("focus_distance", self.focus_distance, 1e-9, 1e9),
            ("vignette", self.vignette, 0.0, 2.0),
            ("contrast", self.contrast, 0.1, 4.0),
            ("bloom", self.bloom, 0.0, 10.0),
            ("bloom_radius", self.bloom_radius, 0.001, 0.1),
            ("bloom_threshold", self.bloom_threshold, 0.0, 1e3),
        ] {
            if !(v >= lo && v <= hi) {
                return err(key, format!("{key} must be in [{lo}, {hi}], got {v}"));
            }
        }
        if self.interior.iter().any(|v| !(0.0..=1.0).contains(v)) {
            return err("interior", "interior components must be in [0, 1]".into());
        }
        if let Some([low, high]) = self.count_range
            && !(low.is_finite() && high.is_finite() && low >= 0.0 && high > low)
        {
            return err(
                "count_range",
                format!("count_range is [low, high] with 0 <= low < high, got [{low}, {high}]"),
            );
        }
        if self.gradient.is_empty() && !PALETTES.iter().any(|p| p.0 == self.palette) {
            let names: Vec<&str> = PALETTES.iter().map(|p| p.0).collect();
            return err(
                "palette",
                format!(
                    "unknown palette \"{}\"; use one of: {}",
                    self.palette,
                    names.join(", ")
                ),
            );
        }
        let fill = DVec3::from_array(self.fill_direction);
        if !fill.is_finite() || fill.length() == 0.0 {
            return err(
                "fill_direction",
                "fill_direction must be a finite, non-zero vector".into(),
            );
        }
        if !PALETTES.iter().any(|p| p.0 == self.surface_palette) {
            let names: Vec<&str> = PALETTES.iter().map(|p| p.0).collect();
            return err(
                "surface_palette",
                format!(
                    "unknown palette \"{}\"; use one of: {}",
                    self.surface_palette,
                    names.join(", ")
                ),
            );
        }
        if !(self.cosine.is_empty() || self.cosine.len() == 4)
            || self
                .cosine
                .iter()
                .flatten()
                .any(|v| !v.is_finite() || v.abs() > 100.0)
        {
            return err(
                "cosine",
                "cosine is four RGB triples [a, b, c, d] of finite numbers".into(),
            );
        }
        if self.gradient.len() > MAX_STOPS {
            return err("gradient", format!("at most {MAX_STOPS} colour stops"));
        }
        for stop in &self.gradient {
            if !(0.0..1.0).contains(&stop[0]) || stop[1..].iter().any(|v| !(0.0..=1.0).contains(v))
            {
                return err(
                    "gradient",
                    format!("a stop is [position in [0, 1), r, g, b in [0, 1]], got {stop:?}"),
                );
            }
        }
        if !(16..=100_000).contains(&self.max_steps) {
            return err(
                "max_steps",
                format!("max_steps must be in [16, 100000], got {}", self.max_steps),
            );
        }
        Ok(())
    }
}

/// A number, or a decimal string (so that no precision is lost on the way in).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Real {
    Number(f64),
    Text(String),
}

impl Real {
    fn text(&self) -> String {
        match self {
            Real::Number(v) => format!("{v}"),
            Real::Text(t) => t.trim().to_string(),
        }
    }
    fn value(&self) -> Option<f64> {
        match self {
            Real::Number(v) => Some(*v).filter(|v| v.is_finite()),
            Real::Text(t) => plane::parse_real(t),
        }
    }
    /// A view height: any depth when written as text ("1e-1000").
    fn zoom(&self) -> Option<FloatExp> {
        match self {
            Real::Number(v) => Some(FloatExp::from_f64(*v)).filter(|z| z.mantissa > 0.0),
            Real::Text(t) => plane::parse_zoom(t),
        }
    }
}

/// `[camera]` as written: every key optional, defaults from the fractal kind's camera. 3D kinds
/// take position .. roll; plane kinds take center, zoom and rotation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CameraSection {
    position: Option<[f64; 3]>,
    look_at: Option<[f64; 3]>,
    up: Option<[f64; 3]>,
    fov: Option<f64>,
    roll: Option<f64>,
    center: Option<[Real; 2]>,
    zoom: Option<Real>,
    rotation: Option<f64>,
}

const CAMERA_3D_KEYS: &[&str] = &["position", "look_at", "up", "fov", "roll"];
const PLANE_KEYS: &[&str] = &["center", "zoom", "rotation"];

impl CameraSection {
    fn plane(&self) -> std::result::Result<PlaneView, (&'static str, String)> {
        let mut view = PlaneView::default();
        if let Some(center) = &self.center {
            let (x, y) = (center[0].value(), center[1].value());
            let (Some(x), Some(y)) = (x, y) else {
                return Err((
                    "center",
                    "center must be two numbers or decimal strings".into(),
                ));
            };
            view.center = glam::DVec2::new(x, y);
            view.center_text = [center[0].text(), center[1].text()];
        }
        if let Some(zoom) = &self.zoom {
            view.zoom = zoom.zoom().ok_or((
                "zoom",
                "zoom must be a positive number or decimal string".to_string(),
            ))?;
        }
        if let Some(r) = self.rotation {
            view.rotation = r;
        }
        view.validate()?;
        Ok(view)
    }

    fn resolve(self, default: Camera) -> Camera {
        Camera {
            position: self.position.map_or(default.position, DVec3::from_array),
            look_at: self.look_at.map_or(default.look_at, DVec3::from_array),
            up: self.up.map_or(default.up, DVec3::from_array),
            fov: self.fov.unwrap_or(default.fov),
            roll: self.roll.unwrap_or(default.roll),
        }
    }
}

const SECTIONS: &[&str] = &["fractal", "camera", "look"];

/// The fixed-length arrays of `[fractal]`, `[camera]` and `[look]`, by key.
const ARRAY_LENGTHS: &[(&str, usize)] = &[
    ("position", 3),
    ("look_at", 3),
    ("up", 3),
    ("center", 2),
    ("background", 3),
    ("light_direction", 3),
    ("albedo", 3),
    ("trap_color", 3),
    ("interior", 3),
    ("count_range", 2),
    ("julia", 2),
    ("c", 4),
    ("box_size", 3),
];

impl Scene {
    /// The reference view of DESIGN.md: the reference camera and the reference (clay) look,
    /// as the comparisons, benchmarks and tests use it.
    pub fn reference() -> Self {
        Scene {
            look: Look::reference(),
            ..Scene::empty()
        }
    }

    /// What an empty scene file gives: the reference camera with the default look.
    pub fn empty() -> Self {
        let fractal = (fractal::REGISTRY[0].default)();
        Scene {
            camera: fractal.scene_camera(),
            fractal,
            plane: PlaneView::default(),
            look: Look::default(),
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let src = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Ok(Scene::parse(&path.display().to_string(), &src)?)
    }

    /// Parses scene TOML; `file` names the source in error messages.
    pub fn parse(file: &str, src: &str) -> Result<Self, SourceError> {
        let doc = Document { file, src };
        let root = DeTable::parse(src).map_err(|e| doc.toml_error(e, 0))?;
        let root = root.get_ref();
        doc.check_top_level(root, SECTIONS, &[])?;
        Scene::from_sections(&doc, root)
    }

    /// Reads `[fractal]`, `[camera]` and `[look]` of a parsed document (other keys are the
    /// caller's business).
    pub(crate) fn from_sections(
        doc: &Document<'_>,
        root: &DeTable<'_>,
    ) -> Result<Self, SourceError> {
        for name in SECTIONS {
            if let Some(section) = root.get(*name) {
                doc.check_array_lengths(section)?;
            }
        }
        let fractal = doc.parse_fractal(root.get("fractal"))?;

        let (camera, plane) = match root.get("camera") {
            None => {
                let camera = fractal.scene_camera();
                camera.validate().map_err(|e| doc.error(0, e.message))?;
                (camera, PlaneView::default())
            }
            Some(section) => {
                // The keys of the other kind of view are mistakes.
                let wrong = if fractal.is_plane() {
                    CAMERA_3D_KEYS
                } else {
                    PLANE_KEYS
                };
                if let Some(table) = section.get_ref().as_table() {
                    for (key, _) in table.iter() {
                        if wrong.contains(&key.get_ref().as_ref()) {
                            return Err(doc.error(
                                key.span().start,
                                format!(
                                    "`{}` is not a camera key of a {} kind (it takes: {})",
                                    key.get_ref(),
                                    if fractal.is_plane() { "plane" } else { "3D" },
                                    if fractal.is_plane() {
                                        PLANE_KEYS
                                    } else {
                                        CAMERA_3D_KEYS
                                    }
                                    .join(", ")
                                ),
                            ));
                        }
                    }
                }
                let raw = CameraSection::deserialize(ValueDeserializer::from(section.clone()))
                    .map_err(|e| doc.toml_error(e, section.span().start))?;
                let plane = raw
                    .plane()
                    .map_err(|(key, message)| doc.key_error(section, key, message))?;
                let camera = raw.resolve(fractal.scene_camera());
                camera
                    .validate()
                    .map_err(|e| doc.key_error(section, e.key, e.message))?;
                (camera, plane)
            }
        };

        // Plane kinds start from the plain look (their colour is the palette's); 3D kinds
        // from the default preset.
        let for_kind = |mut look: Look| {
            if let Some(volume) = fractal.volume() {
                look.trap_density /= volume.trap_scale();
            }
            look
        };
        let base = if fractal.is_plane() {
            Look::reference()
        } else {
            for_kind(Look::default())
        };
        let look = match root.get("look") {
            None => base,
            Some(section) => {
                let given = Look::deserialize(ValueDeserializer::from(section.clone()))
                    .map_err(|e| doc.toml_error(e, section.span().start))?;
                let keys: Vec<String> = section
                    .get_ref()
                    .as_table()
                    .map(|t| t.iter().map(|(k, _)| k.get_ref().to_string()).collect())
                    .unwrap_or_default();
                // Only a preset the table names (the defaults' own does not count).
                let named = keys.iter().any(|k| k == "preset");
                let start = match given.preset.as_ref().filter(|_| named) {
                    None => base,
                    Some(name) => crate::look::preset(name).map(for_kind).ok_or_else(|| {
                        doc.key_error(
                            section,
                            "preset",
                            format!(
                                "unknown preset \"{name}\"; use one of: {}",
                                crate::look::preset_names().join(", ")
                            ),
                        )
                    })?,
                };
                let look = given.over(start, &keys);
                look.validate()
                    .map_err(|e| doc.key_error(section, e.key, e.message))?;
                look
            }
        };

        Ok(Scene {
            fractal,
            camera,
            plane,
            look,
        })
    }
}

/// A source being parsed: turns spans into located errors.
pub(crate) struct Document<'a> {
    pub file: &'a str,
    pub src: &'a str,
}

impl Document<'_> {
    /// Checks that the top level holds only the given tables and plain keys.
    pub(crate) fn check_top_level(
        &self,
        root: &DeTable<'_>,
        tables: &[&str],
        others: &[&str],
    ) -> Result<(), SourceError> {
        for (key, value) in root.iter() {
            let name = key.get_ref().as_ref();
            if others.contains(&name) {
                continue;
            }
            if !tables.contains(&name) {
                let mut expected: Vec<&str> = tables.to_vec();
                expected.extend_from_slice(others);
                return Err(self.error(
                    key.span().start,
                    format!(
                        "unknown section `{name}`, expected one of: {}",
                        expected.join(", ")
                    ),
                ));
            }
            if !value.get_ref().is_table() {
                return Err(self.error(value.span().start, format!("`{name}` must be a table")));
            }
        }
        Ok(())
    }

    /// Fixed-length arrays must have exactly their length: serde reads the first N numbers of
    /// a longer array and would drop the rest silently.
    pub(crate) fn check_array_lengths(
        &self,
        section: &Spanned<DeValue<'_>>,
    ) -> Result<(), SourceError> {
        let Some(table) = section.get_ref().as_table() else {
            return Ok(());
        };
        let check = |name: &str, value: &Spanned<DeValue<'_>>, n: usize| {
            let Some(items) = value.get_ref().as_array() else {
                return Ok(());
            };
            if items.len() == n {
                return Ok(());
            }
            let at = items.get(n).map_or(value.span().start, |v| v.span().start);
            Err(self.error(
                at,
                format!("`{name}` takes {n} numbers, got {}", items.len()),
            ))
        };
        for (key, value) in table.iter() {
            let name: &str = key.get_ref().as_ref();
            if let Some(&(_, n)) = ARRAY_LENGTHS.iter().find(|(k, _)| *k == name) {
                check(name, value, n)?;
            }
            if name == "gradient"
                && let Some(stops) = value.get_ref().as_array()
            {
                for stop in stops.iter() {
                    check("gradient` stop `[position, r, g, b]", stop, 4)?;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn error(&self, offset: usize, message: impl Into<String>) -> SourceError {
        SourceError::at(self.file, self.src, offset, message)
    }

    /// A TOML or serde error, at its own span or else at `fallback`.
    pub(crate) fn toml_error(&self, e: toml::de::Error, fallback: usize) -> SourceError {
        let offset = e.span().map_or(fallback, |s| s.start);
        self.error(offset, e.message().trim_end().to_string())
    }

    /// An error about `key` of a section: at its value, or at the section when the key is absent.
    pub(crate) fn key_error(
        &self,
        section: &Spanned<DeValue<'_>>,
        key: &str,
        message: String,
    ) -> SourceError {
        let offset = section
            .get_ref()
            .as_table()
            .and_then(|t| t.get(key))
            .map_or(section.span().start, |v| v.span().start);
        self.error(offset, message)
    }

    fn parse_fractal(
        &self,
        section: Option<&Spanned<DeValue<'_>>>,
    ) -> Result<Box<dyn Formula>, SourceError> {
        let Some(section) = section else {
            return Ok((fractal::REGISTRY[0].default)());
        };
        let table = section.get_ref().as_table().expect("checked to be a table");
        let entry = match table.get("kind") {
            None => &fractal::REGISTRY[0],
            Some(kind) => {
                let Some(name) = kind.get_ref().as_str() else {
                    return Err(self.error(kind.span().start, "`kind` must be a string"));
                };
                fractal::find_kind(name).ok_or_else(|| {
                    // Quoted in part: a message is no place for a megabyte of input.
                    let shown: String = name.chars().take(40).collect();
                    let more = if shown.len() < name.len() { "..." } else { "" };
                    self.error(
                        kind.span().start,
                        format!(
                            "unknown fractal kind \"{shown}{more}\", expected one of: {}",
                            fractal::kind_names().join(", ")
                        ),
                    )
                })?
            }
        };
        let mut params = table.clone();
        params.remove("kind");
        let value = Spanned::new(section.span(), DeValue::Table(params));
        let context = fractal::ParseContext { file: self.file };
        let formula =
            (entry.parse)(ValueDeserializer::from(value), &context).map_err(|e| match e {
                fractal::ParseFailure::Toml(e) => self.toml_error(e, section.span().start),
                fractal::ParseFailure::Param(e) => self.key_error(section, e.key, e.message),
                fractal::ParseFailure::Source(e) => e,
                fractal::ParseFailure::NestedParam {
                    table: sub,
                    key,
                    message,
                } => {
                    let offset = table
                        .get(sub)
                        .and_then(|t| t.get_ref().as_table())
                        .and_then(|t| t.get(key.as_str()))
                        .map_or(section.span().start, |v| v.span().start);
                    self.error(offset, message)
                }
            })?;
        formula
            .validate()
            .map_err(|e| self.key_error(section, e.key, e.message))?;
        Ok(formula)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> SourceError {
        Scene::parse("s.toml", src).expect_err("should fail")
    }

    #[test]
    fn empty_file_is_the_reference_view() {
        let s = Scene::parse("s.toml", "").unwrap();
        assert_eq!(s.camera, Camera::reference());
        assert_eq!(s.fractal.kind(), "mandelbulb");
        assert_eq!(s.look, Look::default());
    }

    #[test]
    fn reads_the_design_example() {
        let src = r#"
[fractal]
kind = "mandelbulb"
power = 9.0
iterations = 10
bailout = 4.0

[camera]
position = [1.0, -2.0, 1.0]
look_at = [0.0, 0.0, 0.1]
up = [0.0, 0.0, 1.0]
fov = 40

[look]
background = [0.1, 0.1, 0.3]
detail = 0.5
shadows = false
"#;
        let s = Scene::parse("s.toml", src).unwrap();
        assert_eq!(s.camera.fov, 40.0);
        assert_eq!(s.camera.look_at, DVec3::new(0.0, 0.0, 0.1));
        assert_eq!(s.look.detail, 0.5);
        assert!(!s.look.shadows);
        assert!(s.look.ambient_occlusion);
        let u = s.fractal.uniform_bytes();
        let u: &crate::fractal::mandelbulb::MandelbulbUniform = bytemuck::from_bytes(&u);
        assert_eq!((u.power, u.iterations, u.bailout), (9.0, 10, 4.0));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = err("[camera]\nfov = 200\n");
        assert_eq!((e.line, e.column), (2, 7), "{e}");
        assert!(e.message.contains("fov"), "{e}");

        let e = err("[fractal]\niterations = -3\n");
        assert_eq!((e.line, e.column), (2, 14), "{e}");
        assert!(e.message.contains("iterations"), "{e}");

        let e = err("[camera]\nup = [0, 0, 0]\n");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("up"), "{e}");
    }

    #[test]
    fn arrays_of_the_wrong_length_are_errors() {
        for (src, at) in [
            ("[camera]\nposition = [2, -2, 1.4, 99]\n", (2, 25)),
            ("[camera]\nup = [0, 0, 1, 0, 0]\n", (2, 16)),
            ("[look]\nbackground = [0.1, 0.1, 0.1, 1]\n", (2, 30)),
            ("[look]\ngradient = [[0, 1, 1, 1, 1]]\n", (2, 26)),
            (
                "[fractal]\nkind = \"mandelbrot\"\n[camera]\ncenter = [0, 0, 0]\n",
                (4, 17),
            ),
            (
                "[fractal]\nkind = \"mandelbrot\"\njulia = [0.1, 0.2, 0.3]\n",
                (3, 20),
            ),
            ("[camera]\nposition = [2, -2]\n", (2, 12)),
        ] {
            let e = err(src);
            assert_eq!((e.line, e.column), at, "{src}: {e}");
            assert!(e.message.contains("numbers"), "{e}");
        }
    }

    #[test]
    fn a_huge_kind_is_not_echoed_whole() {
        let e = err(&format!("[fractal]\nkind = \"{}\"\n", "x".repeat(1 << 20)));
        assert!(e.message.len() < 1000, "{} bytes", e.message.len());
        assert!(e.message.contains("xxx..."), "{}", &e.message[..100]);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = err("[look]\ndetial = 1.0\n");
        assert_eq!((e.line, e.column), (2, 1), "{e}");
        assert!(e.message.contains("detial"), "{e}");

        let e = err("[fractal]\npower = 8.0\nspeed = 2\n");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("speed"), "{e}");

        let e = err("[camra]\n");
        assert_eq!((e.line, e.column), (1, 2), "{e}");
    }

    #[test]
    fn wrong_types_and_kinds() {
        let e = err("[camera]\nfov = \"wide\"\n");
        assert_eq!((e.line, e.column), (2, 7), "{e}");

        let e = err("[fractal]\nkind = \"mandelbox3000\"\n");
        assert_eq!((e.line, e.column), (2, 8), "{e}");
        assert!(e.message.contains("unknown fractal kind"), "{e}");

        let e = err("[camera]\nposition = [1.0, 2.0]\n");
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn plane_colouring_keys_are_checked() {
        let plane = "[fractal]\nkind = \"mandelbrot\"\n[look]\n";
        let e = err(&format!("{plane}count_range = [5, 2]\n"));
        assert_eq!((e.line, e.column), (4, 15), "{e}");
        assert!(e.message.contains("count_range"), "{e}");
        let e = err(&format!("{plane}count_range = [5]\n"));
        assert_eq!(e.line, 4, "{e}");
        let e = err(&format!("{plane}transfer = \"cubic\"\n"));
        assert_eq!((e.line, e.column), (4, 12), "{e}");
        assert!(e.message.contains("histogram"), "{e}");
        let e = err(&format!("{plane}stripes = -1\n"));
        assert_eq!((e.line, e.column), (4, 11), "{e}");
        let s = Scene::parse(
            "s.toml",
            &format!("{plane}transfer = \"sqrt\"\ncount_range = [10, 20]\nstripes = 0.5\n"),
        )
        .unwrap();
        assert_eq!(s.look.transfer, Transfer::Sqrt);
        let scale = s.look.count_scale().unwrap();
        assert_eq!((scale.quantiles[0], scale.quantiles[16]), (10.0, 20.0));
        // The new numbers are path keys.
        let mut look = s.look.clone();
        assert!(look.set_param("stripes", 0.25) && look.stripes == 0.25);
        assert!(look.set_param("stripe_density", 3.0) && look.stripe_density == 3.0);
    }

    #[test]
    fn malformed_toml() {
        let e = err("[look]\nalbedo = [0.5, 0.5\n");
        assert!(e.line >= 2, "{e}");
        assert_eq!(e.file, "s.toml");
    }
}
