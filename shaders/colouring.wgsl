// The colouring of plane kinds: smooth iteration count, distance estimate, slope and stripe
// average to a colour (linear light), relative to the view's measured count range. Needs no
// orbit, so stored counts can be coloured by it as well. CPU twin: src/colouring.rs.
//
// Its parameters are read where they lie, in `plane.mapping` (the block of shaders/plane.wgsl;
// the colour probe declares one of that name), never passed by value: a 0.5 KiB struct as a
// function argument is copied into every invocation, which tripled lavapipe's time for a
// 1080p Mandelbrot frame (610 against 210 ms at 20 iterations).

// Twin of `colouring::ColourMapping`.
struct ColourMapping {
    // Gradient stops, FLAG_* bits, transfer (0 linear, 1 sqrt, 2 log, 3 histogram), 0.
    control: vec4<u32>,
    // Density (palette cycles across the view's range), offset, edge strength, relief strength.
    colouring: vec4<f32>,
    // Interior colour; w: edge width in pixels.
    interior: vec4<f32>,
    // Relief light direction in the plane (xy), its height; w: stripe strength.
    relief: vec4<f32>,
    // The palette's mean colour; w: stripe density.
    mean: vec4<f32>,
    // 17 count quantiles of the view, ascending.
    counts: array<vec4<f32>, 5>,
    // `histogram`: the position at each quantile.
    levels: array<vec4<f32>, 5>,
    // x: `histogram`'s slope beyond the range.
    tail: vec4<f32>,
    // Colour (rgb) at position w in [0, 1); cyclic.
    stops: array<vec4<f32>, 16>,
}

// What colouring needs of a pixel.
struct ColourInput {
    count: f32,
    distance: f32,
    slope: vec2<f32>,
    stripe: f32,
}

const COLOUR_EDGES: u32 = 1u;
const COLOUR_RELIEF: u32 = 2u;
const COLOUR_BAND_LIMIT: u32 = 4u;
const COLOUR_STRIPES: u32 = 8u;
const QUANTILES: u32 = 17u;

// The look's transfer, COLOUR_* flags and gradient stop count as pipeline constants
// (`colouring::ColourVariant`), for pipelines made for one look (a render's frames), or
// COLOUR_FROM_BLOCK: read from the block (the window, whose look changes as it is edited).
// lavapipe runs every branch whose condition varies at run time, masked, so only constants
// keep the transfers and effects a look does not use out of each pixel's work; a constant stop
// count unrolls the gradient's search (about a twelfth of an assembled zoom-map frame).
const COLOUR_FROM_BLOCK: u32 = 0xffffffffu;
override colour_transfer: u32 = COLOUR_FROM_BLOCK;
override colour_flags: u32 = COLOUR_FROM_BLOCK;
override colour_stops: u32 = COLOUR_FROM_BLOCK;

// How far the palette offset of the sample being coloured lies from the block's: the samples
// of a frame assembled in one dispatch (shaders/zoommap/assemble.wgsl) share one block but
// each keeps its own keyed offset. 0 in every other shader (a private variable never written
// there, so the compiler folds it away).
var<private> colour_offset_shift: f32 = 0.0;

fn mapping_transfer() -> u32 {
    return select(colour_transfer, plane.mapping.control.z, colour_transfer == COLOUR_FROM_BLOCK);
}

fn mapping_flags() -> u32 {
    return select(colour_flags, plane.mapping.control.y, colour_flags == COLOUR_FROM_BLOCK);
}

fn mapping_stops() -> u32 {
    return select(colour_stops, plane.mapping.control.x, colour_stops == COLOUR_FROM_BLOCK);
}

fn mapping_quantile(i: u32) -> f32 {
    return plane.mapping.counts[i / 4u][i % 4u];
}

fn mapping_level(i: u32) -> f32 {
    return plane.mapping.levels[i / 4u][i % 4u];
}

fn mapping_gradient(t: f32) -> vec3<f32> {
    let n = mapping_stops();
    let x = t - floor(t);
    // The stop at or before x, and the next one (wrapping round), carried along by `select`:
    // each stop is then read at a constant index, which lavapipe loads once for all lanes,
    // where a stop read at a lane's own index is a load per lane.
    var a = plane.mapping.stops[n - 1u];
    var b = plane.mapping.stops[0];
    for (var k = 0u; k < n; k = k + 1u) {
        let reached = plane.mapping.stops[k].w <= x;
        a = select(a, plane.mapping.stops[k], reached);
        b = select(b, plane.mapping.stops[(k + 1u) % n], reached);
    }
    return gradient_between(a, b, x);
}

