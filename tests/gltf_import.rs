//! glTF camera import: hand-built .glb/.gltf files in, mandelfly keys and path TOML out.

use std::path::{Path, PathBuf};

use glam::{DQuat, DVec3};
use mandelfly::path::gltf::{ImportedCamera, import, to_path_toml};

const TOLERANCE: f64 = 1e-6;
const PERSPECTIVE_CAMERA: &str =
    r#"{"type":"perspective","perspective":{"yfov":0.5,"znear":0.1,"aspectRatio":1.5}}"#;

/// Accumulates float accessors in one little-endian buffer and writes the glTF around them.
#[derive(Default)]
struct GltfBuilder {
    bin: Vec<u8>,
    views: Vec<String>,
    accessors: Vec<String>,
}

impl GltfBuilder {
    /// Adds an accessor of `kind` ("SCALAR", "VEC3", "VEC4") over `values`; returns its index.
    fn accessor(&mut self, kind: &str, values: &[f32]) -> usize {
        let components = match kind {
            "SCALAR" => 1,
            "VEC3" => 3,
            "VEC4" => 4,
            _ => panic!("unexpected accessor type {kind}"),
        };
        let offset = self.bin.len();
        for value in values {
            self.bin.extend_from_slice(&value.to_le_bytes());
        }
        self.views.push(format!(
            r#"{{"buffer":0,"byteOffset":{offset},"byteLength":{}}}"#,
            values.len() * 4
        ));
        self.accessors.push(format!(
            r#"{{"bufferView":{},"componentType":5126,"count":{},"type":"{kind}"}}"#,
            self.views.len() - 1,
            values.len() / components
        ));
        self.accessors.len() - 1
    }

    /// The glTF JSON; `buffer_uri` None means the GLB BIN chunk.
    fn json(
        &self,
        nodes: &str,
        cameras: &str,
        animations: &str,
        buffer_uri: Option<&str>,
    ) -> String {
        let uri = buffer_uri.map_or(String::new(), |uri| format!(r#","uri":"{uri}""#));
        format!(
            r#"{{"asset":{{"version":"2.0"}},"scene":0,"scenes":[{{"nodes":[0]}}],
"nodes":[{nodes}],"cameras":[{cameras}],"animations":[{animations}],
"buffers":[{{"byteLength":{}{uri}}}],"bufferViews":[{}],"accessors":[{}]}}"#,
            self.bin.len(),
            self.views.join(","),
            self.accessors.join(",")
        )
    }

    fn glb(&self, nodes: &str, cameras: &str, animations: &str) -> Vec<u8> {
        glb_bytes(&self.json(nodes, cameras, animations, None), &self.bin)
    }
}

