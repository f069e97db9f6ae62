//! Import of camera animations from glTF 2.0 (`.glb`, or `.gltf` with embedded or adjacent
//! buffers), as exported by Blender, into mandelfly keyframe paths.
//!
//! The file is read through the raw `gltf::json` structures with every index and byte range
//! checked here, rather than through `gltf`'s wrapper API: the wrappers `unwrap` on data that
//! its validation does not cover (animation channel targets, accessor ranges), and this importer
//! must never panic on a malformed file.
//!
//! Axes: glTF is +Y up with cameras looking along local -Z; mandelfly is +Z up with cameras
//! looking along local +Y. A glTF world vector (x, y, z) becomes (x, -z, y), a rotation of +90°
//! about X, which also maps glTF camera-local axes onto mandelfly's (-Z to +Y, +Y to +Z).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use glam::{DMat3, DMat4, DQuat, DVec3, DVec4};
use gltf::json::{
    self,
    accessor::{ComponentType, Type as AccessorType},
    animation::{Interpolation, Property},
    validation::Checked,
};

use crate::error::{Error, Result};

/// One sampled camera pose in mandelfly's world frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImportedKey {
    /// Seconds, as in the glTF animation (not shifted to start at zero).
    pub time: f64,
    pub position: DVec3,
    /// Camera-to-world: right = q * X, forward = q * Y, up = q * Z.
    pub orientation: DQuat,
}

/// A camera animation read from a glTF file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedCamera {
    /// The camera node's name, else the camera's, else `node <index>`.
    pub name: String,
    /// Vertical field of view in degrees, for perspective cameras.
    pub fov: Option<f64>,
    /// Strictly increasing in time; never empty.
    pub keys: Vec<ImportedKey>,
}

/// Reads the first camera node that is animated (its own node or any ancestor has animation
/// channels for translation/rotation/scale) in the file's first animation that animates it.
pub fn import(path: &Path) -> Result<ImportedCamera> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (json_bytes, bin) = if bytes.starts_with(b"glTF") {
        let (json_chunk, bin_chunk) =
            split_glb(&bytes).map_err(|message| invalid(path, message))?;
        (json_chunk, bin_chunk.map(<[u8]>::to_vec))
    } else {
        (bytes.as_slice(), None)
    };
    // Some exporters pad the JSON chunk with NULs instead of spaces; serde_json rejects those.
    let json_end = json_bytes
        .iter()
        .rposition(|&b| b != 0 && !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let root: json::Root = json::deserialize::from_slice(&json_bytes[..json_end])
        .map_err(|e| invalid(path, format_args!("not valid glTF JSON: {e}")))?;
    let mut file = GltfFile {
        path,
        root: &root,
        bin,
        loaded_buffers: vec![None; root.buffers.len()],
    };
    file.import_camera()
}

/// The mandelfly path file text for it: a `[[key]]` per imported key, `source_name` named in the
/// header comment.
pub fn to_path_toml(camera: &ImportedCamera, source_name: &str) -> String {
    let mut text = String::new();
    // A comment ends at a newline, so control characters in the names are escaped.
    let source_name: String = source_name.escape_debug().collect();
    let _ = writeln!(
        text,
        "# Imported from {source_name}: glTF camera {:?}, {} keys.",
        camera.name,
        camera.keys.len()
    );
    text.push_str(
        "# orientation = camera-to-world quaternion [x, y, z, w]: forward = q*Y, up = q*Z.\n",
    );
    text.push_str("[fractal]\nkind = \"mandelbulb\"\n");
    for (index, key) in camera.keys.iter().enumerate() {
        let p = key.position;
        let q = key.orientation;
        let _ = write!(
            text,
            "\n[[key]]\ntime = {}\nposition = [{}, {}, {}]\norientation = [{}, {}, {}, {}]\n",
            toml_float(key.time),
            toml_float(p.x),
            toml_float(p.y),
            toml_float(p.z),
            toml_float(q.x),
            toml_float(q.y),
            toml_float(q.z),
            toml_float(q.w),
        );
        if index == 0 {
            if let Some(fov) = camera.fov {
                let _ = writeln!(text, "fov = {}", toml_float(fov));
            }
        } else {
            text.push_str("ease = \"linear\"\n");
        }
    }
    text
}

/// A TOML float literal that reads back as exactly `value`: `{:?}` is shortest-round-trip and
/// keeps a `.0` or an exponent, so TOML never takes it for an integer (`{}` prints 1e20 as an
/// integer).
fn toml_float(value: f64) -> String {
    if value.is_nan() {
        "nan".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{value:?}")
    }
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("{}: {message}", path.display()))
}

