//! The path file: a scene (`[fractal]`, `[camera]`, `[look]`) plus `[output]` defaults, timing
//! options and `[[key]]` tables. Every problem is reported at file:line:col.

use glam::{DQuat, DVec3};
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::interpolate::Ease;
use crate::error::SourceError;
use crate::scene::{Document, Scene};

/// How time maps onto the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Timing {
    /// Each key is reached at its `time`.
    #[default]
    Keys,
    /// The camera moves at an even speed along the whole path (key times only order the keys).
    ConstantSpeed,
    /// Speed proportional to the distance to the fractal's surface: on-screen motion stays even
    /// from the overview down into fine detail.
    ScaleAware,
}

/// How scalar parameters (fov, fractal and look values) are interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScalarInterpolation {
    /// C1 cubic; may overshoot slightly between keys (never past the smallest and largest key).
    #[default]
    Smooth,
    /// C1 cubic that never leaves the range of the two keys around it.
    Monotone,
}

/// `[output]`: defaults that the command line overrides.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Output {
    pub fps: f64,
    pub size: [u32; 2],
}

impl Default for Output {
    fn default() -> Self {
        Output {
            fps: 30.0,
            size: [1280, 720],
        }
    }
}

/// One `[[key]]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Key {
    pub time: f64,
    pub position: Option<DVec3>,
    pub look_at: Option<DVec3>,
    /// Camera-to-world rotation (forward = q * +Y, up = q * +Z), from `orientation` or
    /// `yaw`/`pitch`.
    pub orientation: Option<DQuat>,
    pub up: Option<DVec3>,
    pub roll: Option<f64>,
    pub fov: Option<f64>,
    /// Plane kinds: the view's centre, height and rotation.
    pub center: Option<glam::DVec2>,
    /// The centre as written (every digit, for deep zooms).
    pub center_text: [String; 2],
    pub zoom: Option<crate::deep::floatexp::FloatExp>,
    pub rotation: Option<f64>,
    pub ease: Ease,
    /// Fractal and look parameters, by name.
    pub params: Vec<(String, f64)>,
    /// Byte offset of the key's table in the source, for messages.
    pub offset: usize,
}

/// A parsed path file.
#[derive(Debug, Clone)]
pub struct PathFile {
    pub base: Scene,
    pub output: Output,
    pub timing: Timing,
    pub looped: bool,
    pub duration: Option<f64>,
    pub scalars: ScalarInterpolation,
    pub keys: Vec<Key>,
}

const TABLES: &[&str] = &["fractal", "camera", "look", "output"];
const PLAIN: &[&str] = &["key", "timing", "loop", "duration", "scalars"];
const CAMERA_KEYS: &[&str] = &[
    "time",
    "position",
    "look_at",
    "orientation",
    "yaw",
    "pitch",
    "up",
    "roll",
    "fov",
    "center",
    "zoom",
    "rotation",
    "ease",
];

/// Camera keys of 3D kinds and of plane kinds.
const KEYS_3D: &[&str] = &[
    "position",
    "look_at",
    "orientation",
    "yaw",
    "pitch",
    "up",
    "roll",
    "fov",
];
const KEYS_PLANE: &[&str] = &["center", "zoom", "rotation"];

/// The rotation for yaw (about +Z, positive turns left) then pitch (positive looks up), in
/// degrees; yaw = pitch = 0 looks along +Y.
pub fn yaw_pitch(yaw: f64, pitch: f64) -> DQuat {
    DQuat::from_rotation_z(yaw.to_radians()) * DQuat::from_rotation_x(pitch.to_radians())
}

/// The camera-to-world rotation looking along `forward` with `up` as near as possible to up.
pub fn look_rotation(forward: DVec3, up: DVec3) -> Option<DQuat> {
    let f = forward.try_normalize()?;
    let r = f.cross(up).try_normalize()?;
    let u = r.cross(f);
    Some(DQuat::from_mat3(&glam::DMat3::from_cols(r, f, u)).normalize())
}

