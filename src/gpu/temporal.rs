//! Temporal reprojection for the live window (shaders/post/reproject.wgsl): each frame marches
//! one pixel of every `block` x `block` square of a history image, at a phase that cycles over
//! the square, and the reproject pass builds the new history from those samples and the previous
//! history re-projected by the camera's motion. So a frame costs a fraction of the history's
//! pixels, detail accumulates while moving, and a still view refines to a full-resolution,
//! anti-aliased image one bounded frame at a time.
//!
//! The maths the pass does on the GPU has its CPU twin here: [`Projection`] (a camera's rays and
//! their inverse) and [`depth_consistent`] (the disocclusion test).

use bytemuck::{Pod, Zeroable};
use glam::{DVec2, DVec3};

use crate::camera::Camera;
use crate::error::Result;
use crate::gpu::GpuContext;
use crate::gpu::targets::{FrameTargets, storage};

const WORKGROUP: u32 = 8;

/// A history depth agrees with the expected one within this fraction of the distance.
pub const DEPTH_TOLERANCE: f64 = 0.05;
/// Least bilinear weight of agreeing history taps for a pixel to be carried over.
pub const MIN_CARRY: f32 = 0.1;

/// The previous history is valid.
const FLAG_HISTORY: u32 = 1;
/// Same camera and size as the previous frame.
const FLAG_STATIC: u32 = 2;
/// The previous history had another size: carried pixels are resampled stand-ins, which the
/// next sample of each pixel replaces (were they counted as samples, the blur of resampling
/// would stay in the pixels' means).
const FLAG_RESIZED: u32 = 4;

/// A camera's pinhole projection onto a `width` x `height` image: the rays of
/// `camera_ray_at` (shaders/common.wgsl) and their inverse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub position: DVec3,
    /// Right and up scaled to the image's half extents at unit distance; forward is unit.
    pub right: DVec3,
    pub up: DVec3,
    pub forward: DVec3,
    pub width: u32,
    pub height: u32,
}

impl Projection {
    pub fn new(camera: &Camera, width: u32, height: u32) -> Self {
        let b = camera.basis();
        let half_h = (camera.fov.to_radians() * 0.5).tan();
        let half_w = half_h * width as f64 / height as f64;
        Projection {
            position: camera.position,
            right: b.right * half_w,
            up: b.up * half_h,
            forward: b.forward,
            width,
            height,
        }
    }

    /// Unit ray through image point `at`, in pixels from the top left corner.
    pub fn ray(&self, at: DVec2) -> DVec3 {
        let uv = at / DVec2::new(self.width as f64, self.height as f64) * 2.0 - 1.0;
        (self.forward + uv.x * self.right - uv.y * self.up).normalize()
    }

    /// The world point at distance `t` along the ray through `at`.
    pub fn unproject(&self, at: DVec2, t: f64) -> DVec3 {
        self.position + self.ray(at) * t
    }

    /// Where `point` appears in the image, and its distance from the camera; None behind it.
    pub fn project(&self, point: DVec3) -> Option<(DVec2, f64)> {
        let v = point - self.position;
        self.project_relative(v).map(|at| (at, v.length()))
    }

    /// Where the camera-relative vector `v` (a point, or a direction for the sky) appears.
    fn project_relative(&self, v: DVec3) -> Option<DVec2> {
        let z = v.dot(self.forward);
        if z <= 0.0 {
            return None;
        }
        let uv = DVec2::new(
            v.dot(self.right) / self.right.length_squared(),
            -v.dot(self.up) / self.up.length_squared(),
        ) / z;
        Some((uv + 1.0) * 0.5 * DVec2::new(self.width as f64, self.height as f64))
    }

    /// Where the surface at distance `t` along the ray through `at` (0: the sky, seen along the
    /// ray's direction) was in the `previous` image, and its distance there (0 for the sky).
    pub fn reproject(&self, previous: &Projection, at: DVec2, t: f64) -> Option<(DVec2, f64)> {
        if t <= 0.0 {
            return previous.project_relative(self.ray(at)).map(|q| (q, 0.0));
        }
        previous.project(self.unproject(at, t))
    }
}

/// The disocclusion test: whether the depth a history pixel holds agrees with the depth the
/// re-projected point should have there (0 for both where rays escape to the sky).
pub fn depth_consistent(history: f64, expected: f64, tolerance: f64) -> bool {
    if expected <= 0.0 {
        return history <= 0.0;
    }
    history > 0.0 && (history - expected).abs() <= tolerance * expected
}

