// Deep zoom of the Mandelbrot set (and its Julia sets) by perturbation: each pixel iterates its
// small difference dz from a reference orbit Z computed at full precision on the CPU, skipping
// ahead with bilinear approximation (BLA) where it is valid, and rebasing onto the start of the
// orbit when z = Z + dz comes nearer 0 than dz (Zhuoran), so no pixel glitches.
// Numbers below f32's range are (mantissa, exponent) pairs: dz = w 2^s, the derivative
// d 2^t, dc = (pixel offset) 2^unit_exp. Mantissas are `real`: f32, or f64 (53 bits, for
// views where 24 bits are not enough, such as beside minibrots). Composed after
// `alias real = f32|f64;`. CPU twin: src/deep/perturb.rs.

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
    // The series approximation every pixel starts from (none when `series_skip` is 0): dz
    // after `series_skip` iterations is 2^series_exp sum_k c_k u^k, u = dc (in units) times
    // `series_inverse_extent`, c_k in `series` (c_1 in the first row's xy, c_2 in its zw).
    series_skip: u32,
    series_terms: u32,
    series_exp: i32,
    series_inverse_extent: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    // Where each BLA level starts in `bla`.
    level_start: array<vec4<u32>, 8>,
    series: array<vec4<f32>, 16>,
}

