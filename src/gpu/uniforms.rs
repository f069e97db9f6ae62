//! Uniform blocks shared with WGSL. Each `#[repr(C)]` struct names its twin; a test checks sizes.

use bytemuck::{Pod, Zeroable};
use glam::DVec3;

use crate::colouring::{ColourMapping, CountScale};
use crate::scene::Scene;

pub const FLAG_AO: u32 = 1;
pub const FLAG_SHADOWS: u32 = 2;
pub const FLAG_ORBIT_TRAP: u32 = 4;
pub const FLAG_SPECULAR: u32 = 8;
/// Count distance-estimator evaluations (benchmark runs).
pub const FLAG_COUNT: u32 = 16;
pub const FLAG_SKY: u32 = 32;
pub const FLAG_PALETTE: u32 = 64;
pub const FLAG_FOG: u32 = 128;
pub const FLAG_GLOW: u32 = 256;
pub const FLAG_FILL: u32 = 512;
pub const FLAG_RIM: u32 = 1024;
pub const FLAG_LENS: u32 = 2048;
/// The dispatch is the cone pass (shaders/march.wgsl `cone_cell`), not the pixels.
pub const FLAG_CONE: u32 = 4096;
/// The fractal's estimate is no safe bound for the cone pass: pixels march from the start.
pub const FLAG_NO_CONE: u32 = 8192;
/// Side in pixels of the cone pass's cells (shaders/march.wgsl `CONE_CELL`).
pub const CONE_CELL: u32 = 8;

/// Twin of `FrameUniform` in shaders/common.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct FrameUniform {
    pub origin_hi: [f32; 4],
    pub origin_lo: [f32; 4],
    pub right: [f32; 4],
    pub up: [f32; 4],
    pub forward: [f32; 4],
    pub background: [f32; 4],
    pub light: [f32; 4],
    pub albedo: [f32; 4],
    pub trap_color: [f32; 4],
    pub image: [u32; 4],
    pub control: [u32; 4],
    pub march: [f32; 4],
    pub shading: [f32; 4],
    pub jitter: [f32; 4],
    pub samples: [u32; 4],
    pub key_color: [f32; 4],
    pub fill_direction: [f32; 4],
    pub fill_color: [f32; 4],
    pub rim: [f32; 4],
    pub sky_zenith: [f32; 4],
    pub sky_horizon: [f32; 4],
    pub sky_ground: [f32; 4],
    pub fog: [f32; 4],
    pub fog_height: [f32; 4],
    pub glow: [f32; 4],
    /// x: lens radius, y: focus distance, zw: this sample's point on the unit disk.
    pub lens: [f32; 4],
    pub surface: [f32; 4],
    pub bounds: [f32; 4],
    pub stops: [[f32; 4]; crate::scene::MAX_STOPS],
}

/// A rectangle of the image rendered in one dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Tile {
    /// The whole of a `width` x `height` image.
    pub fn whole(width: u32, height: u32) -> Self {
        Tile {
            x: 0,
            y: 0,
            width,
            height,
        }
    }
}

/// Ray-march step factor: slightly under 1 so that the estimate's occasional overshoot does not
/// jump through thin features at grazing angles.
pub const STEP_FACTOR: f32 = 0.9;

pub fn srgb_to_linear(c: f64) -> f64 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_rgb(c: [f64; 3], w: f32) -> [f32; 4] {
    [
        srgb_to_linear(c[0]) as f32,
        srgb_to_linear(c[1]) as f32,
        srgb_to_linear(c[2]) as f32,
        w,
    ]
}

fn split(v: DVec3) -> ([f32; 4], [f32; 4]) {
    let hi = v.as_vec3();
    let lo = (v - hi.as_dvec3()).as_vec3();
    ([hi.x, hi.y, hi.z, 0.0], [lo.x, lo.y, lo.z, 0.0])
}

fn vec4(v: DVec3) -> [f32; 4] {
    [v.x as f32, v.y as f32, v.z as f32, 0.0]
}