/// Which pixel of its `block` x `block` square frame `k` of a cycle marches: consecutive frames
/// land far apart in the square, so a moving view gets samples spread over every block.
pub fn block_phase(k: u64, block: u32) -> [u32; 2] {
    let n = (block * block) as u64;
    let mut step = ((n as f64 * 0.618).round() as u64).max(1);
    while gcd(step, n) != 1 {
        step += 1;
    }
    let i = (k * step % n) as u32;
    [i % block, i / block]
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// One frame of the temporal view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemporalFrame {
    /// The history's size: what is shown.
    pub history: (u32, u32),
    /// Side of the square of history pixels per marched pixel (a multiple of both sides).
    pub block: u32,
    /// The history pixel of each square this frame marches.
    pub phase: [u32; 2],
    /// This frame's samples' offset from their pixels' centres, in history pixels.
    pub offset: [f32; 2],
    /// Most samples a pixel's running mean counts.
    pub max_samples: u32,
}

impl TemporalFrame {
    /// The marched frame's size.
    pub fn march_size(&self) -> (u32, u32) {
        (self.history.0 / self.block, self.history.1 / self.block)
    }

    /// The marched frame's jitter (in its own pixels) that puts its rays on this frame's
    /// history pixels.
    pub fn march_jitter(&self) -> [f32; 2] {
        let f = self.block as f32;
        [0, 1].map(|i| (self.phase[i] as f32 + 0.5 + self.offset[i]) / f - 0.5)
    }
}

/// Twin of `ReprojectUniform` in shaders/post/reproject.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct ReprojectUniform {
    pub right: [f32; 4],
    pub up: [f32; 4],
    pub forward: [f32; 4],
    pub prev_right: [f32; 4],
    pub prev_up: [f32; 4],
    pub prev_forward: [f32; 4],
    pub prev_origin: [f32; 4],
    pub size: [u32; 4],
    pub prev_size: [u32; 4],
    pub phase: [u32; 4],
    pub params: [f32; 4],
}

fn vec4(v: DVec3) -> [f32; 4] {
    [v.x as f32, v.y as f32, v.z as f32, 0.0]
}

impl ReprojectUniform {
    /// The pass's block for `frame`, seen through `current`, with the history last seen
    /// through `previous` (None: no history).
    pub fn new(current: &Projection, previous: Option<&Projection>, frame: &TemporalFrame) -> Self {
        let (mw, mh) = frame.march_size();
        let mut flags = 0;
        let prev = previous.unwrap_or(current);
        if let Some(p) = previous {
            flags |= FLAG_HISTORY;
            if p == current {
                flags |= FLAG_STATIC;
            }
            if (p.width, p.height) != (current.width, current.height) {
                flags |= FLAG_RESIZED;
            }
        }
        ReprojectUniform {
            right: vec4(current.right),
            up: vec4(current.up),
            forward: vec4(current.forward),
            prev_right: vec4(prev.right / prev.right.length_squared()),
            prev_up: vec4(prev.up / prev.up.length_squared()),
            prev_forward: vec4(prev.forward),
            // The difference of two f64 positions: precise however deep the view.
            prev_origin: vec4(prev.position - current.position),
            size: [current.width, current.height, mw, mh],
            prev_size: [prev.width, prev.height, frame.block, flags],
            phase: [frame.phase[0], frame.phase[1], frame.max_samples, 0],
            params: [DEPTH_TOLERANCE as f32, MIN_CARRY, 0.0, 0.0],
        }
    }
}

/// The reproject pass and what it keeps between frames: two histories (colour with the weight
/// of its running mean, and depth) written in turn, and the targets the post stage turns into
/// what the window shows. A history's colour is stored as the post stage reads a frame (rgb
/// the mean times its weight, at least 1, and w the weight), so the post stage reads the latest
/// history itself. Sized for the largest history (the window); smaller ones use the
/// start of each buffer.
pub struct TemporalStage {
    pipeline: wgpu::ComputePipeline,
    uniform: wgpu::Buffer,
    color: [wgpu::Buffer; 2],
    depth: [wgpu::Buffer; 2],
    /// Which of the two holds the latest history.
    latest: usize,
    /// The camera and size the latest history was seen through (None: no history).
    seen: Option<Projection>,
    /// The shown frame: `hdr` is the latest history's colour (the post stage's input), `srgb8`
    /// what the post stage writes for the window.
    pub display: FrameTargets,
}

