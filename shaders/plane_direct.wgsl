// Plane pixels iterated directly at their plane point, in `real` (f32 or f64): composed with a
// plane fractal module providing `escape` and with shaders/plane.wgsl.

fn pixel_escape(offset: vec2<f32>) -> Escape {
    let step = vec2<real>(plane.axes.xy) * real(offset.x) + vec2<real>(plane.axes.zw) * real(offset.y);
    let center = vec2<real>(plane.center.xy) + vec2<real>(plane.center.zw);
    var e = escape(center + step, stripe_density());
    e.distance = e.distance / length(plane.axes.xy);
    return e;
}
