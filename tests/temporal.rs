//! The window's temporal reprojection on the GPU against its CPU twin: a still view refines to
//! the frame the renderer makes at the history's resolution, and after the camera moves, the
//! pixels the pass carries over are those whose depth the CPU's re-projection finds in the
//! previous history.

mod common;

use glam::{DVec2, DVec3};
use mandelfly::frame::{ColorFormat, Readout};
use mandelfly::gpu::GpuContext;
use mandelfly::gpu::renderer::Renderer;
use mandelfly::gpu::temporal::{
    DEPTH_TOLERANCE, MIN_CARRY, Projection, TemporalFrame, TemporalStage, block_phase,
    depth_consistent,
};
use mandelfly::scene::Scene;

const W: u32 = 64;
const H: u32 = 36;

/// A buffer to read `size` bytes of the GPU's back through.
fn staging(gpu: &GpuContext, size: u64) -> wgpu::Buffer {
    gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// The latest history: per pixel (linear rgb times the weight of its mean, at least 1; that
/// weight) and depth.
fn read_history(gpu: &GpuContext, stage: &TemporalStage) -> (Vec<[f32; 4]>, Vec<f32>) {
    let (color, depth) = stage.history();
    let read = |buffer: &wgpu::Buffer, size: u64| {
        let staging = staging(gpu, size);
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        gpu.queue.submit([encoder.finish()]);
        gpu.read_buffer(&staging, size).unwrap()
    };
    let pixels = (W * H) as u64;
    (
        bytemuck::pod_collect_to_vec(&read(color, pixels * 16)),
        bytemuck::pod_collect_to_vec(&read(depth, pixels * 4)),
    )
}

fn frame(k: u64, max_samples: u32) -> TemporalFrame {
    TemporalFrame {
        history: (W, H),
        block: 2,
        phase: block_phase(k, 2),
        offset: [0.0, 0.0],
        max_samples,
    }
}

#[test]
fn reprojection_matches_its_cpu_twin() {
    let Some(gpu) = common::gpu() else {
        return;
    };
    let mut renderer = Renderer::new(gpu);
    let mut stage = TemporalStage::new(renderer.gpu(), W, H).unwrap();
    let mut scene = Scene::reference();

    // Still: one cycle of the 2x2 block marches every pixel once, at its centre.
    for k in 0..4 {
        renderer
            .render_reprojected(&scene, &frame(k, 64), 0, &mut stage)
            .unwrap();
    }
    let (still, still_depth) = read_history(renderer.gpu(), &stage);
    let whole = renderer
        .render(
            &scene,
            W,
            H,
            Readout {
                color: ColorFormat::Linear,
                aux: true,
            },
        )
        .unwrap();
    let mut close = 0;
    for i in 0..(W * H) as usize {
        let expected: Vec<f32> = (0..3)
            .map(|c| half::f16::from_bits(whole.linear[i * 4 + c]).to_f32())
            .collect();
        let got = still[i];
        let colour_ok = (0..3).all(|c| (got[c] - expected[c]).abs() < 0.02);
        let depth_ok = depth_consistent(still_depth[i] as f64, whole.depth[i] as f64, 1e-3);
        close += usize::from(colour_ok && depth_ok);
        assert_eq!(got[3], 1.0, "pixel {i} holds one sample");
    }
    // The marched frame starts its rays from other cone cells than the whole frame does, so a
    // grazing ray may end a step apart; nearly every pixel is the same.
    assert!(close * 100 >= (W * H) as usize * 97, "{close} pixels agree");

    // The camera moves forward and sideways: what was seen is carried over, what was hidden
    // (or off screen) is not.
    let before = Projection::new(&scene.camera, W, H);
    let c = &mut scene.camera;
    let forward = (c.look_at - c.position).normalize();
    let side = forward.cross(DVec3::Z).normalize();
    let step = forward * 0.15 * c.position.length() + side * 0.1;
    c.position += step;
    c.look_at += step;
    let after = Projection::new(&scene.camera, W, H);
    let moved = frame(0, 4);
    renderer
        .render_reprojected(&scene, &moved, 1, &mut stage)
        .unwrap();
    let (now, now_depth) = read_history(renderer.gpu(), &stage);
    let (mut agree, mut carried, mut dropped, mut total) = (0, 0, 0, 0);
    for y in 0..H {
        for x in 0..W {
            if x % 2 == 0 && y % 2 == 0 {
                // This frame's own samples.
                continue;
            }
            // The depth the pass used: that of the nearest sample of this frame.
            // WGSL rounds halves to even.
            let nearest =
                |v: u32, side: u32| ((v as f64 / 2.0).round_ties_even() as u32 * 2).min(side - 2);
            let t = now_depth[(nearest(y, H) * W + nearest(x, W)) as usize] as f64;
            let at = DVec2::new(x as f64 + 0.5, y as f64 + 0.5);
            let cpu_carries = after
                .reproject(&before, at, t)
                .is_some_and(|(q, expected)| {
                    let q = q - 0.5;
                    let base = q.floor();
                    let f = q - base;
                    let mut weight = 0.0;
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let (tx, ty) = (base.x as i64 + dx, base.y as i64 + dy);
                        if tx < 0 || ty < 0 || tx >= W as i64 || ty >= H as i64 {
                            continue;
                        }
                        let w = if dx == 1 { f.x } else { 1.0 - f.x }
                            * if dy == 1 { f.y } else { 1.0 - f.y };
                        let d = still_depth[(ty as u32 * W + tx as u32) as usize] as f64;
                        if depth_consistent(d, expected, DEPTH_TOLERANCE) {
                            weight += w;
                        }
                    }
                    weight >= MIN_CARRY as f64
                });
            // Carried pixels keep the weight of their mean (one sample); the others are
            // stand-ins of weight 0.
            let gpu_carries = now[(y * W + x) as usize][3] > 0.0;
            agree += usize::from(cpu_carries == gpu_carries);
            carried += usize::from(gpu_carries);
            dropped += usize::from(!gpu_carries);
            total += 1;
        }
    }
    assert!(carried > total / 4, "{carried} of {total} carried over");
    assert!(dropped > 0, "the move disoccludes something");
    // f32 against f64 at the edges of the tolerance: a few may differ.
    assert!(agree * 100 >= total * 98, "{agree} of {total} agree");
}

