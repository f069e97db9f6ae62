// Display encoding: the lens's vignette, contrast, tone mapping and sRGB, shared by the post
// stage (shaders/post/tonemap.wgsl) and frames that write their display colour themselves
// (`frame_display` in shaders/output.wgsl). Reads the `post` block the composing module
// declares. CPU twin: `gpu::post::display_color`.

// Twin of `gpu::post::PostUniform`.
struct PostUniform {
    // Tile width, height; tone map operator (TONE_MAP_*); unused.
    size: vec4<u32>,
    // x: exposure (a multiplier of linear light), y: contrast, z: vignette strength.
    exposure: vec4<f32>,
    // The full image's width and height; this tile's x0, y0 in it.
    image: vec4<u32>,
    // Bloom (shaders/post/bloom.wgsl): x strength (0 = off), y threshold, z the blur's standard
    // deviation in bloom pixels.
    bloom: vec4<f32>,
    // The bloom buffers' width and height (a quarter of the tile's, rounded up), taps each side
    // of the blur.
    bloom_size: vec4<u32>,
}

const TONE_MAP_CLAMP: u32 = 0u;
const TONE_MAP_ACES: u32 = 1u;

// Linear colour `c` at pixel `id` of the tile darkened by the lens's vignette: a cos^4-like
// falloff towards the corners, by distance from the centre in units of the half-diagonal.
// These functions choose with `select`, not `if`, on the block's values: lavapipe compiles a
// variant of the shader for the values of uniforms that an `if` tests, so a flight whose look
// changes them would recompile the frame's whole shader at every frame.
fn vignette(c: vec3<f32>, id: vec2<u32>) -> vec3<f32> {
    let size = vec2<f32>(post.image.xy);
    let p = (vec2<f32>(post.image.zw + id) + 0.5 - 0.5 * size) / (0.5 * length(size));
    let strength = max(post.exposure.z, 0.0);
    return c * max(1.0 - strength * dot(p, p) * (0.6 + 0.4 * dot(p, p)), 0.0);
}

// Narkowicz's fit of the ACES filmic curve (display-referred, [0, 1]).
fn aces(x: vec3<f32>) -> vec3<f32> {
    return clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), vec3<f32>(0.0), vec3<f32>(1.0));
}

// The tone map and whether a contrast applies (1, else 0) as pipeline constants
// (`gpu::post::DisplayVariant`), for frames that write their display colour and are made for
// one look, or DISPLAY_FROM_BLOCK: both read from the block and both sides of each choice
// computed (see above). The contrast's three `pow`s and the curve cost lavapipe about a
// twentieth of an assembled zoom-map frame where the look uses neither.
const DISPLAY_FROM_BLOCK: u32 = 0xffffffffu;
override display_tone_map: u32 = DISPLAY_FROM_BLOCK;
override display_contrast: u32 = DISPLAY_FROM_BLOCK;

// Display-referred linear colour in [0, 1].
fn display_linear(c: vec3<f32>) -> vec3<f32> {
    let x = max(c, vec3<f32>(0.0));
    let tone_map = select(display_tone_map, post.size.z, display_tone_map == DISPLAY_FROM_BLOCK);
    let contrast = select(display_contrast != 0u, post.exposure.y != 1.0, display_contrast == DISPLAY_FROM_BLOCK);
    // Contrast about mid grey, in log space (as a colourist's contrast control works).
    let contrasted = 0.18 * pow(x / 0.18, vec3<f32>(post.exposure.y));
    let y = select(x, contrasted, contrast);
    return select(clamp(y, vec3<f32>(0.0), vec3<f32>(1.0)), aces(y), tone_map == TONE_MAP_ACES);
}

// sRGB encoding of a display-referred linear colour.
fn linear_to_srgb(c: vec3<f32>) -> vec3<f32> {
    let x = clamp(c, vec3<f32>(0.0), vec3<f32>(1.0));
    return select(1.055 * pow(x, vec3<f32>(1.0 / 2.4)) - 0.055, 12.92 * x, x <= vec3<f32>(0.0031308));
}
