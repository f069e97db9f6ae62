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
}
