//! Interpolation building blocks: cubic Hermite scalars (smooth or monotone), centripetal
//! Catmull-Rom curves, squad for rotations, and easing. All work on sorted keys and take an
//! optional loop period, in which case they are periodic with continuous values and tangents.

use glam::{DQuat, DVec3};

/// Keys extended past both ends so that every segment has neighbours: wrapped copies for a
/// loop, nothing otherwise (end tangents are then one-sided).
fn extend<T: Copy>(x: &[f64], y: &[T], period: Option<f64>) -> (Vec<f64>, Vec<T>, usize) {
    let n = x.len();
    match period {
        Some(p) if n >= 2 => {
            let mut xs = vec![x[n - 2] - p, x[n - 1] - p];
            let mut ys = vec![y[n - 2], y[n - 1]];
            xs.extend_from_slice(x);
            ys.extend_from_slice(y);
            xs.extend([x[0] + p, x[1] + p]);
            ys.extend([y[0], y[1]]);
            (xs, ys, 2)
        }
        _ => (x.to_vec(), y.to_vec(), 0),
    }
}

/// Index of the segment [x[i], x[i+1]] holding `t` (clamped to the ends).
fn segment(x: &[f64], t: f64) -> usize {
    match x.partition_point(|&v| v <= t) {
        0 => 0,
        i => (i - 1).min(x.len().saturating_sub(2)),
    }
}

/// A loop's time folded into one period starting at `start`.
fn wrap(t: f64, start: f64, period: Option<f64>) -> f64 {
    match period {
        Some(p) => start + (t - start).rem_euclid(p),
        None => t,
    }
}

/// Piecewise cubic Hermite through (x, y): C1, exact at every key.
#[derive(Debug, Clone)]
pub struct Hermite {
    x: Vec<f64>,
    y: Vec<f64>,
    m: Vec<f64>,
    start: f64,
    period: Option<f64>,
}

impl Hermite {
    /// Tangents from the weighted three-point difference (non-uniform Catmull-Rom): smooth, may
    /// overshoot between keys.
    pub fn smooth(x: &[f64], y: &[f64], period: Option<f64>) -> Self {
        Self::build(x, y, period, false)
    }

    /// Fritsch-Carlson tangents: never leaves the range of neighbouring keys, flat at extrema.
    pub fn monotone(x: &[f64], y: &[f64], period: Option<f64>) -> Self {
        Self::build(x, y, period, true)
    }

    fn build(x: &[f64], y: &[f64], period: Option<f64>, monotone: bool) -> Self {
        assert!(!x.is_empty() && x.len() == y.len());
        let (xs, ys, _) = extend(x, y, period);
        let n = xs.len();
        let slope = |i: usize| (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]);
        let mut m = vec![0.0; n];
        if n >= 2 {
            m[0] = slope(0);
            m[n - 1] = slope(n - 2);
            for i in 1..n - 1 {
                let (d0, d1) = (slope(i - 1), slope(i));
                let (h0, h1) = (xs[i] - xs[i - 1], xs[i + 1] - xs[i]);
                m[i] = if monotone {
                    if d0 * d1 <= 0.0 {
                        0.0
                    } else {
                        // Weighted harmonic mean (Fritsch-Butland): stays within 3 min(d0, d1).
                        let (w0, w1) = (2.0 * h1 + h0, h1 + 2.0 * h0);
                        (w0 + w1) / (w0 / d0 + w1 / d1)
                    }
                } else {
                    (d0 * h1 + d1 * h0) / (h0 + h1)
                };
            }
            if monotone {
                // A one-sided end tangent may still overshoot: limit it to 3 times the slope.
                for (i, s) in [(0, slope(0)), (n - 1, slope(n - 2))] {
                    if m[i] * s <= 0.0 {
                        m[i] = 0.0;
                    } else if m[i].abs() > 3.0 * s.abs() {
                        m[i] = 3.0 * s;
                    }
                }
            }
        }
        Hermite {
            x: xs,
            y: ys,
            m,
            start: x[0],
            period,
        }
    }

    pub fn eval(&self, t: f64) -> f64 {
        let n = self.x.len();
        if n == 1 {
            return self.y[0];
        }
        let t = wrap(t, self.start, self.period);
        if self.period.is_none() {
            if t <= self.x[0] {
                return self.y[0];
            }
            if t >= self.x[n - 1] {
                return self.y[n - 1];
            }
        }
        let i = segment(&self.x, t);
        let h = self.x[i + 1] - self.x[i];
        let u = (t - self.x[i]) / h;
        let (u2, u3) = (u * u, u * u * u);
        (2.0 * u3 - 3.0 * u2 + 1.0) * self.y[i]
            + (u3 - 2.0 * u2 + u) * h * self.m[i]
            + (-2.0 * u3 + 3.0 * u2) * self.y[i + 1]
            + (u3 - u2) * h * self.m[i + 1]
    }
}

