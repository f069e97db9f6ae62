// Hybrids: the iteration alternates Mandelbulb and Mandelbox steps in the order `sequence`
// gives. CPU twin: src/fractal/hybrid.rs. Composed after steps.wgsl.

// Twin of `fractal::hybrid::HybridUniform`.
struct FractalParams {
    power: f32,
    // Read as INTEGER_POWER below instead.
    integer_power: u32,
    scale: f32,
    folding_limit: f32,
    min_r2: f32,
    fixed_r2: f32,
    bailout: f32,
    iterations: u32,
    sequence_length: u32,
    log_de: u32,
    _pad0: u32,
    _pad1: u32,
    // Step kinds in x: 0 Mandelbulb, 1 Mandelbox. Read only by the loop below, which the
    // renderer replaces with the sequence written out; like `integer_power`, the block keeps
    // it so that its bytes describe the whole fractal (what the window compares to see a
    // change).
    sequence: array<vec4<u32>, 8>,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

// `integer_power` as a constant: the renderer specialises the pipeline on it
// (`fractal::steps::with_integer_power`), so the power's loops unroll.
const INTEGER_POWER: u32 = 0u;

fn fractal_de(c: vec3<f32>) -> vec2<f32> {
    var z = c;
    var dr = 1.0;
    var r = length(z);
    var trap = r * r;
    // Read once, before the loop: lavapipe loads a buffer's fields again in every trip.
    let iterations = fractal.iterations;
    let bailout = fractal.bailout;
    let sequence_length = fractal.sequence_length;
    let power = fractal.power;
    let scale = fractal.scale;
    let folding_limit = fractal.folding_limit;
    let min_r2 = fractal.min_r2;
    let fixed_r2 = fractal.fixed_r2;
    // The renderer writes the sequence's steps out in place of this loop, from here to the end
    // marker (`fractal::hybrid::with_sequence`): choosing the step per trip, as below, a SIMD
    // driver such as lavapipe runs both kinds' steps every trip.
    // BEGIN ITERATION
    for (var i = 0u; i < iterations; i = i + 1u) {
        if r > bailout {
            break;
        }
        if fractal.sequence[i % sequence_length].x == 0u {
            mandelbulb_step(&z, &dr, c, power, INTEGER_POWER);
        } else {
            mandelbox_step(&z, &dr, c, scale, folding_limit, min_r2, fixed_r2);
        }
        r = length(z);
        trap = min(trap, r * r);
    }
    // END ITERATION
    var d = r / abs(dr);
    if fractal.log_de != 0u {
        d = select(0.5 * log(r) * r / abs(dr), 0.0, r == 0.0);
    }
    return vec2<f32>(d, trap);
}
