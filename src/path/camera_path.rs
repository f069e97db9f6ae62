//! A camera path ready to sample: the file's keys turned into interpolation channels, with
//! easing and timing applied. `sample(t)` gives the scene of the frame at time t.

use crate::deep::floatexp::FloatExp;
use glam::{DQuat, DVec3};

use super::file::{Key, PathFile, ScalarInterpolation, Timing, look_rotation};
use super::interpolate::{CentripetalCurve, Hermite, RotationSpline};
use crate::camera::Camera;
use crate::scene::Scene;

/// One animated parameter.
#[derive(Debug, Clone)]
struct ParamChannel {
    name: String,
    fractal: bool,
    curve: Hermite,
    /// Smallest and largest keyed value: the smooth curve is kept within them.
    range: (f64, f64),
}

/// How the view direction is defined.
#[derive(Debug, Clone)]
enum Aim {
    /// Looking at an interpolated target point; `rotation` carries up and roll between keys.
    Target {
        target: CentripetalCurve,
        rotation: RotationSpline,
    },
    /// Keyed orientations.
    Rotation(RotationSpline),
}

#[derive(Debug, Clone)]
pub struct CameraPath {
    pub file: PathFile,
    duration: f64,
    period: Option<f64>,
    times: Vec<f64>,
    position: Option<CentripetalCurve>,
    aim: Aim,
    roll: Option<Hermite>,
    log_tan_fov: Option<Hermite>,
    params: Vec<ParamChannel>,
    /// Plane kinds: ln(zoom), rotation, and the keyed centres.
    log_zoom: Option<Hermite>,
    plane_rotation: Option<Hermite>,
    centers: Vec<KeyedCenter>,
    /// Playback time to key time, for the speed-based timings.
    reparam: Option<Hermite>,
}

/// A plane key's centre: its f64 value and its text (every digit, for deep zooms).
#[derive(Debug, Clone)]
struct KeyedCenter {
    time: f64,
    center: glam::DVec2,
    text: [String; 2],
}

impl KeyedCenter {
    fn apply(&self, view: &mut crate::plane::PlaneView) {
        view.center = self.center;
        view.center_text = self.text.clone();
    }
}

/// Sets the centre of `view` a share `w` of the way from `k0` to `k1` (`rest` = 1 - w): in
/// f64 where that is exact enough, else at full precision from the keys' text.
fn between(
    view: &mut crate::plane::PlaneView,
    k0: &KeyedCenter,
    k1: &KeyedCenter,
    w: FloatExp,
    rest: FloatExp,
) {
    use crate::deep::precise;
    let scale = k0
        .center
        .abs()
        .max_element()
        .max(k1.center.abs().max_element());
    if crate::plane::f64_holds(view.zoom, scale) {
        view.center = k0.center + (k1.center - k0.center) * w.to_f64();
        view.center_text = if view.center == k1.center {
            k1.text.clone()
        } else if view.center == k0.center {
            k0.text.clone()
        } else {
            [String::new(), String::new()]
        };
        return;
    }
    let bits = precise::precision_for(view.zoom.scale(1.0 / 4096.0));
    let point = |k: &KeyedCenter| {
        let mut v = view.clone();
        k.apply(&mut v);
        v.precise_center(bits)
    };
    let (c0, c1) = (point(k0), point(k1));
    // From the nearer key, so the offset keeps its relative precision.
    let (from, to, share) = if w.total_cmp(rest).is_le() {
        (&c0, &c1, w)
    } else {
        (&c1, &c0, rest)
    };
    let share = precise::from_floatexp(share, 64);
    let moved: Vec<_> = (0..2)
        .map(|a| {
            let d = precise::sub(&to[a], &from[a], bits);
            precise::add(&from[a], &precise::mul(&d, &share, bits), bits)
        })
        .collect();
    view.set_precise_center(&[moved[0].clone(), moved[1].clone()]);
}

/// Key times and values of the keys that set a channel.
fn channel<T: Copy>(keys: &[Key], get: impl Fn(&Key) -> Option<T>) -> (Vec<f64>, Vec<T>) {
    keys.iter()
        .filter_map(|k| get(k).map(|v| (k.time, v)))
        .unzip()
}

