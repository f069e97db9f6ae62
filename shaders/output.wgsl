// What both kinds of frame (ray-marched and plane) write: the linear HDR frame, its auxiliary
// channels and the evaluation counters. Composed after the entry point's module
// (shaders/march.wgsl or shaders/plane.wgsl) and shaders/post/display.wgsl. The post stage
// (shaders/post/tonemap.wgsl) turns the HDR frame into what the sink asked for, or, with
// `frame_display`, the frame writes its display colour itself.

// Linear light, one vec4 per pixel of the tile: rgb is the sum of the samples rendered so far,
// w their count, so the post stage shows rgb / w whichever way the samples arrived (all in one
// submission, or one per window frame while refining).
@group(0) @binding(2) var<storage, read_write> hdr: array<vec4<f32>>;
// Per pixel: x = distance along the ray to the surface (0 where it escapes) for volume kinds, the
// smooth iteration count (negative inside) for plane kinds; y = the plane kinds' distance
// estimate in pixels. From the last sample.
@group(0) @binding(3) var<storage, read_write> aux: array<vec2<f32>>;
// Evaluations, counted when FLAG_COUNT is set (for `mandelfly bench`), spread over 64 counters
// so that no counter overflows and atomics rarely contend.
@group(0) @binding(5) var<storage, read_write> evaluations: array<atomic<u32>, 64>;

// The post stage's block and its 8-bit sRGB target (`gpu::pipelines::DISPLAY_BINDINGS`), for
// frames with `frame_display`.
@group(0) @binding(13) var<uniform> post: PostUniform;
@group(0) @binding(14) var display_out: texture_storage_2d<rgba8unorm, write>;

// Whether the frame writes its pixels' display colour (exposure, vignette, tone mapping, sRGB:
// what the post stage's `post_srgb8` would) straight to the 8-bit target instead of adding
// linear light to the HDR frame: for a frame of one sample, no bloom and an 8-bit readout. It
// saves the HDR frame's store and the post stage's pass reading it, which lavapipe makes lane
// by lane (together about a third of an assembled zoom-map frame). A pipeline constant, so the
// other stores are compiled out (lavapipe runs both sides of a branch on a block's value).
override frame_display: bool = false;

// Adds this sample of pixel `index` (`pixel` in the tile; linear light) to the frame. `samples`:
// this sample's index (0 starts the pixel afresh), the count per frame, and (z) progressive
// refinement. `inside`: whether the pixel is in the image (lanes past its edge store nothing;
// they run the shading all the same, so that no branch encloses it: see `plane_main`).
fn store_sample(index: u32, pixel: vec2<u32>, color: vec3<f32>, aux_value: vec2<f32>, samples: vec4<u32>, inside: bool) {
    store_colour(index, pixel, color, samples, inside);
    if inside {
        aux[index] = aux_value;
    }
}

// store_sample without the aux channels, for frames whose aux channels nothing reads.
fn store_colour(index: u32, pixel: vec2<u32>, color: vec3<f32>, samples: vec4<u32>, inside: bool) {
    if frame_display {
        let c = vignette(color * post.exposure.x, pixel);
        let display = vec4<f32>(linear_to_srgb(display_linear(c)), 1.0);
        if inside {
            textureStore(display_out, pixel, display);
        }
        return;
    }
    if inside {
        var sum = vec4<f32>(color, 1.0);
        if samples.x > 0u {
            sum = sum + hdr[index];
        }
        hdr[index] = sum;
    }
}

// The pixel an invocation shades, for passes dispatched by `gpu::dispatch::spread_workgroups`
// (`[bands, positions, 1]`) over an image `width` pixels wide, in 8x8 tiles: the tiles are
// dealt, in raster order, into bands of `positions` (a power of two), and workgroup (b, p)
// shades position reverse_bits(p) of band b, so that lavapipe, which gives each thread one
// contiguous run of workgroups, gives each tiles spread over the whole image. A y past the
// image's last row means nothing to do. CPU twin: `gpu::dispatch::spread_tile`.
fn spread_pixel(group: vec3<u32>, groups: vec3<u32>, local: vec3<u32>, width: u32) -> vec3<u32> {
    let tiles_x = (width + 7u) / 8u;
    let bits = countTrailingZeros(groups.y);
    // (A shift by 32 is taken mod 32 in WGSL; the select discards it.)
    let position = select(reverseBits(group.y) >> (32u - bits), 0u, bits == 0u);
    let tile = group.x * groups.y + position;
    return vec3<u32>(tile_xy(tile, tiles_x) * 8u + local.xy, 0u);
}

// Tile `tile` of a raster `tiles_x` tiles wide: (tile % tiles_x, tile / tiles_x), the quotient
// estimated in f32 and corrected by one where the estimate's rounding missed: lavapipe has no
// vector integer division and divides lane by lane, a stall per lane (about a twentieth of an
// assembled zoom-map frame). The estimate is within one for any quotient below 2^22 (an
// image up to 32768 pixels tall).
fn tile_xy(tile: u32, tiles_x: u32) -> vec2<u32> {
    var y = u32(f32(tile) / f32(tiles_x));
    y = select(y, y - 1u, y * tiles_x > tile);
    y = select(y, y + 1u, (y + 1u) * tiles_x <= tile);
    return vec2<u32>(tile - y * tiles_x, y);
}

// The pixel an invocation shades in the same dispatch when its pixels all cost alike (the zoom
// map's frames): the tiles in raster order, in the order lavapipe runs the workgroups, so a
// thread's consecutive tiles are neighbours and read the same texels while they are still in
// its cache (spread tiles cost an assembled frame about a tenth more). CPU twin:
// `gpu::dispatch::raster_tile`.
fn raster_pixel(group: vec3<u32>, groups: vec3<u32>, local: vec3<u32>, width: u32) -> vec3<u32> {
    let tiles_x = (width + 7u) / 8u;
    let tile = group.y * groups.x + group.x;
    return vec3<u32>(tile_xy(tile, tiles_x) * 8u + local.xy, 0u);
}
