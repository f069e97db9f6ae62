// Evaluates the fractal's distance estimate at a list of points: the GPU side of the GPU-vs-CPU
// tests (layer 2 in DESIGN.md). Composed after one fractal module.

// What a fractal module may set beside its estimate (see shaders/common.wgsl); unused here.
var<private> step_scale: f32 = 1.0;

@group(0) @binding(2) var<storage, read> probe_points: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> probe_results: array<vec2<f32>>;

@compute @workgroup_size(64)
fn probe_main(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= arrayLength(&probe_points) {
        return;
    }
    probe_results[id.x] = fractal_de(probe_points[id.x].xyz);
}
