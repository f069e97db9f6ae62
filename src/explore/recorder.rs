//! Recording a flight in the window: keys at the current camera and parameters, kept in time
//! order, written as a path file that `render` renders as seen. No winit here.

use glam::DQuat;

use super::controller::FlyController;
use crate::error::{Error, Result};
use crate::path::{CameraPath, PathFile};
use crate::scene::Scene;

/// One recorded key: the camera and every numeric fractal and look value at that moment.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedKey {
    pub time: f64,
    pub position: glam::DVec3,
    pub orientation: DQuat,
    pub fov: f64,
    /// Plane kinds: the 2D view instead of the camera.
    pub plane: Option<crate::plane::PlaneView>,
    pub params: Vec<(String, f64)>,
}

/// The keys of a flight being recorded or edited, with the scene they belong to.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub base: Scene,
    pub keys: Vec<RecordedKey>,
    /// Seconds between a new key and the one before it.
    pub spacing: f64,
    pub fps: f64,
    pub size: [u32; 2],
}

impl Recorder {
    pub fn new(base: Scene) -> Self {
        Recorder {
            base,
            keys: Vec::new(),
            spacing: 3.0,
            fps: 30.0,
            size: [1280, 720],
        }
    }

    /// Starts from an existing path: one key per key of the file, as the path shows it there.
    pub fn from_path(path: &CameraPath) -> Self {
        let mut r = Recorder::new(path.file.base.clone());
        r.fps = path.file.output.fps;
        r.size = path.file.output.size;
        for key in &path.file.keys {
            let scene = path.sample(key.time);
            r.keys.push(Self::key_of(&scene, key.time));
        }
        r
    }

    fn key_of(scene: &Scene, time: f64) -> RecordedKey {
        let c = FlyController::new(&scene.camera);
        let mut params = scene.fractal.params();
        params.extend(
            scene
                .look
                .params()
                .into_iter()
                .map(|(n, v)| (n.to_string(), v)),
        );
        RecordedKey {
            time,
            position: c.position,
            orientation: c.orientation,
            fov: c.fov,
            plane: scene.fractal.is_plane().then(|| scene.plane.clone()),
            params,
        }
    }

    pub fn duration(&self) -> f64 {
        self.keys.last().map_or(0.0, |k| k.time)
    }

    /// Adds a key at the end, `spacing` seconds after the last.
    pub fn add(&mut self, scene: &Scene) {
        let time = if self.keys.is_empty() {
            0.0
        } else {
            self.duration() + self.spacing
        };
        self.keys.push(Self::key_of(scene, time));
    }

    /// Replaces key `index` with the current view (its time stays).
    pub fn replace(&mut self, index: usize, scene: &Scene) {
        if let Some(k) = self.keys.get_mut(index) {
            *k = Self::key_of(scene, k.time);
        }
    }

    /// Removes key `index`; later keys move up to close the gap.
    pub fn remove(&mut self, index: usize) {
        if index >= self.keys.len() {
            return;
        }
        let gap = if index + 1 < self.keys.len() {
            self.keys[index + 1].time - self.keys[index].time
        } else {
            0.0
        };
        self.keys.remove(index);
        if index > 0 {
            for k in &mut self.keys[index..] {
                k.time -= gap;
            }
        } else if let Some(first) = self.keys.first().map(|k| k.time) {
            for k in &mut self.keys {
                k.time -= first;
            }
        }
    }

    /// The key nearest to time `t`.
    pub fn nearest(&self, t: f64) -> Option<usize> {
        (0..self.keys.len()).min_by(|&a, &b| {
            (self.keys[a].time - t)
                .abs()
                .total_cmp(&(self.keys[b].time - t).abs())
        })
    }

    /// The path file text.
    pub fn to_toml(&self) -> String {
        let mut out = String::from("# Recorded in `mandelfly explore`.\n");
        out += &self.base.fractal.fixed_toml();
        out += &format!(
            "\n[look]\n{}\n[output]\nfps = {:?}\nsize = [{}, {}]\n",
            toml::to_string(&self.base.look).expect("looks serialise"),
            self.fps,
            self.size[0],
            self.size[1]
        );
        for k in &self.keys {
            let q = k.orientation.normalize();
            out += &match &k.plane {
                Some(v) => {
                    // Deep views keep every digit of their centre.
                    let [cx, cy] = v.center_strings();
                    format!(
                        "\n[[key]]\ntime = {:?}\ncenter = [\"{cx}\", \"{cy}\"]\nzoom = \"{:e}\"\nrotation = {:?}\n",
                        k.time, v.zoom, v.rotation
                    )
                }
                None => format!(
                    "\n[[key]]\ntime = {:?}\nposition = [{:?}, {:?}, {:?}]\norientation = [{:?}, {:?}, {:?}, {:?}]\nfov = {:?}\n",
                    k.time, k.position.x, k.position.y, k.position.z, q.x, q.y, q.z, q.w, k.fov
                ),
            };
            for (name, value) in &k.params {
                match name.split_once('.') {
                    // Vectors are keyed whole: write each once, at its first component.
                    Some((vector, "0")) => {
                        let component = |i: usize| {
                            k.params
                                .iter()
                                .find(|(n, _)| *n == format!("{vector}.{i}"))
                                .map_or(0.0, |p| p.1)
                        };
                        out += &format!(
                            "{vector} = [{:?}, {:?}, {:?}]\n",
                            component(0),
                            component(1),
                            component(2)
                        );
                    }
                    Some(_) => {}
                    None => out += &format!("{name} = {value:?}\n"),
                }
            }
        }
        out
    }

    /// The recorded flight as a path (for playing and scrubbing).
    pub fn path(&self) -> Result<CameraPath> {
        if self.keys.is_empty() {
            return Err(Error::InvalidArgument("no keys recorded yet".into()));
        }
        Ok(CameraPath::new(PathFile::parse(
            "<recording>",
            &self.to_toml(),
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::controller::FlyInput;

    #[test]
    fn a_recorded_flight_plays_back_through_its_keys() {
        let mut scene = Scene::reference();
        let mut fly = FlyController::new(&scene.camera);
        let mut rec = Recorder::new(scene.clone());
        rec.add(&scene);
        // Fly a little, change the power, record again; twice.
        for power in [8.5, 9.0] {
            for _ in 0..30 {
                fly.update(
                    &FlyInput {
                        forward: true,
                        look: [3.0, 1.0],
                        ..Default::default()
                    },
                    1.0 / 30.0,
                    scene.fractal.as_ref(),
                );
            }
            scene.camera = fly.camera();
            scene.fractal.set_param("power", power);
            rec.add(&scene);
        }
        assert_eq!(rec.keys.len(), 3);
        assert_eq!(rec.duration(), 6.0);
        let path = rec.path().expect("the recording is a valid path");
        let end = path.sample(6.0);
        assert!((end.camera.position - scene.camera.position).length() < 1e-9);
        assert!((end.camera.basis().forward - scene.camera.basis().forward).length() < 1e-9);
        assert!((end.fractal.params()[0].1 - 9.0).abs() < 1e-12);
        // Through a file and back: the same path.
        let reread = CameraPath::new(PathFile::parse("r.toml", &rec.to_toml()).unwrap());
        assert_eq!(
            reread.sample(3.3).camera.position,
            path.sample(3.3).camera.position
        );

        rec.remove(1);
        assert_eq!(rec.keys.len(), 2);
        assert_eq!(rec.keys[1].time, 3.0);
        assert_eq!(rec.nearest(2.9), Some(1));
    }
}
