// The classic power-n Mandelbulb (White/Nylander, acos form) and its analytic distance estimate
// DE = 0.5 ln(r) r / dr. CPU twin: src/fractal/mandelbulb.rs. Composed after steps.wgsl.

// Twin of `fractal::mandelbulb::MandelbulbUniform`.
struct FractalParams {
    power: f32,
    bailout: f32,
    iterations: u32,
    // `power` as an integer when it is one, else 0: read as INTEGER_POWER below instead.
    integer_power: u32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

// `integer_power` as a constant: the renderer specialises the pipeline on it
// (`fractal::steps::with_integer_power`), so the power's loops unroll.
const INTEGER_POWER: u32 = 0u;

// Returns (distance estimate, orbit trap = smallest |z|^2 along the orbit).
fn fractal_de(c: vec3<f32>) -> vec2<f32> {
    var z = c;
    var dr = 1.0;
    var r = length(z);
    var trap = r * r;
    // Read once, before the loop: lavapipe loads a buffer's fields again in every trip.
    let iterations = fractal.iterations;
    let bailout = fractal.bailout;
    let power = fractal.power;
    for (var i = 0u; i < iterations; i = i + 1u) {
        if r > bailout {
            break;
        }
        mandelbulb_step(&z, &dr, c, power, INTEGER_POWER);
        r = length(z);
        trap = min(trap, r * r);
    }
    // r == 0 only at the origin, whose orbit stays there: inside (and not 0 * -inf = NaN).
    return vec2<f32>(select(0.5 * log(r) * r / dr, 0.0, r == 0.0), trap);
}
