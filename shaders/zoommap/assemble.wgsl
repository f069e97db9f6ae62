// Frames assembled from the zoom map: this module's `pixel_escape` reads a frame point's
// smooth count, distance estimate and slope from the map instead of iterating it, and
// shaders/plane.wgsl colours it exactly as a rendered pixel (composed before plane.wgsl and
// shaders/output.wgsl; the map's storage is described in shaders/zoommap/mip.wgsl).

struct MapFrame {
    // xy: the map's centre on screen, pixels from the image centre, y up; z: the view's
    // rotation (radians); w: unused.
    anchor: vec4<f32>,
    // x: the row (level-0 rows from the top of the window's first chunk) at one pixel from
    // the centre; y: rows per unit of ln radius; z: the footprint of a sample in pixels (the
    // samples of a pixel share it); w: unused.
    rows: vec4<f32>,
    // x: angles at level 0; y: rows per chunk at level 0; z: chunks in the ring; w: the ring
    // slot of the window's first chunk.
    grid: vec4<u32>,
    // x: chunks in the window; y: mip levels; z: words per chunk; w: unused.
    window: vec4<u32>,
    // Per level: angles, rows per chunk, first word within a chunk.
    levels: array<vec4<u32>, 16>,
}

@group(0) @binding(1) var<uniform> map_frame: MapFrame;
@group(0) @binding(6) var<storage, read> map_ring: array<u32>;

const MAP_TAU: f32 = 6.283185307179586;

fn map_tap(level: u32, row: i32, col: i32) -> vec4<f32> {
    let l = map_frame.levels[level];
    let w = i32(l.x);
    let h = i32(l.y);
    let r = clamp(row, 0, h * i32(map_frame.window.x) - 1);
    let c = ((col % w) + w) % w;
    let slot = (map_frame.grid.w + u32(r / h)) % map_frame.grid.z;
    let at = slot * map_frame.window.z + l.z + 2u * (u32(r % h) * l.x + u32(c));
    let packed = map_ring[at + 1u];
    let de = unpack2x16float(packed & 0xffffu).x;
    return vec4<f32>(bitcast<f32>(map_ring[at]), de, unpack4x8snorm(packed >> 16u).xy);
}

// Weighted samples: inside the set where most of the weight is, else the weighted mean of
// the samples outside (a smooth count mixed with the inside's -1 means nothing).
struct MapSum {
    value: vec4<f32>,
    outside: f32,
    total: f32,
}

fn map_add(s: MapSum, v: vec4<f32>, w: f32) -> MapSum {
    var out = s;
    out.total = out.total + w;
    if v.x >= 0.0 {
        out.value = out.value + v * w;
        out.outside = out.outside + w;
    }
    return out;
}

// Bilinear within one level; `u` in level-0 rows, `turn` the angle in turns.
fn map_level(s: MapSum, level: u32, u: f32, turn: f32, weight: f32) -> MapSum {
    let l = map_frame.levels[level];
    let y = u * f32(l.y) / f32(map_frame.grid.y) - 0.5;
    let x = turn * f32(l.x) - 0.5;
    let y0 = floor(y);
    let x0 = floor(x);
    let f = vec2<f32>(x - x0, y - y0);
    let r = i32(y0);
    let c = i32(x0);
    var out = s;
    out = map_add(out, map_tap(level, r, c), weight * (1.0 - f.x) * (1.0 - f.y));
    out = map_add(out, map_tap(level, r, c + 1), weight * f.x * (1.0 - f.y));
    out = map_add(out, map_tap(level, r + 1, c), weight * (1.0 - f.x) * f.y);
    out = map_add(out, map_tap(level, r + 1, c + 1), weight * f.x * f.y);
    return out;
}

fn pixel_escape(offset: vec2<f32>) -> Escape {
    let d = offset - map_frame.anchor.xy;
    let rho = max(length(d), 1e-4);
    let turn = fract((atan2(d.y, d.x) + map_frame.anchor.z) / MAP_TAU);
    let u = map_frame.rows.x - log(rho) * map_frame.rows.y;
    // A sample stands for `rows.z` pixels, which span rows.y / rho samples of a row here.
    let top = f32(map_frame.window.y - 1u);
    let lod = clamp(log2(map_frame.rows.y * map_frame.rows.z / rho), 0.0, top);
    let l0 = u32(floor(lod));
    let l1 = min(l0 + 1u, map_frame.window.y - 1u);
    let t = lod - f32(l0);
    var s = MapSum(vec4<f32>(0.0), 0.0, 0.0);
    s = map_level(s, l0, u, turn, 1.0 - t);
    if t > 0.0 {
        s = map_level(s, l1, u, turn, t);
    }
    if s.outside < 0.5 * s.total || s.outside <= 0.0 {
        return Escape(-1.0, 0.0, vec2<f32>(0.0));
    }
    let v = s.value / s.outside;
    let l = length(v.zw);
    let slope = select(vec2<f32>(0.0), v.zw / l, l > 0.0);
    return Escape(v.x, v.y * rho, slope);
}