impl TemporalStage {
    pub fn new(gpu: &GpuContext, width: u32, height: u32) -> Result<Self> {
        let device = &gpu.device;
        let pixels = width as u64 * height as u64;
        let source = crate::shader!("post/reproject.wgsl");
        Ok(TemporalStage {
            pipeline: gpu.compute_pipeline("reproject", &source, "reproject_main", None)?,
            uniform: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("reproject uniform"),
                size: std::mem::size_of::<ReprojectUniform>() as u64,
                // Bound as storage (see shaders/post/reproject.wgsl).
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            color: [0, 1].map(|_| storage(device, "history colour", pixels * 16)),
            depth: [0, 1].map(|_| storage(device, "history depth", pixels * 4)),
            latest: 0,
            seen: None,
            display: FrameTargets::new(device, width, height),
        })
    }

    /// The largest history it holds.
    pub fn capacity(&self) -> (u32, u32) {
        (self.display.width, self.display.height)
    }

    /// Forgets the history (the fractal or the look changed: nothing seen before holds).
    pub fn reset(&mut self) {
        self.seen = None;
    }

    /// The latest history's buffers (colour, depth), for tests.
    pub fn history(&self) -> (&wgpu::Buffer, &wgpu::Buffer) {
        (&self.color[self.latest], &self.depth[self.latest])
    }

