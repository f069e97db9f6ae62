// Deep zoom of the Mandelbrot set (and its Julia sets) by perturbation: each pixel iterates its
// small difference dz from a reference orbit Z computed at full precision on the CPU, skipping
// ahead with bilinear approximation (BLA) where it is valid, and rebasing onto the start of the
// orbit when z = Z + dz comes nearer 0 than dz (Zhuoran), so no pixel glitches.
// Numbers below f32's range are (mantissa, exponent) pairs: dz = w 2^s, the derivative
// d 2^t, dc = (pixel offset) 2^unit_exp. CPU twin: src/deep/perturb.rs.

// Twin of `gpu::deep::DeepUniform`.
struct FractalParams {
    // The image centre minus the reference point, in units of 2^unit_exp.
    offset: vec2<f32>,
    // One pixel right, one pixel up, in the same units.
    axis_x: vec2<f32>,
    axis_y: vec2<f32>,
    unit_exp: i32,
    iterations: u32,
    // Index of the orbit's last iterate.
    orbit_last: u32,
    // BLA levels in `bla`.
    levels: u32,
    bailout2: f32,
    julia: u32,
    // Track the derivative (distance estimate, relief).
    derivative: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    // Where each BLA level starts in `bla`.
    level_start: array<vec4<u32>, 8>,
}

