// One chunk of the zoom map: each invocation is one sample, on a row at a log-spaced radius
// around the map's centre, at an even angle. Composed after a plane kind's per-pixel module
// (the one defining `pixel_escape`: direct iteration or perturbation), shaders/plane.wgsl,
// shaders/output.wgsl (whose bindings it shares) and zoommap/sample.wgsl. The chunk is a view
// centred on the map's centre with rotation 0, so `pixel_escape(offset)` evaluates the point
// `offset` pixels of that view from the centre; its grid comes in fields of the plane uniform
// that plane_main uses and this entry point does not: image.x angles, image.y rows in this
// piece, image.z its first row; jitter.x ln of the chunk's top radius in view pixels,
// jitter.y the log-radius per row, jitter.z the angle per sample. Each sample (its smooth
// count, distance estimate over the radius, so frames of any zoom can scale it to their
// pixels, and slope) goes packed straight to level 0 of the chunk's ring slot, bound at the
// cone pass's binding (plane kinds have no cone pass): storing it unpacked for a separate pass
// to pack cost about a sixth of a chunk's time on lavapipe, which reads and writes storage
// buffers lane by lane.

@group(0) @binding(4) var<storage, read_write> map_chunk: array<vec2<u32>>;

@compute @workgroup_size(8, 8)
fn map_main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let angles = plane.image.x;
    // Dispatched by gpu::dispatch::spread_workgroups.
    let id = spread_pixel(group, groups, local, angles);
    // Lanes past the chunk's last angle or row evaluate a point all the same and store
    // nothing: no branch encloses the evaluation (see `plane_main`).
    let inside = id.x < angles && id.y < plane.image.y;
    let row = plane.image.z + id.y;
    let radius = exp(plane.jitter.x - (f32(row) + 0.5) * plane.jitter.y);
    let angle = (f32(id.x) + 0.5) * plane.jitter.z;
    let e = pixel_escape(radius * vec2<f32>(cos(angle), sin(angle)));
    let packed = map_pack(vec4<f32>(e.smooth_count, e.distance / radius, e.slope));
    if inside {
        map_chunk[row * angles + id.x] = packed;
    }
}