/// The JSON chunk and the optional BIN chunk of a binary glTF file.
fn split_glb(bytes: &[u8]) -> std::result::Result<(&[u8], Option<&[u8]>), String> {
    let read_u32 = |at: usize| -> Option<u32> {
        let word = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
    };
    const JSON_CHUNK: u32 = 0x4E4F_534A;
    const BIN_CHUNK: u32 = 0x004E_4942;
    let truncated = || "truncated binary glTF file".to_string();
    let version = read_u32(4).ok_or_else(truncated)?;
    if version != 2 {
        return Err(format!(
            "binary glTF version {version} (only 2 is supported)"
        ));
    }
    let declared_length = read_u32(8).ok_or_else(truncated)? as usize;
    if declared_length > bytes.len() {
        return Err(format!(
            "truncated binary glTF file ({} of {declared_length} bytes)",
            bytes.len()
        ));
    }
    let bytes = &bytes[..declared_length];
    let mut json_chunk = None;
    let mut bin_chunk = None;
    let mut offset = 12usize;
    while offset < bytes.len() {
        let (Some(length), Some(kind)) = (read_u32(offset), read_u32(offset + 4)) else {
            return Err(truncated());
        };
        let start = offset + 8;
        let end = start
            .checked_add(length as usize)
            .filter(|&end| end <= bytes.len())
            .ok_or_else(truncated)?;
        let data = &bytes[start..end];
        match kind {
            JSON_CHUNK if json_chunk.is_none() => json_chunk = Some(data),
            BIN_CHUNK if json_chunk.is_some() && bin_chunk.is_none() => bin_chunk = Some(data),
            // The spec says to ignore chunks of unknown types.
            _ => {}
        }
        offset = end;
    }
    let json_chunk = json_chunk.ok_or_else(|| "binary glTF file has no JSON chunk".to_string())?;
    Ok((json_chunk, bin_chunk))
}

/// A node property an animation channel drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeProperty {
    Translation,
    Rotation,
    Scale,
}

impl NodeProperty {
    /// The channel target path as glTF spells it.
    fn gltf_name(self) -> &'static str {
        match self {
            NodeProperty::Translation => "translation",
            NodeProperty::Rotation => "rotation",
            NodeProperty::Scale => "scale",
        }
    }
}

/// How closely an imported path follows a glTF cubic spline: position in scene units and
/// direction of view (forward and up) in degrees, checked at quarter points between keys.
pub const FOLLOW_DISTANCE: f64 = 2e-4;
pub const FOLLOW_DEGREES: f64 = 0.05;
/// Rounds of adding keys, and the most keys an import makes.
const REFINE_ROUNDS: usize = 16;
const MAX_IMPORTED_KEYS: usize = 100_000;

/// The midpoints of the key intervals where the path through `camera`'s keys strays from
/// `pose_at` (the glTF curve) by more than [`FOLLOW_DISTANCE`] or [`FOLLOW_DEGREES`].
fn stray_segments(
    camera: &ImportedCamera,
    pose_at: &dyn Fn(f64) -> Result<(DVec3, DQuat)>,
) -> Result<Vec<f64>> {
    let text = to_path_toml(camera, "import");
    let Ok(file) = crate::path::PathFile::parse("import", &text) else {
        return Ok(Vec::new());
    };
    let path = crate::path::CameraPath::new(file);
    let mut strays = Vec::new();
    for pair in camera.keys.windows(2) {
        let (a, b) = (pair[0].time, pair[1].time);
        for share in [0.25, 0.5, 0.75] {
            let t = a + (b - a) * share;
            let (position, orientation) = pose_at(t)?;
            let seen = path.sample(t).camera;
            let basis = seen.basis();
            let degrees = |u: DVec3, v: DVec3| u.angle_between(v).to_degrees();
            if seen.position.distance(position) > FOLLOW_DISTANCE
                || degrees(basis.forward, orientation * DVec3::Y) > FOLLOW_DEGREES
                || degrees(basis.up, orientation * DVec3::Z) > FOLLOW_DEGREES
            {
                strays.push(0.5 * (a + b));
                break;
            }
        }
    }
    Ok(strays)
}

/// One animation channel on a node of the camera's chain, with its data read.
struct Track {
    node: usize,
    property: NodeProperty,
    interpolation: Interpolation,
    times: Vec<f64>,
    /// One value per time; for CUBICSPLINE three (in-tangent, value, out-tangent). Vectors of
    /// three components have w = 0; rotations are (x, y, z, w).
    values: Vec<DVec4>,
}

impl Track {
    fn key_value(&self, key: usize) -> DVec4 {
        match self.interpolation {
            Interpolation::CubicSpline => self.values[3 * key + 1],
            _ => self.values[key],
        }
    }

