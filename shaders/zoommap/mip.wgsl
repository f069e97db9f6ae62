// The zoom map's mip levels: each half the angles and half the rows of the one before, so a
// frame reads rows seen from afar at their own scale instead of aliasing. Level 0 is in the
// chunk's ring slot already (stored by zoommap/map.wgsl, or read from a map file); one
// dispatch per further level reduces the level before. Composed after zoommap/sample.wgsl
// (the packed samples).
//
// Written for lavapipe, which runs branches on both sides for every lane and reads storage
// buffers lane by lane: no early return (lanes past the level's edge reduce a clamped sample
// and store nothing), `select` instead of branches, the block's fields read once, and a sample
// read as one vec2 load.

struct Mip {
    // Samples into the ring slot where the level before starts, and where this one starts.
    src_offset: u32,
    dst_offset: u32,
    src_width: u32,
    src_height: u32,
    dst_width: u32,
    dst_height: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> mip: Mip;
@group(0) @binding(1) var<storage, read_write> ring: array<vec2<u32>>;

@compute @workgroup_size(8, 8)
fn mip_main(@builtin(global_invocation_id) id: vec3<u32>) {
    let m = mip;
    let inside = id.x < m.dst_width && id.y < m.dst_height;
    // The source samples this one covers: two by two where the sizes halve evenly.
    let sx = f32(m.src_width) / f32(m.dst_width);
    let sy = f32(m.src_height) / f32(m.dst_height);
    let x0 = min(u32((f32(id.x) + 0.25) * sx), m.src_width - 1u);
    let x1 = min(u32((f32(id.x) + 0.75) * sx), m.src_width - 1u);
    let y0 = min(u32((f32(id.y) + 0.25) * sy), m.src_height - 1u) * m.src_width + m.src_offset;
    let y1 = min(u32((f32(id.y) + 0.75) * sy), m.src_height - 1u) * m.src_width + m.src_offset;
    let taps = array<vec4<f32>, 4>(
        map_unpack(ring[y0 + x0]), map_unpack(ring[y0 + x1]),
        map_unpack(ring[y1 + x0]), map_unpack(ring[y1 + x1]),
    );
    // Inside the set where most of the area is; else the mean of the outside samples.
    var sum = vec4<f32>(0.0);
    var outside = 0.0;
    for (var i = 0u; i < 4u; i = i + 1u) {
        let out = taps[i].x >= 0.0;
        sum = sum + select(vec4<f32>(0.0), taps[i], out);
        outside = outside + select(0.0, 1.0, out);
    }
    let mean = sum / max(outside, 1.0);
    let l = length(mean.zw);
    let v = vec4<f32>(mean.xy, select(mean.zw, mean.zw / l, l > 0.0));
    let packed = map_pack(select(vec4<f32>(-1.0, 0.0, 0.0, 0.0), v, outside >= 2.0));
    if inside {
        ring[m.dst_offset + id.y * m.dst_width + id.x] = packed;
    }
}
