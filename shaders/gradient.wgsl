// Gradient palettes: shared by the surface colouring of the 3D kinds (shaders/march.wgsl) and the
// colouring of the plane kinds (shaders/colouring.wgsl), whose stops live in different parameter
// blocks. CPU twin: `ColourMapping::gradient` in src/colouring.rs.

// The colour at x in [0, 1) between stop `a` (at or before x) and the next stop `b`, each rgb
// with its position in w; `b` may wrap round past 1 to the first stop.
fn gradient_between(a: vec4<f32>, b: vec4<f32>, x: f32) -> vec3<f32> {
    var span = b.w - a.w;
    var along = x - a.w;
    if span <= 0.0 {
        span = span + 1.0;
    }
    if along < 0.0 {
        along = along + 1.0;
    }
    return mix(a.rgb, b.rgb, clamp(along / max(span, 1e-6), 0.0, 1.0));
}
