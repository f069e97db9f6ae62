// What both kinds of frame (ray-marched and plane) write: the targets, the sample accumulator,
// the evaluation counters, and the mean of a pixel's samples. Composed after the entry point's
// module (shaders/march.wgsl or shaders/plane.wgsl).

@group(0) @binding(2) var color_out: texture_storage_2d<rgba8unorm, write>;
@group(0) @binding(3) var depth_out: texture_storage_2d<r32float, write>;
// Running sum of linear colour over the samples of a pixel (used when samples > 1).
@group(0) @binding(4) var<storage, read_write> accum: array<vec4<f32>>;
// Evaluations, counted when FLAG_COUNT is set (for `mandelfly bench`), spread over 64 counters
// so that no counter overflows and atomics rarely contend.
@group(0) @binding(5) var<storage, read_write> evaluations: array<atomic<u32>, 64>;

fn linear_to_srgb(c: vec3<f32>) -> vec3<f32> {
    let x = clamp(c, vec3<f32>(0.0), vec3<f32>(1.0));
    return select(1.055 * pow(x, vec3<f32>(1.0 / 2.4)) - 0.055, 12.92 * x, x <= vec3<f32>(0.0031308));
}

// The colour to show for this sample of pixel `index` (linear light, w = 1), or w = 0 when it
// only adds to the sum and a later sample shows the mean. `samples`: this sample's index, the
// count, and (z) progressive: keep the running sum and show the mean so far (the window).
fn sample_mean(color: vec3<f32>, index: u32, samples: vec4<u32>) -> vec4<f32> {
    let count = samples.y;
    let progressive = samples.z != 0u;
    if count <= 1u && !progressive {
        return vec4<f32>(color, 1.0);
    }
    var sum = color;
    if samples.x > 0u {
        sum = sum + accum[index].rgb;
    }
    if progressive {
        accum[index] = vec4<f32>(sum, 0.0);
        return vec4<f32>(sum / f32(samples.x + 1u), 1.0);
    }
    if samples.x + 1u < count {
        accum[index] = vec4<f32>(sum, 0.0);
        return vec4<f32>(0.0);
    }
    // Averaged in linear light, encoded once.
    return vec4<f32>(sum / f32(count), 1.0);
}
