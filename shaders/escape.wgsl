// What a plane fractal's escape-time evaluation returns: shared by the plane kinds' modules
// (which define `escape` or `pixel_escape`), shaders/plane.wgsl and shaders/plane_probe.wgsl.
struct Escape {
    // Smooth iteration count; negative inside the set.
    smooth_count: f32,
    // Exterior distance estimate to the set: plane units from `escape`, pixels from
    // `pixel_escape`.
    distance: f32,
    // Direction of z / dz (the slope of the potential), for relief shading.
    slope: vec2<f32>,
    // Stripe average in [0, 1] (0.5 where none was asked for).
    stripe: f32,
}

// Whether the escape modules accumulate the stripe average. A constant, so that pipelines
// without stripes carry no trace of it in their loops (a branch in the perturbation loop costs
// lavapipe a third of its speed); `gpu::shaders::with_stripe_average` switches it on.
const STRIPE_AVERAGE: bool = false;

// Stripe averaging (Härkönen): the mean of 0.5 + 0.5 sin(k arg z) over the iterates, blended
// between the last two means by the fractional part of the escape so it is continuous.
struct Stripes {
    sum: f32,
    previous: f32,
    count: f32,
}

fn stripe_add(s: Stripes, z: vec2<f32>, k: f32) -> Stripes {
    return Stripes(s.sum + 0.5 + 0.5 * sin(k * atan2(z.y, z.x)), s.sum, s.count + 1.0);
}

// `log_r`: ln|z| at escape; `log_bailout`: ln of the escape radius.
fn stripe_value(s: Stripes, log_r: f32, log_bailout: f32) -> f32 {
    if s.count < 2.0 {
        return 0.5;
    }
    let last = s.sum / s.count;
    let before = s.previous / (s.count - 1.0);
    let f = clamp(1.0 + log2(log_bailout / log_r), 0.0, 1.0);
    return mix(before, last, f);
}
