// The Mandelbox: DE = |z| / |dr|. CPU twin: src/fractal/mandelbox.rs. Composed after steps.wgsl.

// Twin of `fractal::mandelbox::MandelboxUniform`.
struct FractalParams {
    scale: f32,
    folding_limit: f32,
    min_r2: f32,
    fixed_r2: f32,
    bailout: f32,
    iterations: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

fn fractal_de(c: vec3<f32>) -> vec2<f32> {
    var z = c;
    var dr = 1.0;
    var trap = dot(z, z);
    // Read once, before the loop: lavapipe loads a buffer's fields again in every trip.
    let iterations = fractal.iterations;
    let scale = fractal.scale;
    let folding_limit = fractal.folding_limit;
    let min_r2 = fractal.min_r2;
    let fixed_r2 = fractal.fixed_r2;
    let bailout2 = fractal.bailout * fractal.bailout;
    for (var i = 0u; i < iterations; i = i + 1u) {
        mandelbox_step(&z, &dr, c, scale, folding_limit, min_r2, fixed_r2);
        let r2 = dot(z, z);
        trap = min(trap, r2);
        if r2 > bailout2 {
            break;
        }
    }
    return vec2<f32>(length(z) / abs(dr), trap);
}