/// One animation whose channel i uses sampler i: (node, path, input, output, interpolation).
fn animation(channels: &[(usize, &str, usize, usize, &str)]) -> String {
    let channel_json: Vec<String> = channels
        .iter()
        .enumerate()
        .map(|(i, (node, path, ..))| {
            format!(r#"{{"sampler":{i},"target":{{"node":{node},"path":"{path}"}}}}"#)
        })
        .collect();
    let sampler_json: Vec<String> = channels
        .iter()
        .map(|(_, _, input, output, interpolation)| {
            format!(r#"{{"input":{input},"output":{output},"interpolation":"{interpolation}"}}"#)
        })
        .collect();
    format!(
        r#"{{"name":"Action","channels":[{}],"samplers":[{}]}}"#,
        channel_json.join(","),
        sampler_json.join(",")
    )
}

/// A binary glTF container: header, JSON chunk padded with spaces, BIN chunk padded with zeros.
fn glb_bytes(json: &str, bin: &[u8]) -> Vec<u8> {
    let mut json = json.as_bytes().to_vec();
    json.resize(json.len().next_multiple_of(4), b' ');
    let mut bin = bin.to_vec();
    bin.resize(bin.len().next_multiple_of(4), 0);
    let total = 12 + 8 + json.len() + if bin.is_empty() { 0 } else { 8 + bin.len() };
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&0x4E4F_534Au32.to_le_bytes());
    out.extend_from_slice(&json);
    if !bin.is_empty() {
        out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
        out.extend_from_slice(&0x004E_4942u32.to_le_bytes());
        out.extend_from_slice(&bin);
    }
    out
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// glTF world vector to mandelfly world vector.
fn to_mandelfly(v: DVec3) -> DVec3 {
    DVec3::new(v.x, -v.z, v.y)
}

fn quat_values(rotations: &[DQuat]) -> Vec<f32> {
    rotations
        .iter()
        .flat_map(|q| q.to_array().map(|c| c as f32))
        .collect()
}

fn assert_near(actual: DVec3, expected: DVec3, what: &str) {
    assert!(
        actual.abs_diff_eq(expected, TOLERANCE),
        "{what}: {actual} != {expected}"
    );
}

/// Checks the imported orientation sees what a glTF camera with world rotation `gltf_rotation`
/// sees: forward is the converted local -Z, up the converted local +Y.
fn assert_orientation(orientation: DQuat, gltf_rotation: DQuat, what: &str) {
    assert!(orientation.is_normalized(), "{what}: not unit");
    assert_near(
        orientation * DVec3::Y,
        to_mandelfly(gltf_rotation * DVec3::NEG_Z),
        &format!("{what} forward"),
    );
    assert_near(
        orientation * DVec3::Z,
        to_mandelfly(gltf_rotation * DVec3::Y),
        &format!("{what} up"),
    );
}

fn times(camera: &ImportedCamera) -> Vec<f64> {
    camera.keys.iter().map(|k| k.time).collect()
}

#[test]
fn linear_translation_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    let translation_times = gltf.accessor("SCALAR", &[0.0, 1.0, 2.0]);
    let translations = gltf.accessor("VEC3", &[0.0, 1.0, 5.0, 2.0, 1.0, 5.0, 2.0, 3.0, 5.0]);
    let rotation_times = gltf.accessor("SCALAR", &[0.0, 2.0]);
    let quarter_turn_left = DQuat::from_rotation_y(std::f64::consts::FRAC_PI_2);
    let rotations = gltf.accessor("VEC4", &quat_values(&[DQuat::IDENTITY, quarter_turn_left]));
    let glb = gltf.glb(
        r#"{"name":"Camera","camera":0}"#,
        PERSPECTIVE_CAMERA,
        &animation(&[
            (0, "translation", translation_times, translations, "LINEAR"),
            (0, "rotation", rotation_times, rotations, "LINEAR"),
        ]),
    );
    let path = write_file(dir.path(), "linear.glb", &glb);
    let camera = import(&path).unwrap();

    assert_eq!(camera.name, "Camera");
    assert_eq!(times(&camera), vec![0.0, 1.0, 2.0]);
    let expected_positions = [
        DVec3::new(0.0, -5.0, 1.0),
        DVec3::new(2.0, -5.0, 1.0),
        DVec3::new(2.0, -5.0, 3.0),
    ];
    for (key, expected) in camera.keys.iter().zip(expected_positions) {
        assert_near(key.position, expected, &format!("position at {}", key.time));
    }
    for key in &camera.keys {
        let gltf_rotation = DQuat::IDENTITY.slerp(quarter_turn_left, key.time / 2.0);
        assert_orientation(key.orientation, gltf_rotation, &format!("t = {}", key.time));
    }
    // Identity glTF camera looks along mandelfly +Y with +Z up; a quarter turn left about the
    // glTF up axis looks along -X.
    assert!(
        camera.keys[0]
            .orientation
            .abs_diff_eq(DQuat::IDENTITY, TOLERANCE)
    );
    assert_near(
        camera.keys[2].orientation * DVec3::Y,
        DVec3::NEG_X,
        "final forward",
    );
    assert_near(camera.keys[2].orientation * DVec3::Z, DVec3::Z, "final up");
}

#[test]
fn static_parent_transform_is_composed() {
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    let key_times = gltf.accessor("SCALAR", &[0.0, 1.0]);
    // The camera dollies along its own view direction (local -Z).
    let translations = gltf.accessor("VEC3", &[0.0, 0.0, 0.0, 0.0, 0.0, -1.0]);
    // Parent (as a column-major matrix): translate (10, 0, 0) after a quarter turn about +Y,
    // which takes local -Z to world -X. Its parent scales uniformly by 2.
    let nodes = r#"{"name":"Root","scale":[2,2,2],"children":[1]},
        {"name":"Rig","matrix":[0,0,-1,0, 0,1,0,0, 1,0,0,0, 10,0,0,1],"children":[2]},
        {"name":"Camera","camera":0}"#;
    let glb = gltf.glb(
        nodes,
        PERSPECTIVE_CAMERA,
        &animation(&[(2, "translation", key_times, translations, "LINEAR")]),
    );
    let path = write_file(dir.path(), "parent.glb", &glb);
    let camera = import(&path).unwrap();

    assert_eq!(times(&camera), vec![0.0, 1.0]);
    // glTF world: 2 * ((10, 0, 0) + (-d, 0, 0)) for dolly distance d.
    assert_near(camera.keys[0].position, DVec3::new(20.0, 0.0, 0.0), "start");
    assert_near(camera.keys[1].position, DVec3::new(18.0, 0.0, 0.0), "end");
    let rig_rotation = DQuat::from_rotation_y(std::f64::consts::FRAC_PI_2);
    for key in &camera.keys {
        assert_orientation(key.orientation, rig_rotation, "under rig");
        assert_near(key.orientation * DVec3::Y, DVec3::NEG_X, "forward");
    }
}

#[test]
fn step_holds_until_just_before_next_key_and_follows_an_animated_parent() {
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    let key_times = gltf.accessor("SCALAR", &[1.0, 2.0, 3.0]);
    let translations = gltf.accessor("VEC3", &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0]);
    // Only the parent is animated; the camera sits 5 units up (glTF +Y) from it.
    let nodes =
        r#"{"name":"Dolly","children":[1]},{"name":"Camera","camera":0,"translation":[0,5,0]}"#;
    let glb = gltf.glb(
        nodes,
        PERSPECTIVE_CAMERA,
        &animation(&[(0, "translation", key_times, translations, "STEP")]),
    );
    let path = write_file(dir.path(), "step.glb", &glb);
    let camera = import(&path).unwrap();

    // Times are not shifted to start at zero.
    assert_eq!(times(&camera), vec![1.0, 1.999, 2.0, 2.999, 3.0]);
    let expected_x = [0.0, 0.0, 1.0, 1.0, 2.0];
    for (key, x) in camera.keys.iter().zip(expected_x) {
        assert_near(
            key.position,
            DVec3::new(x, 0.0, 5.0),
            &format!("t = {}", key.time),
        );
    }
}

