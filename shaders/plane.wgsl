// Plane fractals (the Mandelbrot set): one escape-time evaluation per sample, coloured by
// shaders/colouring.wgsl (`colour_of`: palette relative to the view's count range, slope
// shading, stripes, band limiting). Composed after shaders/colouring.wgsl and a module
// providing `pixel_escape` (shaders/plane_direct.wgsl with a plane fractal, or a perturbation
// module such as shaders/fractals/mandelbrot-deep.wgsl), and before shaders/output.wgsl (the
// HDR frame it writes).

// Twin of `gpu::uniforms::PlaneUniform`.
struct PlaneUniform {
    // Centre: high parts in xy, low parts in zw (f64 on the CPU).
    center: vec4<f32>,
    // Plane step per pixel along x (xy) and along y (zw), rotation applied.
    axes: vec4<f32>,
    // Full image width, height; this tile's x0, y0.
    image: vec4<u32>,
    // 0, FLAG_COUNT, tile width, tile height.
    control: vec4<u32>,
    jitter: vec4<f32>,
    samples: vec4<u32>,
    mapping: ColourMapping,
}

// A uniform block (binding 12 aliases the frame block of binding 0; see
// `gpu::pipelines::PLANE_FRAME_BINDING`): lavapipe reads storage fields lane by lane.
@group(0) @binding(12) var<uniform> plane: PlaneUniform;

const FLAG_COUNT: u32 = 16u;

// Whether the pipeline writes the aux channels (a pipeline constant: false where nothing reads
// them, the zoom map's frames for an image or video sink). Not a flag in the block: lavapipe
// runs both sides of a branch on a block's value, masked, so only a constant saves the stores.
override plane_aux: bool = true;

// Whether the tiles are spread over the image (`spread_pixel`: each of lavapipe's threads gets
// its share of the costly parts) or taken in raster order (`raster_pixel`: for pixels that all
// cost alike, such as the zoom map's frames, whose texel reads raster order keeps in cache). A
// pipeline constant, so only one of them is compiled in.
override plane_spread: bool = true;

// Stripe density for the escape modules (0: no stripe average wanted).
fn stripe_density() -> f32 {
    return select(0.0, plane.mapping.mean.w, (mapping_flags() & COLOUR_STRIPES) != 0u);
}

// The offset from the image centre, in pixels with y up, of the point `jitter` (pixels, y
// down) from the centre of the tile's pixel `id`.
fn pixel_offset(id: vec2<u32>, jitter: vec2<f32>) -> vec2<f32> {
    let pixel = plane.image.zw + id;
    let size = vec2<f32>(plane.image.xy);
    return vec2<f32>(
        f32(pixel.x) + 0.5 + jitter.x - 0.5 * size.x,
        0.5 * size.y - f32(pixel.y) - 0.5 - jitter.y,
    );
}

@compute @workgroup_size(8, 8)
fn plane_main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    // Dispatched by gpu::dispatch::spread_workgroups.
    var id = spread_pixel(group, groups, local, plane.control.z);
    if !plane_spread {
        id = raster_pixel(group, groups, local, plane.control.z);
    }
    // No early return for the lanes past the image's edge: they shade a point off the image
    // and store nothing. lavapipe reads a uniform block with one load for all lanes only
    // outside branches and loops (inside them, lane by lane: half of an assembled zoom-map
    // frame's instructions when everything sat behind this test).
    let inside = id.x < plane.control.z && id.y < plane.control.w;
    let e = pixel_escape(pixel_offset(id.xy, plane.jitter.xy));
    if (plane.control.y & FLAG_COUNT) != 0u && inside {
        atomicAdd(&evaluations[(id.x + id.y * 7u) % 64u], 1u);
    }
    let color = colour_of(ColourInput(e.smooth_count, e.distance, e.slope, e.stripe));

    // The aux channels hold the smooth iteration count (negative inside; the depth pass) and
    // the distance estimate.
    let index = id.y * plane.control.z + id.x;
    if plane_aux {
        store_sample(index, id.xy, color, vec2<f32>(e.smooth_count, e.distance), plane.samples, inside);
    } else {
        store_colour(index, id.xy, color, plane.samples, inside);
    }
}
