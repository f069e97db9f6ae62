// RGB to Y'CbCr (BT.709, limited range) for the video encoder: reads the rendered frame and
// writes the planes packed four 8-bit samples to a u32, so the CPU only copies rows into the
// encoder's frame. CPU counterpart: swscale with the same matrix (src/sink/video.rs).

// Twin of `gpu::yuv::YuvParams`.
struct YuvParams {
    width: u32,
    height: u32,
    // log2 of the chroma subsampling in x and y (1 for 4:2:0, 0 for 4:4:4).
    chroma_shift: u32,
    // Words per row of the luma and of each chroma plane.
    y_words: u32,
    c_words: u32,
    c_width: u32,
    c_height: u32,
    _pad: u32,
}

// A uniform block: lavapipe reads storage fields lane by lane (docs/design.md, "Parameter
// blocks and lavapipe"). Its values stay the same for a whole video, so they cost no recompiles.
@group(0) @binding(0) var<uniform> params: YuvParams;
@group(0) @binding(1) var source: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> planes: array<u32>;

const LUMA: vec3<f32> = vec3<f32>(0.2126, 0.7152, 0.0722);

fn pixel(x: u32, y: u32) -> vec3<f32> {
    let p = vec2<i32>(vec2<u32>(min(x, params.width - 1u), min(y, params.height - 1u)));
    return textureLoad(source, p, 0).rgb;
}

fn to_byte(v: f32) -> u32 {
    return u32(clamp(round(v), 0.0, 255.0));
}

// Mean colour of the block of pixels behind chroma sample (cx, cy).
fn chroma_source(cx: u32, cy: u32) -> vec3<f32> {
    let n = 1u << params.chroma_shift;
    var sum = vec3<f32>(0.0);
    for (var dy = 0u; dy < n; dy = dy + 1u) {
        for (var dx = 0u; dx < n; dx = dx + 1u) {
            sum = sum + pixel(cx * n + dx, cy * n + dy);
        }
    }
    return sum / f32(n * n);
}

@compute @workgroup_size(64)
fn yuv_main(@builtin(global_invocation_id) id: vec3<u32>) {
    let word = id.x;
    let row = id.y;
    if row < params.height {
        if word >= params.y_words {
            return;
        }
        var packed = 0u;
        for (var i = 0u; i < 4u; i = i + 1u) {
            let y = 16.0 + 219.0 * dot(pixel(word * 4u + i, row), LUMA);
            packed = packed | (to_byte(y) << (8u * i));
        }
        planes[row * params.y_words + word] = packed;
        return;
    }
    let r = row - params.height;
    let plane = r / params.c_height;
    let cy = r % params.c_height;
    if plane >= 2u || word >= params.c_words {
        return;
    }
    var packed = 0u;
    for (var i = 0u; i < 4u; i = i + 1u) {
        let rgb = chroma_source(word * 4u + i, cy);
        let y = dot(rgb, LUMA);
        // Cb from blue, Cr from red: scaled so each spans [16, 240].
        let c = select(128.0 + 224.0 * (rgb.r - y) / 1.5748, 128.0 + 224.0 * (rgb.b - y) / 1.8556, plane == 0u);
        packed = packed | (to_byte(c) << (8u * i));
    }
    let base = params.y_words * params.height + plane * params.c_words * params.c_height;
    planes[base + cy * params.c_words + word] = packed;
}