impl FrameUniform {
    /// The uniform block for one tile of a `width` x `height` frame of a validated scene.
    pub fn new(scene: &Scene, width: u32, height: u32, tile: Tile) -> Self {
        let cam = &scene.camera;
        let look = &scene.look;
        let basis = cam.basis();
        let half_h = (cam.fov.to_radians() * 0.5).tan();
        let half_w = half_h * width as f64 / height as f64;
        let (origin_hi, origin_lo) = split(cam.position);
        let light = DVec3::from_array(look.light_direction).normalize();
        let cone = look.shadow_softness.to_radians().tan();
        let mut flags = 0;
        if look.ambient_occlusion {
            flags |= FLAG_AO;
        }
        if look.shadows {
            flags |= FLAG_SHADOWS;
        }
        if look.orbit_trap {
            flags |= FLAG_ORBIT_TRAP;
        }
        if scene.fractal.volume().is_some_and(|v| !v.cone_safe()) {
            flags |= FLAG_NO_CONE;
        }
        if look.specular > 0.0 {
            flags |= FLAG_SPECULAR;
        }
        for (on, flag) in [
            (look.sky, FLAG_SKY),
            (look.trap_palette, FLAG_PALETTE),
            (look.fog_density > 0.0, FLAG_FOG),
            (look.glow_strength > 0.0, FLAG_GLOW),
            (look.fill_intensity > 0.0, FLAG_FILL),
            (look.rim_intensity > 0.0, FLAG_RIM),
            (look.aperture > 0.0, FLAG_LENS),
        ] {
            if on {
                flags |= flag;
            }
        }
        let fill = DVec3::from_array(look.fill_direction).normalize();
        let stops = crate::look::surface_stops(look);
        let mut packed = [[0.0f32; 4]; crate::scene::MAX_STOPS];
        for (slot, stop) in packed.iter_mut().zip(&stops) {
            *slot = linear_rgb([stop[1], stop[2], stop[3]], stop[0] as f32);
        }
        let scaled = |c: [f64; 3], k: f64, w: f32| {
            let l = linear_rgb(c, w);
            [l[0] * k as f32, l[1] * k as f32, l[2] * k as f32, w]
        };
        FrameUniform {
            origin_hi,
            origin_lo,
            right: vec4(basis.right * half_w),
            up: vec4(basis.up * half_h),
            forward: vec4(basis.forward),
            background: linear_rgb(look.background, 1.0),
            light: [
                light.x as f32,
                light.y as f32,
                light.z as f32,
                (1.0 / cone) as f32,
            ],
            albedo: linear_rgb(look.albedo, look.specular as f32),
            trap_color: linear_rgb(look.trap_color, look.shininess as f32),
            image: [width, height, tile.x, tile.y],
            control: [look.max_steps, flags, tile.width, tile.height],
            march: [
                cam.pixel_footprint(height) as f32,
                look.detail as f32,
                scene.fractal.volume().map_or(0.0, |v| v.bounding_radius()) as f32,
                STEP_FACTOR * scene.fractal.volume().map_or(1.0, |v| v.step_factor()) as f32,
            ],
            shading: [
                look.ambient as f32,
                look.ao_strength as f32,
                look.ao_radius as f32,
                look.light_intensity as f32,
            ],
            jitter: [0.0; 4],
            samples: [0, 1, 0, 0],
            key_color: linear_rgb(look.key_color, 0.0),
            fill_direction: [
                fill.x as f32,
                fill.y as f32,
                fill.z as f32,
                look.fill_intensity as f32,
            ],
            fill_color: linear_rgb(look.fill_color, 0.0),
            rim: scaled(look.rim_color, look.rim_intensity, look.rim_power as f32),
            sky_zenith: linear_rgb(look.sky_zenith, look.sun_glow as f32),
            sky_horizon: linear_rgb(look.sky_horizon, 0.0),
            sky_ground: linear_rgb(look.sky_ground, 0.0),
            fog: linear_rgb(look.fog_color, look.fog_density as f32),
            fog_height: [
                look.fog_height_falloff as f32,
                look.fog_height as f32,
                look.shadow_stride as f32,
                0.0,
            ],
            glow: scaled(look.glow_color, look.glow_strength, look.glow_width as f32),
            lens: [look.aperture as f32, look.focus_distance as f32, 0.0, 0.0],
            surface: [
                look.trap_density as f32,
                look.palette_offset.rem_euclid(1.0) as f32,
                stops.len() as f32,
                0.0,
            ],
            bounds: {
                let ceiling = scene.fractal.volume().and_then(|v| v.ceiling());
                let (top, rise) = ceiling.map_or((f32::MAX, 0.0), |(z, r)| (z as f32, r as f32));
                [top, rise, 0.0, 0.0]
            },
            stops: packed,
        }
    }
}

/// Twin of `PlaneUniform` in shaders/plane.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct PlaneUniform {
    pub center: [f32; 4],
    pub axes: [f32; 4],
    pub image: [u32; 4],
    pub control: [u32; 4],
    pub jitter: [f32; 4],
    pub samples: [u32; 4],
    pub mapping: ColourMapping,
}