impl CameraPath {
    pub fn new(file: PathFile) -> Self {
        let keys = &file.keys;
        let n = keys.len();
        let times: Vec<f64> = keys.iter().map(|k| k.time).collect();
        let last = times[n - 1];
        let duration = file.duration.unwrap_or(if file.looped {
            last + (last - times[0]) / (n - 1) as f64
        } else {
            last
        });
        let period = file.looped.then_some(duration);
        // A channel keyed once is constant; a loop needs two keys to wrap.
        let period_for = |count: usize| if count >= 2 { period } else { None };

        let (t, p) = channel(keys, |k| k.position);
        let position = (!t.is_empty()).then(|| CentripetalCurve::new(&t, &p, period_for(t.len())));
        let base_camera = file.base.camera;
        let position_at = |time: f64| {
            position
                .as_ref()
                .map_or(base_camera.position, |c| c.eval(time))
        };

        let explicit = keys.iter().any(|k| k.orientation.is_some());
        let aim = if explicit {
            // Orientation keys; look_at keys become orientations at their key's position.
            let mut prev_up = base_camera.up;
            let (t, q): (Vec<f64>, Vec<DQuat>) = keys
                .iter()
                .filter_map(|k| {
                    let q = k.orientation.or_else(|| {
                        let f = k.look_at? - position_at(k.time);
                        look_rotation(f, k.up.unwrap_or(prev_up))
                    })?;
                    prev_up = q * DVec3::Z;
                    Some((k.time, q))
                })
                .unzip();
            Aim::Rotation(RotationSpline::new(&t, &q, period_for(t.len())))
        } else {
            let (t, p) = channel(keys, |k| k.look_at);
            let (t, p) = if t.is_empty() {
                (vec![times[0]], vec![base_camera.look_at])
            } else {
                (t, p)
            };
            let target = CentripetalCurve::new(&t, &p, period_for(t.len()));
            // Orientations at every key (up from the key, else the last one used) give the
            // roll-free frame continuity between keys, with no flip near the up axis.
            let mut up = base_camera.up;
            let mut prev: Option<DQuat> = None;
            let q: Vec<DQuat> = keys
                .iter()
                .map(|k| {
                    if let Some(u) = k.up {
                        up = u;
                    }
                    let f = target.eval(k.time) - position_at(k.time);
                    let from_prev = prev.and_then(|p| look_rotation(f, p * DVec3::Z));
                    let q = match (look_rotation(f, up), from_prev) {
                        // Past the up axis, keeping `up` would roll the camera half a turn:
                        // carry on from the previous key's frame instead (unless this key
                        // sets `up` itself).
                        (Some(q), Some(p))
                            if k.up.is_none()
                                && (q * DVec3::X).dot(prev.unwrap() * DVec3::X) < 0.0 =>
                        {
                            p
                        }
                        (Some(q), _) => q,
                        (None, Some(p)) => p,
                        (None, None) => look_rotation(f, DVec3::Y).unwrap_or(DQuat::IDENTITY),
                    };
                    prev = Some(q);
                    q
                })
                .collect();
            Aim::Target {
                target,
                rotation: RotationSpline::new(&times, &q, period_for(n)),
            }
        };

        let scalar = |t: &[f64], v: &[f64]| match file.scalars {
            ScalarInterpolation::Smooth => Hermite::smooth(t, v, period_for(t.len())),
            ScalarInterpolation::Monotone => Hermite::monotone(t, v, period_for(t.len())),
        };
        let (t, r) = channel(keys, |k| k.roll);
        let roll = (!t.is_empty()).then(|| scalar(&t, &r));
        // fov in log(tan(fov / 2)): the apparent size of things changes at an even rate.
        let (t, f) = channel(keys, |k| k.fov.map(|f| (f.to_radians() * 0.5).tan().ln()));
        let log_tan_fov = (!t.is_empty()).then(|| scalar(&t, &f));

        let mut names: Vec<&str> = Vec::new();
        for k in keys {
            for (name, _) in &k.params {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        let fractal_names: Vec<String> = file
            .base
            .fractal
            .params()
            .into_iter()
            .map(|p| p.0)
            .collect();
        let params = names
            .iter()
            .map(|&name| {
                let (t, v) = channel(keys, |k| k.params.iter().find(|p| p.0 == name).map(|p| p.1));
                let range = v
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                        (lo.min(x), hi.max(x))
                    });
                ParamChannel {
                    name: name.to_string(),
                    fractal: fractal_names.iter().any(|n| n == name),
                    curve: scalar(&t, &v),
                    range,
                }
            })
            .collect();

        // Zoom in log space: the view shrinks by the same factor every second.
        let (t, z) = channel(keys, |k| k.zoom.map(FloatExp::ln));
        let log_zoom = (!t.is_empty()).then(|| scalar(&t, &z));
        let (t, r) = channel(keys, |k| k.rotation);
        let plane_rotation = (!t.is_empty()).then(|| scalar(&t, &r));
        let centers: Vec<KeyedCenter> = keys
            .iter()
            .filter_map(|k| {
                k.center.map(|center| KeyedCenter {
                    time: k.time,
                    center,
                    text: k.center_text.clone(),
                })
            })
            .collect();

        let mut path = CameraPath {
            log_zoom,
            plane_rotation,
            centers,
            duration,
            period,
            times,
            position,
            aim,
            roll,
            log_tan_fov,
            params,
            reparam: None,
            file,
        };
        path.reparam = path.speed_reparam();
        path
    }