// Twin of `deep::bla::BlaGpu`: dz -> a 2^a_exp dz + b 2^b_exp dc while |dz| < r 2^r_exp.
struct Bla {
    a: vec2<real>,
    b: vec2<real>,
    a_exp: i32,
    b_exp: i32,
    r: real,
    r_exp: i32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;
// Twin of `gpu::deep::OrbitPoint`: Z as `real` (for |z| tests), and as mantissa and exponent
// (for products: near a nucleus Z comes far closer to 0 than f32 reaches).
struct OrbitPoint {
    z: vec2<real>,
    m: vec2<real>,
    e: i32,
    _pad: i32,
}

// The orbit and the table are read through `orbit_z`, `orbit_point`, `bla_entry` and
// `bla_radius`, composed with this module: from textures for f32 mantissas
// (fractals/deep-textures.wgsl), from storage buffers for f64 (fractals/deep-storage.wgsl).

fn cmul(a: vec2<real>, b: vec2<real>) -> vec2<real> {
    return vec2<real>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// 2^e for e in [-126, 127] (0 below), built from its bits: ldexp and frexp become library
// calls on some drivers, this is two integer operations.
fn pow2(e: i32) -> f32 {
    return select(bitcast<f32>(u32(clamp(e, -126, 127) + 127) << 23u), 0.0, e < -126);
}

// x 2^e for any e: exponents past f32's range saturate (to 0 below, to 2^127 above). Two
// factors, so x 2^e stays exact wherever the result is a normal f32.
fn scale2(x: vec2<real>, e: i32) -> vec2<real> {
    let c = clamp(e, -252, 254);
    let h = c >> 1u;
    return x * real(pow2(h)) * real(pow2(c - h));
}

fn scale1(x: real, e: i32) -> real {
    let c = clamp(e, -252, 254);
    let h = c >> 1u;
    return x * real(pow2(h)) * real(pow2(c - h));
}

// A BLA step's radius of validity, r 2^e.
struct Radius {
    r: real,
    e: i32,
}

// A (mantissa, exponent) pair with the larger component's magnitude in [0.5, 1).
struct Scaled {
    m: vec2<real>,
    e: i32,
}

// The power of two that brings the larger component of m into [0.5, 1); very negative for 0
// (and for subnormals, far below any term that matters).
fn magnitude(m: vec2<real>) -> i32 {
    // Mantissas and sums of them stay well inside f32's range, so f32 reads the exponent.
    let big = f32(max(abs(m.x), abs(m.y)));
    let biased = i32((bitcast<u32>(big) >> 23u) & 0xffu);
    // big = 1.f 2^(biased - 127) = 0.1f 2^(biased - 126).
    return select(biased - 126, -1000000, biased == 0);
}

fn normalized(m: vec2<real>, e: i32) -> Scaled {
    let shift = magnitude(m);
    if shift == -1000000 {
        return Scaled(vec2<real>(0.0), e);
    }
    return Scaled(scale2(m, -shift), e + shift);
}

// a 2^ea + b 2^eb + c 2^ec, aligned on the largest term actually present (a zero or tiny
// term must not drag the others below f32's range).
fn sum3(a: vec2<real>, ea: i32, b: vec2<real>, eb: i32, c: vec2<real>, ec: i32) -> Scaled {
    let top = max(max(ea + magnitude(a), eb + magnitude(b)), ec + magnitude(c));
    return normalized(scale2(a, ea - top) + scale2(b, eb - top) + scale2(c, ec - top), top);
}

fn sum(a: vec2<real>, ea: i32, b: vec2<real>, eb: i32) -> Scaled {
    return sum3(a, ea, b, eb, vec2<real>(0.0), 0);
}

fn level_start(k: u32) -> u32 {
    return fractal.level_start[k / 4u][k % 4u];
}

// The longest BLA step at reference iteration m that admits |dz| = sqrt(dz2) 2^e and fits in
// `room` iterations, of level `lowest` or above: its index in `bla` (or -1) and length.
struct Skip {
    index: i32,
    len: u32,
}

// `levels` and `last`: the table's level count and the orbit's last index, read by the caller
// before its loop (lavapipe loads a buffer's fields again in every trip of a loop).
fn find_skip(m: u32, room: u32, dz2: real, e: i32, levels: u32, last: u32, lowest: u32) -> Skip {
    if m == 0u || levels == 0u {
        return Skip(-1, 0u);
    }
    // Level k entries start at 1 + j 2^k: the levels aligned at m.
    var k = min(select(countTrailingZeros(m - 1u), 31u, m == 1u), levels - 1u);
    if k < lowest {
        return Skip(-1, 0u);
    }
    loop {
        let len = 1u << k;
        let j = (m - 1u) >> k;
        if j < ((last - 1u) >> k) && len <= room {
            let index = level_start(k) + j;
            let radius = bla_radius(index);
            let r = scale1(radius.r, radius.e - e);
            if dz2 < r * r {
                return Skip(i32(index), len);
            }
        }
        if k <= lowest {
            return Skip(-1, 0u);
        }
        k = k - 1u;
    }
    return Skip(-1, 0u);
}

// Smooth count, distance in pixels, slope and stripe average of an escaped pixel; `d` is the
// derivative with respect to dc in units (2^unit_exp), `d_exp` its exponent.
fn escaped(n: u32, z_real: vec2<real>, d_real: vec2<real>, d_exp: i32, stripes: Stripes) -> Escape {
    let z = vec2<f32>(z_real);
    // The derivative's mantissa, brought near 1 first so f32 holds it.
    let d_norm = normalized(d_real, d_exp);
    let d = vec2<f32>(d_norm.m);
    let r2 = dot(z, z);
    let log_r = 0.5 * log(r2);
    let count = f32(n) - log2(log_r);
    var distance = 0.0;
    var slope = vec2<f32>(0.0);
    let d_len = length(d);
    if fractal.derivative != 0u && d_len > 0.0 {
        // |z| ln|z| / |dz/dc|, over the pixel size |axis_x| 2^unit_exp.
        let plane = sqrt(r2) * log_r / (d_len * length(fractal.axis_x));
        distance = f32(scale1(real(plane), -d_norm.e));
        let zn = normalize(z);
        let dn = vec2<f32>(d.x, -d.y) / d_len;
        slope = vec2<f32>(zn.x * dn.x - zn.y * dn.y, zn.x * dn.y + zn.y * dn.x);
    }
    let stripe = stripe_value(stripes, log_r, 0.5 * log(fractal.bailout2));
    return Escape(max(count, 0.0), distance, slope, stripe);
}

// |z| < |dz| for the full z: the pixel rebases (Zhuoran).
fn nearer_than(full: Scaled, dz: Scaled) -> bool {
    return dot(full.m, full.m) < scale1(dot(dz.m, dz.m), 2 * (dz.e - full.e));
}

// Whether dz (and the derivative, when tracked) is in range for the plain f32 phase.
fn in_plain_range(dz: Scaled, der: Scaled, track: bool) -> bool {
    return dz.e > PLAIN_FROM && (!track || (der.e > -100 && der.e < 100));
}

// dz and dz/dc (in units) after the series approximation's skip, for the pixel at `dc`, by
// Horner's rule (the CPU keeps the skip where the polynomial's terms cancel little enough
// for f32). `series_terms` is the same for every pixel, so the loop costs no divergence.
// CPU twin: deep::series::Series::evaluate.
struct SeriesStart {
    dz: Scaled,
    der: Scaled,
}

fn series_start(dc: vec2<real>) -> SeriesStart {
    let u = vec2<f32>(dc) * fractal.series_inverse_extent;
    var p = vec2<f32>(0.0);
    var d = vec2<f32>(0.0);
    let terms = fractal.series_terms;
    for (var i = 0u; i < terms; i = i + 1u) {
        let k = terms - 1u - i;
        let row = fractal.series[k >> 1u];
        let c = select(row.xy, row.zw, (k & 1u) == 1u);
        p = vec2<f32>(p.x * u.x - p.y * u.y, p.x * u.y + p.y * u.x) + c;
        d = vec2<f32>(d.x * u.x - d.y * u.y, d.x * u.y + d.y * u.x) + c * f32(k + 1u);
    }
    p = vec2<f32>(p.x * u.x - p.y * u.y, p.x * u.y + p.y * u.x);
    let e = fractal.series_exp;
    return SeriesStart(
        normalized(vec2<real>(p), e),
        normalized(vec2<real>(d * fractal.series_inverse_extent), e),
    );
}

// Deltas and derivatives start far below f32's range and grow; while small they are carried
// as (mantissa, exponent) pairs (the scaled phase), and once in range as plain f32 (the plain
// phase, a few times cheaper per step). dc is then dropped where it is below f32's range: it is
// 2^60 and more smaller than dz there.
const PLAIN_FROM: i32 = -60;
// Below this |dz|^2 the plain phase hands back to the scaled one (2^-120: deltas keep 2^60 of
// headroom over f32's smallest normal number for dz^2 and Z dz).
const PLAIN_MIN2: f32 = 7.52316e-37;
// Single steps per block in the plain phase.
const BLOCK: u32 = 32u;
// The shortest BLA step the plain phase takes, as a level (2^4 = 16 iterations, half a block):
// near escape, where steps get short, a search and a step cost more than the single steps
// they save (measured at the published locations: up to 30% of a frame).
const PLAIN_LOWEST: u32 = 4u;

fn pixel_escape(offset: vec2<f32>) -> Escape {
    let dc = vec2<real>(fractal.offset) + vec2<real>(fractal.axis_x) * real(offset.x)
        + vec2<real>(fractal.axis_y) * real(offset.y);
    let ue = fractal.unit_exp;
    let julia = fractal.julia != 0u;
    let track = fractal.derivative != 0u;
    // The Mandelbrot set adds dc every step; a Julia set starts from it instead.
    let add = real(select(1.0, 0.0, julia));
    // Below 2^-200 they are negligible beside plain deltas (at least 2^-60).
    let dc_plain = select(scale2(dc, ue) * add, vec2<real>(0.0), ue < -200);
    let unit_plain = select(scale1(add, ue), real(0.0), ue < -200);
    // Scaled phase: dz = dz.m 2^dz.e; d = dz/dc in units, d.m 2^d.e.
    var dz = normalized(vec2<real>(0.0), ue);
    var der = Scaled(vec2<real>(0.0), 0);
    if julia {
        dz = normalized(dc, ue);
        der = Scaled(vec2<real>(0.5, 0.0), 1);
    }
    // Plain phase.
    var plain = false;
    var zcur = vec2<real>(0.0);
    var pz = vec2<real>(0.0);
    var pd = vec2<real>(0.0);
    var m = 0u;
    var n = 0u;
    // Read once, before the loop: lavapipe loads a buffer's fields again in every trip.
    let last = fractal.orbit_last;
    let limit = fractal.iterations;
    let levels = fractal.levels;
    let bailout2 = real(fractal.bailout2);
    // The stripe average runs over the iterates stepped singly (BLA skips see no z); near
    // escape, where it matters, every step is single.
    let stripe_k = stripe_density();
    var stripes = Stripes(0.0, 0.0, 0.0);
    // An escaped pixel's last z and derivative: its count, distance and slope are worked out
    // once, after the loops (inside them, a CPU "GPU" would run that, masked, every trip).
    var escaped_z = vec2<real>(0.0);
    var escaped_d = Scaled(vec2<real>(0.0), 0);
    var done = false;
    // The iterations every pixel shares, skipped by the series approximation; then the
    // checks a step is followed by (rebase, plain range).
    if fractal.series_skip > 0u && !julia {
        let start = series_start(dc);
        m = fractal.series_skip;
        n = m;
        dz = start.dz;
        der = start.der;
        let zr = orbit_point(m);
        let full = sum(zr.m, zr.e, dz.m, dz.e);
        if nearer_than(full, dz) {
            dz = full;
            m = 0u;
        }
        if in_plain_range(dz, der, track) {
            plain = true;
            zcur = orbit_z(m);
            pz = scale2(dz.m, dz.e);
            pd = scale2(der.m, der.e);
        }
    }
    loop {
        if n >= limit || done {
            break;
        }
        // Scaled phase, until the deltas are in range for plain f32 (its own loop: a CPU
        // "GPU" runs both sides of a branch, so a lane in one phase would pay for the other).
        loop {
            if plain || n >= limit || done {
                break;
            }
            // BLA steps while one is valid and the checks below have nothing to do (a loop
            // of their own, so that lanes skipping do not pay for a single step as well). Its
            // exit tests repeat those checks (escape, end of the reference, rebase, plain
            // range): change them together. Written as a shared function they cost 2.5-5% of
            // a frame here, so they are written out twice.
            var due = false;
            loop {
                if n >= limit {
                    break;
                }
                let skip = find_skip(m, limit - n, dot(dz.m, dz.m), dz.e, levels, last, 0u);
                if skip.index < 0 {
                    break;
                }
                let e = bla_entry(u32(skip.index));
                if track {
                    der = sum(cmul(e.a, der.m), e.a_exp + der.e, e.b * add, e.b_exp + ue);
                }
                dz = sum(cmul(e.a, dz.m), e.a_exp + dz.e, cmul(e.b, dc) * add, e.b_exp + ue);
                m = m + skip.len;
                n = n + skip.len;
                let zr = orbit_point(m);
                let full = sum(zr.m, zr.e, dz.m, dz.e);
                let z = scale2(full.m, full.e);
                let nearer = dot(full.m, full.m) < scale1(dot(dz.m, dz.m), 2 * (dz.e - full.e));
                let in_range = dz.e > PLAIN_FROM && (!track || (der.e > -100 && der.e < 100));
                if dot(z, z) > bailout2 || m == last || nearer || in_range {
                    due = true;
                    break;
                }
            }
            // Otherwise a single step.
            let single = !due && n < limit;
            if single {
                let zr = orbit_point(m);
                if track {
                    // d(z^2 + c) = 2 z d (+ 1): the full z, before the step.
                    let full = sum(zr.m, zr.e, dz.m, dz.e);
                    der = sum(2.0 * cmul(full.m, der.m), full.e + der.e, vec2<real>(add, 0.0), ue);
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
            // The full z from the exact parts: near a nucleus it is far below the range of
            // `real`, and so may dz be; compare them as mantissas and exponents.
            let zr = orbit_point(m);
            let full = sum(zr.m, zr.e, dz.m, dz.e);
            let z = scale2(full.m, full.e);
            if dot(z, z) > bailout2 {
                escaped_z = z;
                escaped_d = der;
                done = true;
                break;
            }
            if STRIPE_AVERAGE && stripe_k > 0.0 && single {
                stripes = stripe_add(stripes, vec2<f32>(z), stripe_k);
            }
            if m == last || nearer_than(full, dz) {
                dz = full;
                m = 0u;
            }
            if in_plain_range(dz, der, track) {
                plain = true;
                zcur = orbit_z(m);
                pz = scale2(dz.m, dz.e);
                pd = scale2(der.m, der.e);
            }
        }
        // Plain phase, until a rebase or shrinking deltas hand back to the scaled one.
        loop {
            if !plain || n >= limit || done {
                break;
            }
            // BLA steps while one is valid and nothing below is due (a loop of their own:
            // the block after them costs every trip, taken or not, on a CPU "GPU"). Its exit
            // tests repeat the block's stop conditions and the checks after it: change them
            // together (written out, as in the scaled phase).
            var due = false;
            loop {
                if n >= limit {
                    break;
                }
                let skip = find_skip(m, limit - n, dot(pz, pz), 0, levels, last, PLAIN_LOWEST);
                if skip.index < 0 {
                    break;
                }
                let e = bla_entry(u32(skip.index));
                if track {
                    pd = scale2(cmul(e.a, pd), e.a_exp) + scale2(e.b, e.b_exp + ue) * add;
                }
                pz = scale2(cmul(e.a, pz), e.a_exp) + scale2(cmul(e.b, dc), e.b_exp + ue) * add;
                m = m + skip.len;
                n = n + skip.len;
                zcur = orbit_z(m);
                let z = zcur + pz;
                let r2 = dot(z, z);
                let p2 = dot(pz, pz);
                if r2 > bailout2 || m == last || r2 < p2 || p2 < real(PLAIN_MIN2) {
                    due = true;
                    break;
                }
            }
            // A block of single steps in a loop of fixed length (data-dependent loops
            // cost far more per trip on SIMD drivers such as lavapipe), frozen at the
            // first step that escapes, needs a rebase or ends the reference.
            var stop = due || n >= limit;
            for (var j = 0u; j < BLOCK; j = j + 1u) {
                let zr = zcur;
                let npd = 2.0 * cmul(zr + pz, pd) + vec2<real>(unit_plain, 0.0);
                let npz = cmul(2.0 * zr + pz, pz) + dc_plain;
                let nm = min(m + 1u, last);
                let next = orbit_z(nm);
                let z = next + npz;
                let r2 = dot(z, z);
                let go = !stop;
                if STRIPE_AVERAGE && stripe_k > 0.0 && go && r2 <= bailout2 {
                    stripes = stripe_add(stripes, vec2<f32>(z), stripe_k);
                }
                pz = select(pz, npz, go);
                pd = select(pd, npd, go);
                zcur = select(zcur, next, go);
                m = select(m, nm, go);
                n = n + u32(go);
                let small = dot(npz, npz) < real(PLAIN_MIN2);
                stop = stop || r2 > bailout2 || r2 < dot(npz, npz) || nm == last
                    || n >= limit || small;
            }
            zcur = orbit_z(m);
            let z = zcur + pz;
            let r2 = dot(z, z);
            if r2 > bailout2 {
                escaped_z = z;
                escaped_d = Scaled(pd, 0);
                done = true;
                break;
            }
            if m == last || r2 < dot(pz, pz) {
                // The full z, exactly: near a nucleus Z itself is below f32's range.
                let zr = orbit_point(m);
                let full = sum(zr.m, zr.e, pz, 0);
                m = 0u;
                zcur = orbit_z(0);
                if full.e > PLAIN_FROM {
                    pz = scale2(full.m, full.e);
                } else {
                    plain = false;
                    dz = full;
                    der = normalized(pd, 0);
                }
            } else if dot(pz, pz) < real(PLAIN_MIN2) {
                // Shrunk out of f32's comfortable range: back to mantissa and exponent.
                plain = false;
                dz = normalized(pz, 0);
                der = normalized(pd, 0);
            }
        }
    }
    if done {
        return escaped(n, escaped_z, escaped_d.m, escaped_d.e, stripes);
    }
    return Escape(-1.0, 0.0, vec2<f32>(0.0), 0.5);
}
