// Plane fractals (the Mandelbrot set): one escape-time evaluation per sample, coloured by a
// cyclic gradient on a log scale, with distance-estimate edges and slope (relief) shading.
// Composed with a module providing `pixel_escape` (shaders/plane_direct.wgsl with a plane
// fractal, or a perturbation module such as shaders/fractals/mandelbrot-deep.wgsl) and with
// shaders/output.wgsl (the HDR frame it writes).

// Twin of `gpu::uniforms::PlaneUniform`.
struct PlaneUniform {
    // Centre: high parts in xy, low parts in zw (f64 on the CPU).
    center: vec4<f32>,
    // Plane step per pixel along x (xy) and along y (zw), rotation applied.
    axes: vec4<f32>,
    // Full image width, height; this tile's x0, y0.
    image: vec4<u32>,
    // Gradient stops, FLAG_* bits, tile width, tile height.
    control: vec4<u32>,
    // Density (per ln of the count), offset, edge strength, relief strength.
    colouring: vec4<f32>,
    // Linear-light interior colour; w: edge width in pixels.
    interior: vec4<f32>,
    // Light direction in the plane (xy), light height (z).
    relief: vec4<f32>,
    jitter: vec4<f32>,
    samples: vec4<u32>,
    // Linear-light colour (rgb) at position w in [0, 1); cyclic.
    stops: array<vec4<f32>, 16>,
}

@group(0) @binding(0) var<uniform> plane: PlaneUniform;

const FLAG_EDGES: u32 = 1u;
const FLAG_RELIEF: u32 = 2u;
const FLAG_COUNT: u32 = 16u;

fn gradient(t: f32) -> vec3<f32> {
    let n = plane.control.x;
    let x = fract(t);
    // The stop at or before x, and the next one (wrapping round).
    var i = n - 1u;
    for (var k = 0u; k < n; k = k + 1u) {
        if plane.stops[k].w <= x {
            i = k;
        }
    }
    let a = plane.stops[i];
    let b = plane.stops[(i + 1u) % n];
    var span = b.w - a.w;
    var along = x - a.w;
    if span <= 0.0 {
        span = span + 1.0;
    }
    if along < 0.0 {
        along = along + 1.0;
    }
    return mix(a.rgb, b.rgb, clamp(along / max(span, 1e-6), 0.0, 1.0));
}

@compute @workgroup_size(8, 8)
fn plane_main(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= plane.control.z || id.y >= plane.control.w {
        return;
    }
    let pixel = plane.image.zw + id.xy;
    let size = vec2<f32>(plane.image.xy);
    // Offset from the image centre in pixels, y up.
    let offset = vec2<f32>(
        f32(pixel.x) + 0.5 + plane.jitter.x - 0.5 * size.x,
        0.5 * size.y - f32(pixel.y) - 0.5 - plane.jitter.y,
    );
    let e = pixel_escape(offset);
    if (plane.control.y & FLAG_COUNT) != 0u {
        atomicAdd(&evaluations[(id.x + id.y * 7u) % 64u], 1u);
    }

    var color = plane.interior.rgb;
    if e.smooth_count >= 0.0 {
        color = gradient(plane.colouring.x * log(1.0 + e.smooth_count) + plane.colouring.y);
        let flags = plane.control.y;
        if (flags & FLAG_RELIEF) != 0u {
            let l = plane.relief;
            let t = clamp((dot(e.slope, normalize(l.xy)) + l.z) / (1.0 + l.z), 0.0, 1.0);
            color = color * mix(1.0, t, plane.colouring.w);
        }
        if (flags & FLAG_EDGES) != 0u {
            let edge = smoothstep(0.0, plane.interior.w, e.distance);
            color = color * mix(1.0 - plane.colouring.z, 1.0, edge);
        }
    }

    // The aux channels hold the smooth iteration count (negative inside; the depth pass) and
    // the distance estimate.
    store_sample(id.y * plane.control.z + id.x, color, vec2<f32>(e.smooth_count, e.distance), plane.samples);
}