#[test]
fn cubic_spline_follows_hermite_curve() {
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    let key_times = gltf.accessor("SCALAR", &[0.0, 2.0]);
    // Per key: in-tangent, value, out-tangent.
    let (v0, b0) = (DVec3::new(0.0, 0.0, 0.0), DVec3::new(1.0, 2.0, 0.0));
    let (a1, v1) = (DVec3::new(-1.0, 0.5, 3.0), DVec3::new(4.0, 1.0, -2.0));
    let spline: Vec<f32> = [
        DVec3::new(9.0, 9.0, 9.0),
        v0,
        b0,
        a1,
        v1,
        DVec3::new(7.0, 7.0, 7.0),
    ]
    .iter()
    .flat_map(|v| v.to_array().map(|c| c as f32))
    .collect();
    let translations = gltf.accessor("VEC3", &spline);
    // Rotation cubic spline with non-zero tangents: the result must still be a unit rotation.
    let turn = DQuat::from_rotation_y(1.0);
    let tangent = DQuat::from_xyzw(0.0, 0.3, 0.0, 0.0);
    let rotations = gltf.accessor(
        "VEC4",
        &quat_values(&[tangent, DQuat::IDENTITY, tangent, tangent, turn, tangent]),
    );
    let glb = gltf.glb(
        r#"{"camera":0}"#,
        PERSPECTIVE_CAMERA,
        &animation(&[
            (0, "translation", key_times, translations, "CUBICSPLINE"),
            (0, "rotation", key_times, rotations, "CUBICSPLINE"),
        ]),
    );
    let path = write_file(dir.path(), "cubic.glb", &glb);
    let camera = import(&path).unwrap();

    assert_eq!(camera.name, "node 0");
    // The keys, the quarter points, and whatever else the path needs to follow the curve.
    let t = times(&camera);
    for expected in [0.0, 0.5, 1.0, 1.5, 2.0] {
        assert!(t.contains(&expected), "{t:?}");
    }
    let duration = 2.0;
    for key in &camera.keys {
        let s = key.time / duration;
        let (s2, s3) = (s * s, s * s * s);
        let hermite = v0 * (2.0 * s3 - 3.0 * s2 + 1.0)
            + b0 * duration * (s3 - 2.0 * s2 + s)
            + v1 * (-2.0 * s3 + 3.0 * s2)
            + a1 * duration * (s3 - s2);
        assert_near(
            key.position,
            to_mandelfly(hermite),
            &format!("t = {}", key.time),
        );
        assert!(key.orientation.is_normalized());
    }
    assert_orientation(camera.keys.last().unwrap().orientation, turn, "end");
}