    /// Records the pass that makes the next history from `march` (the frame just marched for
    /// `frame`, seen through `current`) and the latest one.
    pub fn encode(
        &mut self,
        gpu: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        march: &FrameTargets,
        current: &Projection,
        frame: &TemporalFrame,
    ) {
        assert!(
            frame.history.0 <= self.display.width && frame.history.1 <= self.display.height,
            "history larger than the temporal stage"
        );
        let uniform = ReprojectUniform::new(current, self.seen.as_ref(), frame);
        gpu.queue
            .write_buffer(&self.uniform, 0, bytemuck::bytes_of(&uniform));
        let (prev, next) = (self.latest, 1 - self.latest);
        fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
            wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            }
        }
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("reproject"),
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &[
                entry(0, &self.uniform),
                entry(1, &march.hdr),
                entry(2, &march.aux),
                entry(3, &self.color[prev]),
                entry(4, &self.depth[prev]),
                entry(5, &self.color[next]),
                entry(6, &self.depth[next]),
            ],
        });
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("reproject"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(
            frame.history.0.div_ceil(WORKGROUP),
            frame.history.1.div_ceil(WORKGROUP),
            1,
        );
        self.display.hdr = self.color[next].clone();
        self.latest = next;
        self.seen = Some(*current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(position: DVec3, look_at: DVec3) -> Camera {
        Camera {
            position,
            look_at,
            up: DVec3::Z,
            fov: 60.0,
            roll: 0.0,
        }
    }

    #[test]
    fn projecting_undoes_unprojecting() {
        let cam = Projection::new(
            &camera(DVec3::new(0.3, -2.0, 0.4), DVec3::new(0.0, 0.1, 0.0)),
            640,
            360,
        );
        for at in [
            DVec2::new(0.5, 0.5),
            DVec2::new(320.0, 180.0),
            DVec2::new(639.5, 17.25),
        ] {
            let p = cam.unproject(at, 1.7);
            let (back, t) = cam.project(p).expect("in front");
            assert!((back - at).length() < 1e-9, "{at} -> {back}");
            assert!((t - 1.7).abs() < 1e-12);
        }
        // The ray through a pixel's centre is the renderer's (Camera::ray_direction).
        let c = camera(DVec3::new(0.3, -2.0, 0.4), DVec3::ZERO);
        let ray = Projection::new(&c, 640, 360).ray(DVec2::new(10.5, 300.5));
        assert!((ray - c.ray_direction(10, 300, 640, 360)).length() < 1e-12);
        // Behind the camera: nowhere in the image.
        assert!(cam.project(cam.position - cam.forward).is_none());
    }

    #[test]
    fn a_point_reprojects_to_where_the_other_camera_sees_it() {
        let before = Projection::new(&camera(DVec3::new(0.0, -3.0, 0.0), DVec3::ZERO), 320, 180);
        // Forward, sideways and turned a little, at another resolution.
        let after = Projection::new(
            &camera(DVec3::new(0.1, -2.5, 0.05), DVec3::new(0.2, 0.0, 0.1)),
            640,
            360,
        );
        let point = DVec3::new(0.15, 0.2, -0.1);
        let (at, t) = after.project(point).unwrap();
        let (q, t_prev) = after.reproject(&before, at, t).unwrap();
        let (direct, t_direct) = before.project(point).unwrap();
        assert!((q - direct).length() < 1e-9);
        assert!((t_prev - t_direct).abs() < 1e-12);
        // The sky moves with the rotation only: a camera that only moved sees it in place.
        let moved = Projection {
            position: before.position + DVec3::new(0.5, 0.5, 0.5),
            ..before
        };
        let (q, d) = moved
            .reproject(&before, DVec2::new(40.5, 20.5), 0.0)
            .unwrap();
        assert!((q - DVec2::new(40.5, 20.5)).length() < 1e-9 && d == 0.0);
    }

    #[test]
    fn disocclusion_is_a_depth_that_disagrees() {
        // The history saw the same surface: carried over.
        assert!(depth_consistent(2.0, 2.05, DEPTH_TOLERANCE));
        // It saw something nearer (the point was hidden) or farther (it was not there).
        assert!(!depth_consistent(1.0, 2.0, DEPTH_TOLERANCE));
        assert!(!depth_consistent(3.0, 2.0, DEPTH_TOLERANCE));
        // Sky against surface, either way.
        assert!(!depth_consistent(0.0, 2.0, DEPTH_TOLERANCE));
        assert!(!depth_consistent(2.0, 0.0, DEPTH_TOLERANCE));
        assert!(depth_consistent(0.0, 0.0, DEPTH_TOLERANCE));
    }

    #[test]
    fn phases_cover_every_block_pixel_once_per_cycle() {
        for block in 1..=4 {
            let n = (block * block) as u64;
            let mut seen = std::collections::HashSet::new();
            for k in 0..n {
                let [x, y] = block_phase(k, block);
                assert!(x < block && y < block);
                seen.insert((x, y));
            }
            assert_eq!(seen.len(), n as usize, "block {block}");
            assert_eq!(block_phase(n, block), block_phase(0, block));
        }
        // Consecutive frames of a 2x2 cycle land diagonally apart.
        assert_eq!(block_phase(0, 2), [0, 0]);
        assert_eq!(block_phase(1, 2), [1, 1]);
    }

    #[test]
    fn marched_rays_land_on_their_history_pixels() {
        let cam = camera(DVec3::new(0.0, -3.0, 0.0), DVec3::ZERO);
        let frame = TemporalFrame {
            history: (640, 360),
            block: 2,
            phase: [1, 0],
            offset: [0.0, 0.0],
            max_samples: 4,
        };
        let (mw, mh) = frame.march_size();
        assert_eq!((mw, mh), (320, 180));
        let [jx, jy] = frame.march_jitter();
        let march = Projection::new(&cam, mw, mh);
        let history = Projection::new(&cam, 640, 360);
        // March pixel (7, 5) is history pixel (15, 10).
        let ray = march.ray(DVec2::new(7.5 + jx as f64, 5.5 + jy as f64));
        assert!((ray - history.ray(DVec2::new(15.5, 10.5))).length() < 1e-6);
    }

    #[test]
    fn the_uniform_matches_wgsl_and_flags_what_the_history_is() {
        let source = crate::shader!("post/reproject.wgsl");
        let module = naga::front::wgsl::parse_str(&source).expect("parses");
        let ty = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some("ReprojectUniform"))
            .expect("ReprojectUniform")
            .1;
        assert_eq!(
            ty.inner.size(module.to_ctx()) as usize,
            std::mem::size_of::<ReprojectUniform>()
        );
        let frame = TemporalFrame {
            history: (640, 360),
            block: 2,
            phase: [0, 0],
            offset: [0.0, 0.0],
            max_samples: 4,
        };
        let cam = camera(DVec3::new(0.0, -3.0, 0.0), DVec3::ZERO);
        let now = Projection::new(&cam, 640, 360);
        assert_eq!(ReprojectUniform::new(&now, None, &frame).prev_size[3], 0);
        assert_eq!(
            ReprojectUniform::new(&now, Some(&now), &frame).prev_size[3],
            FLAG_HISTORY | FLAG_STATIC
        );
        let coarse = Projection::new(&cam, 320, 180);
        assert_eq!(
            ReprojectUniform::new(&now, Some(&coarse), &frame).prev_size[3],
            FLAG_HISTORY | FLAG_RESIZED
        );
    }
}
