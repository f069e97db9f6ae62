// Temporal reprojection for the live window: each frame marches one pixel of every f x f block of
// the history (its phase cycles over the block), and this pass builds the new history at full
// history resolution from that frame and the previous history re-projected by the camera's
// motion. A history pixel is carried over where the previous frame saw the same surface there
// (its depth agrees with the point re-projected into the previous camera); elsewhere
// (disocclusions, the screen's edges) it is filled from this frame's samples. While the camera
// moves, carried colours are clamped to the range of this frame's samples around them, so stale
// colour cannot linger as a ghost. CPU twin: `gpu::temporal` (project, unproject,
// depth_consistent).

// Twin of `gpu::temporal::ReprojectUniform`.
struct ReprojectUniform {
    // The current camera: right and up scaled to the image's half extents (as in FrameUniform),
    // unit forward.
    right: vec4<f32>,
    up: vec4<f32>,
    forward: vec4<f32>,
    // The previous camera's projection: right / |right|^2, up / |up|^2 and unit forward, so that
    // a camera-relative point v lands at uv = (v.right', -v.up') / v.forward'.
    prev_right: vec4<f32>,
    prev_up: vec4<f32>,
    prev_forward: vec4<f32>,
    // xyz: the previous camera's position relative to the current one.
    prev_origin: vec4<f32>,
    // History width, height; marched frame width, height.
    size: vec4<u32>,
    // Previous history width, height; block side f; FLAG_* bits.
    prev_size: vec4<u32>,
    // This frame's samples sit at (f i + x, f j + y) of the history; z: most samples a pixel's
    // running mean counts (its weight cap).
    phase: vec4<u32>,
    // x: depth tolerance (fraction of the distance); y: least bilinear weight of agreeing history
    // taps for a pixel to be carried over.
    params: vec4<f32>,
}

// The previous history is valid (else everything comes from this frame).
const FLAG_HISTORY: u32 = 1u;
// Same camera and size as the previous frame: history pixels map to themselves.
const FLAG_STATIC: u32 = 2u;
// The previous history had another size: what it carries over is resampled, a stand-in (weight
// 0) that the next sample of the pixel replaces.
const FLAG_RESIZED: u32 = 4u;

// A storage buffer, not a uniform: lavapipe specialises a shader on uniform values that steer
// its branches and compiles it again for each new value (here, every phase).
@group(0) @binding(0) var<storage, read> r: ReprojectUniform;
// This frame's march (shaders/output.wgsl): sum of samples and their count, and depth.
@group(0) @binding(1) var<storage, read> march_hdr: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> march_aux: array<vec2<f32>>;
// The previous history: linear colour times the weight of its running mean (at least 1), and
// that weight, as the post stage reads a frame (its `hdr`: sum and count), so that it reads the
// history itself; distance along the pixel's ray (0 where it escaped).
@group(0) @binding(3) var<storage, read> prev_color: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> prev_depth: array<f32>;
@group(0) @binding(5) var<storage, read_write> next_color: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> next_depth: array<f32>;

// Unit ray through the centre of history pixel p (shaders/common.wgsl `camera_ray_at`).
fn history_ray(p: vec2<u32>) -> vec3<f32> {
    let uv = (vec2<f32>(p) + 0.5) / vec2<f32>(r.size.xy) * 2.0 - 1.0;
    return normalize(r.forward.xyz + uv.x * r.right.xyz - uv.y * r.up.xyz);
}

fn march_index(i: vec2<i32>) -> u32 {
    let c = clamp(i, vec2<i32>(0), vec2<i32>(r.size.zw) - 1);
    return u32(c.y) * r.size.z + u32(c.x);
}

fn march_color(i: vec2<i32>) -> vec3<f32> {
    let s = march_hdr[march_index(i)];
    return s.rgb / max(s.w, 1.0);
}

fn march_depth(i: vec2<i32>) -> f32 {
    return march_aux[march_index(i)].x;
}

// The part of the history that agrees with a point: its colour, the weight of its mean, and the
// bilinear weight of the taps whose depth agrees (0: disoccluded or off screen).
struct Carried {
    color: vec3<f32>,
    samples: f32,
    weight: f32,
}

// Twin of `depth_consistent`: a history depth agrees with the expected one (0 for both: sky).
fn depth_consistent(history: f32, expected: f32) -> bool {
    let sky = expected <= 0.0 && history <= 0.0;
    let surface = history > 0.0 && abs(history - expected) <= r.params.x * expected;
    return sky || surface;
}

// Adds one bilinear tap of the previous history to `sum` (colour times weight, weight of the
// mean times weight, weight), weighted by `w` where it lies inside and its depth agrees. Every
// tap is read whatever its weight: lavapipe runs pixels in lockstep, and branches that differ
// between them cost more than the reads.
fn tap(sum: ptr<function, array<vec4<f32>, 2>>, at: vec2<i32>, w: f32, expected: f32) {
    let size = vec2<i32>(r.prev_size.xy);
    let c = clamp(at, vec2<i32>(0), size - 1);
    let index = u32(c.y * size.x + c.x);
    let ok = all(at == c) && depth_consistent(prev_depth[index], expected);
    let weight = select(0.0, w, ok);
    let color = prev_color[index];
    let mean = color.rgb / max(color.w, 1.0);
    (*sum)[0] = (*sum)[0] + vec4<f32>(weight * mean, weight * color.w);
    (*sum)[1].x = (*sum)[1].x + weight;
}

