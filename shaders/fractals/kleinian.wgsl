// The pseudo-Kleinian (Knighty). CPU twin: src/fractal/kleinian.rs.

// Twin of `fractal::kleinian::KleinianUniform`.
struct FractalParams {
    box_size: vec4<f32>,
    fold_size: f32,
    thickness: f32,
    iterations: u32,
    _pad: u32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

fn fractal_de(p: vec3<f32>) -> vec2<f32> {
    // Read once, before the loop: lavapipe loads a buffer's fields again in every trip.
    let size = fractal.box_size.xyz;
    let fold_size = fractal.fold_size;
    let iterations = fractal.iterations;
    var z = p;
    var factor = 1.0;
    var trap = 1e30;
    for (var i = 0u; i < iterations; i = i + 1u) {
        z = 2.0 * clamp(z, -size, size) - z;
        let r2 = dot(z, z);
        trap = min(trap, r2);
        let k = max(fold_size / r2, 1.0);
        z = z * k;
        factor = factor * k;
    }
    let rxy = length(z.xy);
    let d = max(rxy - fractal.thickness, abs(rxy * z.z) / length(z));
    return vec2<f32>(d / factor, trap);
}