impl PathFile {
    pub fn parse(file: &str, src: &str) -> Result<Self, SourceError> {
        let doc = Document { file, src };
        let root = DeTable::parse(src).map_err(|e| doc.toml_error(e, 0))?;
        let root = root.get_ref();
        doc.check_top_level(root, TABLES, PLAIN)?;
        let base = Scene::from_sections(&doc, root)?;

        let output = match root.get("output") {
            None => Output::default(),
            Some(section) => {
                let output = Output::deserialize(ValueDeserializer::from(section.clone()))
                    .map_err(|e| doc.toml_error(e, section.span().start))?;
                if !(output.fps > 0.0 && output.fps <= 1000.0) {
                    return Err(doc.key_error(
                        section,
                        "fps",
                        format!("fps must be in (0, 1000], got {}", output.fps),
                    ));
                }
                let max = crate::frame::MAX_SIDE;
                if output.size.iter().any(|&s| s == 0 || s > max) {
                    return Err(doc.key_error(
                        section,
                        "size",
                        format!("size sides must be 1 to {max}, got {:?}", output.size),
                    ));
                }
                output
            }
        };

        let string_option = |name: &str, allowed: &[&str]| -> Result<Option<String>, SourceError> {
            let Some(v) = root.get(name) else {
                return Ok(None);
            };
            match v.get_ref().as_str() {
                Some(s) if allowed.contains(&s) => Ok(Some(s.to_string())),
                _ => Err(doc.error(
                    v.span().start,
                    format!("`{name}` must be one of: \"{}\"", allowed.join("\", \"")),
                )),
            }
        };
        let timing =
            match string_option("timing", &["keys", "constant-speed", "scale-aware"])?.as_deref() {
                Some("constant-speed") => Timing::ConstantSpeed,
                Some("scale-aware") => Timing::ScaleAware,
                _ => Timing::Keys,
            };
        let scalars = match string_option("scalars", &["smooth", "monotone"])?.as_deref() {
            Some("monotone") => ScalarInterpolation::Monotone,
            _ => ScalarInterpolation::Smooth,
        };
        let looped = match root.get("loop") {
            None => false,
            Some(v) => v
                .get_ref()
                .as_bool()
                .ok_or_else(|| doc.error(v.span().start, "`loop` must be true or false"))?,
        };
        let duration = match root.get("duration") {
            None => None,
            Some(v) => Some(number(&doc, v, "duration")?),
        };

        let keys_value = root.get("key").ok_or_else(|| {
            doc.error(
                src.len(),
                "a path needs at least one [[key]] table (with a `time`)",
            )
        })?;
        let Some(array) = keys_value.get_ref().as_array() else {
            return Err(doc.error(
                keys_value.span().start,
                "`key` must be an array of tables: write each as [[key]]",
            ));
        };
        let mut keys = Vec::new();
        for item in array.iter() {
            keys.push(parse_key(&doc, &base, item)?);
        }
        if keys.is_empty() {
            return Err(doc.error(keys_value.span().start, "a path needs at least one key"));
        }
        for pair in keys.windows(2) {
            if pair[1].time <= pair[0].time {
                let what = if pair[1].time == pair[0].time {
                    "duplicate"
                } else {
                    "unsorted"
                };
                return Err(doc.error(
                    pair[1].offset,
                    format!(
                        "{what} key time {} after {}: key times must increase",
                        pair[1].time, pair[0].time
                    ),
                ));
            }
        }
        if keys[0].time < 0.0 {
            return Err(doc.error(keys[0].offset, "key times must not be negative"));
        }
        let max = super::MAX_DURATION;
        if let Some(k) = keys.iter().find(|k| k.time > max) {
            return Err(doc.error(
                k.offset,
                format!("key time {} is beyond the longest path, {max:e} s", k.time),
            ));
        }
        let last = keys[keys.len() - 1].time;
        if let Some(d) = duration {
            let v = root.get("duration").expect("present");
            if d > max {
                return Err(doc.error(
                    v.span().start,
                    format!("duration {d} is beyond the longest path, {max:e} s"),
                ));
            }
            let ok = if looped { d > last } else { d >= last };
            if !ok || !d.is_finite() {
                return Err(doc.error(
                    v.span().start,
                    format!(
                        "duration must be {} the last key time {last}, got {d}",
                        if looped { "greater than" } else { "at least" }
                    ),
                ));
            }
        }
        if looped && keys.len() < 2 {
            return Err(doc.error(
                root.get("loop").expect("present").span().start,
                "a loop needs at least two keys",
            ));
        }
        Ok(PathFile {
            base,
            output,
            timing,
            looped,
            duration,
            scalars,
            keys,
        })
    }
}