    /// The value at `time` under glTF semantics: clamped outside the keyed range.
    fn sample(&self, time: f64) -> DVec4 {
        let last = self.times.len() - 1;
        if time <= self.times[0] {
            return self.key_value(0);
        }
        if time >= self.times[last] {
            return self.key_value(last);
        }
        let key = self.times.partition_point(|&t| t <= time) - 1;
        let duration = self.times[key + 1] - self.times[key];
        if duration <= 0.0 {
            return self.key_value(key + 1);
        }
        let s = (time - self.times[key]) / duration;
        let (from, to) = (self.key_value(key), self.key_value(key + 1));
        match self.interpolation {
            Interpolation::Step => from,
            Interpolation::Linear => match self.property {
                NodeProperty::Rotation => {
                    DQuat::from_vec4(from).slerp(DQuat::from_vec4(to), s).into()
                }
                _ => from.lerp(to, s),
            },
            Interpolation::CubicSpline => {
                let out_tangent = self.values[3 * key + 2] * duration;
                let in_tangent = self.values[3 * (key + 1)] * duration;
                let (s2, s3) = (s * s, s * s * s);
                let value = from * (2.0 * s3 - 3.0 * s2 + 1.0)
                    + out_tangent * (s3 - 2.0 * s2 + s)
                    + to * (-2.0 * s3 + 3.0 * s2)
                    + in_tangent * (s3 - s2);
                match self.property {
                    NodeProperty::Rotation => value.normalize_or(from),
                    _ => value,
                }
            }
        }
    }

    /// Times between keys where the curve must be sampled for the keys to follow it.
    fn extra_sample_times(&self, times: &mut Vec<f64>) {
        for pair in self.times.windows(2) {
            let duration = pair[1] - pair[0];
            if duration <= 0.0 {
                continue;
            }
            match self.interpolation {
                Interpolation::Linear => {}
                // Hold the value until just before the next key, so a smooth interpolator
                // through the keys stays nearly a step.
                Interpolation::Step => times.push(pair[1] - (0.5 * duration).min(0.001)),
                Interpolation::CubicSpline => {
                    times.extend((1..4).map(|i| pair[0] + duration * f64::from(i) / 4.0));
                }
            }
        }
    }
}

/// A node's static local transform, as in the file.
#[derive(Clone, Copy)]
struct StaticTransform {
    translation: DVec3,
    rotation: DQuat,
    scale: DVec3,
    matrix: DMat4,
}

impl StaticTransform {
    fn of(node: &json::Node) -> Self {
        if let Some(columns) = node.matrix {
            let matrix = DMat4::from_cols_array(&columns.map(widen));
            let (scale, rotation, translation) = matrix.to_scale_rotation_translation();
            return StaticTransform {
                translation,
                rotation: rotation.normalize(),
                scale,
                matrix,
            };
        }
        let translation = DVec3::from_array(node.translation.unwrap_or([0.0; 3]).map(widen));
        let rotation = node.rotation.map_or(DQuat::IDENTITY, |r| {
            unit_quat(DVec4::from_array(r.0.map(widen)))
        });
        let scale = DVec3::from_array(node.scale.unwrap_or([1.0; 3]).map(widen));
        StaticTransform {
            translation,
            rotation,
            scale,
            matrix: DMat4::from_scale_rotation_translation(scale, rotation, translation),
        }
    }
}

/// Widens an `f32` read from the file to the `f64` its shortest decimal spells (0.1f32 becomes
/// 0.1, not 0.10000000149011612), since the file's writer most likely meant that decimal.
fn widen(value: f32) -> f64 {
    if !value.is_finite() {
        return f64::from(value);
    }
    value.to_string().parse().unwrap_or(f64::from(value))
}

/// A unit quaternion from (x, y, z, w); the identity when it has no direction.
fn unit_quat(xyzw: DVec4) -> DQuat {
    DQuat::from_vec4(xyzw.normalize_or(DVec4::W))
}

/// The camera-to-world orientation whose forward (q * Y) and up (q * Z) are the given
/// mandelfly-world vectors, with up made orthogonal to forward; `None` if they are degenerate.
fn orientation_from_forward_up(forward: DVec3, up: DVec3) -> Option<DQuat> {
    let forward = forward.try_normalize()?;
    let up = (up - forward * up.dot(forward)).try_normalize()?;
    let right = forward.cross(up);
    let orientation = DQuat::from_mat3(&DMat3::from_cols(right, forward, up)).normalize();
    orientation.is_finite().then_some(orientation)
}

/// glTF world vector to mandelfly world vector.
fn gltf_to_mandelfly(v: DVec3) -> DVec3 {
    DVec3::new(v.x, -v.z, v.y)
}

/// The camera pose in mandelfly's world from a glTF camera node's world matrix.
fn camera_pose(world: &DMat4) -> Option<(DVec3, DQuat)> {
    let position = gltf_to_mandelfly(world.transform_point3(DVec3::ZERO));
    let forward = gltf_to_mandelfly(world.transform_vector3(DVec3::NEG_Z));
    let up = gltf_to_mandelfly(world.transform_vector3(DVec3::Y));
    let orientation = orientation_from_forward_up(forward, up)?;
    position.is_finite().then_some((position, orientation))
}

