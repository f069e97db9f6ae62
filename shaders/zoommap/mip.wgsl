// The zoom map's storage: each chunk's computed samples packed into the ring of resident
// chunks, and its mip levels (each half the angles and half the rows of the one before), so a
// frame reads rows seen from afar at their own scale instead of aliasing. A sample is two
// words: the smooth count (f32 bits; negative inside the set) and, packed, the distance
// estimate over the radius (f16) with the slope (two snorm8).

struct Mip {
    // Words into the ring where the source level starts (reduce) and where this one starts.
    src_offset: u32,
    dst_offset: u32,
    src_width: u32,
    src_height: u32,
    dst_width: u32,
    dst_height: u32,
    // 0: pack the computed level 0 from `computed`; 1: reduce the level before.
    mode: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> mip: Mip;
@group(0) @binding(1) var<storage, read> computed: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> ring: array<u32>;

fn pack(v: vec4<f32>) -> vec2<u32> {
    let de = pack2x16float(vec2<f32>(clamp(v.y, 0.0, 60000.0), 0.0)) & 0xffffu;
    let slope = pack4x8snorm(vec4<f32>(v.zw, 0.0, 0.0)) & 0xffffu;
    return vec2<u32>(bitcast<u32>(v.x), de | (slope << 16u));
}

fn unpack(w: vec2<u32>) -> vec4<f32> {
    let de = unpack2x16float(w.y & 0xffffu).x;
    let slope = unpack4x8snorm(w.y >> 16u).xy;
    return vec4<f32>(bitcast<f32>(w.x), de, slope);
}

fn load(index: u32) -> vec4<f32> {
    let at = mip.src_offset + 2u * index;
    return unpack(vec2<u32>(ring[at], ring[at + 1u]));
}

@compute @workgroup_size(8, 8)
fn mip_main(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= mip.dst_width || id.y >= mip.dst_height {
        return;
    }
    let index = id.y * mip.dst_width + id.x;
    var v: vec4<f32>;
    if mip.mode == 0u {
        v = computed[index];
    } else {
        // The source samples this one covers: two by two where the sizes halve evenly.
        let sx = f32(mip.src_width) / f32(mip.dst_width);
        let sy = f32(mip.src_height) / f32(mip.dst_height);
        let x0 = min(u32((f32(id.x) + 0.25) * sx), mip.src_width - 1u);
        let x1 = min(u32((f32(id.x) + 0.75) * sx), mip.src_width - 1u);
        let y0 = min(u32((f32(id.y) + 0.25) * sy), mip.src_height - 1u);
        let y1 = min(u32((f32(id.y) + 0.75) * sy), mip.src_height - 1u);
        let w = mip.src_width;
        let taps = array<vec4<f32>, 4>(
            load(y0 * w + x0), load(y0 * w + x1), load(y1 * w + x0), load(y1 * w + x1),
        );
        // Inside the set where most of the area is; else the mean of the outside samples.
        var sum = vec4<f32>(0.0);
        var outside = 0.0;
        for (var i = 0u; i < 4u; i = i + 1u) {
            if taps[i].x >= 0.0 {
                sum = sum + taps[i];
                outside = outside + 1.0;
            }
        }
        if outside >= 2.0 {
            v = sum / outside;
            let l = length(v.zw);
            if l > 0.0 {
                v = vec4<f32>(v.xy, v.zw / l);
            }
        } else {
            v = vec4<f32>(-1.0, 0.0, 0.0, 0.0);
        }
    }
    let p = pack(v);
    let at = mip.dst_offset + 2u * index;
    ring[at] = p.x;
    ring[at + 1u] = p.y;
}