#[test]
fn yfov_becomes_degrees_and_path_toml_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    let key_times = gltf.accessor("SCALAR", &[0.0, 0.5, 1.25]);
    let translations = gltf.accessor("VEC3", &[0.0, 1.0, 5.0, 0.1, 1.0, 4.0, 1e20, -0.0, 3.0]);
    let rotations = gltf.accessor(
        "VEC4",
        &quat_values(&[
            DQuat::IDENTITY,
            // Opposite hemisphere on purpose: the import must flip it.
            -DQuat::from_rotation_y(0.2),
            DQuat::from_rotation_x(0.3),
        ]),
    );
    let glb = gltf.glb(
        r#"{"name":"Cam \"A\"","camera":0}"#,
        PERSPECTIVE_CAMERA,
        &animation(&[
            (0, "translation", key_times, translations, "LINEAR"),
            (0, "rotation", key_times, rotations, "LINEAR"),
        ]),
    );
    let path = write_file(dir.path(), "fov.glb", &glb);
    let camera = import(&path).unwrap();

    assert_eq!(camera.fov, Some(0.5f64.to_degrees()));
    assert_eq!(camera.name, "Cam \"A\"");
    for pair in camera.keys.windows(2) {
        assert!(
            pair[0].orientation.dot(pair[1].orientation) > 0.0,
            "hemisphere flip"
        );
    }

    let text = to_path_toml(&camera, "fov.glb");
    assert!(text.starts_with("# Imported from fov.glb: glTF camera \"Cam \\\"A\\\"\", 3 keys.\n"));
    let parsed: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(parsed["fractal"]["kind"].as_str(), Some("mandelbulb"));
    let keys = parsed["key"].as_array().unwrap();
    assert_eq!(keys.len(), camera.keys.len());
    let floats = |value: &toml::Value| -> Vec<f64> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_float().unwrap_or_else(|| panic!("{v} is not a float")))
            .collect()
    };
    for (index, (table, key)) in keys.iter().zip(&camera.keys).enumerate() {
        // Floats read back bit for bit, and stay floats even when integral (1e20, 0.0).
        assert_eq!(table["time"].as_float(), Some(key.time));
        assert_eq!(floats(&table["position"]), key.position.to_array().to_vec());
        assert_eq!(
            floats(&table["orientation"]),
            key.orientation.to_array().to_vec()
        );
        if index == 0 {
            assert_eq!(table["fov"].as_float(), camera.fov);
            assert!(table.get("ease").is_none());
        } else {
            assert!(table.get("fov").is_none());
            assert_eq!(table["ease"].as_str(), Some("linear"));
        }
    }
    assert_eq!(keys[2]["position"][0].as_float(), Some(1e20));
}

