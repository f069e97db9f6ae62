// The Mandelbrot set as a landscape: height H exp(-d / width) from the exterior distance
// estimate d, so the set is a plateau and its filaments are ridges, with slopes bounded by
// H / width; ray-marched as a height field. CPU twin: src/fractal/terrain.rs.

// Twin of `fractal::terrain::TerrainUniform`.
struct FractalParams {
    // Julia constant (xy); z: 1 for a Julia set.
    julia: vec4<f32>,
    iterations: u32,
    height: f32,
    width: f32,
    // 1 / sqrt(1 + (height / width)^2): turns the vertical gap into a safe distance.
    lipschitz: f32,
}

@group(0) @binding(1) var<uniform> fractal: FractalParams;

// (exterior distance to the set or 0 inside, smooth iteration count or -1 inside).
fn terrain_escape(p: vec2<f32>) -> vec2<f32> {
    let julia = fractal.julia.z != 0.0;
    var c = p;
    var z = vec2<f32>(0.0);
    var dz = vec2<f32>(0.0);
    if julia {
        c = fractal.julia.xy;
        z = p;
        dz = vec2<f32>(1.0, 0.0);
    } else {
        let x = p.x - 0.25;
        let q = x * x + p.y * p.y;
        if q * (q + x) <= 0.25 * p.y * p.y || (p.x + 1.0) * (p.x + 1.0) + p.y * p.y <= 0.0625 {
            return vec2<f32>(0.0, -1.0);
        }
    }
    // Chosen and read once, before the loop: lavapipe evaluates a select and reloads a
    // buffer's fields in every trip of a loop.
    let dz_step = select(vec2<f32>(1.0, 0.0), vec2<f32>(0.0), julia);
    let iterations = fractal.iterations;
    // The loop only iterates; the escaped orbit's distance and count are worked out after it
    // (inside, a CPU "GPU" would run their logs and division, masked, every trip).
    var escaped_at = iterations;
    for (var i = 0u; i < iterations; i = i + 1u) {
        dz = 2.0 * vec2<f32>(z.x * dz.x - z.y * dz.y, z.x * dz.y + z.y * dz.x) + dz_step;
        z = vec2<f32>(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        if dot(z, z) > 65536.0 {
            escaped_at = i;
            break;
        }
    }
    if escaped_at == iterations {
        return vec2<f32>(0.0, -1.0);
    }
    let r2 = dot(z, z);
    let log_r = 0.5 * log(r2);
    let d = log_r * sqrt(r2) / max(length(dz), 1e-30);
    return vec2<f32>(d, f32(escaped_at) + 1.0 - log2(log_r));
}

fn fractal_de(p: vec3<f32>) -> vec2<f32> {
    let e = terrain_escape(p.xy);
    let h = fractal.height * exp(-e.x / fractal.width);
    // The trap carries the escape count for colouring: bands on the slopes, 0 on the set.
    let band = select(fract(0.1 * e.y), 0.0, e.y < 0.0);
    let gap = p.z - h;
    // The estimate is the vertical gap over the steepest slope anywhere (`lipschitz`), and
    // shading reads it as such. A ray may step further (`step_scale`, shaders/common.wgsl): the
    // slope is (height / width) exp(-d / width) |grad d|, so away from the set's edge and
    // filaments the ground is far flatter. Within `gap` of p, taking the estimate d to change by
    // at most 4 per unit (it is no exact distance; a margin of 2 let rays through ridges of the
    // 160x90 golden), d >= e.x - 4 gap and the slope is at most 4 (height / width)
    // exp(-(e.x - 4 gap) / width), and never above the global bound.
    let slope = fractal.height / fractal.width
        * min(4.0 * exp(-max(e.x - 4.0 * gap, 0.0) / fractal.width), 1.0);
    step_scale = select(1.0, inverseSqrt(1.0 + slope * slope) / fractal.lipschitz, gap > 0.0);
    return vec2<f32>(gap * fractal.lipschitz, band);
}
