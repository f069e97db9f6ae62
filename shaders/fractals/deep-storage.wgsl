// The deep zoom's reference orbit and BLA table in storage buffers: for f64 mantissas, which
// textures cannot hold. Composed with fractals/mandelbrot-deep.wgsl (`real = f64`); twins of
// `gpu::deep::OrbitPoint64` and `deep::bla::BlaGpu64`.

@group(0) @binding(6) var<storage, read> orbit: array<OrbitPoint>;
@group(0) @binding(7) var<storage, read> bla: array<Bla>;

fn orbit_z(i: u32) -> vec2<real> {
    return orbit[i].z;
}

fn orbit_point(i: u32) -> OrbitPoint {
    return orbit[i];
}

fn bla_entry(i: u32) -> Bla {
    return bla[i];
}

fn bla_radius(i: u32) -> Radius {
    return Radius(bla[i].r, bla[i].r_exp);
}
