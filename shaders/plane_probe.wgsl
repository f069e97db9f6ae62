// Evaluates a plane fractal's `escape` at a list of points: the GPU half of the plane
// GPU-against-CPU tests. Composed after `alias real = ...;` and the fractal module.

// Points as f64 split into f32 pairs: (x hi, y hi, x lo, y lo).
@group(0) @binding(2) var<storage, read> probe_points: array<vec4<f32>>;
// (smooth count, distance estimate) per point.
@group(0) @binding(3) var<storage, read_write> probe_results: array<vec2<f32>>;

@compute @workgroup_size(64)
fn probe_main(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= arrayLength(&probe_points) {
        return;
    }
    let p = probe_points[id.x];
    let e = escape(vec2<real>(p.xy) + vec2<real>(p.zw), 0.0);
    probe_results[id.x] = vec2<f32>(e.smooth_count, e.distance);
}