/// The renderer's 8-bit target, `width` x `height`, as tight RGBA rows.
fn read_srgb8(gpu: &GpuContext, renderer: &Renderer, width: u32, height: u32) -> Vec<u8> {
    let pitch = (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    let size = (pitch * height) as u64;
    let staging = staging(gpu, size);
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        renderer.render_on_gpu_texture().as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &staging,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(pitch),
                rows_per_image: None,
            },
        },
        wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
    );
    gpu.queue.submit([encoder.finish()]);
    let bytes = gpu.read_buffer(&staging, size).unwrap();
    bytes
        .chunks(pitch as usize)
        .flat_map(|row| row[..(width * 4) as usize].to_vec())
        .collect()
}

/// The seahorse-valley scene the plane tests render.
fn seahorse() -> Scene {
    Scene::parse(
        "seahorse.toml",
        include_str!("../examples/scenes/seahorse.toml"),
    )
    .unwrap()
}

/// The window renders a plane kind's full-resolution samples a band of rows a frame: two
/// samples so rendered, in bands of several heights, are the same pixels as two whole ones.
#[test]
fn plane_samples_rendered_in_bands_are_whole_samples() {
    use mandelfly::frame::{Sample, sample_jitter};
    use mandelfly::gpu::renderer::BAND_ROWS;
    let Some(gpu) = common::gpu() else {
        return;
    };
    let scene = seahorse();
    let (width, height) = (72, 100);
    let sample = |k: u32| Sample {
        scene: &scene,
        jitter: if k > 0 {
            sample_jitter(k, 64)
        } else {
            [0.0, 0.0]
        },
    };
    let mut whole = Renderer::new(gpu.clone());
    for k in 0..2 {
        whole
            .render_on_gpu(&[sample(k)], width, height, Some(k))
            .unwrap();
    }
    let expected = read_srgb8(&gpu, &whole, width, height);

    let mut banded = Renderer::new(gpu.clone());
    // Sample 0 in bands of one, one and one step and the rest; sample 1 in two bands.
    let bands: [&[(u32, u32)]; 2] = [
        &[
            (0, BAND_ROWS),
            (BAND_ROWS, BAND_ROWS),
            (2 * BAND_ROWS, BAND_ROWS),
            (3 * BAND_ROWS, height - 3 * BAND_ROWS),
        ],
        &[(0, 2 * BAND_ROWS), (2 * BAND_ROWS, height - 2 * BAND_ROWS)],
    ];
    for (k, bands) in bands.iter().enumerate() {
        for &(first, rows) in bands.iter() {
            let last = first + rows == height;
            banded
                .render_band_on_gpu(
                    sample(k as u32),
                    (width, height),
                    k as u32,
                    (first, rows),
                    last,
                )
                .unwrap();
        }
    }
    let got = read_srgb8(&gpu, &banded, width, height);
    assert_eq!(got.len(), expected.len());
    let differing = got.iter().zip(&expected).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 0, "{differing} bytes differ");
    // Something was drawn: the view is not one flat colour.
    assert!(expected.chunks(4).any(|p| p != &expected[..4]));
    // A band that does not start at a multiple of BAND_ROWS is refused.
    assert!(
        banded
            .render_band_on_gpu(sample(2), (width, height), 2, (1, BAND_ROWS), false)
            .is_err()
    );
}

