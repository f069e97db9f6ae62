//! Camera paths: keyframe files (`file`), interpolation building blocks (`interpolate`), the
//! sampled path (`camera_path`), and import from glTF (`gltf`).

pub mod camera_path;
pub mod check;
pub mod file;
pub mod gltf;
pub mod interpolate;

pub use camera_path::CameraPath;
pub use file::PathFile;

use std::path::Path as FsPath;

use crate::error::{Error, Result};
use crate::scene::Scene;

/// Longest time a path may reach, in seconds (key times and `duration`): about 11.6 days.
pub const MAX_DURATION: f64 = 1e6;

/// Most frames one render, `path check` or `path sample` covers: about 3.9 days at 30 fps.
pub const MAX_FRAMES: u64 = 10_000_000;

/// What a scene-or-path argument holds.
#[derive(Debug, Clone)]
pub enum SceneSource {
    Scene(Box<Scene>),
    Path(Box<CameraPath>),
}

/// Reads a file that is either a scene or a path (a path has `[[key]]` tables).
pub fn load_scene_or_path(file: &FsPath) -> Result<SceneSource> {
    let src = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    let name = file.display().to_string();
    // A quick look for keys; a malformed file is reported by the scene parser.
    let is_path = toml::de::DeTable::parse(&src).is_ok_and(|t| t.get_ref().contains_key("key"));
    Ok(if is_path {
        SceneSource::Path(Box::new(CameraPath::new(PathFile::parse(&name, &src)?)))
    } else {
        SceneSource::Scene(Box::new(Scene::parse(&name, &src)?))
    })
}

/// The built-in flight that `render` uses without a path argument.
pub const BUILTIN_NAME: &str = "paths/flythrough.toml";
pub const BUILTIN: &str = include_str!("../../paths/flythrough.toml");

/// The orbit the benchmarks' video case flies (a seamless loop around the Mandelbulb), with the
/// reference look so its figures stay comparable from version to version.
pub fn bench_orbit() -> CameraPath {
    let file = PathFile::parse("paths/orbit.toml", include_str!("../../paths/orbit.toml"))
        .expect("the orbit parses");
    let mut path = CameraPath::new(file);
    path.file.base.look = crate::scene::Look::reference();
    path
}

pub fn builtin() -> CameraPath {
    CameraPath::new(PathFile::parse(BUILTIN_NAME, BUILTIN).expect("the built-in path parses"))
}
