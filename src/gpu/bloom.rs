//! Bloom: light above a threshold spills into its neighbourhood before tone mapping, the soft
//! halo around highlights and glow that a lens (and an eye) gives. It runs at a quarter of the
//! frame's resolution (shaders/post/bloom.wgsl): a bright-pass that averages 4x4 pixels down,
//! then a separable Gaussian; the tone-mapping stage adds it back, sampled bilinearly.
//! [`bloom_cpu`] is its CPU twin.
//!
//! Bloom needs the whole frame: a frame rendered in tiles (sides above the largest tile) has no
//! bloom, rather than seams at the tiles' edges.

use crate::error::Result;
use crate::gpu::GpuContext;
use crate::gpu::targets::FrameTargets;
use crate::gpu::uniforms::Tile;
use crate::scene::Look;

const WORKGROUP: u32 = 8;
/// Bloom pixels per frame pixel along each axis.
const SCALE: u32 = 4;
/// Most taps each side of the blur (3 standard deviations at the largest radius and size).
const MAX_TAPS: u32 = 96;

/// The bloom buffers' size for a `width` x `height` tile.
pub fn bloom_size(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(SCALE).max(1), height.div_ceil(SCALE).max(1))
}

/// The bloom's settings for one tile of a frame, as the post uniform carries them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BloomParams {
    /// 0 where the look has none or the frame is tiled.
    pub strength: f32,
    pub threshold: f32,
    /// Standard deviation of the blur, in bloom pixels.
    pub sigma: f32,
    pub taps: u32,
    pub size: (u32, u32),
}

impl BloomParams {
    pub fn new(look: &Look, (width, height): (u32, u32), tile: Tile) -> Self {
        let whole = tile.width == width && tile.height == height;
        let sigma = (look.bloom_radius * height as f64 / SCALE as f64).max(0.5) as f32;
        BloomParams {
            strength: if whole { look.bloom as f32 } else { 0.0 },
            threshold: look.bloom_threshold as f32,
            sigma,
            taps: ((3.0 * sigma).ceil() as u32).clamp(1, MAX_TAPS),
            size: bloom_size(tile.width, tile.height),
        }
    }
}

/// The three bloom passes' pipelines (entry points of the post shader).
pub struct BloomStage {
    prefilter: wgpu::ComputePipeline,
    blur_x: wgpu::ComputePipeline,
    blur_y: wgpu::ComputePipeline,
}

impl BloomStage {
    /// The passes, compiled from the post shader's `source` (tonemap.wgsl + bloom.wgsl).
    pub fn new(gpu: &GpuContext, source: &str) -> Result<Self> {
        let compile = |entry| gpu.compute_pipeline("bloom", source, entry, None);
        Ok(BloomStage {
            prefilter: compile("bloom_prefilter")?,
            blur_x: compile("bloom_blur_x")?,
            blur_y: compile("bloom_blur_y")?,
        })
    }

    /// Records the bloom of the tile in `targets` into `targets.bloom[0]`; `uniform_buffer`
    /// holds `uniform` already.
    pub fn encode(
        &self,
        gpu: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        targets: &FrameTargets,
        uniform_buffer: &wgpu::Buffer,
        uniform: super::post::PostUniform,
    ) {
        let [a, b] = &targets.bloom;
        let passes: [(&wgpu::ComputePipeline, Vec<(u32, &wgpu::Buffer)>); 3] = [
            (&self.prefilter, vec![(1, &targets.hdr), (4, a)]),
            (&self.blur_x, vec![(4, a), (5, b)]),
            (&self.blur_y, vec![(4, a), (5, b)]),
        ];
        for (pipeline, buffers) in passes {
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform_buffer.as_entire_binding(),
            }];
            entries.extend(
                buffers
                    .iter()
                    .map(|(binding, buffer)| wgpu::BindGroupEntry {
                        binding: *binding,
                        resource: buffer.as_entire_binding(),
                    }),
            );
            let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("bloom"),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("bloom"),
                timestamp_writes: None,
            });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(
                uniform.bloom_size[0].div_ceil(WORKGROUP),
                uniform.bloom_size[1].div_ceil(WORKGROUP),
                1,
            );
        }
    }
}

/// The part of `c` above `threshold`, with a quadratic knee (twin of `bright_part`).
fn bright_part(c: [f32; 3], threshold: f32) -> [f32; 3] {
    let knee = 0.5 * threshold + 1e-4;
    let brightness = c[0].max(c[1]).max(c[2]);
    let mut soft = (brightness - threshold + knee).clamp(0.0, 2.0 * knee);
    soft = soft * soft / (4.0 * knee);
    let weight = (soft.max(brightness - threshold) / brightness.max(1e-4)).max(0.0);
    c.map(|x| x * weight)
}

