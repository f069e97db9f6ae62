// The post stage: turns a tile of the linear HDR frame (shaders/output.wgsl) into what the sink
// asked for. Each entry point is one output format; all share exposure and tone mapping
// (shaders/post/display.wgsl, composed before this module).

// A uniform block: lavapipe reads a storage buffer's fields lane by lane, with a bounds check
// each (docs/design.md, "Parameter blocks and lavapipe"); a uniform block's are one load. Its
// values change only with the look, so lavapipe's specialising on uniforms costs no recompiles.
@group(0) @binding(0) var<uniform> post: PostUniform;
@group(0) @binding(1) var<storage, read> hdr: array<vec4<f32>>;
@group(0) @binding(2) var srgb8_out: texture_storage_2d<rgba8unorm, write>;
// Two u32 words per pixel: RGBA as four 16-bit values (sRGB integers or half floats).
@group(0) @binding(3) var<storage, read_write> wide_out: array<vec2<u32>>;
// The blurred bright light at a quarter of the resolution (written by bloom.wgsl).
@group(0) @binding(4) var<storage, read_write> bloom_a: array<vec4<f32>>;

// The mean of the pixel's samples, in linear light (dividing by one sample's count of 1 is exact),
// with exposure and the lens's vignette.
fn linear_at(id: vec3<u32>) -> vec3<f32> {
    var c = exposed_at(id.xy);
    if post.bloom.x > 0.0 {
        c = c + post.bloom.x * bloom_at(id.xy);
    }
    return vignette(c, id.xy);
}

// The pixel's mean of samples times the exposure.
fn exposed_at(p: vec2<u32>) -> vec3<f32> {
    let sum = hdr[p.y * post.size.x + p.x];
    return sum.rgb / max(sum.w, 1.0) * post.exposure.x;
}

// The bloom at a full-resolution pixel: bilinear between the quarter-resolution texels (their
// centres sit at 4k + 1.5 in full-resolution pixels).
fn bloom_at(p: vec2<u32>) -> vec3<f32> {
    let size = vec2<i32>(post.bloom_size.xy);
    let q = (vec2<f32>(p) + 0.5) * 0.25 - 0.5;
    let base = floor(q);
    let f = q - base;
    let i0 = clamp(vec2<i32>(base), vec2<i32>(0), size - 1);
    let i1 = clamp(vec2<i32>(base) + 1, vec2<i32>(0), size - 1);
    let w = size.x;
    let a = bloom_a[i0.y * w + i0.x].rgb;
    let b = bloom_a[i0.y * w + i1.x].rgb;
    let c = bloom_a[i1.y * w + i0.x].rgb;
    let d = bloom_a[i1.y * w + i1.x].rgb;
    return mix(mix(a, b, f.x), mix(c, d, f.x), f.y);
}

fn inside(id: vec3<u32>) -> bool {
    return id.x < post.size.x && id.y < post.size.y;
}

@compute @workgroup_size(8, 8)
fn post_srgb8(@builtin(global_invocation_id) id: vec3<u32>) {
    if !inside(id) {
        return;
    }
    let c = linear_to_srgb(display_linear(linear_at(id)));
    textureStore(srgb8_out, id.xy, vec4<f32>(c, 1.0));
}

@compute @workgroup_size(8, 8)
fn post_srgb16(@builtin(global_invocation_id) id: vec3<u32>) {
    if !inside(id) {
        return;
    }
    let index = id.y * post.size.x + id.x;
    let c = vec3<u32>(round(linear_to_srgb(display_linear(linear_at(id))) * 65535.0));
    wide_out[index] = vec2<u32>(c.r | (c.g << 16u), c.b | (65535u << 16u));
}

// Scene-linear half floats for compositing (EXR): exposure applies, tone mapping does not.
@compute @workgroup_size(8, 8)
fn post_linear(@builtin(global_invocation_id) id: vec3<u32>) {
    if !inside(id) {
        return;
    }
    let index = id.y * post.size.x + id.x;
    let c = linear_at(id);
    wide_out[index] = vec2<u32>(pack2x16float(c.rg), pack2x16float(vec2<f32>(c.b, 1.0)));
}
