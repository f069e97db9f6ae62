// The Menger sponge as a kaleidoscopic IFS. CPU twin: src/fractal/menger.rs.

// Twin of `fractal::menger::MengerUniform`.
struct FractalParams {
    scale: f32,
    offset: f32,
    rotation_cos: f32,
    rotation_sin: f32,
    iterations: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

fn box_distance(p: vec3<f32>, half: f32) -> f32 {
    let q = abs(p) - vec3<f32>(half);
    return length(max(q, vec3<f32>(0.0))) + min(max(q.x, max(q.y, q.z)), 0.0);
}

fn fractal_de(p: vec3<f32>) -> vec2<f32> {
    // Read once, before the loop: lavapipe loads a buffer's fields again in every trip.
    let scale = fractal.scale;
    let offset = fractal.offset;
    let cs = fractal.rotation_cos;
    let sn = fractal.rotation_sin;
    let iterations = fractal.iterations;
    var z = p;
    var factor = 1.0;
    var trap = dot(z, z);
    for (var i = 0u; i < iterations; i = i + 1u) {
        z = abs(z);
        if z.x < z.y {
            z = z.yxz;
        }
        if z.x < z.z {
            z = z.zyx;
        }
        if z.y < z.z {
            z = z.xzy;
        }
        z = vec3<f32>(cs * z.x - sn * z.y, sn * z.x + cs * z.y, z.z);
        z = z * scale - vec3<f32>(offset * (scale - 1.0));
        if z.z < -0.5 * offset * (scale - 1.0) {
            z.z = z.z + offset * (scale - 1.0);
        }
        factor = factor * scale;
        trap = min(trap, dot(z, z));
    }
    return vec2<f32>(box_distance(z, 1.0) / factor, trap);
}