    pub fn load(path: &std::path::Path) -> crate::error::Result<Self> {
        let src = std::fs::read_to_string(path).map_err(|e| crate::error::Error::io(path, e))?;
        Ok(CameraPath::new(PathFile::parse(
            &path.display().to_string(),
            &src,
        )?))
    }

    /// Length of the flight in seconds (for a loop, one period).
    pub fn duration(&self) -> f64 {
        self.duration
    }

    pub fn is_loop(&self) -> bool {
        self.period.is_some()
    }

    /// Frames at `fps`: frame k is at time k / fps. An open path includes a frame at its end
    /// when the duration is a whole number of frames; a loop does not (its end is its start),
    /// so the sequence repeats seamlessly.
    pub fn frame_count(&self, fps: f64) -> u64 {
        let frames = self.duration * fps;
        if self.is_loop() {
            (frames.round() as u64).max(1)
        } else {
            (frames + 1e-9).floor() as u64 + 1
        }
    }

    /// [`CameraPath::frame_count`], refused beyond [`super::MAX_FRAMES`].
    pub fn checked_frame_count(&self, fps: f64) -> crate::error::Result<u64> {
        let count = self.frame_count(fps);
        if count > super::MAX_FRAMES {
            return Err(crate::error::Error::InvalidArgument(format!(
                "{} s at {fps} fps is {count} frames; at most {} frames are allowed",
                self.duration,
                super::MAX_FRAMES
            )));
        }
        Ok(count)
    }