// The previous history at point v (relative to the previous camera; a direction for the sky),
// bilinear over the taps whose depth agrees with `expected`.
fn carried(v: vec3<f32>, expected: f32) -> Carried {
    let z = dot(v, r.prev_forward.xyz);
    let uv = vec2<f32>(dot(v, r.prev_right.xyz), -dot(v, r.prev_up.xyz)) / max(z, 1e-30);
    let size = vec2<f32>(r.prev_size.xy);
    // Far off screen (or behind the camera, rejected below): every tap falls outside.
    let q = clamp((uv + 1.0) * 0.5 * size - 0.5, vec2<f32>(-4.0), size + 4.0);
    let base = floor(q);
    let f = q - base;
    let b = vec2<i32>(base);
    var sum = array<vec4<f32>, 2>(vec4<f32>(0.0), vec4<f32>(0.0));
    tap(&sum, b, (1.0 - f.x) * (1.0 - f.y), expected);
    tap(&sum, b + vec2<i32>(1, 0), f.x * (1.0 - f.y), expected);
    tap(&sum, b + vec2<i32>(0, 1), (1.0 - f.x) * f.y, expected);
    tap(&sum, b + vec2<i32>(1, 1), f.x * f.y, expected);
    let weight = select(0.0, sum[1].x, z > 0.0);
    let w = max(sum[1].x, 1e-30);
    return Carried(sum[0].rgb / w, sum[0].w / w, weight);
}

// The history at p if the surface at distance t along p's ray (0: the sky) was seen before.
fn carried_at(dir: vec3<f32>, t: f32) -> Carried {
    let v = select(dir * t - r.prev_origin.xyz, dir, t <= 0.0);
    return carried(v, select(length(v), 0.0, t <= 0.0));
}

@compute @workgroup_size(8, 8)
fn reproject_main(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= r.size.x || id.y >= r.size.y {
        return;
    }
    let p = id.xy;
    let index = p.y * r.size.x + p.x;
    let f = i32(r.prev_size.z);
    let flags = r.prev_size.w;
    // Where p sits among this frame's samples (sample i at g = i), and the four about it.
    let rel = vec2<i32>(p) - vec2<i32>(r.phase.xy);
    let g = vec2<f32>(rel) / f32(f);
    let g0 = vec2<i32>(floor(g));
    let fr = g - vec2<f32>(g0);
    let fresh = all(rel >= vec2<i32>(0)) && all(rel % f == vec2<i32>(0))
        && all(g0 < vec2<i32>(r.size.zw));
    let c00 = march_color(g0);
    let c10 = march_color(g0 + vec2<i32>(1, 0));
    let c01 = march_color(g0 + vec2<i32>(0, 1));
    let c11 = march_color(g0 + vec2<i32>(1, 1));
    let nearest = vec2<i32>(round(g));
    let t = march_depth(nearest);

    // The history's view of p. The camera moved: p's depth is this frame's sample there, or for
    // the pixels between samples, that of the nearest sample.
    var best = Carried(vec3<f32>(0.0), 0.0, 0.0);
    var best_depth = t;
    let moving = (flags & FLAG_STATIC) == 0u;
    if (flags & FLAG_HISTORY) != 0u {
        if moving {
            best = carried_at(history_ray(p), t);
        } else {
            let c = prev_color[index];
            best = Carried(c.rgb / max(c.w, 1.0), c.w, 1.0);
            best_depth = prev_depth[index];
        }
    }
    let carry = best.weight >= r.params.y;
    var held = best.color;
    if moving {
        // This frame's samples about p bound what it may show.
        let lo = min(min(c00, c10), min(c01, c11));
        let hi = max(max(c00, c10), max(c01, c11));
        held = clamp(held, lo, hi);
    }
    // This frame's samples, bilinear: p's own where it is fresh, a stand-in where nothing
    // carries over until p's own sample arrives.
    let here = mix(mix(c00, c10, fr.x), mix(c01, c11, fr.x), fr.y);
    var color = here;
    var samples = select(0.0, 1.0, fresh);
    var depth = t;
    let resized = (flags & FLAG_RESIZED) != 0u;
    if fresh && carry && !resized {
        samples = min(best.samples + 1.0, f32(r.phase.z));
        color = mix(held, here, 1.0 / samples);
    } else if carry && !fresh {
        color = held;
        samples = select(best.samples, 0.0, resized);
        depth = best_depth;
    }
    next_color[index] = vec4<f32>(color * max(samples, 1.0), samples);
    next_depth[index] = depth;
}
