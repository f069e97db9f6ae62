// The adapter's arithmetic peak, for `mandelfly bench`: eight independent chains of vec4 fused
// multiply-adds per invocation (no memory traffic, no divergence). 256 rounds x 8 chains x 4
// lanes = 8192 FMAs = 16384 flops per invocation.

@group(0) @binding(0) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(64)
fn fma_main(@builtin(global_invocation_id) id: vec3<u32>) {
    let seed = f32(id.x & 1023u) * 1e-4;
    var a0 = vec4<f32>(seed, 0.1, 0.2, 0.3);
    var a1 = a0 + 0.01;
    var a2 = a0 + 0.02;
    var a3 = a0 + 0.03;
    var a4 = a0 + 0.04;
    var a5 = a0 + 0.05;
    var a6 = a0 + 0.06;
    var a7 = a0 + 0.07;
    let m = vec4<f32>(0.9999);
    let c = vec4<f32>(1e-4);
    for (var i = 0u; i < 256u; i = i + 1u) {
        a0 = fma(a0, m, c);
        a1 = fma(a1, m, c);
        a2 = fma(a2, m, c);
        a3 = fma(a3, m, c);
        a4 = fma(a4, m, c);
        a5 = fma(a5, m, c);
        a6 = fma(a6, m, c);
        a7 = fma(a7, m, c);
    }
    let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    // Written only for an impossible value, so the work cannot be optimised away.
    if s.x == 12345.0 {
        sink[id.x] = s.y;
    }
}
