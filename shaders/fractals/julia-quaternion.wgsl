// The quaternion Julia set z -> z^2 + c in the slice w = `slice`; DE = 0.5 |z| ln|z| / |dz|.
// CPU twin: src/fractal/julia_quaternion.rs.

// Twin of `fractal::julia_quaternion::JuliaUniform`.
struct FractalParams {
    c: vec4<f32>,
    slice: f32,
    bailout: f32,
    iterations: u32,
    _pad: u32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

fn fractal_de(p: vec3<f32>) -> vec2<f32> {
    var z = vec4<f32>(p, fractal.slice);
    var dz = 1.0;
    var r2 = dot(z, z);
    var trap = r2;
    // Read once, before the loop: lavapipe loads a buffer's fields again in every trip.
    let iterations = fractal.iterations;
    let bailout2 = fractal.bailout * fractal.bailout;
    let julia_c = fractal.c;
    for (var i = 0u; i < iterations; i = i + 1u) {
        if r2 > bailout2 {
            break;
        }
        dz = dz * 2.0 * sqrt(r2);
        z = vec4<f32>(z.x * z.x - dot(z.yzw, z.yzw), 2.0 * z.x * z.yzw) + julia_c;
        r2 = dot(z, z);
        trap = min(trap, r2);
    }
    let r = sqrt(r2);
    return vec2<f32>(select(0.5 * r * log(r) / dz, 0.0, r == 0.0), trap);
}
