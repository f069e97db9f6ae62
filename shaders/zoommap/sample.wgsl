// A zoom-map sample as the map stores it: two words, the smooth count (f32 bits; negative
// inside the set) and, packed, the distance estimate over the radius (f16, low half) with the
// slope (two snorm8, high half). Shared by the chunk pass that stores samples
// (zoommap/map.wgsl), the mip pass that reduces them (zoommap/mip.wgsl) and the frames that
// read them (zoommap/assemble.wgsl). CPU twin: `zoommap::file` (the map file's channels).

fn map_pack(v: vec4<f32>) -> vec2<u32> {
    let de = pack2x16float(vec2<f32>(clamp(v.y, 0.0, 60000.0), 0.0)) & 0xffffu;
    let slope = pack4x8snorm(vec4<f32>(v.zw, 0.0, 0.0)) & 0xffffu;
    return vec2<u32>(bitcast<u32>(v.x), de | (slope << 16u));
}

fn map_unpack(w: vec2<u32>) -> vec4<f32> {
    let de = unpack2x16float(w.y & 0xffffu).x;
    let slope = unpack4x8snorm(w.y >> 16u).xy;
    return vec4<f32>(bitcast<f32>(w.x), de, slope);
}