/// Sorted, strictly increasing sample times. Key times are kept exactly; an in-between time
/// within a nanosecond of another time is dropped as a duplicate.
fn merge_sample_times(mut key_times: Vec<f64>, mut extra_times: Vec<f64>) -> Vec<f64> {
    key_times.sort_by(f64::total_cmp);
    key_times.dedup();
    extra_times.sort_by(f64::total_cmp);
    let near = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let mut merged = Vec::with_capacity(key_times.len() + extra_times.len());
    let mut next_key = key_times.iter().copied().peekable();
    for extra in extra_times {
        while let Some(key) = next_key.next_if(|&key| key <= extra) {
            merged.push(key);
        }
        let after_previous = merged.last().is_none_or(|&last| !near(last, extra));
        let before_next = next_key.peek().is_none_or(|&key| !near(key, extra));
        if after_previous && before_next {
            merged.push(extra);
        }
    }
    merged.extend(next_key);
    merged
}

struct GltfFile<'a> {
    path: &'a Path,
    root: &'a json::Root,
    /// The BIN chunk of a `.glb`.
    bin: Option<Vec<u8>>,
    /// Buffer contents, read when first needed.
    loaded_buffers: Vec<Option<Vec<u8>>>,
}

impl GltfFile<'_> {
    fn invalid(&self, message: impl std::fmt::Display) -> Error {
        invalid(self.path, message)
    }

    fn import_camera(&mut self) -> Result<ImportedCamera> {
        let root = self.root;
        let parents = self.parents()?;
        let camera_nodes: Vec<usize> = (0..root.nodes.len())
            .filter(|&i| root.nodes[i].camera.is_some())
            .collect();
        if camera_nodes.is_empty() {
            return Err(self.invalid("no camera in the file (no node has a camera)"));
        }
        for &camera_node in &camera_nodes {
            let chain = self.chain_from_root(camera_node, &parents)?;
            for animation in &root.animations {
                if animation.channels.iter().any(|channel| {
                    chain.contains(&channel.target.node.value())
                        && node_property(&channel.target.path).is_some()
                }) {
                    return self.sample_camera(camera_node, &chain, animation);
                }
            }
        }
        let first = camera_nodes[0];
        Err(self.invalid(format_args!(
            "camera {:?} is not animated: no animation has translation, rotation or scale \
             channels for it or its parent nodes",
            self.camera_name(first)
        )))
    }

    /// Each node's parent, from the nodes' children lists.
    fn parents(&self) -> Result<Vec<Option<usize>>> {
        let nodes = &self.root.nodes;
        let mut parents = vec![None; nodes.len()];
        for (parent, node) in nodes.iter().enumerate() {
            for child in node.children.iter().flatten() {
                let child = child.value();
                match parents.get_mut(child) {
                    None => {
                        return Err(self.invalid(format_args!(
                            "node {parent} has child {child}, which does not exist"
                        )));
                    }
                    Some(Some(other)) => {
                        return Err(self.invalid(format_args!(
                            "node {child} is a child of both node {other} and node {parent}"
                        )));
                    }
                    Some(slot) => *slot = Some(parent),
                }
            }
        }
        Ok(parents)
    }

    /// The node indices from the hierarchy's root down to `node`.
    fn chain_from_root(&self, node: usize, parents: &[Option<usize>]) -> Result<Vec<usize>> {
        let mut chain = vec![node];
        let mut current = node;
        while let Some(parent) = parents[current] {
            if chain.len() > parents.len() {
                return Err(self.invalid(format_args!(
                    "the node hierarchy above node {node} has a cycle"
                )));
            }
            chain.push(parent);
            current = parent;
        }
        chain.reverse();
        Ok(chain)
    }

    fn camera_name(&self, node_index: usize) -> String {
        let node = &self.root.nodes[node_index];
        let camera_name = node
            .camera
            .and_then(|c| self.root.cameras.get(c.value()))
            .and_then(|c| c.name.clone());
        node.name
            .clone()
            .or(camera_name)
            .unwrap_or_else(|| format!("node {node_index}"))
    }

    fn vertical_fov_degrees(&self, node_index: usize) -> Result<Option<f64>> {
        let Some(camera_index) = self.root.nodes[node_index].camera else {
            return Ok(None);
        };
        let camera = self.root.cameras.get(camera_index.value()).ok_or_else(|| {
            self.invalid(format_args!(
                "node {node_index} refers to camera {}, which does not exist",
                camera_index.value()
            ))
        })?;
        let Some(perspective) = &camera.perspective else {
            return Ok(None);
        };
        let yfov = widen(perspective.yfov);
        if !(yfov.is_finite() && yfov > 0.0 && yfov < std::f64::consts::PI) {
            return Err(self.invalid(format_args!(
                "camera {:?} has an invalid yfov {yfov}",
                self.camera_name(node_index)
            )));
        }
        Ok(Some(yfov.to_degrees()))
    }

    fn sample_camera(
        &mut self,
        camera_node: usize,
        chain: &[usize],
        animation: &json::Animation,
    ) -> Result<ImportedCamera> {
        let name = self.camera_name(camera_node);
        let fov = self.vertical_fov_degrees(camera_node)?;

        let mut tracks = Vec::new();
        for (channel_index, channel) in animation.channels.iter().enumerate() {
            let node = channel.target.node.value();
            let Some(property) = node_property(&channel.target.path) else {
                continue;
            };
            if !chain.contains(&node) {
                continue;
            }
            let sampler = animation
                .samplers
                .get(channel.sampler.value())
                .ok_or_else(|| {
                    self.invalid(format_args!(
                        "animation channel {channel_index} refers to sampler {}, which does \
                         not exist",
                        channel.sampler.value()
                    ))
                })?;
            tracks.push(self.read_track(node, property, sampler, channel_index)?);
        }

        let mut key_times = Vec::new();
        let mut extra_times = Vec::new();
        for track in &tracks {
            key_times.extend_from_slice(&track.times);
            track.extra_sample_times(&mut extra_times);
        }
        let times = merge_sample_times(key_times, extra_times);

        let static_transforms: Vec<StaticTransform> = chain
            .iter()
            .map(|&node| StaticTransform::of(&self.root.nodes[node]))
            .collect();
        let pose_at = |time: f64| -> Result<(DVec3, DQuat)> {
            let mut world = DMat4::IDENTITY;
            for (&node, fixed) in chain.iter().zip(&static_transforms) {
                world *= local_transform(node, fixed, &tracks, time);
            }
            camera_pose(&world).ok_or_else(|| {
                self.invalid(format_args!(
                    "camera {name:?} has a degenerate transform (zero scale?) at time {time}"
                ))
            })
        };
        let keys_at = |times: &[f64]| -> Result<Vec<ImportedKey>> {
            let mut keys: Vec<ImportedKey> = Vec::with_capacity(times.len());
            for &time in times {
                let (position, mut orientation) = pose_at(time)?;
                // q and -q are the same rotation; keep neighbours in one hemisphere so the
                // path's interpolator takes the short way between them.
                if let Some(previous) = keys.last()
                    && previous.orientation.dot(orientation) < 0.0
                {
                    orientation = -orientation;
                }
                keys.push(ImportedKey {
                    time,
                    position,
                    orientation,
                });
            }
            Ok(keys)
        };
        let mut times = times;
        let mut keys = keys_at(&times)?;
        if keys.is_empty() {
            return Err(self.invalid(format_args!("camera {name:?} has no animation keys")));
        }
        if tracks
            .iter()
            .any(|t| t.interpolation == Interpolation::CubicSpline)
        {
            // A cubic spline is not the path's own curve through its keys: add keys where the
            // path strays from the glTF curve until it follows it everywhere.
            for _ in 0..REFINE_ROUNDS {
                let camera = ImportedCamera {
                    name: name.clone(),
                    fov,
                    keys,
                };
                let strays = stray_segments(&camera, &pose_at)?;
                keys = camera.keys;
                if strays.is_empty() || times.len() + strays.len() > MAX_IMPORTED_KEYS {
                    break;
                }
                times.extend(strays);
                times.sort_by(f64::total_cmp);
                keys = keys_at(&times)?;
            }
        }
        Ok(ImportedCamera { name, fov, keys })
    }

    fn read_track(
        &mut self,
        node: usize,
        property: NodeProperty,
        sampler: &json::animation::Sampler,
        channel_index: usize,
    ) -> Result<Track> {
        let what = format!("animation channel {channel_index}");
        let interpolation = match sampler.interpolation {
            Checked::Valid(interpolation) => interpolation,
            Checked::Invalid => {
                return Err(self.invalid(format_args!("{what} has an unknown interpolation")));
            }
        };
        let (input_components, times) = self.read_accessor(sampler.input.value())?;
        if input_components != 1 {
            return Err(self.invalid(format_args!("{what}: input accessor is not SCALAR")));
        }
        if times.is_empty() {
            return Err(self.invalid(format_args!("{what} has no keyframes")));
        }
        if times.iter().any(|t| !t.is_finite()) || times.windows(2).any(|w| w[1] < w[0]) {
            return Err(self.invalid(format_args!(
                "{what}: keyframe times are not finite and increasing"
            )));
        }

        let (components, flat) = self.read_accessor(sampler.output.value())?;
        let expected_components = match property {
            NodeProperty::Rotation => 4,
            NodeProperty::Translation | NodeProperty::Scale => 3,
        };
        if components != expected_components {
            return Err(self.invalid(format_args!(
                "{what}: {} output has {components} components per value, not \
                 {expected_components}",
                property.gltf_name()
            )));
        }
        let (values_per_key, interpolation_name) = match interpolation {
            Interpolation::CubicSpline => (3, "CUBICSPLINE"),
            Interpolation::Linear => (1, "LINEAR"),
            Interpolation::Step => (1, "STEP"),
        };
        let value_count = flat.len() / components;
        if value_count != times.len() * values_per_key {
            return Err(self.invalid(format_args!(
                "{what}: {value_count} output values for {} keyframes ({interpolation_name} needs \
                 {values_per_key} per keyframe)",
                times.len()
            )));
        }
        if flat.iter().any(|v| !v.is_finite()) {
            return Err(self.invalid(format_args!("{what}: output values are not finite")));
        }
        let mut values: Vec<DVec4> = flat
            .chunks_exact(components)
            .map(|c| DVec4::new(c[0], c[1], c[2], c.get(3).copied().unwrap_or(0.0)))
            .collect();
        if property == NodeProperty::Rotation {
            // Tangents are derivatives, not rotations; only the key values must be unit.
            for (index, value) in values.iter_mut().enumerate() {
                if values_per_key == 1 || index % 3 == 1 {
                    *value = value.normalize_or(DVec4::W);
                }
            }
        }
        Ok(Track {
            node,
            property,
            interpolation,
            times,
            values,
        })
    }

    /// An accessor's values as `f64`, flattened, and its number of components per element.
    /// Float data and normalized integers (which glTF allows for rotations) are accepted.
    fn read_accessor(&mut self, index: usize) -> Result<(usize, Vec<f64>)> {
        let root = self.root;
        let accessor = root
            .accessors
            .get(index)
            .ok_or_else(|| self.invalid(format_args!("accessor {index} does not exist")))?;
        let path = self.path;
        let bad = |message: &str| invalid(path, format_args!("accessor {index}: {message}"));
        let component_type = match accessor.component_type {
            Checked::Valid(t) => t.0,
            Checked::Invalid => return Err(bad("unknown componentType")),
        };
        let components = match accessor.type_ {
            Checked::Valid(AccessorType::Scalar) => 1,
            Checked::Valid(AccessorType::Vec2) => 2,
            Checked::Valid(AccessorType::Vec3) => 3,
            Checked::Valid(AccessorType::Vec4) => 4,
            Checked::Valid(_) => return Err(bad("matrix accessors are not animation data")),
            Checked::Invalid => return Err(bad("unknown type")),
        };
        if component_type != ComponentType::F32 && !accessor.normalized {
            return Err(bad(
                "integer data must be normalized (only float or normalized integer animation \
                 data is supported)",
            ));
        }
        if component_type == ComponentType::U32 {
            return Err(bad("unsigned int data is not supported for animation"));
        }
        let component_size = component_type.size();
        let element_size = component_size * components;
        let count = usize::try_from(accessor.count.0).map_err(|_| bad("count is too large"))?;

        let mut bytes = match accessor.buffer_view {
            Some(view) => {
                let offset = usize::try_from(accessor.byte_offset.unwrap_or_default().0)
                    .map_err(|_| bad("byteOffset is too large"))?;
                self.read_elements(view.value(), offset, count, element_size)
                    .map_err(|message| bad(&message))?
            }
            None => {
                // All zeros unless sparse entries replace them; the size is not bounded by any
                // buffer, so refuse absurd counts rather than abort on allocation.
                if count > 1 << 24 {
                    return Err(bad("count is too large"));
                }
                vec![0; count * element_size]
            }
        };

        if let Some(sparse) = &accessor.sparse {
            let sparse_count =
                usize::try_from(sparse.count.0).map_err(|_| bad("sparse count is too large"))?;
            let index_size = match sparse.indices.component_type {
                Checked::Valid(t) => t.0.size(),
                Checked::Invalid => return Err(bad("unknown sparse index componentType")),
            };
            let index_offset = usize::try_from(sparse.indices.byte_offset.0)
                .map_err(|_| bad("sparse byteOffset is too large"))?;
            let index_bytes = self
                .read_elements(
                    sparse.indices.buffer_view.value(),
                    index_offset,
                    sparse_count,
                    index_size,
                )
                .map_err(|message| bad(&format!("sparse indices: {message}")))?;
            let value_offset = usize::try_from(sparse.values.byte_offset.0)
                .map_err(|_| bad("sparse byteOffset is too large"))?;
            let value_bytes = self
                .read_elements(
                    sparse.values.buffer_view.value(),
                    value_offset,
                    sparse_count,
                    element_size,
                )
                .map_err(|message| bad(&format!("sparse values: {message}")))?;
            for (index_chunk, value_chunk) in index_bytes
                .chunks_exact(index_size)
                .zip(value_bytes.chunks_exact(element_size))
            {
                let mut le = [0u8; 4];
                le[..index_size].copy_from_slice(index_chunk);
                let target = u32::from_le_bytes(le) as usize;
                if target >= count {
                    return Err(bad("sparse index out of range"));
                }
                bytes[target * element_size..(target + 1) * element_size]
                    .copy_from_slice(value_chunk);
            }
        }

        let values = bytes
            .chunks_exact(component_size)
            .map(|c| decode_component(component_type, c))
            .collect();
        Ok((components, values))
    }

    /// `count` elements of `element_size` bytes from a buffer view, packed tightly.
    fn read_elements(
        &mut self,
        view_index: usize,
        offset: usize,
        count: usize,
        element_size: usize,
    ) -> std::result::Result<Vec<u8>, String> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let root = self.root;
        let view = root
            .buffer_views
            .get(view_index)
            .ok_or_else(|| format!("buffer view {view_index} does not exist"))?;
        let view_offset = usize::try_from(view.byte_offset.unwrap_or_default().0).ok();
        let view_length = usize::try_from(view.byte_length.0).ok();
        let (Some(view_offset), Some(view_length)) = (view_offset, view_length) else {
            return Err(format!("buffer view {view_index} is too large"));
        };
        let stride = view.byte_stride.map_or(element_size, |s| s.0);
        if stride < element_size {
            return Err(format!(
                "buffer view {view_index} has byteStride {stride}, less than the element size \
                 {element_size}"
            ));
        }
        let needed = (count - 1)
            .checked_mul(stride)
            .and_then(|n| n.checked_add(offset)?.checked_add(element_size));
        if needed.is_none_or(|needed| needed > view_length) {
            return Err(format!(
                "{count} elements at offset {offset} do not fit in buffer view {view_index} \
                 ({view_length} bytes)"
            ));
        }
        let data = self
            .buffer_data(view.buffer.value())
            .map_err(|message| format!("buffer view {view_index}: {message}"))?;
        let view_data = view_offset
            .checked_add(view_length)
            .and_then(|end| data.get(view_offset..end))
            .ok_or_else(|| {
                format!("buffer view {view_index} reaches past the end of its buffer")
            })?;
        let mut packed = Vec::with_capacity(count * element_size);
        for element in 0..count {
            let start = offset + element * stride;
            packed.extend_from_slice(&view_data[start..start + element_size]);
        }
        Ok(packed)
    }

    /// A buffer's bytes (at most its declared byteLength), read on first use.
    fn buffer_data(&mut self, index: usize) -> std::result::Result<&[u8], String> {
        let root = self.root;
        let buffer = root
            .buffers
            .get(index)
            .ok_or_else(|| format!("buffer {index} does not exist"))?;
        if self.loaded_buffers[index].is_none() {
            let data = match &buffer.uri {
                None => self.bin.clone().ok_or_else(|| {
                    format!("buffer {index} has no uri and there is no BIN chunk")
                })?,
                Some(uri) => self
                    .load_uri(uri)
                    .map_err(|m| format!("buffer {index}: {m}"))?,
            };
            let declared = usize::try_from(buffer.byte_length.0).unwrap_or(usize::MAX);
            if data.len() < declared {
                return Err(format!(
                    "buffer {index} has {} bytes, fewer than its byteLength {declared}",
                    data.len()
                ));
            }
            // The GLB BIN chunk may carry padding beyond byteLength; views must not reach it.
            let mut data = data;
            data.truncate(declared);
            self.loaded_buffers[index] = Some(data);
        }
        Ok(self.loaded_buffers[index].as_deref().unwrap_or_default())
    }

    /// The bytes of a `data:` URI or of a file relative to the glTF file.
    fn load_uri(&self, uri: &str) -> std::result::Result<Vec<u8>, String> {
        if let Some(data_uri) = uri.strip_prefix("data:") {
            let (header, payload) = data_uri
                .split_once(',')
                .ok_or("malformed data URI (no comma)")?;
            return if header.ends_with(";base64") {
                decode_base64(payload).ok_or_else(|| "malformed base64 in data URI".to_string())
            } else {
                Ok(percent_decode(payload))
            };
        }
        if uri.contains("://") {
            return Err(format!("external URI {uri:?} is not supported"));
        }
        let relative = String::from_utf8(percent_decode(uri))
            .map_err(|_| format!("URI {uri:?} is not UTF-8"))?;
        let file: PathBuf = self.path.parent().unwrap_or(Path::new("")).join(relative);
        // Reading a FIFO or a device would block or never end.
        let meta =
            std::fs::metadata(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        if !meta.is_file() {
            return Err(format!("{} is not a regular file", file.display()));
        }
        std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    }
}

