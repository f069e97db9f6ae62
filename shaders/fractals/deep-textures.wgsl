// The deep zoom's reference orbit and BLA table in textures, for f32 mantissas. Every pixel
// reads them at its own iteration, a different place per lane: lavapipe reads a storage buffer
// at per-lane addresses lane by lane, with a stall per lane (up to 40% of a deep frame), and a
// texture with one gather. Entry i is texel (i mod 2^DEEP_TEXTURE_SHIFT, i >> DEEP_TEXTURE_SHIFT).
// Composed with fractals/mandelbrot-deep.wgsl (`real = f32`) after the textures' declarations
// and their `*_texel` readers (`gpu::deep::TextureAccess::wgsl`: read-only storage textures
// where the adapter allows, else sampled), which `gpu::deep::DeepTextures` writes:
// orbit_z: Z (xy); orbit_exact: Z's mantissa (xy, f32 bits) and exponent (z); bla_ab: a step's
// a (xy) and b (zw); bla_exp: its a and b exponents (xy), its radius's mantissa (z, f32 bits)
// and exponent (w).

const DEEP_TEXTURE_SHIFT: u32 = 12u;

fn deep_texel(i: u32) -> vec2<u32> {
    return vec2<u32>(i & ((1u << DEEP_TEXTURE_SHIFT) - 1u), i >> DEEP_TEXTURE_SHIFT);
}

fn orbit_z(i: u32) -> vec2<real> {
    return orbit_z_texel(deep_texel(i)).xy;
}

fn orbit_point(i: u32) -> OrbitPoint {
    let at = deep_texel(i);
    let exact = orbit_exact_texel(at);
    return OrbitPoint(orbit_z_texel(at).xy, bitcast<vec2<f32>>(exact.xy), bitcast<i32>(exact.z), 0);
}

fn bla_entry(i: u32) -> Bla {
    let at = deep_texel(i);
    let ab = bla_ab_texel(at);
    let e = bla_exp_texel(at);
    return Bla(ab.xy, ab.zw, bitcast<i32>(e.x), bitcast<i32>(e.y), bitcast<f32>(e.z), bitcast<i32>(e.w));
}

fn bla_radius(i: u32) -> Radius {
    let e = bla_exp_texel(deep_texel(i));
    return Radius(bitcast<f32>(e.z), bitcast<i32>(e.w));
}