// The count's position in the view's range after the transfer, and its derivative.
fn mapping_position(n: f32) -> vec2<f32> {
    let lo = mapping_quantile(0u);
    let hi = mapping_quantile(QUANTILES - 1u);
    let span = max(hi - lo, 1e-3);
    let u = (n - lo) / span;
    switch mapping_transfer() {
        case 0u: {
            return vec2<f32>(u, 1.0 / span);
        }
        case 1u: {
            let r = sqrt(max(abs(u), 1e-4));
            return vec2<f32>(sign(u) * r, 0.5 / (r * span));
        }
        case 2u: {
            let ratio = max(log((hi + 1.0) / (lo + 1.0)), 1e-3);
            let np = max(n, 0.0) + 1.0;
            return vec2<f32>(log(np / (lo + 1.0)) / ratio, 1.0 / (np * ratio));
        }
        default: {
            let tail = plane.mapping.tail.x;
            // The interval [a, b) between quantiles that holds n, with its positions la, lb:
            // carried along by `select` over all the inner quantiles (they ascend), not a
            // search that stops at the interval (lavapipe runs a loop until its last lane
            // leaves, at many times a uniform loop's cost per trip) nor reads at a lane's own
            // index (a load per lane, where a constant index is one load for all).
            var a = lo;
            var b = mapping_quantile(1u);
            var la = mapping_level(0u);
            var lb = mapping_level(1u);
            for (var i = 1u; i + 1u < QUANTILES; i = i + 1u) {
                let reached = n >= mapping_quantile(i);
                a = select(a, mapping_quantile(i), reached);
                b = select(b, mapping_quantile(i + 1u), reached);
                la = select(la, mapping_level(i), reached);
                lb = select(lb, mapping_level(i + 1u), reached);
            }
            let slope = (lb - la) / max(b - a, 1e-6);
            let inner = vec2<f32>(la + (n - a) * slope, slope);
            let below = vec2<f32>((n - lo) * tail, tail);
            let above = vec2<f32>(1.0 + (n - hi) * tail, tail);
            return select(select(inner, above, n >= hi), below, n < lo);
        }
    }
}

fn colour_of(e: ColourInput) -> vec3<f32> {
    let flags = mapping_flags();
    let p = mapping_position(e.count);
    var t = plane.mapping.colouring.x * p.x + plane.mapping.colouring.y + colour_offset_shift;
    if (flags & COLOUR_STRIPES) != 0u {
        t = t + plane.mapping.relief.w * (e.stripe - 0.5);
    }
    var c = mapping_gradient(t);
    if (flags & COLOUR_BAND_LIMIT) != 0u {
        // Palette cycles per pixel: |dn/dpixel| = 1 / (distance ln 2) for the smooth count.
        // Where there is no distance, none (a `select`, not a branch on each pixel's value:
        // lavapipe reads the block lane by lane inside one).
        let cycles = plane.mapping.colouring.x * p.y / (max(e.distance, 1e-30) * 0.6931472);
        let keep = select(1.0, 1.0 - smoothstep(0.2, 0.5, cycles), e.distance > 0.0);
        c = plane.mapping.mean.rgb + (c - plane.mapping.mean.rgb) * keep;
    }
    if (flags & COLOUR_RELIEF) != 0u {
        let lit = clamp((dot(e.slope, plane.mapping.relief.xy) + plane.mapping.relief.z) / (1.0 + plane.mapping.relief.z), 0.0, 1.0);
        c = c * (1.0 + (lit - 1.0) * plane.mapping.colouring.w);
    }
    if (flags & COLOUR_EDGES) != 0u {
        let edge = smoothstep(0.0, plane.mapping.interior.w, e.distance);
        c = c * (1.0 - plane.mapping.colouring.z + plane.mapping.colouring.z * edge);
    }
    return select(c, plane.mapping.interior.rgb, e.count < 0.0);
}