#[test]
fn orthographic_camera_has_no_fov_and_gltf_with_adjacent_buffer_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    let key_times = gltf.accessor("SCALAR", &[0.0, 1.0]);
    let translations = gltf.accessor("VEC3", &[0.0, 1.0, 5.0, 0.0, 2.0, 5.0]);
    let json = gltf.json(
        r#"{"name":"Ortho","camera":0}"#,
        r#"{"type":"orthographic","orthographic":{"xmag":1,"ymag":1,"znear":0.1,"zfar":100}}"#,
        &animation(&[(0, "translation", key_times, translations, "LINEAR")]),
        Some("anim%20data.bin"),
    );
    write_file(dir.path(), "anim data.bin", &gltf.bin);
    let path = write_file(dir.path(), "ortho.gltf", json.as_bytes());
    let camera = import(&path).unwrap();

    assert_eq!(camera.fov, None);
    assert_near(camera.keys[1].position, DVec3::new(0.0, -5.0, 2.0), "end");
    assert!(!to_path_toml(&camera, "ortho.gltf").contains("fov"));
}

#[test]
fn first_animated_camera_in_first_animation_that_animates_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    let short_times = gltf.accessor("SCALAR", &[0.0, 1.0]);
    let long_times = gltf.accessor("SCALAR", &[0.0, 1.0, 2.0]);
    let short = gltf.accessor("VEC3", &[0.0; 6]);
    let long = gltf.accessor("VEC3", &[0.0; 9]);
    // Node 0 is a camera nothing animates; node 1 is animated by both animations.
    let nodes = r#"{"name":"Idle","camera":0},{"name":"Moving","camera":0}"#;
    let animations = format!(
        "{},{}",
        animation(&[(1, "translation", long_times, long, "LINEAR")]),
        animation(&[(1, "translation", short_times, short, "LINEAR")]),
    );
    let glb = gltf.glb(nodes, PERSPECTIVE_CAMERA, &animations);
    let path = write_file(dir.path(), "two_cameras.glb", &glb);
    let camera = import(&path).unwrap();
    assert_eq!(camera.name, "Moving");
    assert_eq!(camera.keys.len(), 3);
}

fn import_error(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), name, bytes);
    let message = import(&path).expect_err("import should fail").to_string();
    assert!(
        message.contains(name),
        "message does not name the file: {message}"
    );
    message
}