/// A number, or a decimal string such as "1e-9".
fn real_value(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::String(s) => crate::plane::parse_real(s),
        _ => f64::deserialize(ValueDeserializer::from(Spanned::new(0..0, v.clone())))
            .ok()
            .filter(|x| x.is_finite()),
    }
}

/// A view height: any depth when written as text ("1e-1000").
fn zoom_value(v: &DeValue<'_>) -> Option<crate::deep::floatexp::FloatExp> {
    match v {
        DeValue::String(s) => crate::plane::parse_zoom(s),
        _ => real_value(v)
            .filter(|z| *z > 0.0)
            .map(crate::deep::floatexp::FloatExp::from_f64),
    }
}

fn number(doc: &Document<'_>, v: &Spanned<DeValue<'_>>, name: &str) -> Result<f64, SourceError> {
    let x = f64::deserialize(ValueDeserializer::from(v.clone()))
        .map_err(|e| doc.error(v.span().start, format!("`{name}`: {}", e.message())))?;
    if !x.is_finite() {
        return Err(doc.error(
            v.span().start,
            format!("`{name}` must be a finite number, got {x}"),
        ));
    }
    Ok(x)
}

fn vector<const N: usize>(
    doc: &Document<'_>,
    v: &Spanned<DeValue<'_>>,
    name: &str,
) -> Result<[f64; N], SourceError> {
    let items = Vec::<f64>::deserialize(ValueDeserializer::from(v.clone())).map_err(|e| {
        doc.error(
            e.span().map_or(v.span().start, |s| s.start),
            format!("`{name}` must be {N} numbers: {}", e.message()),
        )
    })?;
    let a: [f64; N] = items.as_slice().try_into().map_err(|_| {
        doc.error(
            v.span().start,
            format!("`{name}` must be {N} numbers, got {}", items.len()),
        )
    })?;
    if a.iter().any(|x| !x.is_finite()) {
        return Err(doc.error(
            v.span().start,
            format!("`{name}` must be finite numbers, got {a:?}"),
        ));
    }
    Ok(a)
}

