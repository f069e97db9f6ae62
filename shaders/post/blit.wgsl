// Draws the rendered frame (any resolution) over the whole window, filtered, for `explore`; then
// `fs_overlay` lays the controls over it, only within the rectangle they cover (a scissor).
// The frame holds sRGB-encoded values; DECODE is true when the surface encodes again (an sRGB
// surface format), so the values are decoded first and the picture looks the same.
//
// Both are settled per pipeline or per draw, not per pixel: on lavapipe the decode behind a
// branch on a uniform still cost its three `pow` a pixel, and with the overlay read at every
// window pixel the two took half the blit's time (11 against 5.5 ms at 1280x720).

override DECODE: bool = false;

struct BlitParams {
    // The part of the texture the frame fills (from its top left corner), per axis.
    region: vec2<f32>,
    _pad: vec2<f32>,
}

@group(0) @binding(0) var frame_texture: texture_2d<f32>;
@group(0) @binding(1) var frame_sampler: sampler;
@group(0) @binding(2) var<uniform> params: BlitParams;
// The controls over transparency, window-sized, premultiplied alpha (drawn by egui only when
// they change: src/explore/overlay.rs).
@group(0) @binding(3) var overlay_texture: texture_2d<f32>;

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    // Where in the frame texture.
    @location(0) uv: vec2<f32>,
    // Filtering stops half a texel inside the frame's edge: what lies beyond is not the frame.
    @location(1) @interpolate(flat) limit: vec2<f32>,
}

// One triangle that covers the screen.
@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> VertexOut {
    let uv = vec2<f32>(f32((index << 1u) & 2u), f32(index & 2u));
    var out: VertexOut;
    out.position = vec4<f32>(uv * vec2<f32>(2.0, -2.0) + vec2<f32>(-1.0, 1.0), 0.0, 1.0);
    out.uv = uv * params.region;
    out.limit = params.region - 0.5 / vec2<f32>(textureDimensions(frame_texture));
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    var c = textureSample(frame_texture, frame_sampler, min(in.uv, in.limit)).rgb;
    if DECODE {
        c = select(pow((c + 0.055) / 1.055, vec3<f32>(2.4)), c / 12.92, c <= vec3<f32>(0.04045));
    }
    return vec4<f32>(c, 1.0);
}

// The controls, blended over the frame as egui would have blended them onto the window
// (premultiplied alpha: the pipeline's blend state).
@fragment
fn fs_overlay(in: VertexOut) -> @location(0) vec4<f32> {
    return textureLoad(overlay_texture, vec2<i32>(in.position.xy), 0);
}
