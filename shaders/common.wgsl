// Shared by every pass that renders a frame: the per-frame uniform block and camera rays.

// Twin of `gpu::uniforms::FrameUniform`.
struct FrameUniform {
    // Camera position in world space, split into a high and a low f32 part (f64 on the CPU), so
    // that world points near the camera keep the precision of the camera-relative offset.
    origin_hi: vec4<f32>,
    origin_lo: vec4<f32>,
    // Camera basis scaled so that forward + x * right + y * up, with x, y in [-1, 1], spans the image.
    right: vec4<f32>,
    up: vec4<f32>,
    forward: vec4<f32>,
    // Linear-light colours.
    background: vec4<f32>,
    // xyz: unit vector towards the light; w: 1 / tan(shadow cone half-angle).
    light: vec4<f32>,
    // rgb: albedo; w: specular strength.
    albedo: vec4<f32>,
    // rgb: colour at the orbit trap's far end; w: specular exponent.
    trap_color: vec4<f32>,
    // Full image width, height; this tile's x0, y0.
    image: vec4<u32>,
    // Max march steps, FLAG_* bits, tile width, tile height.
    control: vec4<u32>,
    // Pixel footprint at unit distance, detail (pixels), bounding radius, step factor.
    march: vec4<f32>,
    // Ambient light, AO strength, AO radius (fraction of the hit distance), light intensity.
    shading: vec4<f32>,
    // xy: this sample's offset from the pixel centre, in pixels (anti-aliasing).
    jitter: vec4<f32>,
    // x: index of this sample, y: samples per pixel.
    samples: vec4<u32>,
    // The look beyond the reference's one grey light (each part enabled by its FLAG_*).
    // rgb: key light colour (linear).
    key_color: vec4<f32>,
    // xyz: unit vector towards the fill light; w: its intensity.
    fill_direction: vec4<f32>,
    fill_color: vec4<f32>,
    // rgb: rim light colour times intensity; w: rim power.
    rim: vec4<f32>,
    // Sky gradient (linear rgb); zenith.w: strength of the halo about the key light.
    sky_zenith: vec4<f32>,
    sky_horizon: vec4<f32>,
    sky_ground: vec4<f32>,
    // rgb: fog colour; w: density per unit distance.
    fog: vec4<f32>,
    // x: height falloff, y: height of the fog's base (world z); z: shadow rays' minimum step as
    // a fraction of the distance travelled (`shadow_stride`).
    fog_height: vec4<f32>,
    // rgb: glow colour times strength; w: reach as a fraction of the distance.
    glow: vec4<f32>,
    // x: lens radius, y: focus distance, zw: this sample's point on the unit disk.
    lens: vec4<f32>,
    // x: palette cycles per unit of sqrt(orbit trap), y: palette offset, z: stop count.
    surface: vec4<f32>,
    // x: the fractal's ceiling, the world z above which it has no surface (the largest f32
    // where it has none: `VolumeFormula::ceiling`); y: how far above it, per unit of estimate,
    // the estimate may still be below a hit threshold (its vertical gap over its estimate).
    bounds: vec4<f32>,
    // Surface palette: linear rgb at position w in [0, 1); cyclic.
    stops: array<vec4<f32>, 16>,
}

const FLAG_AO: u32 = 1u;
const FLAG_SHADOWS: u32 = 2u;
const FLAG_ORBIT_TRAP: u32 = 4u;
const FLAG_SPECULAR: u32 = 8u;
const FLAG_COUNT: u32 = 16u;
const FLAG_SKY: u32 = 32u;
const FLAG_PALETTE: u32 = 64u;
const FLAG_FOG: u32 = 128u;
const FLAG_GLOW: u32 = 256u;
const FLAG_FILL: u32 = 512u;
const FLAG_RIM: u32 = 1024u;
const FLAG_LENS: u32 = 2048u;
// This dispatch is the cone pass over the tile's cells (shaders/march.wgsl `cone_cell`).
const FLAG_CONE: u32 = 4096u;
// The fractal's estimate is no safe bound for the cone pass (`VolumeFormula::cone_safe`).
const FLAG_NO_CONE: u32 = 8192u;

@group(0) @binding(0) var<storage, read> frame: FrameUniform;

// Unit ray direction through the centre of pixel (x, y) of the full image, row 0 at the top.
fn camera_ray(pixel: vec2<u32>) -> vec3<f32> {
    return camera_ray_at(vec2<f32>(pixel) + 0.5 + frame.jitter.xy);
}

// Unit ray direction through point `at` of the image, in pixels from its top left corner.
fn camera_ray_at(at: vec2<f32>) -> vec3<f32> {
    let uv = at / vec2<f32>(frame.image.xy) * 2.0 - 1.0;
    return normalize(frame.forward.xyz + uv.x * frame.right.xyz - uv.y * frame.up.xyz);
}

// How many times its distance estimate a ray may step from the point last estimated: 1 unless
// the fractal module knows a bound there larger than its estimate (the terrain's estimate is a
// global bound; a local one lets rays cross flat ground in a few steps). Only the marches'
// steps use it (see `reach` in shaders/march.wgsl); hit tests, normals, occlusion, shadows and
// the glow read the estimate itself, so shading is unchanged. Set by `fractal_de`;
// shaders/probe.wgsl declares it too.
var<private> step_scale: f32 = 1.0;

// Where this sample's ray leaves the lens, relative to the camera position (0 for a pinhole).
var<private> lens_offset: vec3<f32> = vec3<f32>(0.0);

// A thin lens (depth of field): moves the ray's origin to this sample's point on the lens and
// turns it through the point of the pinhole ray that lies on the plane of focus.
fn lens_ray(dir: vec3<f32>) -> vec3<f32> {
    if (frame.control.y & FLAG_LENS) == 0u {
        return dir;
    }
    let right = normalize(frame.right.xyz);
    let up = normalize(frame.up.xyz);
    lens_offset = (right * frame.lens.z + up * frame.lens.w) * frame.lens.x;
    let focus = dir * (frame.lens.y / dot(dir, frame.forward.xyz));
    return normalize(focus - lens_offset);
}

// World point at distance t along a camera ray.
fn world_point(dir: vec3<f32>, t: f32) -> vec3<f32> {
    return frame.origin_hi.xyz + (frame.origin_lo.xyz + lens_offset + dir * t);
}