/// A render's plane pipelines have the look's transfer and effects compiled in
/// (`colouring::ColourVariant`); the window's read them from the block. Both colour alike, for
/// every transfer and with each effect on and off.
#[test]
fn compiled_in_colouring_matches_the_block_read_one() {
    use mandelfly::colouring::Transfer;
    let Some(gpu) = common::gpu() else {
        return;
    };
    let base = seahorse();
    let (width, height) = (64, 48);
    let mut looks = Vec::new();
    for transfer in [
        Transfer::Linear,
        Transfer::Sqrt,
        Transfer::Log,
        Transfer::Histogram,
    ] {
        let mut scene = base.clone();
        scene.look.transfer = transfer;
        looks.push(scene);
    }
    let mut plain = base.clone();
    (plain.look.edges, plain.look.relief, plain.look.band_limit) = (0.0, 0.0, false);
    looks.push(plain);
    let mut striped = base.clone();
    striped.look.stripes = 0.6;
    looks.push(striped);
    let mut renderer = Renderer::new(gpu.clone());
    let mut distinct = std::collections::HashSet::new();
    for (i, scene) in looks.iter().enumerate() {
        let rendered = renderer
            .render(scene, width, height, Readout::color(ColorFormat::Srgb8))
            .unwrap();
        renderer
            .render_on_gpu(
                &[mandelfly::frame::Sample {
                    scene,
                    jitter: [0.0, 0.0],
                }],
                width,
                height,
                Some(0),
            )
            .unwrap();
        let window = read_srgb8(&gpu, &renderer, width, height);
        let differing = rendered
            .color
            .iter()
            .zip(&window)
            .filter(|(a, b)| a.abs_diff(**b) > 1)
            .count();
        assert_eq!(differing, 0, "look {i}: {differing} bytes differ");
        distinct.insert(rendered.color);
    }
    // Each look colours differently: the constants chose different code.
    assert_eq!(distinct.len(), looks.len());
    // A frame's samples share the compiled-in colouring only where they share one look's
    // choices; across a shutter where an effect turns on, they read it from the block.
    use mandelfly::colouring::ColourVariant;
    use mandelfly::gpu::renderer::FrameOutputs;
    let sample = |scene| mandelfly::frame::Sample {
        scene,
        jitter: [0.0, 0.0],
    };
    let outputs = FrameOutputs {
        aux: false,
        display: None,
        fixed_look: true,
    };
    let same = [sample(&looks[3]), sample(&base)];
    assert_eq!(
        outputs.colour_variant(&same),
        Some(ColourVariant::of(&base.look))
    );
    assert_eq!(
        outputs.colour_variant(&[sample(&base), sample(&looks[4])]),
        None
    );
    let window = FrameOutputs {
        fixed_look: false,
        ..outputs
    };
    assert_eq!(window.colour_variant(&same), None);
}
