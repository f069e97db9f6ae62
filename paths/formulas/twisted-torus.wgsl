// A user formula for `kind = "custom"`: a torus twisted about its axis, with ripples.
// mandelfly declares `fractal` with the parameters of [fractal.params] (here `twist`, `major`,
// `minor`, `ripple`) before this file. Return (distance estimate, orbit trap).
fn fractal_de(p: vec3<f32>) -> vec2<f32> {
    let angle = fractal.twist * p.z;
    let c = cos(angle);
    let s = sin(angle);
    let q = vec3<f32>(c * p.x - s * p.y, s * p.x + c * p.y, p.z);
    let ring = vec2<f32>(length(q.xy) - fractal.major, q.z);
    let bumps = fractal.ripple * sin(12.0 * atan2(q.y, q.x)) * sin(9.0 * q.z);
    // The twist stretches space: scaling the estimate down keeps it a lower bound.
    let d = (length(ring) - fractal.minor + bumps) / (1.0 + abs(fractal.twist));
    return vec2<f32>(d, dot(ring, ring));
}