// Twin of `deep::bla::BlaGpu`: dz -> a 2^a_exp dz + b 2^b_exp dc while |dz| < r 2^r_exp.
struct Bla {
    a: vec2<f32>,
    b: vec2<f32>,
    a_exp: i32,
    b_exp: i32,
    r: f32,
    r_exp: i32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;
// Twin of `gpu::deep::OrbitPoint`: Z as f32 (for |z| tests), and as mantissa and exponent
// (for products: near a nucleus Z comes far closer to 0 than f32 reaches).
struct OrbitPoint {
    z: vec2<f32>,
    m: vec2<f32>,
    e: i32,
    _pad: i32,
}

@group(0) @binding(6) var<storage, read> orbit: array<OrbitPoint>;
@group(0) @binding(7) var<storage, read> bla: array<Bla>;

struct Escape {
    // Smooth iteration count; negative inside the set.
    smooth_count: f32,
    // Exterior distance estimate to the set, in pixels.
    distance: f32,
    // Direction of z / dz (the slope of the potential), for relief shading.
    slope: vec2<f32>,
}

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// 2^e for e in [-126, 127] (0 below), built from its bits: ldexp and frexp become library
// calls on some drivers, this is two integer operations.
fn pow2(e: i32) -> f32 {
    return select(bitcast<f32>(u32(clamp(e, -126, 127) + 127) << 23u), 0.0, e < -126);
}

// x 2^e for any e: exponents past f32's range saturate (to 0 below, to 2^127 above). Two
// factors, so x 2^e stays exact wherever the result is a normal f32.
fn scale2(x: vec2<f32>, e: i32) -> vec2<f32> {
    let c = clamp(e, -252, 254);
    let h = c / 2;
    return x * pow2(h) * pow2(c - h);
}

fn scale1(x: f32, e: i32) -> f32 {
    let c = clamp(e, -252, 254);
    let h = c / 2;
    return x * pow2(h) * pow2(c - h);
}

// A (mantissa, exponent) pair with the larger component's magnitude in [0.5, 1).
struct Scaled {
    m: vec2<f32>,
    e: i32,
}

// The power of two that brings the larger component of m into [0.5, 1); very negative for 0
// (and for subnormals, far below any term that matters).
fn magnitude(m: vec2<f32>) -> i32 {
    let big = max(abs(m.x), abs(m.y));
    let biased = i32((bitcast<u32>(big) >> 23u) & 0xffu);
    // big = 1.f 2^(biased - 127) = 0.1f 2^(biased - 126).
    return select(biased - 126, -1000000, biased == 0);
}

fn normalized(m: vec2<f32>, e: i32) -> Scaled {
    let shift = magnitude(m);
    if shift == -1000000 {
        return Scaled(vec2<f32>(0.0), e);
    }
    return Scaled(scale2(m, -shift), e + shift);
}

// a 2^ea + b 2^eb + c 2^ec, aligned on the largest term actually present (a zero or tiny
// term must not drag the others below f32's range).
fn sum3(a: vec2<f32>, ea: i32, b: vec2<f32>, eb: i32, c: vec2<f32>, ec: i32) -> Scaled {
    let top = max(max(ea + magnitude(a), eb + magnitude(b)), ec + magnitude(c));
    return normalized(scale2(a, ea - top) + scale2(b, eb - top) + scale2(c, ec - top), top);
}

fn sum(a: vec2<f32>, ea: i32, b: vec2<f32>, eb: i32) -> Scaled {
    return sum3(a, ea, b, eb, vec2<f32>(0.0), 0);
}

fn level_start(k: u32) -> u32 {
    return fractal.level_start[k / 4u][k % 4u];
}

fn pixel_escape(offset: vec2<f32>) -> Escape {
    let dc = fractal.offset + fractal.axis_x * offset.x + fractal.axis_y * offset.y;
    let ue = fractal.unit_exp;
    let julia = fractal.julia != 0u;
    let track = fractal.derivative != 0u;
    // The Mandelbrot set adds dc every step; a Julia set starts from it instead.
    let add = select(1.0, 0.0, julia);
    var dz = normalized(vec2<f32>(0.0), ue);
    var der = Scaled(vec2<f32>(0.0), 0);
    if julia {
        dz = normalized(dc, ue);
        der = Scaled(vec2<f32>(0.5, 0.0), 1);
    }
    var z = orbit[0].z + scale2(dz.m, dz.e);
    var m = 0u;
    var n = 0u;
    let last = fractal.orbit_last;
    let limit = fractal.iterations;
    loop {
        if n >= limit {
            break;
        }
        var skipped = false;
        if m > 0u && fractal.levels > 0u {
            // The longest aligned step whose radius admits |dz| and that fits the limit.
            var k = min(select(countTrailingZeros(m - 1u), 31u, m == 1u), fractal.levels - 1u);
            let room = limit - n;
            let dz2 = dot(dz.m, dz.m);
            loop {
                let len = 1u << k;
                let j = (m - 1u) >> k;
                if j < ((last - 1u) >> k) && len <= room {
                    let e = bla[level_start(k) + j];
                    let r = scale1(e.r, e.r_exp - dz.e);
                    if dz2 < r * r {
                        if track {
                            der = sum(cmul(e.a, der.m), e.a_exp + der.e, e.b * add, e.b_exp);
                        }
                        dz = sum(cmul(e.a, dz.m), e.a_exp + dz.e, cmul(e.b, dc) * add, e.b_exp + ue);
                        m = m + len;
                        n = n + len;
                        skipped = true;
                        break;
                    }
                }
                if k == 0u {
                    break;
                }
                k = k - 1u;
            }
        }
        if !skipped {
            let zr = orbit[m];
            if track {
                // d(z^2 + c) = 2 z dz (+ dc): the full z, before the step.
                let full = sum(zr.m, zr.e, dz.m, dz.e);
                der = sum(2.0 * cmul(full.m, der.m), full.e + der.e, vec2<f32>(add, 0.0), 0);
            }
            // dz -> 2 Z dz + dz^2 + dc.
            dz = sum3(
                2.0 * cmul(zr.m, dz.m), zr.e + dz.e,
                cmul(dz.m, dz.m), 2 * dz.e,
                dc * add, ue,
            );
            m = m + 1u;
            n = n + 1u;
        }
        let delta = scale2(dz.m, dz.e);
        z = orbit[m].z + delta;
        let r2 = dot(z, z);
        if r2 > fractal.bailout2 {
            let log_r = 0.5 * log(r2);
            let count = f32(n) - log2(log_r);
            var distance = 0.0;
            var slope = vec2<f32>(0.0);
            let d_len = length(der.m);
            if track && d_len > 0.0 {
                // |z| ln|z| / |dz/dc|, in pixels (|axis_x| 2^unit_exp plane units each).
                let plane = sqrt(r2) * log_r / (d_len * length(fractal.axis_x));
                distance = scale1(plane, -der.e - ue);
                slope = cmul(normalize(z), vec2<f32>(der.m.x, -der.m.y) / d_len);
            }
            return Escape(max(count, 0.0), distance, slope);
        }
        if m == last || r2 < dot(delta, delta) {
            dz = normalized(z, 0);
            m = 0u;
        }
    }
    return Escape(-1.0, 0.0, vec2<f32>(0.0));
}
