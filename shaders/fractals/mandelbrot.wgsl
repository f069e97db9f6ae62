// The Mandelbrot set and its Julia sets by escape time: smooth iteration count, exterior
// distance estimate and the slope direction for relief shading. Written in `real` (f32 or
// f64, chosen by the renderer for the zoom) for the iteration; colouring maths in f32.
// CPU twin: src/fractal/mandelbrot.rs (`Mandelbrot::escape`).

// Twin of `fractal::mandelbrot::MandelbrotUniform`.
struct FractalParams {
    // Julia constant (xy); z: 1 for a Julia set.
    julia: vec4<f32>,
    iterations: u32,
    bailout2: f32,
    // Periodicity check tolerance, in plane units squared (about a pixel's size).
    period_epsilon2: f32,
    _pad: u32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

fn cmul(a: vec2<real>, b: vec2<real>) -> vec2<real> {
    return vec2<real>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

fn in_main_components(c: vec2<real>) -> bool {
    // Main cardioid and period-2 bulb: inside without iterating.
    let x = c.x - 0.25;
    let q = x * x + c.y * c.y;
    let cardioid = q * (q + x) <= 0.25 * c.y * c.y;
    let bulb = (c.x + 1.0) * (c.x + 1.0) + c.y * c.y <= 0.0625;
    return cardioid || bulb;
}

// `stripe_k`: stripe density of the stripe average (0: none).
fn escape(p: vec2<real>, stripe_k: f32) -> Escape {
    let julia = fractal.julia.z != 0.0;
    var c = p;
    var z = vec2<real>(0.0, 0.0);
    var dz = vec2<real>(0.0, 0.0);
    if julia {
        c = vec2<real>(fractal.julia.xy);
        z = p;
        dz = vec2<real>(1.0, 0.0);
    } else if in_main_components(p) {
        return Escape(-1.0, 0.0, vec2<f32>(0.0), 0.5);
    }
    // Periodicity: compare with an orbit point saved at growing intervals (Brent).
    var saved = z;
    var next_save = 8u;
    let eps2 = real(fractal.period_epsilon2);
    var stripes = Stripes(0.0, 0.0, 0.0);
    // Chosen once, outside the loop: a select there costs lavapipe a third of the loop's time.
    let dz_step = select(vec2<real>(1.0, 0.0), vec2<real>(0.0, 0.0), julia);
    // Read once: lavapipe loads a buffer's fields again in every trip of the loop.
    let iterations = fractal.iterations;
    let bailout2 = fractal.bailout2;
    // The loop only iterates; an escaped orbit's count, distance and slope are worked out
    // after it (inside, a CPU "GPU" would run their logs and divisions, masked, every trip).
    var escaped_at = iterations;
    for (var i = 0u; i < iterations; i = i + 1u) {
        dz = 2.0 * cmul(z, dz) + dz_step;
        z = cmul(z, z) + c;
        let r2 = dot(z, z);
        if STRIPE_AVERAGE && stripe_k > 0.0 && f32(r2) <= bailout2 {
            stripes = stripe_add(stripes, vec2<f32>(z), stripe_k);
        }
        if f32(r2) > bailout2 {
            escaped_at = i;
            break;
        }
        let delta = z - saved;
        if dot(delta, delta) < eps2 {
            break;
        }
        if i == next_save {
            saved = z;
            next_save = next_save * 2u;
        }
    }
    if escaped_at == iterations {
        return Escape(-1.0, 0.0, vec2<f32>(0.0), 0.5);
    }
    let zf = vec2<f32>(z);
    let log_r = 0.5 * log(dot(zf, zf));
    let n = f32(escaped_at) + 1.0 - log2(log_r);
    // |z| ln|z| / |dz|; a derivative too large for f32 means the boundary is near.
    let dz_len = f32(length(dz));
    let finite = dz_len < 3.0e38;
    let d = select(0.0, log_r * length(zf) / max(dz_len, 1e-30), finite);
    // The slope direction: z / dz, normalised factor by factor so nothing overflows.
    var slope = vec2<f32>(0.0);
    if finite && dz_len > 0.0 {
        slope = vec2<f32>(cmul(normalize(z), vec2<real>(dz.x, -dz.y) / length(dz)));
    }
    let stripe = stripe_value(stripes, log_r, 0.5 * log(bailout2));
    return Escape(max(n, 0.0), d, slope, stripe);
}
