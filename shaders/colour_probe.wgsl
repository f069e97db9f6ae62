// Evaluates `colour_of` (shaders/colouring.wgsl) at a list of inputs: the GPU half of the
// colouring's GPU-against-CPU test. Composed after shaders/colouring.wgsl.

// `colour_of` reads `plane.mapping` (as in shaders/plane.wgsl); here the block holds only that.
struct ProbePlane {
    mapping: ColourMapping,
}

@group(0) @binding(1) var<uniform> plane: ProbePlane;
// Two per input: (count, distance, slope), (stripe, 0, 0, 0).
@group(0) @binding(2) var<storage, read> probe_points: array<vec4<f32>>;
// The colour (linear light) per input.
@group(0) @binding(3) var<storage, read_write> probe_colours: array<vec4<f32>>;

@compute @workgroup_size(64)
fn colour_probe_main(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= arrayLength(&probe_colours) {
        return;
    }
    let a = probe_points[2u * id.x];
    let b = probe_points[2u * id.x + 1u];
    let c = colour_of(ColourInput(a.x, a.y, a.zw, b.x));
    probe_colours[id.x] = vec4<f32>(c, 1.0);
}
