// Frames assembled from the zoom map: this module's `pixel_escape` reads a frame point's
// smooth count, distance estimate and slope from the map instead of iterating it, and
// shaders/plane.wgsl colours it exactly as a rendered pixel (composed before plane.wgsl and
// shaders/output.wgsl, after zoommap/sample.wgsl, the samples as the map stores them).

// The most samples of a pixel one dispatch assembles (`map_frame_main`); twin of
// `zoommap::assemble::PASS_SAMPLES`.
const MAP_PASS_SAMPLES: u32 = 48u;

struct MapFrame {
    // y: rows per unit of ln radius; z: the footprint of a sample in pixels (the samples of a
    // pixel share it); x: log2(y z), the mip level at one pixel from the centre (computed on
    // the CPU: lavapipe computes a logarithm of block values for every lane); w: unused.
    rows: vec4<f32>,
    // x: angles at level 0; y: rows per chunk at level 0; zw: unused.
    grid: vec4<u32>,
    // x: the samples `map_frame_main` assembles (`views`); y: mip levels; zw: unused.
    window: vec4<u32>,
    // Per level (`zoommap::plan::MapPlan::window_layout`): angles, the word its first chunk's
    // rows start at in the window, words from one chunk's rows to the next chunk's, and log2
    // of its rows per chunk (a power of two) in the low byte with the chunks bound above it.
    // Each level's chunks lie one after another, so a row is found from its level's entry
    // alone: on a CPU "GPU" each entry looked up by a per-pixel index is a gather, lane by lane.
    levels: array<vec4<u32>, 16>,
    // The colouring's parameters (shaders/colouring.wgsl reads them from here, composed by
    // `shaders::colouring_from`): a uniform block's reads are one load for all lanes where the
    // plane block's storage reads go lane by lane on lavapipe.
    mapping: ColourMapping,
    // Each sample's view of the map: xy, where the map's centre is on screen, in pixels (y up)
    // from the image centre moved by the sample's jitter (`plane_main` adds the jitter to the
    // pixel itself, so its view has none); z, the view's rotation (radians); w, the row
    // (level-0 rows from the top of the window's first chunk) at one pixel from the centre.
    views: array<vec4<f32>, MAP_PASS_SAMPLES>,
    // Each sample's palette offset less that of `mapping` (samples across a shutter may differ
    // in it; in nothing else of their look), four to an entry.
    offsets: array<vec4<f32>, MAP_PASS_SAMPLES / 4u>,
}

@group(0) @binding(1) var<uniform> map_frame: MapFrame;
// The levels of the window's chunks that frames read (laid out as `levels` says), as samples
// (texels of two words) in rows of MAP_TEXTURE_WIDTH (2^MAP_TEXTURE_SHIFT) texels: the texture
// `map_window_texture` at group 1, binding 0, read by `map_window_texel`, which the assembler
// puts before this module with those constants (`zoommap::compute::MapStore::window_access`:
// a read-only storage texture where the adapter allows). A texture, not a storage buffer:
// lavapipe reads a storage buffer at per-lane addresses lane by lane, a texture with one
// gather per texel.

// The sample whose first word is word `at` (even) of the window.
fn map_sample(at: u32) -> vec2<u32> {
    let texel = at >> 1u;
    return map_window_texel(vec2<u32>(texel & (MAP_TEXTURE_WIDTH - 1u), texel >> MAP_TEXTURE_SHIFT)).xy;
}

const MAP_TAU: f32 = 6.283185307179586;
const MAP_LN2: f32 = 0.6931471805599453;

// Half the width, in mip levels, of the band around each half-way level where a sample blends
// the two levels around its footprint; elsewhere it reads the nearer one alone (a sharpened
// "brilinear" blend). Full trilinear blending read a second level's four taps in every pixel,
// a quarter of an assembled frame's time on lavapipe, and came out no closer to per-frame
// renders (it blurs more); the band keeps the change from one level to the next gradual, so
// no ring shows where it happens as the zoom carries detail through it.
const MAP_BLEND_BAND: f32 = 0.0625;

// The first word of row `row` (of a level whose `levels` entry is `l`, counted from the
// window's top; clamped to the rows bound).
fn map_row(l: vec4<u32>, row: i32) -> u32 {
    let shift = l.w & 0xffu;
    let r = u32(clamp(row, 0, i32((l.w >> 8u) << shift) - 1));
    return l.y + (r >> shift) * l.z + 2u * (r & ((1u << shift) - 1u)) * l.x;
}