/// The local transform of a chain node at `time`: its static TRS with the animated properties
/// replaced, or its static matrix when nothing animates it.
fn local_transform(node: usize, fixed: &StaticTransform, tracks: &[Track], time: f64) -> DMat4 {
    let mut animated = false;
    let (mut translation, mut rotation, mut scale) =
        (fixed.translation, fixed.rotation, fixed.scale);
    for track in tracks.iter().filter(|track| track.node == node) {
        animated = true;
        let value = track.sample(time);
        match track.property {
            NodeProperty::Translation => translation = value.truncate(),
            NodeProperty::Rotation => rotation = unit_quat(value),
            NodeProperty::Scale => scale = value.truncate(),
        }
    }
    if animated {
        DMat4::from_scale_rotation_translation(scale, rotation, translation)
    } else {
        fixed.matrix
    }
}

/// The node property of a channel target path, if it is one this importer follows (morph
/// target weights and unknown paths are not).
fn node_property(path: &Checked<Property>) -> Option<NodeProperty> {
    match path {
        Checked::Valid(Property::Translation) => Some(NodeProperty::Translation),
        Checked::Valid(Property::Rotation) => Some(NodeProperty::Rotation),
        Checked::Valid(Property::Scale) => Some(NodeProperty::Scale),
        _ => None,
    }
}