#[test]
fn errors_name_the_file() {
    let mut gltf = GltfBuilder::default();
    let key_times = gltf.accessor("SCALAR", &[0.0, 1.0]);
    let translations = gltf.accessor("VEC3", &[0.0, 1.0, 5.0, 0.0, 2.0, 5.0]);
    let moves_node_0 = animation(&[(0, "translation", key_times, translations, "LINEAR")]);

    let message = import_error(
        "no_camera.glb",
        &gltf.glb(r#"{"name":"Cube"}"#, PERSPECTIVE_CAMERA, &moves_node_0),
    );
    assert!(message.contains("no camera"), "{message}");

    let message = import_error(
        "static_camera.glb",
        &gltf.glb(
            r#"{"name":"Cube"},{"name":"Camera","camera":0}"#,
            PERSPECTIVE_CAMERA,
            &moves_node_0,
        ),
    );
    assert!(message.contains("not animated"), "{message}");

    let camera_node = r#"{"name":"Camera","camera":0}"#;
    let whole = gltf.glb(camera_node, PERSPECTIVE_CAMERA, &moves_node_0);
    for cut in [3, 11, 30, whole.len() - 10] {
        import_error("truncated.glb", &whole[..cut]);
    }
    import_error("garbage.gltf", b"{ not json");

    // Accessor ranges and channel data that do not fit.
    let too_few_values = animation(&[(0, "translation", key_times, key_times, "LINEAR")]);
    import_error(
        "bad_channel.glb",
        &gltf.glb(camera_node, PERSPECTIVE_CAMERA, &too_few_values),
    );
    let missing_accessor = animation(&[(0, "translation", key_times, 99, "LINEAR")]);
    import_error(
        "bad_accessor.glb",
        &gltf.glb(camera_node, PERSPECTIVE_CAMERA, &missing_accessor),
    );
    let cubic_without_tangents =
        animation(&[(0, "translation", key_times, translations, "CUBICSPLINE")]);
    import_error(
        "bad_cubic.glb",
        &gltf.glb(camera_node, PERSPECTIVE_CAMERA, &cubic_without_tangents),
    );
    let mut short_bin = gltf.glb(camera_node, PERSPECTIVE_CAMERA, &moves_node_0);
    let json_length = u32::from_le_bytes(short_bin[12..16].try_into().unwrap()) as usize;
    let bin_header = 20 + json_length;
    short_bin.truncate(bin_header + 8 + 12);
    short_bin[bin_header..bin_header + 4].copy_from_slice(&12u32.to_le_bytes());
    let total = short_bin.len() as u32;
    short_bin[8..12].copy_from_slice(&total.to_le_bytes());
    import_error("short_bin.glb", &short_bin);
    let bad_target = animation(&[(7, "translation", key_times, translations, "LINEAR")]);
    import_error(
        "bad_target.glb",
        &gltf.glb(camera_node, PERSPECTIVE_CAMERA, &bad_target),
    );

    // A missing file is an I/O error naming it.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.glb");
    let message = import(&missing).unwrap_err().to_string();
    assert!(message.contains("missing.glb"), "{message}");
}

/// `mandelfly path import-gltf` writes a path that mandelfly flies through the imported keys.
#[test]
fn command_line_round_trip_flies_through_the_imported_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    let times_acc = gltf.accessor("SCALAR", &[0.0, 1.0, 2.5]);
    let translations = gltf.accessor("VEC3", &[0.0, 1.0, 5.0, 3.0, 1.5, 4.0, 4.0, 0.5, 1.0]);
    let rotations = gltf.accessor(
        "VEC4",
        &quat_values(&[
            DQuat::IDENTITY,
            DQuat::from_rotation_y(0.6),
            DQuat::from_rotation_y(1.2) * DQuat::from_rotation_x(-0.3),
        ]),
    );
    let glb = gltf.glb(
        r#"{"name":"Flight","camera":0}"#,
        PERSPECTIVE_CAMERA,
        &animation(&[
            (0, "translation", times_acc, translations, "LINEAR"),
            (0, "rotation", times_acc, rotations, "LINEAR"),
        ]),
    );
    let glb_path = write_file(dir.path(), "flight.glb", &glb);
    let out_path = dir.path().join("flight.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args(["path", "import-gltf"])
        .arg(&glb_path)
        .arg("-o")
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let imported = import(&glb_path).unwrap();
    let path = mandelfly::path::CameraPath::load(&out_path).unwrap();
    for key in &imported.keys {
        let camera = path.sample(key.time).camera;
        assert_near(camera.position, key.position, "position");
        assert_near(
            camera.basis().forward,
            key.orientation * DVec3::Y,
            "forward",
        );
        assert_near(camera.basis().up, key.orientation * DVec3::Z, "up");
        assert!(
            (camera.fov - 0.5f64.to_degrees()).abs() < 1e-4,
            "fov {}",
            camera.fov
        );
    }

    // A file that is not glTF fails with its name, and leaves no output.
    let bad = write_file(dir.path(), "bad.glb", b"not a gltf file");
    let bad_out = dir.path().join("bad.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mandelfly"))
        .args(["path", "import-gltf"])
        .arg(&bad)
        .arg("-o")
        .arg(&bad_out)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.glb"));
    assert!(!bad_out.exists());
}

