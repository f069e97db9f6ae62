// Bloom: bright light spilling into its neighbourhood, as in a camera's lens and a viewer's eye.
// Appended to tonemap.wgsl (it shares `post`, `hdr` and `bloom_a`). Three passes at a quarter of
// the tile's resolution: keep what is brighter than the threshold (soft knee) and average it
// down, then a separable Gaussian, horizontal into `bloom_b` and vertical back into `bloom_a`;
// the tone-mapping entry points add it before the curve. CPU twin: `gpu::bloom::bloom_cpu`.

@group(0) @binding(5) var<storage, read_write> bloom_b: array<vec4<f32>>;

// The part of `c` above the threshold, with a quadratic knee half the threshold wide, so light
// fades into the bloom rather than switching on.
fn bright_part(c: vec3<f32>) -> vec3<f32> {
    let threshold = post.bloom.y;
    let knee = 0.5 * threshold + 1e-4;
    let brightness = max(c.r, max(c.g, c.b));
    var soft = clamp(brightness - threshold + knee, 0.0, 2.0 * knee);
    soft = soft * soft / (4.0 * knee);
    let weight = max(soft, brightness - threshold) / max(brightness, 1e-4);
    return c * max(weight, 0.0);
}

fn bloom_inside(id: vec3<u32>) -> bool {
    return id.x < post.bloom_size.x && id.y < post.bloom_size.y;
}

// The mean of the bright parts of the (up to) 4x4 pixels under one bloom texel.
@compute @workgroup_size(8, 8)
fn bloom_prefilter(@builtin(global_invocation_id) id: vec3<u32>) {
    if !bloom_inside(id) {
        return;
    }
    var sum = vec3<f32>(0.0);
    var n = 0.0;
    for (var dy = 0u; dy < 4u; dy++) {
        for (var dx = 0u; dx < 4u; dx++) {
            let p = id.xy * 4u + vec2<u32>(dx, dy);
            if p.x < post.size.x && p.y < post.size.y {
                sum = sum + bright_part(exposed_at(p));
                n = n + 1.0;
            }
        }
    }
    bloom_a[id.y * post.bloom_size.x + id.x] = vec4<f32>(sum / max(n, 1.0), 1.0);
}

fn gauss(i: i32) -> f32 {
    let s = post.bloom.z;
    return exp(-f32(i * i) / (2.0 * s * s));
}

// Taps beyond the edge take the edge texel (clamped): bright edges bloom inwards only as far as
// they would with the scene continuing.
@compute @workgroup_size(8, 8)
fn bloom_blur_x(@builtin(global_invocation_id) id: vec3<u32>) {
    if !bloom_inside(id) {
        return;
    }
    let taps = i32(post.bloom_size.z);
    let w = i32(post.bloom_size.x);
    let row = i32(id.y) * w;
    var sum = vec3<f32>(0.0);
    var total = 0.0;
    for (var i = -taps; i <= taps; i++) {
        let x = clamp(i32(id.x) + i, 0, w - 1);
        let g = gauss(i);
        sum = sum + g * bloom_a[row + x].rgb;
        total = total + g;
    }
    bloom_b[row + i32(id.x)] = vec4<f32>(sum / total, 1.0);
}

@compute @workgroup_size(8, 8)
fn bloom_blur_y(@builtin(global_invocation_id) id: vec3<u32>) {
    if !bloom_inside(id) {
        return;
    }
    let taps = i32(post.bloom_size.z);
    let w = i32(post.bloom_size.x);
    let h = i32(post.bloom_size.y);
    var sum = vec3<f32>(0.0);
    var total = 0.0;
    for (var i = -taps; i <= taps; i++) {
        let y = clamp(i32(id.y) + i, 0, h - 1);
        let g = gauss(i);
        sum = sum + g * bloom_b[y * w + i32(id.x)].rgb;
        total = total + g;
    }
    bloom_a[i32(id.y) * w + i32(id.x)] = vec4<f32>(sum / total, 1.0);
}