fn parse_key(
    doc: &Document<'_>,
    base: &Scene,
    item: &Spanned<DeValue<'_>>,
) -> Result<Key, SourceError> {
    let offset = item.span().start;
    let Some(table) = item.get_ref().as_table() else {
        return Err(doc.error(offset, "each key must be a table: write it as [[key]]"));
    };
    let time = table
        .get("time")
        .ok_or_else(|| doc.error(offset, "this key has no `time`"))?;
    let mut key = Key {
        time: number(doc, time, "time")?,
        offset,
        ..Default::default()
    };
    let mut yaw_pitch_given = (None, None);
    let fractal_param_names: Vec<String> = base.fractal.params().into_iter().map(|p| p.0).collect();
    let fractal_params: Vec<&str> = fractal_param_names.iter().map(String::as_str).collect();
    // Scalars by name; vectors are keyed whole (below) and listed by their own names.
    let look_params: Vec<&str> = base
        .look
        .params()
        .iter()
        .map(|p| p.0)
        .filter(|name| !name.contains('.'))
        .collect();
    let plane = base.fractal.is_plane();
    for (name, value) in table.iter() {
        let name_str: &str = name.get_ref().as_ref();
        let at = value.span().start;
        // The keys of the other kind of view would be ignored: they are mistakes.
        let (wrong, takes) = if plane {
            (KEYS_3D, KEYS_PLANE)
        } else {
            (KEYS_PLANE, KEYS_3D)
        };
        // (Unless a parameter of the kind has that name: the Menger sponge's `rotation`.)
        if wrong.contains(&name_str)
            && !fractal_params.contains(&name_str)
            && !look_params.contains(&name_str)
        {
            return Err(doc.error(
                name.span().start,
                format!(
                    "`{name_str}` is not a key of a {} path (its camera keys: {})",
                    if plane { "plane" } else { "3D" },
                    takes.join(", ")
                ),
            ));
        }
        match name_str {
            "time" => {}
            "position" => key.position = Some(DVec3::from_array(vector(doc, value, name_str)?)),
            "look_at" => key.look_at = Some(DVec3::from_array(vector(doc, value, name_str)?)),
            "up" => {
                let up = DVec3::from_array(vector(doc, value, name_str)?);
                if up.length() == 0.0 {
                    return Err(doc.error(at, "up must not be a zero-length vector"));
                }
                key.up = Some(up);
            }
            "orientation" => {
                let [x, y, z, w] = vector::<4>(doc, value, name_str)?;
                let q = DQuat::from_xyzw(x, y, z, w);
                if q.length() < 1e-9 {
                    return Err(
                        doc.error(at, "orientation must be a non-zero quaternion [x, y, z, w]")
                    );
                }
                key.orientation = Some(q.normalize());
            }
            "yaw" => yaw_pitch_given.0 = Some(number(doc, value, name_str)?),
            "pitch" => yaw_pitch_given.1 = Some(number(doc, value, name_str)?),
            "roll" => key.roll = Some(number(doc, value, name_str)?),
            "fov" => {
                let fov = number(doc, value, name_str)?;
                if !(fov > 0.0 && fov < 180.0) {
                    return Err(
                        doc.error(at, format!("fov must be in (0, 180) degrees, got {fov}"))
                    );
                }
                key.fov = Some(fov);
            }
            "center" => {
                let parts: Option<Vec<f64>> = value
                    .get_ref()
                    .as_array()
                    .and_then(|a| a.iter().map(|v| real_value(v.get_ref())).collect());
                match parts.as_deref() {
                    Some([x, y]) => {
                        key.center = Some(glam::DVec2::new(*x, *y));
                        let text = |i: usize| {
                            value
                                .get_ref()
                                .as_array()
                                .and_then(|a| match a.get(i)?.get_ref() {
                                    DeValue::String(s) => Some(s.trim().to_string()),
                                    _ => None,
                                })
                        };
                        key.center_text =
                            [text(0).unwrap_or_default(), text(1).unwrap_or_default()];
                    }
                    _ => {
                        return Err(doc.error(at, "center must be two numbers or decimal strings"));
                    }
                }
            }
            "zoom" => {
                let zoom = zoom_value(value.get_ref()).ok_or_else(|| {
                    doc.error(at, "zoom must be a positive number or decimal string")
                })?;
                key.zoom = Some(zoom);
            }
            "rotation" => key.rotation = Some(number(doc, value, name_str)?),
            "ease" => {
                key.ease = value
                    .get_ref()
                    .as_str()
                    .and_then(Ease::parse)
                    .ok_or_else(|| {
                        doc.error(
                            at,
                            "ease must be one of: \"linear\", \"in\", \"out\", \"in-out\"",
                        )
                    })?;
            }
            other if crate::scene::LOOK_VECTORS.iter().any(|(n, _)| *n == other) => {
                // A colour or direction: keyed whole, animated per component.
                let v: [f64; 3] = vector(doc, value, other)?;
                let components = crate::scene::LOOK_VECTORS
                    .iter()
                    .find(|(n, _)| *n == other)
                    .map(|(_, c)| c)
                    .expect("matched above");
                let mut scene = base.clone();
                for (name, x) in components.iter().zip(v) {
                    scene.look.set_param(name, x);
                }
                scene
                    .look
                    .validate()
                    .map_err(|e| doc.error(at, e.message))?;
                for (name, x) in components.iter().zip(v) {
                    key.params.push((name.to_string(), x));
                }
            }
            other if fractal_params.contains(&other) || look_params.contains(&other) => {
                let v = number(doc, value, other)?;
                // The keyed value must itself be valid.
                let mut scene = base.clone();
                if fractal_params.contains(&other) {
                    scene.fractal.set_param(other, v);
                    scene
                        .fractal
                        .validate()
                        .map_err(|e| doc.error(at, e.message))?;
                } else {
                    scene.look.set_param(other, v);
                    scene
                        .look
                        .validate()
                        .map_err(|e| doc.error(at, e.message))?;
                }
                key.params.push((other.to_string(), v));
            }
            other => {
                return Err(doc.error(
                    name.span().start,
                    format!(
                        "unknown key parameter `{other}`: expected a camera value ({}), a {} parameter ({}) or a look parameter ({})",
                        CAMERA_KEYS.join(", "),
                        base.fractal.kind(),
                        fractal_params.join(", "),
                        look_params.join(", ")
                    ),
                ));
            }
        }
    }
    match yaw_pitch_given {
        (None, None) => {}
        (yaw, pitch) => {
            if key.orientation.is_some() {
                return Err(doc.error(
                    offset,
                    "give either `orientation` or `yaw`/`pitch`, not both",
                ));
            }
            key.orientation = Some(yaw_pitch(yaw.unwrap_or(0.0), pitch.unwrap_or(0.0)));
        }
    }
    if key.orientation.is_some() && key.look_at.is_some() {
        return Err(doc.error(offset, "give either `look_at` or an orientation, not both"));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> SourceError {
        PathFile::parse("p.toml", src).expect_err("should fail")
    }

    #[test]
    fn keys_of_the_other_kind_of_view_are_errors() {
        let e = err("[fractal]\nkind = \"mandelbrot\"\n[[key]]\ntime = 0\nposition = [1, 2, 3]\n");
        assert_eq!((e.line, e.column), (5, 1), "{e}");
        assert!(e.message.contains("not a key of a plane path"), "{e}");
        let e = err("[[key]]\ntime = 0\nzoom = 2\n");
        assert_eq!((e.line, e.column), (3, 1), "{e}");
        assert!(e.message.contains("not a key of a 3D path"), "{e}");
    }

    #[test]
    fn times_beyond_the_longest_path_are_errors() {
        let e = err("duration = 1e300\n[[key]]\ntime = 0\n[[key]]\ntime = 1\n");
        assert_eq!(e.line, 1, "{e}");
        assert!(e.message.contains("longest path"), "{e}");
        let e = err("loop = true\n[[key]]\ntime = 0\n[[key]]\ntime = 1e308\n");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("longest path"), "{e}");
    }

    #[test]
    fn parses_the_design_example() {
        let src = r#"
[fractal]
kind = "mandelbulb"
power = 8.0

[output]
fps = 30
size = [1280, 720]

[[key]]
time = 0.0
position = [3.0, -3.0, 2.0]
look_at = [0.0, 0.0, 0.0]
fov = 50.0

[[key]]
time = 4.0
position = [1.2, -0.9, 0.6]
look_at = [0.0, 0.0, 0.2]
power = 9.0
ease = "in-out"
"#;
        let p = PathFile::parse("p.toml", src).unwrap();
        assert_eq!(p.keys.len(), 2);
        assert_eq!(p.keys[1].params, vec![("power".to_string(), 9.0)]);
        assert_eq!(p.keys[1].ease, Ease::InOut);
        assert_eq!(p.output.fps, 30.0);
    }

    #[test]
    fn errors_are_located() {
        let e = err("[[key]]\ntime = 1.0\n[[key]]\ntime = 0.5\n");
        assert_eq!((e.line, e.column), (3, 1), "{e}");
        assert!(e.message.contains("unsorted"), "{e}");

        let e = err("[[key]]\ntime = 1.0\n[[key]]\ntime = 1.0\n");
        assert!(e.message.contains("duplicate"), "{e}");

        let e = err("[fractal]\npower = 8\n");
        assert!(e.message.contains("at least one"), "{e}");

        let e = err("[[key]]\ntime = 0\nwarp = 3\n");
        assert_eq!((e.line, e.column), (3, 1), "{e}");
        assert!(e.message.contains("warp"), "{e}");

        let e = err("[[key]]\ntime = 0\nfov = nan\n");
        assert_eq!((e.line, e.column), (3, 7), "{e}");

        let e = err("[[key]]\ntime = 0\nposition = [1, nan, 0]\n");
        assert_eq!(e.line, 3, "{e}");

        let e = err("[[key]]\ntime = 0\npower = 0.5\n");
        assert_eq!((e.line, e.column), (3, 9), "{e}");

        let e = err("[[key]]\nposition = [0, 0, 3]\n");
        assert!(e.message.contains("time"), "{e}");

        let e = err("timing = \"fast\"\n[[key]]\ntime = 0\n");
        assert_eq!((e.line, e.column), (1, 10), "{e}");
    }

    #[test]
    fn yaw_pitch_convention() {
        let q = yaw_pitch(0.0, 0.0);
        assert!((q * DVec3::Y - DVec3::Y).length() < 1e-12);
        let q = yaw_pitch(90.0, 0.0);
        assert!(
            (q * DVec3::Y - (-DVec3::X)).length() < 1e-12,
            "yaw turns left"
        );
        let q = yaw_pitch(0.0, 30.0);
        assert!((q * DVec3::Y).z > 0.4, "pitch looks up");
        let l = look_rotation(DVec3::new(1.0, 1.0, 0.0), DVec3::Z).unwrap();
        assert!((l * DVec3::Y - DVec3::new(1.0, 1.0, 0.0).normalize()).length() < 1e-12);
        assert!((l * DVec3::Z - DVec3::Z).length() < 1e-12);
    }
}