/// CPU twin of the bloom: the frame `exposed` (`width` x `height` linear colours, exposure
/// applied) with the bloom of `look` added, as the tone-mapping stage sees it before the
/// vignette and the curve.
pub fn bloom_cpu(exposed: &[[f32; 3]], width: u32, height: u32, look: &Look) -> Vec<[f32; 3]> {
    let whole = Tile {
        x: 0,
        y: 0,
        width,
        height,
    };
    let params = BloomParams::new(look, (width, height), whole);
    if params.strength <= 0.0 {
        return exposed.to_vec();
    }
    let (bw, bh) = params.size;
    let (bw, bh, w, h) = (bw as i64, bh as i64, width as i64, height as i64);
    let mut low = vec![[0.0f32; 3]; (bw * bh) as usize];
    for by in 0..bh {
        for bx in 0..bw {
            let (mut sum, mut n) = ([0.0f32; 3], 0.0f32);
            for dy in 0..SCALE as i64 {
                for dx in 0..SCALE as i64 {
                    let (x, y) = (bx * SCALE as i64 + dx, by * SCALE as i64 + dy);
                    if x < w && y < h {
                        let c = bright_part(exposed[(y * w + x) as usize], params.threshold);
                        (0..3).for_each(|i| sum[i] += c[i]);
                        n += 1.0;
                    }
                }
            }
            low[(by * bw + bx) as usize] = sum.map(|s| s / n.max(1.0));
        }
    }
    let taps = params.taps as i64;
    let gauss = |i: i64| (-((i * i) as f32) / (2.0 * params.sigma * params.sigma)).exp();
    let blur = |src: &[[f32; 3]], horizontal: bool| {
        let mut out = vec![[0.0f32; 3]; src.len()];
        for y in 0..bh {
            for x in 0..bw {
                let (mut sum, mut total) = ([0.0f32; 3], 0.0f32);
                for i in -taps..=taps {
                    let (sx, sy) = if horizontal {
                        ((x + i).clamp(0, bw - 1), y)
                    } else {
                        (x, (y + i).clamp(0, bh - 1))
                    };
                    let g = gauss(i);
                    let c = src[(sy * bw + sx) as usize];
                    (0..3).for_each(|k| sum[k] += g * c[k]);
                    total += g;
                }
                out[(y * bw + x) as usize] = sum.map(|s| s / total);
            }
        }
        out
    };
    let blurred = blur(&blur(&low, true), false);
    let at = |x: i64, y: i64| blurred[(y.clamp(0, bh - 1) * bw + x.clamp(0, bw - 1)) as usize];
    let mut out = exposed.to_vec();
    for y in 0..h {
        for x in 0..w {
            let qx = (x as f32 + 0.5) / SCALE as f32 - 0.5;
            let qy = (y as f32 + 0.5) / SCALE as f32 - 0.5;
            let (x0, y0) = (qx.floor(), qy.floor());
            let (fx, fy) = (qx - x0, qy - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let mix =
                |a: [f32; 3], b: [f32; 3], t: f32| [0, 1, 2].map(|k| a[k] + (b[k] - a[k]) * t);
            let top = mix(at(x0, y0), at(x0 + 1, y0), fx);
            let bottom = mix(at(x0, y0 + 1), at(x0 + 1, y0 + 1), fx);
            let b = mix(top, bottom, fy);
            let p = &mut out[(y * w + x) as usize];
            (0..3).for_each(|k| p[k] += params.strength * b[k]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(bloom: f64) -> Look {
        let mut look = Look::reference();
        look.bloom = bloom;
        look.bloom_radius = 0.05;
        look.bloom_threshold = 1.0;
        look
    }

    #[test]
    fn light_below_the_threshold_does_not_bloom() {
        let frame = vec![[0.4f32, 0.3, 0.2]; 64 * 40];
        assert_eq!(bloom_cpu(&frame, 64, 40, &look(1.0)), frame);
    }

    #[test]
    fn a_bright_point_spills_into_its_neighbourhood_and_fades_with_distance() {
        let (w, h) = (96u32, 64u32);
        let mut frame = vec![[0.1f32; 3]; (w * h) as usize];
        frame[(32 * w + 48) as usize] = [400.0, 300.0, 200.0];
        let out = bloom_cpu(&frame, w, h, &look(0.5));
        let at = |x: u32, y: u32| out[(y * w + x) as usize][0];
        assert!(at(52, 32) > 0.1 + 1e-3, "a neighbour brightens");
        assert!(at(52, 32) > at(60, 32) && at(60, 32) > at(75, 32));
        // Symmetric about the centre of the bloom texel that holds the point (x = 49.5).
        assert!((at(46, 32) - at(53, 32)).abs() < 0.02 * at(53, 32));
        // Off: unchanged.
        assert_eq!(bloom_cpu(&frame, w, h, &look(0.0)), frame);
    }

    #[test]
    fn tiled_frames_have_no_bloom() {
        let tile = Tile {
            x: 0,
            y: 0,
            width: 32,
            height: 32,
        };
        assert_eq!(BloomParams::new(&look(1.0), (64, 64), tile).strength, 0.0);
        let whole = Tile {
            width: 64,
            height: 64,
            ..tile
        };
        assert_eq!(BloomParams::new(&look(1.0), (64, 64), whole).strength, 1.0);
    }
}
