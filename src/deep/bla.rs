//! Bilinear approximation (BLA): a table of linear maps dz -> A dz + B dc that skip 2^k
//! reference iterations at once, valid while |dz| is under a radius r. Built per frame on the
//! CPU (the radii depend on the frame's largest |dc|), looked up per pixel on the GPU.
//!
//! One step at Z_m is A = 2 Z_m, B = 1 (0 for Julia sets), with the radius under which the
//! dropped dz^2 term stays below `epsilon` of the kept ones. Level k merges pairs of level
//! k-1: the step x then y is A = Ay Ax, B = Ay Bx + By, r = min(rx, (ry - |Bx| |dc|) / |Ax|).
//! Entries of level k start at iterations m = 1 + j 2^k.

use bytemuck::{Pod, Zeroable};
use glam::DVec2;

use super::floatexp::{ComplexExp, FloatExp};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bla {
    pub a: ComplexExp,
    pub b: ComplexExp,
    pub r: FloatExp,
}

/// Twin of `Bla` in shaders/fractals/mandelbrot-deep.wgsl with `real = f32`: mantissas in f32,
/// exponents in i32.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct BlaGpu {
    pub a: [f32; 2],
    pub b: [f32; 2],
    pub a_exp: i32,
    pub b_exp: i32,
    pub r: f32,
    pub r_exp: i32,
}

/// Twin of `Bla` with `real = f64` (WGSL aligns the f64 pairs to 16 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct BlaGpu64 {
    pub a: [f64; 2],
    pub b: [f64; 2],
    pub a_exp: i32,
    pub b_exp: i32,
    pub r: f64,
    pub r_exp: i32,
    pub _pad: [i32; 3],
}

fn exp32(e: i64) -> i32 {
    e.clamp(-(1 << 30), 1 << 30) as i32
}

impl Bla {
    pub fn to_gpu64(&self) -> BlaGpu64 {
        BlaGpu64 {
            a: [self.a.re, self.a.im],
            b: [self.b.re, self.b.im],
            a_exp: exp32(self.a.exp),
            b_exp: exp32(self.b.exp),
            r: self.r.mantissa,
            r_exp: exp32(self.r.exp),
            _pad: [0; 3],
        }
    }