/// The glTF specification's cubic spline (Appendix C): on key interval [t_k, t_k+1] of length
/// d, with s = (t - t_k) / d, p(s) = (2s³ - 3s² + 1) v_k + d (s³ - 2s² + s) b_k
/// + (-2s³ + 3s²) v_k+1 + d (s³ - s²) a_k+1; rotations are normalised afterwards.
fn spec_cubic(times: &[f64], keys: &[[glam::DVec4; 3]], t: f64) -> glam::DVec4 {
    let n = times.len();
    if t <= times[0] {
        return keys[0][1];
    }
    if t >= times[n - 1] {
        return keys[n - 1][1];
    }
    let k = times.iter().rposition(|&tk| tk <= t).unwrap();
    let d = times[k + 1] - times[k];
    let s = (t - times[k]) / d;
    let (s2, s3) = (s * s, s * s * s);
    keys[k][1] * (2.0 * s3 - 3.0 * s2 + 1.0)
        + keys[k][2] * d * (s3 - 2.0 * s2 + s)
        + keys[k + 1][1] * (-2.0 * s3 + 3.0 * s2)
        + keys[k + 1][0] * d * (s3 - s2)
}

#[test]
fn a_keyframed_cubic_export_is_reproduced_at_every_frame() {
    use glam::DVec4;
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    // Five keys at uneven intervals, as Blender writes them with "Always Sample Animations"
    // off: in-tangent, value, out-tangent per key.
    let key_times = [0.0, 1.0, 2.5, 3.0, 5.0];
    let v3 = |x: f64, y: f64, z: f64| DVec4::new(x, y, z, 0.0);
    let translation = [
        [v3(0.0, 0.0, 0.0), v3(4.0, 1.0, 6.0), v3(1.0, 0.5, -2.0)],
        [v3(2.0, 0.0, -1.0), v3(2.0, 2.0, 3.0), v3(2.0, 0.0, -1.0)],
        [v3(-1.0, 1.0, 0.5), v3(-1.0, 2.5, 1.0), v3(-3.0, 1.0, 0.5)],
        [v3(0.0, -2.0, 1.0), v3(-2.0, 1.5, 2.0), v3(0.0, -2.0, 1.0)],
        [v3(1.0, 0.0, 0.0), v3(-3.0, 0.5, 5.0), v3(0.0, 0.0, 0.0)],
    ];
    let q = |axis: DVec3, angle: f64| DVec4::from(DQuat::from_axis_angle(axis.normalize(), angle));
    let t4 = |x: f64, y: f64, z: f64, w: f64| DVec4::new(x, y, z, w);
    let rotation = [
        [
            t4(0.0, 0.0, 0.0, 0.0),
            q(DVec3::Y, 0.0),
            t4(0.0, 0.2, 0.0, 0.0),
        ],
        [
            t4(0.05, 0.1, 0.0, -0.02),
            q(DVec3::Y, 0.6),
            t4(0.05, 0.1, 0.0, -0.02),
        ],
        [
            t4(0.0, 0.15, 0.1, -0.05),
            q(DVec3::new(0.2, 1.0, 0.1), 1.4),
            t4(0.0, 0.15, 0.1, -0.05),
        ],
        [
            t4(-0.1, 0.0, 0.2, 0.0),
            q(DVec3::new(0.0, 1.0, 0.3), 1.8),
            t4(-0.1, 0.0, 0.2, 0.0),
        ],
        [
            t4(0.0, 0.1, 0.0, 0.0),
            q(DVec3::Y, 2.6),
            t4(0.0, 0.0, 0.0, 0.0),
        ],
    ];
    let flat = |keys: &[[DVec4; 3]], n: usize| -> Vec<f32> {
        keys.iter()
            .flatten()
            .flat_map(|v| {
                v.to_array()[..n]
                    .iter()
                    .map(|&c| c as f32)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let times_accessor = gltf.accessor(
        "SCALAR",
        &key_times.iter().map(|&t| t as f32).collect::<Vec<_>>(),
    );
    let translations = gltf.accessor("VEC3", &flat(&translation, 3));
    let rotations = gltf.accessor("VEC4", &flat(&rotation, 4));
    let glb = gltf.glb(
        r#"{"camera":0}"#,
        PERSPECTIVE_CAMERA,
        &animation(&[
            (
                0,
                "translation",
                times_accessor,
                translations,
                "CUBICSPLINE",
            ),
            (0, "rotation", times_accessor, rotations, "CUBICSPLINE"),
        ]),
    );
    let file = write_file(dir.path(), "blender.glb", &glb);
    let camera = import(&file).unwrap();
    let text = to_path_toml(&camera, "blender.glb");
    let path = mandelfly::path::CameraPath::new(
        mandelfly::path::PathFile::parse("blender.toml", &text).unwrap(),
    );
    // What the file holds is f32: evaluate the spec on the values as stored.
    let stored = |keys: &[[DVec4; 3]]| -> Vec<[DVec4; 3]> {
        keys.iter()
            .map(|k| k.map(|v| v.as_vec4().as_dvec4()))
            .collect()
    };
    let (translation, rotation) = (stored(&translation), stored(&rotation));
    let key_times: Vec<f64> = key_times.iter().map(|&t| t as f32 as f64).collect();
    let fps = 30.0;
    for frame in 0..=(5.0 * fps) as u32 {
        let t = frame as f64 / fps;
        let position = to_mandelfly(spec_cubic(&key_times, &translation, t).truncate());
        let turn = DQuat::from_vec4(spec_cubic(&key_times, &rotation, t)).normalize();
        let seen = path.sample(t).camera;
        let basis = seen.basis();
        let error = seen.position.distance(position);
        assert!(error < 1e-3, "t = {t}: position off by {error}");
        let forward = to_mandelfly(turn * DVec3::NEG_Z);
        let up = to_mandelfly(turn * DVec3::Y);
        let degrees = |a: DVec3, b: DVec3| a.angle_between(b).to_degrees();
        assert!(
            degrees(basis.forward, forward) < 0.5 && degrees(basis.up, up) < 0.5,
            "t = {t}: view off by {} and {} degrees",
            degrees(basis.forward, forward),
            degrees(basis.up, up)
        );
    }
}

/// A buffer URI naming a FIFO would block a reader forever: it is refused at once.
#[cfg(unix)]
#[test]
fn a_buffer_that_is_not_a_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut gltf = GltfBuilder::default();
    let key_times = gltf.accessor("SCALAR", &[0.0, 1.0]);
    let translations = gltf.accessor("VEC3", &[0.0, 1.0, 5.0, 0.0, 2.0, 5.0]);
    let json = gltf.json(
        r#"{"name":"Camera","camera":0}"#,
        PERSPECTIVE_CAMERA,
        &animation(&[(0, "translation", key_times, translations, "LINEAR")]),
        Some("fifo.bin"),
    );
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("fifo.bin"))
        .status()
        .unwrap();
    assert!(status.success());
    let path = write_file(dir.path(), "fifo.gltf", json.as_bytes());
    let message = import(&path).unwrap_err().to_string();
    assert!(message.contains("not a regular file"), "{message}");
}
