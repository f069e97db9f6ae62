// The deep zoom's reference orbit and BLA table in textures, for f32 mantissas. Every pixel
// reads them at its own iteration, a different place per lane: lavapipe reads a storage buffer
// at per-lane addresses lane by lane, with a stall per lane (up to 40% of a deep frame), and a
// texture with one gather. Entry i is texel (i mod 2^DEEP_TEXTURE_SHIFT, i >> DEEP_TEXTURE_SHIFT).
// Composed with fractals/mandelbrot-deep.wgsl (`real = f32`); written by `gpu::deep::DeepTextures`.

const DEEP_TEXTURE_SHIFT: u32 = 12u;

// Z (xy).
@group(0) @binding(8) var orbit_z_texture: texture_2d<f32>;
// Z as mantissa (xy, f32 bits) and exponent (z).
@group(0) @binding(9) var orbit_exact_texture: texture_2d<u32>;
// A step's a (xy) and b (zw) mantissas.
@group(0) @binding(10) var bla_ab_texture: texture_2d<f32>;
// A step's a and b exponents (xy), its radius's mantissa (z, f32 bits) and exponent (w).
@group(0) @binding(11) var bla_exp_texture: texture_2d<u32>;

fn deep_texel(i: u32) -> vec2<u32> {
    return vec2<u32>(i & ((1u << DEEP_TEXTURE_SHIFT) - 1u), i >> DEEP_TEXTURE_SHIFT);
}

fn orbit_z(i: u32) -> vec2<real> {
    return textureLoad(orbit_z_texture, deep_texel(i), 0).xy;
}

fn orbit_point(i: u32) -> OrbitPoint {
    let at = deep_texel(i);
    let exact = textureLoad(orbit_exact_texture, at, 0);
    return OrbitPoint(
        textureLoad(orbit_z_texture, at, 0).xy,
        bitcast<vec2<f32>>(exact.xy),
        bitcast<i32>(exact.z),
        0,
    );
}

fn bla_entry(i: u32) -> Bla {
    let at = deep_texel(i);
    let ab = textureLoad(bla_ab_texture, at, 0);
    let e = textureLoad(bla_exp_texture, at, 0);
    return Bla(ab.xy, ab.zw, bitcast<i32>(e.x), bitcast<i32>(e.y), bitcast<f32>(e.z), bitcast<i32>(e.w));
}

fn bla_radius(i: u32) -> Radius {
    let e = textureLoad(bla_exp_texture, deep_texel(i), 0);
    return Radius(bitcast<f32>(e.z), bitcast<i32>(e.w));
}