/// One little-endian component, normalized integers mapped as the glTF spec says.
fn decode_component(component_type: ComponentType, bytes: &[u8]) -> f64 {
    match component_type {
        ComponentType::F32 => widen(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        ComponentType::I8 => (f64::from(bytes[0] as i8) / 127.0).max(-1.0),
        ComponentType::U8 => f64::from(bytes[0]) / 255.0,
        ComponentType::I16 => {
            (f64::from(i16::from_le_bytes([bytes[0], bytes[1]])) / 32767.0).max(-1.0)
        }
        ComponentType::U16 => f64::from(u16::from_le_bytes([bytes[0], bytes[1]])) / 65535.0,
        ComponentType::U32 => {
            f64::from(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])) / 4294967295.0
        }
    }
}

/// Standard base64 (padding optional); `None` on any other character.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let text = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut bit_count) = (0u32, 0u32);
    for &c in text {
        bits = (bits << 6) | digit(c)?;
        bit_count += 6;
        if bit_count >= 8 {
            bit_count -= 8;
            out.push((bits >> bit_count) as u8);
            bits &= (1 << bit_count) - 1;
        }
    }
    Some(out)
}

/// `%XX` escapes decoded; malformed escapes are kept as they are.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glTF camera-to-world rotation to mandelfly's, by conjugating with the basis change
    /// (a +90° rotation about X).
    fn conjugated(gltf_rotation: DQuat) -> DQuat {
        let basis = DQuat::from_rotation_x(std::f64::consts::FRAC_PI_2);
        basis * gltf_rotation * basis.inverse()
    }

    fn same_rotation(a: DQuat, b: DQuat) -> bool {
        a.dot(b).abs() > 1.0 - 1e-12
    }

    #[test]
    fn forward_up_construction_agrees_with_basis_conjugation() {
        let rotations = [
            DQuat::IDENTITY,
            DQuat::from_rotation_y(0.7),
            DQuat::from_rotation_x(-1.2),
            DQuat::from_euler(glam::EulerRot::YXZ, 2.5, -0.4, 0.3),
            DQuat::from_axis_angle(DVec3::new(1.0, 2.0, -3.0).normalize(), 3.0),
        ];
        for rotation in rotations {
            let world = DMat4::from_rotation_translation(rotation, DVec3::new(1.0, 2.0, 3.0));
            let (position, orientation) = camera_pose(&world).unwrap();
            assert!(position.abs_diff_eq(DVec3::new(1.0, -3.0, 2.0), 1e-12));
            assert!(
                same_rotation(orientation, conjugated(rotation)),
                "{orientation:?} vs {:?}",
                conjugated(rotation)
            );
        }
    }

    #[test]
    fn identity_gltf_camera_is_identity_orientation() {
        let (_, orientation) = camera_pose(&DMat4::IDENTITY).unwrap();
        assert!(same_rotation(orientation, DQuat::IDENTITY));
    }

    #[test]
    fn degenerate_transform_has_no_pose() {
        assert!(camera_pose(&DMat4::from_scale(DVec3::ZERO)).is_none());
    }

    #[test]
    fn sample_times_keep_keys_and_drop_near_duplicates() {
        let merged = merge_sample_times(vec![1.0, 0.0, 1.0, 2.0], vec![0.5, 1.0 + 1e-12, 1.999]);
        assert_eq!(merged, vec![0.0, 0.5, 1.0, 1.999, 2.0]);
    }

    #[test]
    fn base64_and_percent_decoding() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("AAECAw==").unwrap(), vec![0, 1, 2, 3]);
        assert!(decode_base64("a*b").is_none());
        assert_eq!(percent_decode("my%20file%2.bin"), b"my file%2.bin");
    }

    #[test]
    fn toml_floats_stay_floats() {
        assert_eq!(toml_float(1.0), "1.0");
        assert_eq!(toml_float(-0.0), "-0.0");
        assert_eq!(toml_float(1e20), "1e20");
        let value: toml::Value = toml::from_str(&format!("x = {}", toml_float(1e20))).unwrap();
        assert_eq!(value["x"].as_float(), Some(1e20));
    }

    #[test]
    fn glb_splitting_rejects_truncation_and_bad_versions() {
        assert!(split_glb(b"glTF").is_err());
        let mut glb = b"glTF".to_vec();
        glb.extend_from_slice(&2u32.to_le_bytes());
        glb.extend_from_slice(&28u32.to_le_bytes());
        glb.extend_from_slice(&8u32.to_le_bytes());
        glb.extend_from_slice(&0x4E4F_534Au32.to_le_bytes());
        glb.extend_from_slice(b"{}      ");
        assert_eq!(split_glb(&glb).unwrap(), (&b"{}      "[..], None));
        assert!(split_glb(&glb[..20]).is_err());
        glb[4] = 1;
        assert!(split_glb(&glb).is_err());
    }
}