/// Centripetal Catmull-Rom curve through points keyed at times: no cusps or self-intersections
/// within a segment, whatever the spacing of the points. Time maps to the curve's knot
/// parameter through a monotone cubic, so motion is C1 in time and each key is reached at its
/// time.
#[derive(Debug, Clone)]
pub struct CentripetalCurve {
    points: Vec<DVec3>,
    knots: Vec<f64>,
    /// Knot parameter as a function of time.
    timing: Hermite,
    /// Index in `points` of the first real key.
    first: usize,
    real: usize,
    start: f64,
    period: Option<f64>,
}

impl CentripetalCurve {
    pub fn new(times: &[f64], points: &[DVec3], period: Option<f64>) -> Self {
        let n = points.len();
        assert!(n >= 1 && times.len() == n);
        // Extended points: wrapped for a loop; reflected phantoms at open ends.
        let (mut pts, first) = match period {
            Some(_) if n >= 2 => {
                let mut v = vec![points[n - 2], points[n - 1]];
                v.extend_from_slice(points);
                v.extend([points[0], points[1], points[2 % n]]);
                (v, 2)
            }
            _ => {
                let mut v = vec![if n >= 2 {
                    2.0 * points[0] - points[1]
                } else {
                    points[0]
                }];
                v.extend_from_slice(points);
                v.push(if n >= 2 {
                    2.0 * points[n - 1] - points[n - 2]
                } else {
                    points[0]
                });
                (v, 1)
            }
        };
        // Keep the phantom points distinct from their neighbours.
        let last = pts.len() - 1;
        if pts[0] == pts[1] {
            pts[0] -= DVec3::splat(1e-9);
        }
        if pts[last] == pts[last - 1] {
            pts[last] += DVec3::splat(1e-9);
        }
        let mut knots = vec![0.0; pts.len()];
        for i in 1..pts.len() {
            // Centripetal: knot spacing is the square root of the chord length. The floor keeps
            // repeated points (a pause) from dividing by zero.
            knots[i] = knots[i - 1] + pts[i].distance(pts[i - 1]).sqrt().max(1e-9);
        }
        let key_knots: Vec<f64> = knots[first..first + n].to_vec();
        let timing = match period {
            Some(p) if n >= 2 => {
                // Knots advance by the closed curve's knot length per period.
                let closed = knots[first + n] - knots[first];
                let mut x = times.to_vec();
                let mut y = key_knots.clone();
                x.push(times[0] + p);
                y.push(key_knots[0] + closed);
                let mut x2 = vec![times[n - 1] - p];
                let mut y2 = vec![key_knots[n - 1] - closed];
                x2.extend(x);
                y2.extend(y);
                x2.push(times[1] + p);
                y2.push(key_knots[1] + closed);
                Hermite::monotone(&x2, &y2, None)
            }
            _ => Hermite::monotone(times, &key_knots, None),
        };
        CentripetalCurve {
            points: pts,
            knots,
            timing,
            first,
            real: n,
            start: times[0],
            period,
        }
    }

    /// The point at knot parameter `s` (Barry-Goldman pyramid on the four points around it).
    fn at_knot(&self, s: f64) -> DVec3 {
        let lo = self.first;
        let hi = self.first + self.real - 1 + usize::from(self.first == 2);
        let i = segment(&self.knots[lo..=hi], s) + lo;
        let (p0, p1, p2, p3) = (
            self.points[i - 1],
            self.points[i],
            self.points[i + 1],
            self.points[i + 2],
        );
        let (t0, t1, t2, t3) = (
            self.knots[i - 1],
            self.knots[i],
            self.knots[i + 1],
            self.knots[i + 2],
        );
        let s = s.clamp(t1, t2);
        let lerp = |a: DVec3, b: DVec3, ta: f64, tb: f64| a + (b - a) * ((s - ta) / (tb - ta));
        let a1 = lerp(p0, p1, t0, t1);
        let a2 = lerp(p1, p2, t1, t2);
        let a3 = lerp(p2, p3, t2, t3);
        let b1 = lerp(a1, a2, t0, t2);
        let b2 = lerp(a2, a3, t1, t3);
        lerp(b1, b2, t1, t2)
    }