impl PlaneUniform {
    /// The uniform block for one tile of a `width` x `height` view of a plane scene. The
    /// palette spans the look's count scale, else `measured` (the renderer's measure of the
    /// view).
    pub fn new(
        scene: &Scene,
        width: u32,
        height: u32,
        tile: Tile,
        measured: Option<&CountScale>,
    ) -> Self {
        let view = &scene.plane;
        let look = &scene.look;
        let pixel = view.zoom.to_f64() / height as f64;
        let (s, c) = view.rotation.to_radians().sin_cos();
        let hi = view.center.as_vec2();
        let lo = (view.center - hi.as_dvec2()).as_vec2();
        PlaneUniform {
            center: [hi.x, hi.y, lo.x, lo.y],
            axes: [
                (pixel * c) as f32,
                (pixel * s) as f32,
                (-pixel * s) as f32,
                (pixel * c) as f32,
            ],
            image: [width, height, tile.x, tile.y],
            control: [0, 0, tile.width, tile.height],
            jitter: [0.0; 4],
            samples: [0, 1, 0, 0],
            mapping: ColourMapping::new(look, look.count_scale().as_ref().or(measured)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Size of a WGSL struct as naga lays it out.
    fn wgsl_struct_size(source: &str, name: &str) -> u32 {
        let module = naga::front::wgsl::parse_str(source).expect("valid WGSL");
        let ty = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no struct {name}"))
            .1;
        ty.inner.size(module.to_ctx())
    }

    #[test]
    fn frame_uniform_matches_wgsl() {
        let size = wgsl_struct_size(&crate::gpu::shaders::common(), "FrameUniform");
        assert_eq!(size as usize, std::mem::size_of::<FrameUniform>());
    }

    #[test]
    fn plane_uniform_matches_wgsl() {
        let mandelbrot = crate::fractal::mandelbrot::Mandelbrot::default();
        let source = crate::gpu::shaders::plane_source(&mandelbrot, false);
        let size = wgsl_struct_size(&source, "PlaneUniform");
        assert_eq!(size as usize, std::mem::size_of::<PlaneUniform>());
    }

    #[test]
    fn stripe_average_switches_on_in_the_plane_shaders() {
        use crate::gpu::shaders::{plane_deep_source, plane_source, with_stripe_average};
        let mandelbrot = crate::fractal::mandelbrot::Mandelbrot::default();
        let deep = plane_deep_source(false, crate::gpu::deep::TextureAccess::Storage);
        for source in [plane_source(&mandelbrot, false), deep] {
            let on = with_stripe_average(&source);
            assert_ne!(on, source);
            assert!(on.contains("const STRIPE_AVERAGE: bool = true;"));
            naga::front::wgsl::parse_str(&on).expect("the stripe variant parses");
        }
    }

    #[test]
    fn colour_mapping_matches_wgsl() {
        let source = crate::gpu::shaders::colour_probe_source();
        let size = wgsl_struct_size(&source, "ColourMapping");
        assert_eq!(size as usize, std::mem::size_of::<ColourMapping>());
    }

    #[test]
    fn deep_uniforms_match_wgsl() {
        use crate::deep::bla::{BlaGpu, BlaGpu64};
        use crate::gpu::deep::{DeepUniform, OrbitPoint, OrbitPoint64};
        use std::mem::size_of;
        for f64 in [false, true] {
            let source = crate::gpu::shaders::plane_deep_source(
                f64,
                crate::gpu::deep::TextureAccess::Storage,
            );
            let size = |name| wgsl_struct_size(&source, name) as usize;
            assert_eq!(size("FractalParams"), size_of::<DeepUniform>());
            assert_eq!(size("PlaneUniform"), size_of::<PlaneUniform>());
            let (orbit, bla) = if f64 {
                (size_of::<OrbitPoint64>(), size_of::<BlaGpu64>())
            } else {
                (size_of::<OrbitPoint>(), size_of::<BlaGpu>())
            };
            assert_eq!(size("OrbitPoint"), orbit, "f64 {f64}");
            assert_eq!(size("Bla"), bla, "f64 {f64}");
        }
    }

    #[test]
    fn fractal_uniforms_match_wgsl() {
        for kind in crate::fractal::REGISTRY {
            let f = (kind.default)();
            // common.wgsl declares what volume modules may set besides their estimate.
            let source = format!(
                "alias real = f32;\n{}\n{}\n{}",
                crate::gpu::shaders::common(),
                crate::gpu::shaders::escape(),
                f.wgsl()
            );
            let size = wgsl_struct_size(&source, "FractalParams");
            assert_eq!(size as usize, f.uniform_bytes().len(), "{}", kind.name);
        }
    }

    #[test]
    fn f64_position_splits_exactly() {
        let p = DVec3::new(0.1, -1.0 / 3.0, 2.0 + 1e-9);
        let (hi, lo) = split(p);
        for i in 0..3 {
            let sum = hi[i] as f64 + lo[i] as f64;
            assert!((sum - p[i]).abs() < 1e-15 * p[i].abs().max(1.0));
        }
    }
}
