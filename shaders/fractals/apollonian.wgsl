// A 3D Apollonian gasket (after Inigo Quilez). CPU twin: src/fractal/apollonian.rs.

// Twin of `fractal::apollonian::ApollonianUniform`.
struct FractalParams {
    scale: f32,
    iterations: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

fn fractal_de(p: vec3<f32>) -> vec2<f32> {
    var z = p;
    var factor = 1.0;
    var trap = 1e30;
    // Read once, before the loop: lavapipe loads a buffer's fields again in every trip.
    let iterations = fractal.iterations;
    let scale = fractal.scale;
    for (var i = 0u; i < iterations; i = i + 1u) {
        let h = 0.5 * z + 0.5;
        z = -1.0 + 2.0 * (h - floor(h));
        let r2 = dot(z, z);
        trap = min(trap, r2);
        let k = scale / r2;
        z = z * k;
        factor = factor * k;
    }
    return vec2<f32>(0.25 * abs(z.y) / factor, trap);
}
