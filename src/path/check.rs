//! What `mandelfly path check` reports: the path's numbers and what may be wrong with it.

use super::CameraPath;
use super::file::Timing;
use super::interpolate::Ease;

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub keys: usize,
    pub duration: f64,
    pub frames: u64,
    /// Length of the camera's flight in scene units.
    pub length: f64,
    /// Smallest distance estimate at the camera, and when.
    pub closest: (f64, f64),
    pub animated: Vec<String>,
    pub warnings: Vec<String>,
}

/// Most samples of a check: a long path is sampled less finely rather than slowly.
const MAX_SAMPLES: usize = 1_000_000;

/// Samples the path finely (at least 20 samples a second, at least 2000 in all, at most
/// [`MAX_SAMPLES`]).
pub fn summarise(path: &CameraPath, fps: f64) -> Summary {
    let duration = path.duration();
    let samples = ((duration * 20.0).ceil() as usize).clamp(2000, MAX_SAMPLES);
    let fractal = &path.file.base.fractal;
    let mut length = 0.0;
    let mut closest = (f64::INFINITY, 0.0);
    let mut prev = None;
    // Runs of samples inside the fractal, merged across short gaps (the surface is a fractal:
    // a path through it goes in and out many times).
    let mut inside: Vec<(f64, f64)> = Vec::new();
    let merge_gap = (duration * 0.02).max(1e-3);
    let mut warnings = Vec::new();
    for i in 0..=samples {
        let t = duration * i as f64 / samples as f64;
        let p = path.sample(t).camera.position;
        if let Some(q) = prev {
            length += p.distance(q);
        }
        prev = Some(p);
        let d = fractal
            .volume()
            .map_or(f64::INFINITY, |v| v.distance(p).distance);
        if d < closest.0 {
            closest = (d, t);
        }
        if d <= 0.0 {
            match inside.last_mut() {
                Some(run) if t - run.1 <= merge_gap => run.1 = t,
                _ => inside.push((t, t)),
            }
        }
    }
    for (t0, t1) in inside {
        warnings.push(format!(
            "camera inside the fractal from t = {t0:.2} s to {t1:.2} s"
        ));
    }
    if path.file.timing != Timing::Keys && path.file.keys.iter().any(|k| k.ease != Ease::Linear) {
        warnings.push(
            "`ease` has no effect with speed-based timing (constant-speed, scale-aware)".into(),
        );
    }
    Summary {
        keys: path.file.keys.len(),
        duration,
        frames: path.frame_count(fps),
        length,
        closest,
        animated: path
            .animated_params()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::PathFile;

    #[test]
    fn warns_when_the_camera_enters_the_fractal() {
        let src =
            "[[key]]\ntime = 0\nposition = [3, 0, 0]\n[[key]]\ntime = 2\nposition = [-3, 0, 0]\n";
        let path = CameraPath::new(PathFile::parse("p.toml", src).unwrap());
        let s = summarise(&path, 10.0);
        assert_eq!(s.frames, 21);
        assert!((s.length - 6.0).abs() < 1e-6);
        assert!(s.closest.0 < 0.0);
        // In through the surface near t = 0.7, out near 1.3 (possibly through a gap or two).
        assert!(
            !s.warnings.is_empty() && s.warnings.len() <= 3,
            "{:?}",
            s.warnings
        );
        // x = 3 - 3t enters the bulb (radius about 1.1 on the x axis) near t = 0.7.
        assert!(
            s.warnings[0].contains("inside the fractal from t = 0.7"),
            "{:?}",
            s.warnings
        );
    }
}