    pub fn to_gpu(&self) -> BlaGpu {
        BlaGpu {
            a: [self.a.re as f32, self.a.im as f32],
            b: [self.b.re as f32, self.b.im as f32],
            a_exp: exp32(self.a.exp),
            b_exp: exp32(self.b.exp),
            r: self.r.mantissa as f32,
            r_exp: exp32(self.r.exp),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BlaTable {
    /// levels[k][j] skips 2^k iterations from m = 1 + j 2^k.
    pub levels: Vec<Vec<Bla>>,
    /// The largest |dc| the radii allow for.
    pub dc_max: FloatExp,
}

/// Relative error allowed per skipped step: the unit roundoff of the deltas' mantissas.
pub fn epsilon(f64_mantissas: bool) -> f64 {
    if f64_mantissas {
        2f64.powi(-53)
    } else {
        2f64.powi(-24)
    }
}

impl BlaTable {
    /// The table for `orbit` (Z_0 .. Z_M) and pixels with |dc| <= `dc_max`, for deltas whose
    /// relative precision is `epsilon`.
    pub fn build(orbit: &[DVec2], dc_max: FloatExp, julia: bool, epsilon: f64) -> Self {
        let m_len = orbit.len().saturating_sub(1);
        let b1 = if julia {
            ComplexExp::ZERO
        } else {
            ComplexExp::from_f64(1.0, 0.0)
        };
        let b_norm = if julia { 0.0 } else { 1.0 };
        let dc = dc_max.to_f64();
        let first: Vec<Bla> = (1..m_len)
            .map(|m| {
                let z = orbit[m];
                let z_norm = z.length();
                let a = ComplexExp::from_f64(2.0 * z.x, 2.0 * z.y);
                let r = ((z_norm - b_norm * dc).max(0.0) / (2.0 * z_norm + 1.0)) * epsilon;
                Bla {
                    a,
                    b: b1,
                    r: FloatExp::from_f64(r),
                }
            })
            .collect();
        let mut levels = vec![first];
        while levels.last().is_some_and(|l| l.len() >= 2) {
            let prev = levels.last().expect("non-empty");
            let next: Vec<Bla> = prev
                .chunks_exact(2)
                .map(|pair| merge(&pair[0], &pair[1], dc_max))
                .collect();
            levels.push(next);
        }
        BlaTable { levels, dc_max }
    }

    /// The longest step usable at reference iteration `m` for a delta of size `dz` that does
    /// not go past `room` iterations: (the map, its length).
    pub fn lookup(&self, m: usize, dz: FloatExp, room: usize) -> Option<(&Bla, usize)> {
        if m == 0 || self.levels.is_empty() {
            return None;
        }
        let aligned = if m == 1 {
            self.levels.len() - 1
        } else {
            ((m - 1).trailing_zeros() as usize).min(self.levels.len() - 1)
        };
        (0..=aligned).rev().find_map(|k| {
            let len = 1usize << k;
            let entry = self.levels[k].get((m - 1) >> k)?;
            (len <= room && dz.total_cmp(entry.r).is_lt()).then_some((entry, len))
        })
    }

    /// The flattened table for the GPU and each level's offset into it.
    pub fn to_gpu(&self) -> (Vec<BlaGpu>, Vec<u32>) {
        self.flatten(Bla::to_gpu)
    }

    /// The same with f64 mantissas.
    pub fn to_gpu64(&self) -> (Vec<BlaGpu64>, Vec<u32>) {
        self.flatten(Bla::to_gpu64)
    }

    fn flatten<T>(&self, pack: impl Fn(&Bla) -> T) -> (Vec<T>, Vec<u32>) {
        let mut flat = Vec::with_capacity(self.levels.iter().map(Vec::len).sum());
        let mut offsets = Vec::with_capacity(self.levels.len());
        for level in &self.levels {
            offsets.push(flat.len() as u32);
            flat.extend(level.iter().map(&pack));
        }
        (flat, offsets)
    }
}

/// Step `x`, then step `y`.
fn merge(x: &Bla, y: &Bla, dc_max: FloatExp) -> Bla {
    let a = y.a * x.a;
    let b = y.a * x.b + y.b;
    let x_a = x.a.norm();
    let x_b = x.b.norm();
    let room = (y.r - x_b * dc_max).max(FloatExp::ZERO);
    let r = if x_a.is_zero() {
        x.r
    } else {
        x.r.min(room / x_a)
    };
    Bla { a, b, r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_steps_compose_the_single_steps() {
        // A short orbit; deltas far below every radius follow the linear map exactly.
        let c = DVec2::new(-0.1, 0.65);
        let mut orbit = vec![DVec2::ZERO];
        for _ in 0..40 {
            let z = *orbit.last().unwrap();
            orbit.push(DVec2::new(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c);
        }
        let dc_max = FloatExp::from_f64(1e-30);
        let table = BlaTable::build(&orbit, dc_max, false, epsilon(false));
        assert_eq!(table.levels[0].len(), 39);
        assert_eq!(table.levels[3].len(), 4);
        let entry = &table.levels[3][1]; // iterations 9 .. 17
        let mut a = ComplexExp::from_f64(1.0, 0.0);
        let mut b = ComplexExp::ZERO;
        for z in &orbit[9..17] {
            let step = ComplexExp::from_f64(2.0 * z.x, 2.0 * z.y);
            a = step * a;
            b = step * b + ComplexExp::from_f64(1.0, 0.0);
        }
        let close = |p: ComplexExp, q: ComplexExp| {
            let d = (p + ComplexExp::new(-q.re, -q.im, q.exp)).norm();
            d.log2() < q.norm().log2() - 40.0
        };
        assert!(close(entry.a, a) && close(entry.b, b));
        // Radii shrink as steps grow; lookups respect alignment and the room left.
        assert!(table.levels[3][1].r.total_cmp(table.levels[0][8].r).is_le());
        let tiny = FloatExp::from_f64(1e-40);
        assert_eq!(table.lookup(9, tiny, 100).map(|(_, l)| l), Some(8));
        assert_eq!(table.lookup(9, tiny, 5).map(|(_, l)| l), Some(4));
        assert_eq!(table.lookup(10, tiny, 100).map(|(_, l)| l), Some(1));
        assert!(table.lookup(9, FloatExp::from_f64(1.0), 100).is_none());
        let (flat, offsets) = table.to_gpu();
        assert_eq!(offsets[1] as usize, 39);
        assert_eq!(flat[offsets[3] as usize + 1], entry.to_gpu());
    }
}
