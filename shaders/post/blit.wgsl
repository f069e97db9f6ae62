// Draws the rendered frame (any resolution) over the whole window, filtered, with the controls
// laid over it, for `explore`.
// The frame holds sRGB-encoded values; `decode` is 1 when the surface encodes again (an sRGB
// surface format), so the values are decoded first and the picture looks the same.

struct BlitParams {
    decode: u32,
    _pad0: u32,
    // The part of the texture the frame fills (from its top left corner), per axis.
    region: vec2<f32>,
}

@group(0) @binding(0) var frame_texture: texture_2d<f32>;
@group(0) @binding(1) var frame_sampler: sampler;
@group(0) @binding(2) var<uniform> params: BlitParams;
// The controls over transparency, window-sized, premultiplied alpha (drawn by egui only when
// they change: src/explore/overlay.rs).
@group(0) @binding(3) var overlay_texture: texture_2d<f32>;

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
}

// One triangle that covers the screen.
@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> VertexOut {
    let uv = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
    var out: VertexOut;
    out.position = vec4<f32>(uv * vec2<f32>(2.0, -2.0) + vec2<f32>(-1.0, 1.0), 0.0, 1.0);
    out.uv = uv;
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    // Filtering stops half a texel inside the frame's edge: what lies beyond is not the frame.
    let half_texel = 0.5 / vec2<f32>(textureDimensions(frame_texture));
    let uv = min(in.uv * params.region, params.region - half_texel);
    var c = textureSample(frame_texture, frame_sampler, uv).rgb;
    if params.decode != 0u {
        c = select(pow((c + 0.055) / 1.055, vec3<f32>(2.4)), c / 12.92, c <= vec3<f32>(0.04045));
    }
    // The controls over the frame, as egui's blending would have laid them on the window.
    let o = textureLoad(overlay_texture, vec2<i32>(in.position.xy), 0);
    return vec4<f32>(o.rgb + c * (1.0 - o.a), 1.0);
}