    pub fn eval(&self, t: f64) -> DVec3 {
        if self.real == 1 {
            return self.points[self.first];
        }
        let s = self.timing.eval(wrap(t, self.start, self.period));
        let period_knots = self.knots[self.first + self.real] - self.knots[self.first];
        let s = if self.first == 2 {
            // Loop: fold the knot into the first period.
            self.knots[self.first] + (s - self.knots[self.first]).rem_euclid(period_knots)
        } else {
            s
        };
        self.at_knot(s)
    }
}

fn quat_log(q: DQuat) -> DVec3 {
    let v = DVec3::new(q.x, q.y, q.z);
    let len = v.length();
    if len < 1e-12 {
        return DVec3::ZERO;
    }
    v / len * len.atan2(q.w)
}

fn quat_exp(v: DVec3) -> DQuat {
    let angle = v.length();
    if angle < 1e-12 {
        return DQuat::IDENTITY;
    }
    let axis = v / angle;
    let (s, c) = angle.sin_cos();
    DQuat::from_xyzw(axis.x * s, axis.y * s, axis.z * s, c)
}

/// Rotations keyed at times, interpolated by squad (C1 in the key index) with the index a
/// monotone C1 function of time; always along the shortest arc.
#[derive(Debug, Clone)]
pub struct RotationSpline {
    quats: Vec<DQuat>,
    controls: Vec<DQuat>,
    index: Hermite,
    first: usize,
    real: usize,
    start: f64,
    period: Option<f64>,
}

impl RotationSpline {
    pub fn new(times: &[f64], rotations: &[DQuat], period: Option<f64>) -> Self {
        let n = rotations.len();
        assert!(n >= 1 && times.len() == n);
        // Neighbours in the same hemisphere: the shortest arc between each pair of keys.
        let mut aligned: Vec<DQuat> = Vec::with_capacity(n);
        for &q in rotations {
            let q = q.normalize();
            let q = match aligned.last() {
                Some(prev) if prev.dot(q) < 0.0 => -q,
                _ => q,
            };
            aligned.push(q);
        }
        let (quats, first) = match period {
            Some(_) if n >= 2 => {
                let mut v = vec![aligned[n - 1]];
                v.extend_from_slice(&aligned);
                v.push(aligned[0]);
                v.push(aligned[1 % n]);
                // Re-align the wrapped copies with their new neighbours.
                for i in 1..v.len() {
                    if v[i - 1].dot(v[i]) < 0.0 {
                        v[i] = -v[i];
                    }
                }
                if v[0].dot(v[1]) < 0.0 {
                    v[0] = -v[0];
                }
                (v, 1)
            }
            _ => {
                let mut v = vec![aligned[0]];
                v.extend_from_slice(&aligned);
                v.push(aligned[n - 1]);
                (v, 1)
            }
        };
        let controls: Vec<DQuat> = (0..quats.len())
            .map(|i| {
                if i == 0 || i == quats.len() - 1 {
                    return quats[i];
                }
                let q = quats[i];
                let inv = q.inverse();
                let sum = quat_log(inv * quats[i + 1]) + quat_log(inv * quats[i - 1]);
                (q * quat_exp(-sum / 4.0)).normalize()
            })
            .collect();
        let idx: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let index = match period {
            Some(p) if n >= 2 => {
                let mut x = vec![times[n - 1] - p];
                x.extend_from_slice(times);
                x.extend([times[0] + p, times[1] + p]);
                let mut y = vec![-1.0];
                y.extend_from_slice(&idx);
                y.extend([n as f64, n as f64 + 1.0]);
                Hermite::monotone(&x, &y, None)
            }
            _ => Hermite::monotone(times, &idx, None),
        };
        RotationSpline {
            quats,
            controls,
            index,
            first,
            real: n,
            start: times[0],
            period,
        }
    }

    pub fn eval(&self, t: f64) -> DQuat {
        if self.real == 1 {
            return self.quats[self.first];
        }
        let k = self.index.eval(wrap(t, self.start, self.period));
        let k = match self.period {
            Some(_) => k.rem_euclid(self.real as f64),
            None => k.clamp(0.0, (self.real - 1) as f64),
        };
        let seg = (k.floor() as usize).min(self.real - 1 - usize::from(self.period.is_none()));
        let u = k - seg as f64;
        let i = seg + self.first;
        let (q0, q1) = (self.quats[i], self.quats[i + 1]);
        let (a0, a1) = (self.controls[i], self.controls[i + 1]);
        let outer = q0.slerp(q1, u);
        let inner = a0.slerp(a1, u);
        outer.slerp(inner, 2.0 * u * (1.0 - u)).normalize()
    }
}

