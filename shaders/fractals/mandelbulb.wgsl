// The classic power-n Mandelbulb (White/Nylander, acos form) and its analytic distance estimate.
// CPU twin: src/fractal/mandelbulb.rs (`Mandelbulb::distance`), which uses the trigonometric
// definition; here integer powers take an exact trig-free path that is several times cheaper.

// Twin of `fractal::mandelbulb::MandelbulbUniform`.
struct FractalParams {
    power: f32,
    bailout: f32,
    iterations: u32,
    // `power` as an integer when it is one (then the complex-power path is used), else 0.
    integer_power: u32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

fn complex_mul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// a^n by binary exponentiation; n is uniform, so every lane takes the same branches.
fn complex_pow(a: vec2<f32>, n: u32) -> vec2<f32> {
    var result = vec2<f32>(1.0, 0.0);
    var base = a;
    var e = n;
    loop {
        if (e & 1u) != 0u {
            result = complex_mul(result, base);
        }
        e = e >> 1u;
        if e == 0u {
            break;
        }
        base = complex_mul(base, base);
    }
    return result;
}

fn real_pow(a: f32, n: u32) -> f32 {
    var result = 1.0;
    var base = a;
    var e = n;
    loop {
        if (e & 1u) != 0u {
            result = result * base;
        }
        e = e >> 1u;
        if e == 0u {
            break;
        }
        base = base * base;
    }
    return result;
}

// One step z -> z^n + c. With theta = acos(z.z / r) and phi = atan2(z.y, z.x), the classic step is
// r^n (sin n.theta cos n.phi, sin n.theta sin n.phi, cos n.theta). Since z.z + i.rho = r e^(i theta)
// (rho = |z.xy|) and (z.x + i z.y) / rho = e^(i phi), integer n needs only complex powers.
fn bulb_step_integer(z: vec3<f32>, n: u32) -> vec3<f32> {
    let rho = length(z.xy);
    let w = complex_pow(vec2<f32>(z.z, rho), n);
    // On the z axis atan2(0, 0) = 0, so phi = 0.
    let u = select(vec2<f32>(1.0, 0.0), z.xy / rho, rho > 1e-30);
    let un = complex_pow(u, n);
    return vec3<f32>(w.y * un.x, w.y * un.y, w.x);
}

fn bulb_step_trig(z: vec3<f32>, r: f32, n: f32) -> vec3<f32> {
    // z^n is 0 at the origin (where the angles are undefined).
    if r == 0.0 {
        return vec3<f32>(0.0);
    }
    let theta = n * acos(clamp(z.z / r, -1.0, 1.0));
    let phi = n * atan2(z.y, z.x);
    let rn = pow(r, n);
    let st = sin(theta);
    return rn * vec3<f32>(st * cos(phi), st * sin(phi), cos(theta));
}

// Returns (distance estimate, orbit trap = smallest |z|^2 along the orbit).
fn fractal_de(c: vec3<f32>) -> vec2<f32> {
    var z = c;
    var dr = 1.0;
    var r = length(z);
    var trap = r * r;
    let n = fractal.power;
    for (var i = 0u; i < fractal.iterations; i = i + 1u) {
        if r > fractal.bailout {
            break;
        }
        if fractal.integer_power != 0u {
            let rn1 = real_pow(r, fractal.integer_power - 1u);
            dr = n * rn1 * dr + 1.0;
            z = bulb_step_integer(z, fractal.integer_power) + c;
        } else {
            dr = n * pow(r, n - 1.0) * dr + 1.0;
            z = bulb_step_trig(z, r, n) + c;
        }
        r = length(z);
        trap = min(trap, r * r);
    }
    // r == 0 only at the origin, whose orbit stays there: inside (and not 0 * -inf = NaN).
    return vec2<f32>(select(0.5 * log(r) * r / dr, 0.0, r == 0.0), trap);
}