// The sample in column `col` of the row starting at word `row`.
fn map_load(row: u32, col: u32) -> vec4<f32> {
    return map_unpack(map_sample(row + 2u * col));
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

// Bilinear within one level; `u` in level-0 chunks, `turn` the angle in turns.
fn map_level(s: MapSum, level: u32, u: f32, turn: f32, weight: f32) -> MapSum {
    let l = map_frame.levels[level];
    let y = u * f32(1u << (l.w & 0xffu)) - 0.5;
    let x = turn * f32(l.x) - 0.5;
    let y0 = floor(y);
    let x0 = floor(x);
    let f = vec2<f32>(x - x0, y - y0);
    let w = i32(l.x);
    // Angles wrap round.
    let c0 = u32(select(i32(x0), i32(x0) + w, x0 < 0.0));
    let c1 = select(c0 + 1u, 0u, c0 + 1u >= l.x);
    let top = map_row(l, i32(y0));
    let bottom = map_row(l, i32(y0) + 1);
    var out = s;
    out = map_add(out, map_load(top, c0), weight * (1.0 - f.x) * (1.0 - f.y));
    out = map_add(out, map_load(top, c1), weight * f.x * (1.0 - f.y));
    out = map_add(out, map_load(bottom, c0), weight * (1.0 - f.x) * f.y);
    out = map_add(out, map_load(bottom, c1), weight * f.x * f.y);
    return out;
}

// The escape values at `offset` (pixels from the image centre, y up) in the sample's `view`
// (an entry of `views`).
fn map_escape(offset: vec2<f32>, view: vec4<f32>) -> Escape {
    let d = offset - view.xy;
    let rho = max(length(d), 1e-4);
    let log2_rho = log2(rho);
    let turn = fract((atan2(d.y, d.x) + view.z) / MAP_TAU);
    let u = view.w - log2_rho * (MAP_LN2 * map_frame.rows.y);
    // A sample stands for `rows.z` pixels, which span rows.y / rho samples of a row here.
    let top = f32(map_frame.window.y - 1u);
    let lod = clamp(map_frame.rows.x - log2_rho, 0.0, top);
    let l0 = u32(floor(lod));
    let l1 = min(l0 + 1u, map_frame.window.y - 1u);
    let t = lod - f32(l0);
    // The finer level's weight: all of it below the blend band, none above it.
    let fine = clamp((0.5 + MAP_BLEND_BAND - t) / (2.0 * MAP_BLEND_BAND), 0.0, 1.0);
    var level = select(l1, l0, fine > 0.0);
    var weight = select(1.0, fine, fine > 0.0);
    var s = MapSum(vec4<f32>(0.0), 0.0, 0.0);
    // In chunks: the block's field read before the loop, where lavapipe reads it with one
    // load for all lanes (in a loop or branch, lane by lane).
    let chunks = u / f32(map_frame.grid.y);
    // A loop, not an `if`: lavapipe runs both sides of a branch for every lane, but leaves a
    // loop once its last lane has: the second level's taps run only for the groups of lanes
    // that hold a sample in the band.
    loop {
        s = map_level(s, level, chunks, turn, weight);
        if weight >= 1.0 || level == l1 {
            break;
        }
        level = l1;
        weight = 1.0 - weight;
    }
    let v = s.value / max(s.outside, 1e-30);
    let l = length(v.zw);
    let slope = select(vec2<f32>(0.0), v.zw / l, l > 0.0);
    // Inside the set: chosen by `select`, not returned from a branch, which would put all that
    // follows (the colouring) in one for lavapipe.
    let in_set = s.outside < 0.5 * s.total || s.outside <= 0.0;
    return Escape(select(v.x, -1.0, in_set), select(v.y * rho, 0.0, in_set), select(slope, vec2<f32>(0.0), in_set), 0.5);
}

// One sample of a pixel (`plane_main`, a dispatch per sample).
fn pixel_escape(offset: vec2<f32>) -> Escape {
    return map_escape(offset, map_frame.views[0]);
}

// Sample `i` of the pixel at `offset` in `map_frame_main`, coloured; its escape values in `e`.
fn map_sample_colour(offset: vec2<f32>, i: u32, e: ptr<function, Escape>) -> vec3<f32> {
    *e = map_escape(offset, map_frame.views[i]);
    colour_offset_shift = map_frame.offsets[i / 4u][i % 4u];
    return colour_of(ColourInput((*e).smooth_count, (*e).distance, (*e).slope, (*e).stripe));
}

// All of a pixel's samples in one invocation, coloured and averaged (as many as `window.x`,
// each at its own view): a frame of several samples then stores its pixels once, as a frame of
// one sample does (with `frame_display`, its display colour, so no HDR frame and no tone-map
// pass), instead of adding each sample to the HDR frame in a dispatch of its own, which
// lavapipe's storage reads and writes make about a third of a 4-sample frame's time. The
// samples' sum comes from `map_samples_sum(offset, e)`, which the assembler puts after this
// module (`zoommap::assemble::samples_sum`): a call of `map_sample_colour` per sample, each at
// a constant index, for a pipeline made for a sample count, else a loop over `window.x` of
// them (lavapipe reads the block lane by lane in a loop, for every sample's colouring).
@compute @workgroup_size(8, 8)
fn map_frame_main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    // Every pixel costs about the same: the tiles in raster order (see `raster_pixel`).
    let id = raster_pixel(group, groups, local, plane.control.z);
    // Lanes past the image's edge shade a point off it and store nothing (see `plane_main`).
    let inside = id.x < plane.control.z && id.y < plane.control.w;
    let offset = pixel_offset(id.xy, vec2<f32>(0.0));
    let n = map_frame.window.x;
    var e: Escape;
    let sum = map_samples_sum(offset, &e);
    if (plane.control.y & FLAG_COUNT) != 0u && inside {
        atomicAdd(&evaluations[(id.x + id.y * 7u) % 64u], n);
    }
    let color = sum / f32(n);
    let index = id.y * plane.control.z + id.x;
    // The aux channels from the last sample, as a frame of a dispatch per sample leaves them.
    if plane_aux {
        store_sample(index, id.xy, color, vec2<f32>(e.smooth_count, e.distance), vec4<u32>(0u, 1u, 0u, 0u), inside);
    } else {
        store_colour(index, id.xy, color, vec4<u32>(0u, 1u, 0u, 0u), inside);
    }
}