/// Timing of the segment that ends at a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ease {
    /// No easing: the interpolation's own C1 motion.
    #[default]
    Linear,
    /// Starts slowly (from rest at the previous key).
    In,
    /// Ends slowly (at rest at this key).
    Out,
    /// Both.
    InOut,
}

impl Ease {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "linear" => Ease::Linear,
            "in" => Ease::In,
            "out" => Ease::Out,
            "in-out" => Ease::InOut,
            _ => return None,
        })
    }

    /// Maps [0, 1] onto itself, monotonically, fixing both ends.
    pub fn apply(self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        match self {
            Ease::Linear => u,
            Ease::In => u * u,
            Ease::Out => 1.0 - (1.0 - u) * (1.0 - u),
            Ease::InOut => u * u * (3.0 - 2.0 * u),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hermite_passes_through_keys() {
        let x = [0.0, 1.0, 3.0, 3.5];
        let y = [0.0, 2.0, -1.0, 5.0];
        for h in [
            Hermite::smooth(&x, &y, None),
            Hermite::monotone(&x, &y, None),
        ] {
            for (a, b) in x.iter().zip(&y) {
                assert!((h.eval(*a) - b).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn monotone_never_overshoots() {
        let x = [0.0, 1.0, 1.2, 4.0, 5.0];
        let y = [0.0, 0.0, 10.0, 10.5, 3.0];
        let h = Hermite::monotone(&x, &y, None);
        for i in 0..=5000 {
            let t = i as f64 / 1000.0;
            let v = h.eval(t);
            let seg = segment(&x, t);
            let (lo, hi) = (y[seg].min(y[seg + 1]), y[seg].max(y[seg + 1]));
            assert!(
                v >= lo - 1e-9 && v <= hi + 1e-9,
                "t {t}: {v} outside [{lo}, {hi}]"
            );
        }
    }

    #[test]
    fn periodic_hermite_is_continuous_at_the_seam() {
        let x = [0.0, 1.0, 2.5];
        let y = [1.0, 3.0, 2.0];
        let h = Hermite::smooth(&x, &y, Some(4.0));
        let e = 1e-6;
        assert!((h.eval(4.0 - e) - h.eval(e)).abs() < 1e-4);
        let d_end = (h.eval(4.0 - e) - h.eval(4.0 - 2.0 * e)) / e;
        let d_start = (h.eval(2.0 * e) - h.eval(e)) / e;
        assert!((d_end - d_start).abs() < 1e-3, "{d_end} vs {d_start}");
    }

    #[test]
    fn centripetal_curve_passes_through_points_without_overshoot_on_uneven_spacing() {
        let times = [0.0, 1.0, 2.0, 3.0];
        let pts = [
            DVec3::new(0.0, 0.0, 0.0),
            DVec3::new(1.0, 0.0, 0.0),
            DVec3::new(1.01, 0.0, 0.0),
            DVec3::new(5.0, 0.0, 0.0),
        ];
        let c = CentripetalCurve::new(&times, &pts, None);
        for (t, p) in times.iter().zip(&pts) {
            assert!(c.eval(*t).distance(*p) < 1e-9);
        }
        // Collinear keys: the curve stays on the line and inside the keys' span.
        for i in 0..=300 {
            let p = c.eval(i as f64 / 100.0);
            assert!(p.y.abs() < 1e-9 && p.z.abs() < 1e-9);
            assert!(p.x > -1e-9 && p.x < 5.0 + 1e-9, "{p}");
        }
    }

    #[test]
    fn squad_is_unit_and_hits_keys() {
        let times = [0.0, 1.0, 2.0];
        let qs = [
            DQuat::IDENTITY,
            DQuat::from_rotation_z(1.0),
            DQuat::from_rotation_x(0.5) * DQuat::from_rotation_z(2.0),
        ];
        let r = RotationSpline::new(&times, &qs, None);
        for (t, q) in times.iter().zip(&qs) {
            assert!(r.eval(*t).dot(*q).abs() > 1.0 - 1e-9);
        }
        for i in 0..=200 {
            let q = r.eval(i as f64 / 100.0);
            assert!((q.length() - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn eases_fix_the_ends() {
        for e in [Ease::Linear, Ease::In, Ease::Out, Ease::InOut] {
            assert_eq!(e.apply(0.0), 0.0);
            assert_eq!(e.apply(1.0), 1.0);
            assert!(e.apply(0.3) < e.apply(0.6));
        }
    }
}