    /// Names of the animated fractal and look parameters, in first-keyed order.
    pub fn animated_params(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.name.as_str()).collect()
    }

    /// The names of the keyed parameters that belong to the fractal (not to the look).
    pub fn animated_fractal_params(&self) -> Vec<&str> {
        self.params
            .iter()
            .filter(|p| p.fractal)
            .map(|p| p.name.as_str())
            .collect()
    }

    /// Names of the `[look]` values the path keys.
    pub fn animated_look_params(&self) -> Vec<&str> {
        self.params
            .iter()
            .filter(|p| !p.fractal)
            .map(|p| p.name.as_str())
            .collect()
    }

    /// Key time for playback time `t`: easing between keys, or the speed-based timing.
    pub fn key_time(&self, t: f64) -> f64 {
        if let Some(r) = &self.reparam {
            return r.eval(t.clamp(0.0, self.duration));
        }
        let times = &self.times;
        let n = times.len();
        let t = match self.period {
            Some(p) => t.rem_euclid(p),
            None => t,
        };
        // Find the key segment [a, b] and the key that ends it.
        let (a, b, end_key) = if t < times[0] {
            match self.period {
                // Before the first key of a loop: the seam segment from the last key.
                Some(p) if n >= 2 => (times[n - 1] - p, times[0], 0),
                _ => return t,
            }
        } else if t >= times[n - 1] {
            match self.period {
                Some(p) if n >= 2 => (times[n - 1], times[0] + p, 0),
                _ => return t,
            }
        } else {
            // Within 1..n even for a t no comparison orders (NaN).
            let i = times.partition_point(|&v| v <= t).clamp(1, n - 1);
            (times[i - 1], times[i], i)
        };
        let u = (t - a) / (b - a);
        a + (b - a) * self.file.keys[end_key].ease.apply(u)
    }

    fn position_at(&self, tau: f64) -> DVec3 {
        self.position
            .as_ref()
            .map_or(self.file.base.camera.position, |c| c.eval(tau))
    }

    fn rotation_at(&self, tau: f64, position: DVec3) -> DQuat {
        match &self.aim {
            Aim::Rotation(r) => r.eval(tau),
            Aim::Target { target, rotation } => {
                let q = rotation.eval(tau);
                match (target.eval(tau) - position).try_normalize() {
                    // The smallest turn that points the keyed frame exactly at the target.
                    Some(f) => (DQuat::from_rotation_arc(q * DVec3::Y, f) * q).normalize(),
                    None => q,
                }
            }
        }
    }

    /// The scene of the frame at playback time `t` (seconds).
    pub fn sample(&self, t: f64) -> Scene {
        let tau = self.key_time(t);
        let base = &self.file.base;
        let position = self.position_at(tau);
        let q = self.rotation_at(tau, position);
        let camera = Camera {
            position,
            look_at: position + q * DVec3::Y,
            up: q * DVec3::Z,
            fov: self.log_tan_fov.as_ref().map_or(base.camera.fov, |c| {
                2.0 * c.eval(tau).exp().atan().to_degrees()
            }),
            roll: self.roll.as_ref().map_or(base.camera.roll, |c| c.eval(tau)),
        };
        let mut scene = Scene {
            fractal: base.fractal.clone(),
            camera,
            plane: self.plane_at(tau),
            look: base.look.clone(),
        };
        for p in &self.params {
            let v = p.curve.eval(tau).clamp(p.range.0, p.range.1);
            if p.fractal {
                scene.fractal.set_param(&p.name, v);
            } else {
                scene.look.set_param(&p.name, v);
            }
        }
        scene
    }

    /// The plane view at key time `tau`. Between two keyed centres the centre moves in step
    /// with the zoom, by the share of the zoom change already made: a point zoomed into stays
    /// put on screen and arrives at the centre as the zoom does (the target does not race away
    /// at deep zoom). Without a zoom change it moves evenly in time.
    fn plane_at(&self, tau: f64) -> crate::plane::PlaneView {
        let base = &self.file.base.plane;
        let zoom_at = |t: f64| {
            self.log_zoom
                .as_ref()
                .map_or(base.zoom, |c| FloatExp::from_ln(c.eval(t)))
        };
        let zoom = zoom_at(tau);
        let mut view = crate::plane::PlaneView {
            zoom,
            rotation: self
                .plane_rotation
                .as_ref()
                .map_or(base.rotation, |c| c.eval(tau)),
            ..base.clone()
        };
        let cs = self.centers.as_slice();
        let i = cs.partition_point(|k| k.time <= tau);
        match (cs.len(), i) {
            (0, _) => {}
            (1, _) | (_, 0) => cs[0].apply(&mut view),
            (n, i) if i == n => cs[n - 1].apply(&mut view),
            (_, i) => {
                let (k0, k1) = (&cs[i - 1], &cs[i]);
                let (z0, z1) = (zoom_at(k0.time), zoom_at(k1.time));
                // The share of the way still to go, 1 - w, is what a deep zoom needs to full
                // relative precision near the deeper key; both are kept.
                let (w, rest) = if (z0.ln() - z1.ln()).abs() > 1e-9 {
                    let span = z0 - z1;
                    ((z0 - zoom) / span, (zoom - z1) / span)
                } else {
                    let w = (tau - k0.time) / (k1.time - k0.time);
                    (FloatExp::from_f64(w), FloatExp::from_f64(1.0 - w))
                };
                let clamp01 = |v: FloatExp| v.max(FloatExp::ZERO).min(FloatExp::ONE);
                let (w, rest) = (clamp01(w), clamp01(rest));
                between(&mut view, k0, k1, w, rest);
            }
        }
        view
    }

    /// For the speed-based timings: playback time to key time such that the camera covers
    /// equal (weighted) distances in equal times.
    fn speed_reparam(&self) -> Option<Hermite> {
        let weight: Box<dyn Fn(DVec3) -> f64> = match self.file.timing {
            Timing::Keys => return None,
            Timing::ConstantSpeed => Box::new(|_| 1.0),
            Timing::ScaleAware => {
                let fractal = self.file.base.fractal.clone();
                // Speed proportional to the distance to the surface, i.e. weight 1 / distance
                // (floored so a path touching the surface still advances).
                Box::new(move |p| {
                    let distance = fractal
                        .volume()
                        .map_or(f64::INFINITY, |v| v.distance(p).distance);
                    1.0 / distance.max(1e-7)
                })
            }
        };
        let start = self.times[0];
        let end = match self.period {
            Some(p) => start + p,
            None => self.times[self.times.len() - 1],
        };
        if end <= start {
            return None;
        }
        let steps = (400 * self.times.len()).max(2000);
        let mut taus = Vec::with_capacity(steps + 1);
        let mut lengths = Vec::with_capacity(steps + 1);
        let mut prev = self.position_at(start);
        let mut prev_w = weight(prev);
        let mut total = 0.0;
        taus.push(start);
        lengths.push(0.0);
        for i in 1..=steps {
            let tau = start + (end - start) * i as f64 / steps as f64;
            let p = self.position_at(tau);
            let w = weight(p);
            total += 0.5 * (w + prev_w) * p.distance(prev);
            taus.push(tau);
            lengths.push(total);
            prev = p;
            prev_w = w;
        }
        if total <= 0.0 || !total.is_finite() {
            return None;
        }
        // Playback time of each sample; a tiny share of key time keeps it strictly increasing
        // where the camera pauses.
        let x: Vec<f64> = lengths
            .iter()
            .zip(&taus)
            .map(|(l, tau)| {
                let share = 1e-6;
                self.duration * ((1.0 - share) * l / total + share * (tau - start) / (end - start))
            })
            .collect();
        Some(Hermite::monotone(&x, &taus, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(src: &str) -> CameraPath {
        CameraPath::new(PathFile::parse("p.toml", src).unwrap())
    }

    const ORBIT: &str = r#"
[[key]]
time = 0
position = [3, 0, 1]
[[key]]
time = 1
position = [0, 3, 1]
[[key]]
time = 2.5
position = [-3, 0, 1]
[[key]]
time = 3
position = [0, -3, 1]
"#;

    #[test]
    fn passes_through_keys_and_looks_at_the_target() {
        let p = path(ORBIT);
        for k in &p.file.keys {
            let s = p.sample(k.time);
            assert!(s.camera.position.distance(k.position.unwrap()) < 1e-9);
        }
        // No look_at keys: the scene camera's target (the origin) is tracked exactly.
        for i in 0..=30 {
            let s = p.sample(i as f64 * 0.1);
            let b = s.camera.basis();
            let to_target = (-s.camera.position).normalize();
            assert!(b.forward.dot(to_target) > 1.0 - 1e-9);
            assert!(b.up.z > 0.0);
        }
    }

    #[test]
    fn frame_counts() {
        let p = path(ORBIT);
        assert_eq!(p.frame_count(10.0), 31);
        let looped = path(&format!("loop = true\nduration = 4\n{ORBIT}"));
        assert_eq!(looped.frame_count(10.0), 40);
    }

    #[test]
    fn loop_is_continuous_at_the_seam() {
        let p = path(&format!("loop = true\nduration = 4\n{ORBIT}"));
        let e = 1e-4;
        let a = p.sample(4.0 - e).camera.position;
        let b = p.sample(0.0).camera.position;
        let c = p.sample(e).camera.position;
        let (v0, v1) = ((b - a) / e, (c - b) / e);
        assert!(a.distance(b) < 1e-2);
        assert!(
            (v0 - v1).length() < 1e-2 * v0.length().max(1.0),
            "{v0} vs {v1}"
        );
    }

    #[test]
    fn fov_changes_at_an_even_zoom_rate() {
        let p = path("[[key]]\ntime = 0\nfov = 60\n[[key]]\ntime = 1\nfov = 10\n");
        let z = |t: f64| (p.sample(t).camera.fov.to_radians() * 0.5).tan().ln();
        let rates: Vec<f64> = (0..10)
            .map(|i| z(i as f64 * 0.1 + 0.1) - z(i as f64 * 0.1))
            .collect();
        for r in &rates {
            assert!((r - rates[0]).abs() < 1e-9, "{rates:?}");
        }
    }

    #[test]
    fn params_animate_and_hold_when_not_keyed() {
        let p = path("[[key]]\ntime = 0\npower = 8\n[[key]]\ntime = 2\npower = 10\ndetail = 0.5\n");
        let s = p.sample(1.0);
        let power = s.fractal.params()[0].1;
        assert!(power > 8.0 && power < 10.0);
        assert_eq!(s.look.detail, 0.5, "a parameter keyed once is constant");
        assert_eq!(
            p.sample(0.0).look.ambient,
            crate::scene::Look::default().ambient
        );
    }

    #[test]
    fn constant_speed_timing() {
        let p = path(&format!("timing = \"constant-speed\"\n{ORBIT}"));
        let n = 300;
        let steps: Vec<f64> = (0..n)
            .map(|i| {
                let t0 = p.duration() * i as f64 / n as f64;
                let t1 = p.duration() * (i + 1) as f64 / n as f64;
                p.sample(t1)
                    .camera
                    .position
                    .distance(p.sample(t0).camera.position)
            })
            .collect();
        let mean = steps.iter().sum::<f64>() / n as f64;
        for s in &steps {
            assert!((s - mean).abs() < 0.03 * mean, "step {s} vs mean {mean}");
        }
    }

    #[test]
    fn no_flip_passing_over_the_up_axis() {
        // Over the pole, looking at the origin: the view passes straight down.
        let p = path(
            "[[key]]\ntime = 0\nposition = [2, 0, 2]\n[[key]]\ntime = 1\nposition = [0.0, 0.0, 3]\n\
             [[key]]\ntime = 2\nposition = [-2, 0, 2]\n",
        );
        let mut prev_up: Option<DVec3> = None;
        for i in 0..=400 {
            let b = p.sample(i as f64 * 0.005).camera.basis();
            if let Some(u) = prev_up {
                assert!(b.up.dot(u) > 0.99, "up flips at t = {}", i as f64 * 0.005);
            }
            prev_up = Some(b.up);
        }
    }

    #[test]
    fn roll_animates() {
        let p = path(
            "[[key]]\ntime = 0\nposition = [3, 0, 0]\nroll = 0\n[[key]]\ntime = 1\nposition = [3, 0, 0.1]\nroll = 40\n",
        );
        let angle = |t: f64| {
            let s = p.sample(t);
            let b = s.camera.basis();
            // Angle of the image's up from the world-up plane.
            b.right.z.atan2(b.up.z).to_degrees()
        };
        assert!(angle(0.0).abs() < 1e-6);
        assert!((angle(1.0).abs() - 40.0).abs() < 1e-6, "{}", angle(1.0));
        assert!(angle(0.5).abs() > 5.0 && angle(0.5).abs() < 35.0);
    }

    #[test]
    fn orientation_keys_and_yaw_pitch_are_unit_and_hit_keys() {
        let p = path(
            "[[key]]\ntime = 0\nposition = [0, -3, 0]\nyaw = 0\n[[key]]\ntime = 1\nposition = [0, -3, 0]\nyaw = 90\npitch = 10\n\
             [[key]]\ntime = 3\nposition = [0, -3, 0]\norientation = [0, 0, 1, 0]\n",
        );
        let f1 = p.sample(1.0).camera.basis().forward;
        let expected = crate::path::file::yaw_pitch(90.0, 10.0) * DVec3::Y;
        assert!(f1.distance(expected) < 1e-9, "{f1} vs {expected}");
        let f3 = p.sample(3.0).camera.basis().forward;
        assert!(f3.distance(-DVec3::Y) < 1e-9, "{f3}");
        for i in 0..=30 {
            let b = p.sample(i as f64 * 0.1).camera.basis();
            assert!((b.forward.length() - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn scale_aware_slows_near_the_surface() {
        let p = path(
            "timing = \"scale-aware\"\n[[key]]\ntime = 0\nposition = [3, 0, 0]\n[[key]]\ntime = 1\nposition = [1.3, 0, 0]\n",
        );
        let fractal = &p.file.base.fractal;
        // Speed divided by the distance to the surface stays about constant.
        let ratios: Vec<f64> = (0..50)
            .map(|i| {
                let (t0, t1) = (i as f64 / 50.0, (i + 1) as f64 / 50.0);
                let (a, b) = (p.sample(t0).camera.position, p.sample(t1).camera.position);
                a.distance(b) / fractal.volume().unwrap().distance((a + b) * 0.5).distance
            })
            .collect();
        let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
        for r in &ratios {
            assert!((r - mean).abs() < 0.05 * mean, "{ratios:?}");
        }
    }

    #[test]
    fn ease_slows_the_end_of_a_segment() {
        let p = path(
            "[[key]]\ntime = 0\nposition = [3, 0, 0]\n[[key]]\ntime = 1\nposition = [3, 2, 0]\nease = \"out\"\n",
        );
        let speed = |t: f64| {
            p.sample(t + 0.01)
                .camera
                .position
                .distance(p.sample(t).camera.position)
        };
        assert!(speed(0.98) < 0.1 * speed(0.0));
        assert!(
            p.sample(1.0)
                .camera
                .position
                .distance(DVec3::new(3.0, 2.0, 0.0))
                < 1e-9
        );
    }
}
