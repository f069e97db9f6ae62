// Iteration steps shared by fractal kinds and their hybrids: each maps (z, dr) one step on,
// with its parameters as arguments, so a hybrid can alternate them. CPU twins: the `*_step`
// functions in src/fractal/steps.rs.

fn complex_mul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// a^n by binary exponentiation; n is a constant of the pipeline (`INTEGER_POWER`), so the loop
// unrolls.
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

// The classic Mandelbulb step z -> z^n + c (acos form), dr -> n r^(n-1) dr + 1. With
// theta = acos(z.z / r) and phi = atan2(z.y, z.x): z.z + i.rho = r e^(i theta) (rho = |z.xy|)
// and (z.x + i z.y) / rho = e^(i phi), so integer n needs only complex powers, no trigonometry.
// `integer_power` is n when n is a whole number, else 0 (the trigonometric path).
fn mandelbulb_step(z: ptr<function, vec3<f32>>, dr: ptr<function, f32>, c: vec3<f32>, power: f32, integer_power: u32) {
    let p = *z;
    let r = length(p);
    if integer_power != 0u {
        *dr = power * real_pow(r, integer_power - 1u) * *dr + 1.0;
        let rho = length(p.xy);
        let w = complex_pow(vec2<f32>(p.z, rho), integer_power);
        // On the z axis atan2(0, 0) = 0, so phi = 0.
        let u = select(vec2<f32>(1.0, 0.0), p.xy / rho, rho > 1e-30);
        let un = complex_pow(u, integer_power);
        *z = vec3<f32>(w.y * un.x, w.y * un.y, w.x) + c;
        return;
    }
    *dr = power * pow(r, power - 1.0) * *dr + 1.0;
    // z^n is 0 at the origin (where the angles are undefined).
    if r == 0.0 {
        *z = c;
        return;
    }
    let theta = power * acos(clamp(p.z / r, -1.0, 1.0));
    let phi = power * atan2(p.y, p.x);
    let st = sin(theta);
    *z = pow(r, power) * vec3<f32>(st * cos(phi), st * sin(phi), cos(theta)) + c;
}

// The Mandelbox step: box fold, sphere fold, scale, add c; dr follows the scaling.
fn mandelbox_step(z: ptr<function, vec3<f32>>, dr: ptr<function, f32>, c: vec3<f32>, scale: f32, fold: f32, min_r2: f32, fixed_r2: f32) {
    var p = clamp(*z, vec3<f32>(-fold), vec3<f32>(fold)) * 2.0 - *z;
    let r2 = dot(p, p);
    var k = 1.0;
    if r2 < min_r2 {
        k = fixed_r2 / min_r2;
    } else if r2 < fixed_r2 {
        k = fixed_r2 / r2;
    }
    p = p * k;
    *dr = *dr * k * abs(scale) + 1.0;
    *z = p * scale + c;
}
