//! The live window: winit events in, the controller and recorder updated, the renderer drawn
//! into the window with egui controls on top.
//!
//! Responsive on slow GPUs. Volume kinds use temporal reprojection ([`crate::gpu::temporal`]):
//! each frame marches one pixel per block of the shown history, and the history carries what
//! earlier frames saw, re-projected by the camera's motion; a still view refines to full
//! resolution and anti-aliasing one bounded frame at a time, so no frame blocks the input. The
//! level of resolution steps to hold a target frame rate ([`super::resolution`]). Plane kinds
//! render at a fraction of the window's resolution while the view changes, then accumulate
//! full-resolution samples.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use winit::application::ApplicationHandler;
use winit::event::{ElementState, MouseButton, MouseScrollDelta, WindowEvent};
use winit::event_loop::{ActiveEventLoop, EventLoop};
use winit::keyboard::{KeyCode, PhysicalKey};
use winit::window::{Window, WindowId};

use super::controller::{FlyController, FlyInput};
use super::overlay::{RedrawPolicy, painted_rect};
use super::recorder::Recorder;
use super::resolution::{self, LevelControl};
use super::stats::{FrameRecord, FrameStats, Summary};
use crate::error::{Error, Result};
use crate::frame::{Passes, Sample, sample_jitter};
use crate::gpu::renderer::{BAND_ROWS, Renderer};
use crate::gpu::targets::texture_2d;
use crate::gpu::temporal::{TemporalFrame, TemporalStage, block_phase};
use crate::gpu::{GpuContext, GpuOptions};
use crate::path::CameraPath;
use crate::scene::Scene;
use crate::sink::png::{self, AtomicFile};

/// What `explore` starts from.
pub struct ExploreOptions {
    pub scene: Scene,
    /// A path to edit and play (its keys become the recording).
    pub path: Option<CameraPath>,
    /// Where `Save` writes the recording.
    pub save_to: PathBuf,
    pub size: (u32, u32),
    pub gpu: GpuOptions,
    /// Exit after this many frames (scripting, tests).
    pub exit_after: Option<u64>,
    /// On exit, write a full-resolution PNG of the view here.
    pub screenshot: Option<PathBuf>,
    /// Fly by itself (measuring the frame rate while moving).
    pub autopilot: bool,
    /// On closing, print frame-time and latency percentiles and the resolution shown.
    pub verbose: bool,
}

/// Frame time to hold (25 frames a second).
const TARGET_FRAME: f64 = 0.04;
/// Most samples accumulated per pixel while still.
const MAX_SAMPLES: u32 = 64;
/// Most samples a pixel's running mean counts while the camera moves: each new one weighs
/// enough that the history follows the view.
const MOVING_SAMPLES: u32 = 4;
/// Seconds of stillness before full-resolution refinement starts.
const SETTLE: f64 = 0.25;
/// Seconds of flight per frame on autopilot, whatever the frame rate: every run flies the same
/// frames.
const AUTOPILOT_STEP: f64 = 0.05;
/// Frames before the frame rate counts (the first ones compile shaders).
const WARMUP_FRAMES: u64 = 10;

pub fn run(options: ExploreOptions) -> Result<()> {
    let event_loop = EventLoop::new().map_err(|e| {
        // winit's OS errors start with its own source location: of no use to a user.
        let text = e.to_string();
        let reason = match text.strip_prefix("os error at ") {
            Some(rest) => rest.split_once(": ").map_or(rest, |(_, r)| r).to_string(),
            None => text,
        };
        Error::Gpu(format!("cannot open a window (no display?): {reason}"))
    })?;
    let mut app = App::new(options);
    event_loop
        .run_app(&mut app)
        .map_err(|e| Error::Gpu(format!("the window's event loop failed: {e}")))?;
    match app.error.take() {
        Some(e) => Err(e),
        None => {
            let seconds = app.started.elapsed().as_secs_f64();
            // The first frames compile shaders: the rate counts from the tenth frame.
            let rate = if app.frames > WARMUP_FRAMES {
                (app.frames - WARMUP_FRAMES) as f64 / (seconds - app.warmup).max(1e-9)
            } else {
                app.frames as f64 / seconds.max(1e-9)
            };
            println!("{} frames, {rate:.1} fps", app.frames);
            if app.options.verbose {
                let run = app.stats.whole_run();
                println!("{}", describe(&run, app.options.size));
            }
            Ok(())
        }
    }
}

/// A run's or the panel's figures in one line.
fn describe(s: &Summary, (width, height): (u32, u32)) -> String {
    format!(
        "{} frames at {:.1} fps; frame time {}; latency (input to frame done) {}; shown at \
         {:.0}% of {width}x{height} or more (median {:.0}%), marching {:.1}% of its pixels a \
         frame (median)",
        s.frames,
        s.fps,
        s.frame_time.millis(),
        s.latency.millis(),
        s.min_scale * 100.0,
        s.median_scale * 100.0,
        s.median_marched * 100.0
    )
}

/// Surface, renderer, blit and egui: everything that needs the window.
struct Graphics {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    renderer: Renderer,
    /// Volume kinds' temporal view, sized for the window.
    temporal: Option<TemporalStage>,
    blit: Blit,
    /// The controls, drawn when they change and laid over every frame by the blit.
    overlay: Overlay,
    /// Plane kinds: what the window shows.
    plane_display: Option<PlaneDisplay>,
    egui_ctx: egui::Context,
    egui_state: egui_winit::State,
    egui_renderer: egui_wgpu::Renderer,
}

/// The frame drawn over the window, and the controls over it.
struct Blit {
    frame: wgpu::RenderPipeline,
    /// The controls, blended within the rectangle they cover (shaders/post/blit.wgsl).
    overlay: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    params: wgpu::Buffer,
}

impl Blit {
    fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("blit"),
            source: wgpu::ShaderSource::Wgsl(crate::shader!("post/blit.wgsl").into()),
        });
        let texture = |binding, visibility| wgpu::BindGroupLayoutEntry {
            binding,
            visibility,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        };
        let both = wgpu::ShaderStages::VERTEX_FRAGMENT;
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("blit"),
            entries: &[
                texture(0, both),
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: both,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                texture(3, wgpu::ShaderStages::FRAGMENT),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("blit"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        // A surface that encodes sRGB itself gets decoded values (a constant, not a branch).
        let constants = [("DECODE", f64::from(u8::from(format.is_srgb())))];
        let pipeline = |entry: &str, blend: Option<wgpu::BlendState>| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some("vs_main"),
                    compilation_options: Default::default(),
                    buffers: &[],
                },
                fragment: Some(wgpu::FragmentState {
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: &constants,
                        ..Default::default()
                    },
                    targets: &[Some(wgpu::ColorTargetState {
                        format,
                        blend,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                primitive: Default::default(),
                depth_stencil: None,
                multisample: Default::default(),
                multiview_mask: None,
                cache: None,
            })
        };
        let frame = pipeline("fs_main", None);
        let overlay = pipeline(
            "fs_overlay",
            Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
        );
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("blit params"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Blit {
            frame,
            overlay,
            layout,
            sampler,
            params,
        }
    }
}

/// Plane kinds: a window-sized texture holding the last complete image (a copy of the
/// renderer's 8-bit target) in its top left corner, so that the window keeps showing it while
/// the next full-resolution sample is rendered a band at a time.
struct PlaneDisplay {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    /// The part of the texture the image fills, per axis.
    region: [f32; 2],
}

impl PlaneDisplay {
    fn new(device: &wgpu::Device, size: (u32, u32)) -> Self {
        let texture = texture_2d(
            device,
            "plane display",
            size,
            wgpu::TextureFormat::Rgba8Unorm,
            wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::TEXTURE_BINDING,
        );
        PlaneDisplay {
            view: texture.create_view(&wgpu::TextureViewDescriptor::default()),
            texture,
            region: [1.0, 1.0],
        }
    }
}

impl Graphics {
    /// Copies the renderer's complete `size` image into the plane display.
    fn show_plane(&mut self, (width, height): (u32, u32)) {
        let window = (self.config.width, self.config.height);
        let device = &self.renderer.gpu().device;
        let fits = self.plane_display.as_ref().is_some_and(|d| {
            let s = d.texture.size();
            (s.width, s.height) == window
        });
        if !fits {
            self.plane_display = Some(PlaneDisplay::new(device, window));
        }
        let display = self.plane_display.as_mut().expect("just made");
        let (width, height) = (width.min(window.0), height.min(window.1));
        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_texture(
            self.renderer.render_on_gpu_texture().as_image_copy(),
            display.texture.as_image_copy(),
            wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
        );
        self.renderer.gpu().queue.submit([encoder.finish()]);
        display.region = [
            width as f32 / window.0 as f32,
            height as f32 / window.1 as f32,
        ];
    }
}

/// A window-sized texture holding the controls over transparency (premultiplied alpha, the
/// surface's format, so egui's pipeline draws into it as into the window).
struct Overlay {
    view: wgpu::TextureView,
    size: (u32, u32),
    policy: RedrawPolicy<egui::epaint::ClippedShape>,
    /// The pixels the controls cover (x, y, width, height); None: nothing drawn.
    painted: Option<[u32; 4]>,
}

impl Overlay {
    fn new(device: &wgpu::Device, format: wgpu::TextureFormat, size: (u32, u32)) -> Self {
        let texture = texture_2d(
            device,
            "controls overlay",
            size,
            format,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
        );
        Overlay {
            view: texture.create_view(&wgpu::TextureViewDescriptor::default()),
            size,
            policy: RedrawPolicy::default(),
            painted: None,
        }
    }
}

struct App {
    options: ExploreOptions,
    gfx: Option<Graphics>,
    scene: Scene,
    fly: FlyController,
    held: HashSet<KeyCode>,
    look_delta: [f64; 2],
    scroll: f64,
    dragging: bool,
    cursor: Option<(f64, f64)>,
    recorder: Recorder,
    /// Playing the recording: (wall clock start, path time at start).
    playing: Option<(Instant, f64)>,
    scrub: f64,
    /// Plane kinds: fraction of the window's resolution rendered while moving.
    scale: f64,
    /// Volume kinds: the level of resolution, stepped to hold the frame time.
    level: LevelControl,
    /// Volume kinds: the frame shown (None before the first), frames of the phase cycle so far,
    /// and frames marched since the view settled.
    view: Option<TemporalFrame>,
    cycle: u64,
    still_frames: u64,
    /// What the temporal history depends on besides the camera: kind, parameters and look.
    content: Option<(&'static str, Vec<u8>, crate::scene::Look)>,
    /// Whether the last frame marched (its time tells the level control something).
    marched: bool,
    stats: FrameStats,
    last_change: Instant,
    /// Samples accumulated at full resolution since the view last changed.
    accumulated: u32,
    /// Plane kinds: the next full-resolution sample is rendered a band of rows a frame, so
    /// that no frame blocks the input for long; the row it has reached, the rows of the next
    /// band, and the rows the last frame rendered (None: it rendered no band).
    band_row: u32,
    band_rows: u32,
    last_band: Option<u32>,
    /// The size of what the texture being shown holds.
    shown: Option<(u32, u32)>,
    last_frame: Instant,
    frame_time: f64,
    frames: u64,
    started: Instant,
    /// Seconds from the start to the tenth frame.
    warmup: f64,
    message: String,
    error: Option<Error>,
    /// dev-shaders: the shader text last drawn with, to redraw when a file changes.
    #[cfg(feature = "dev-shaders")]
    last_source: String,
}

impl App {
    fn new(options: ExploreOptions) -> Self {
        let scene = match &options.path {
            Some(p) => p.sample(0.0),
            None => options.scene.clone(),
        };
        let recorder = match &options.path {
            Some(p) => Recorder::from_path(p),
            None => Recorder::new(scene.clone()),
        };
        App {
            fly: FlyController::new(&scene.camera),
            scene,
            options,
            gfx: None,
            held: HashSet::new(),
            look_delta: [0.0, 0.0],
            scroll: 0.0,
            dragging: false,
            cursor: None,
            recorder,
            playing: None,
            scrub: 0.0,
            scale: 0.5,
            level: LevelControl::new(resolution::CPU_LEVEL),
            view: None,
            cycle: 0,
            still_frames: 0,
            content: None,
            marched: false,
            stats: FrameStats::default(),
            last_change: Instant::now(),
            accumulated: 0,
            band_row: 0,
            band_rows: BAND_ROWS,
            last_band: None,
            shown: None,
            last_frame: Instant::now(),
            frame_time: 0.0,
            frames: 0,
            started: Instant::now(),
            warmup: 0.0,
            message: "WASD/arrows fly, Q/E down/up, Z/C roll, drag to look, wheel: speed; \
                      K key, Space play, P screenshot"
                .into(),
            error: None,
            #[cfg(feature = "dev-shaders")]
            last_source: String::new(),
        }
    }

    fn fail(&mut self, event_loop: &ActiveEventLoop, e: Error) {
        self.error = Some(e);
        event_loop.exit();
    }

    fn init(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let (w, h) = self.options.size;
        let window = Arc::new(
            event_loop
                .create_window(
                    Window::default_attributes()
                        .with_title("mandelfly")
                        .with_inner_size(winit::dpi::PhysicalSize::new(w, h)),
                )
                .map_err(|e| Error::Gpu(format!("cannot create the window: {e}")))?,
        );
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_with_display_handle_from_env(
                Box::new(event_loop.owned_display_handle()),
            ));
        let surface = instance
            .create_surface(window.clone())
            .map_err(|e| Error::Gpu(format!("cannot draw into the window: {e}")))?;
        let gpu = GpuContext::for_surface(instance, &self.options.gpu, &surface)?;
        let caps = surface.get_capabilities(&gpu.adapter);
        // The frame holds sRGB-encoded values: a plain (non-sRGB) format shows them as they are.
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or_else(|| caps.formats.first().copied())
            .ok_or_else(|| Error::Gpu("the window's surface offers no format".into()))?;
        let size = window.inner_size();
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            width: size.width.max(1),
            height: size.height.max(1),
            present_mode: wgpu::PresentMode::AutoVsync,
            desired_maximum_frame_latency: 2,
            alpha_mode: caps.alpha_modes[0],
            view_formats: vec![],
            color_space: wgpu::SurfaceColorSpace::Auto,
        };
        surface.configure(&gpu.device, &config);
        let blit = Blit::new(&gpu.device, format);
        let overlay = Overlay::new(&gpu.device, format, (config.width, config.height));
        let egui_ctx = egui::Context::default();
        let egui_state = egui_winit::State::new(
            egui_ctx.clone(),
            egui::ViewportId::ROOT,
            &window,
            Some(window.scale_factor() as f32),
            None,
            None,
        );
        let egui_renderer = egui_wgpu::Renderer::new(&gpu.device, format, Default::default());
        if gpu.adapter.get_info().device_type != wgpu::DeviceType::Cpu {
            self.level = LevelControl::new(resolution::GPU_LEVEL);
        }
        self.gfx = Some(Graphics {
            window,
            surface,
            config,
            renderer: Renderer::new(gpu),
            temporal: None,
            blit,
            overlay,
            plane_display: None,
            egui_ctx,
            egui_state,
            egui_renderer,
        });
        Ok(())
    }

    fn input(&mut self) -> FlyInput {
        if self.options.autopilot {
            return FlyInput {
                forward: true,
                look: [2.0, 0.5],
                ..Default::default()
            };
        }
        let k = |code: KeyCode| self.held.contains(&code);
        let input = FlyInput {
            forward: k(KeyCode::KeyW) || k(KeyCode::ArrowUp),
            back: k(KeyCode::KeyS) || k(KeyCode::ArrowDown),
            left: k(KeyCode::KeyA) || k(KeyCode::ArrowLeft),
            right: k(KeyCode::KeyD) || k(KeyCode::ArrowRight),
            up: k(KeyCode::KeyE),
            down: k(KeyCode::KeyQ),
            roll_left: k(KeyCode::KeyZ),
            roll_right: k(KeyCode::KeyC),
            look: self.look_delta,
            scroll: self.scroll,
        };
        self.look_delta = [0.0, 0.0];
        self.scroll = 0.0;
        input
    }

    /// Plane kinds: keys pan (a view height a second), Q/E and the wheel zoom.
    fn update_plane(&mut self, input: &FlyInput, dt: f64) -> bool {
        let v = &mut self.scene.plane;
        let axis = |a: bool, b: bool| (a as i32 - b as i32) as f64;
        let pan = glam::DVec2::new(
            axis(input.right, input.left),
            axis(input.forward, input.back),
        );
        let zoom = axis(input.down, input.up) * dt + input.scroll * 0.1;
        let drag = glam::DVec2::new(-input.look[0], input.look[1]) / 720.0;
        if pan == glam::DVec2::ZERO && zoom == 0.0 && drag == glam::DVec2::ZERO {
            return false;
        }
        v.pan(pan * dt + drag);
        v.zoom = v.zoom.scale(2f64.powf(zoom));
        true
    }

    fn screenshot(&mut self, file: PathBuf) -> Result<PathBuf> {
        let gfx = self.gfx.as_mut().expect("window open");
        let (w, h) = (gfx.config.width, gfx.config.height);
        let out = AtomicFile::create(&file)?;
        let frame = gfx.renderer.render(&self.scene, w, h, Passes::COLOR)?;
        png::write_color(out, w, h, &frame.color)?;
        // That render used the targets the window accumulates in: start the view again.
        self.shown = None;
        self.accumulated = 0;
        self.band_row = 0;
        Ok(file)
    }

    fn ui(&mut self, ctx: &egui::Context) -> bool {
        let mut changed = false;
        let recent = self.stats.recent();
        let wh = self.gfx.as_ref().map_or(1, |g| g.config.height);
        let resolution = match (&self.view, self.scene.fractal.is_plane()) {
            (Some(v), false) => {
                let (mw, mh) = v.march_size();
                let per_pixel = (self.still_frames / (v.block * v.block) as u64).max(1);
                format!(
                    "shown {}x{} ({:.0}% of the window), marching {mw}x{mh} a frame; {} \
                     samples",
                    v.history.0,
                    v.history.1,
                    100.0 * v.history.1 as f64 / wh as f64,
                    if self.still_frames > 0 { per_pixel } else { 1 }
                )
            }
            _ if self.band_row > 0 => format!(
                "100% resolution, {} samples, the next {:.0}% done",
                self.accumulated,
                100.0 * self.band_row as f64 / wh as f64
            ),
            _ if self.accumulated > 0 => {
                format!("100% resolution, {} samples", self.accumulated)
            }
            _ => format!("{:.0}% resolution", self.scale * 100.0),
        };
        let scene = &mut self.scene;
        egui::Window::new("mandelfly")
            .default_pos([10.0, 10.0])
            .default_width(260.0)
            .show(ctx, |ui| {
                ui.label(format!(
                    "{:.1} fps; frame time {}",
                    recent.fps,
                    recent.frame_time.millis()
                ));
                ui.label(format!("input latency {}", recent.latency.millis()));
                ui.label(resolution);
                egui::CollapsingHeader::new(format!("Fractal: {}", scene.fractal.kind()))
                    .default_open(true)
                    .show(ui, |ui| {
                        // Switching kind starts from its defaults and its own camera.
                        let mut kind = scene.fractal.kind();
                        egui::ComboBox::from_label("kind")
                            .selected_text(kind)
                            .show_ui(ui, |ui| {
                                for entry in crate::fractal::REGISTRY {
                                    ui.selectable_value(&mut kind, entry.name, entry.name);
                                }
                            });
                        if kind != scene.fractal.kind()
                            && let Some(entry) = crate::fractal::find_kind(kind)
                        {
                            scene.fractal = (entry.default)();
                            scene.camera = scene.fractal.scene_camera();
                            scene.plane = crate::plane::PlaneView::default();
                            self.fly = FlyController::new(&scene.camera);
                            changed = true;
                        }
                        for (name, value) in scene.fractal.params() {
                            let mut v = value;
                            let integer =
                                super::look_panel::is_integer_param(scene.fractal.as_ref(), &name);
                            ui.horizontal(|ui| {
                                ui.label(&name);
                                let drag = if integer {
                                    egui::DragValue::new(&mut v).speed(0.5).fixed_decimals(0)
                                } else {
                                    let speed = (v.abs() * 0.01).max(1e-4);
                                    egui::DragValue::new(&mut v).speed(speed)
                                };
                                if ui.add(drag).changed() {
                                    let mut trial = scene.fractal.clone();
                                    trial.set_param(&name, v);
                                    if trial.validate().is_ok() {
                                        scene.fractal = trial;
                                        changed = true;
                                    }
                                }
                            });
                        }
                    });
                let plane = scene.fractal.is_plane();
                egui::CollapsingHeader::new("Look").show(ui, |ui| {
                    changed |= super::look_panel::show(ui, &mut scene.look, plane);
                });
                egui::CollapsingHeader::new("Camera").show(ui, |ui| {
                    if scene.fractal.is_plane() {
                        let v = &scene.plane;
                        ui.label(format!("center {:.15} {:.15}", v.center.x, v.center.y));
                        ui.label(format!("zoom {:e}", v.zoom));
                    } else {
                        let c = self.fly.camera();
                        let p = c.position;
                        let f = c.basis().forward;
                        ui.label(format!("position {:.5} {:.5} {:.5}", p.x, p.y, p.z));
                        ui.label(format!("forward {:.3} {:.3} {:.3}", f.x, f.y, f.z));
                        ui.label(format!(
                            "distance to surface {:.3e}",
                            scene
                                .fractal
                                .volume()
                                .map_or(f64::INFINITY, |v| v.distance(p).distance)
                        ));
                        ui.add(
                            egui::Slider::new(&mut self.fly.speed, 0.01..=100.0)
                                .logarithmic(true)
                                .text("speed"),
                        );
                        changed |= ui
                            .add(egui::Slider::new(&mut self.fly.fov, 5.0..=120.0).text("fov"))
                            .changed();
                    }
                });
                egui::CollapsingHeader::new("Recording")
                    .default_open(true)
                    .show(ui, |ui| {
                        ui.label(format!(
                            "{} keys, {:.1} s",
                            self.recorder.keys.len(),
                            self.recorder.duration()
                        ));
                        if !self.recorder.keys.is_empty() {
                            let times: Vec<String> = self
                                .recorder
                                .keys
                                .iter()
                                .map(|k| format!("{:.1}", k.time))
                                .collect();
                            ui.label(format!("keys at {} s", times.join(", ")));
                        }
                        ui.horizontal(|ui| {
                            if ui.button("Add key (K)").clicked() {
                                self.recorder.add(scene);
                            }
                            if ui.button("Replace").clicked()
                                && let Some(i) = self.recorder.nearest(self.scrub)
                            {
                                self.recorder.replace(i, scene);
                            }
                            if ui.button("Delete").clicked()
                                && let Some(i) = self.recorder.nearest(self.scrub)
                            {
                                self.recorder.remove(i);
                            }
                        });
                        ui.add(
                            egui::DragValue::new(&mut self.recorder.spacing)
                                .range(0.1..=60.0)
                                .prefix("spacing ")
                                .suffix(" s"),
                        );
                        let duration = self.recorder.duration();
                        if duration > 0.0 {
                            let scrubbed = ui
                                .add(egui::Slider::new(&mut self.scrub, 0.0..=duration).text("t"))
                                .changed();
                            if scrubbed && let Ok(path) = self.recorder.path() {
                                *scene = path.sample(self.scrub);
                                self.fly = FlyController::new(&scene.camera);
                                changed = true;
                            }
                        }
                        ui.horizontal(|ui| {
                            let label = if self.playing.is_some() {
                                "Pause"
                            } else {
                                "Play (Space)"
                            };
                            if ui.button(label).clicked() {
                                self.playing = match self.playing {
                                    Some(_) => None,
                                    None => Some((Instant::now(), self.scrub)),
                                };
                            }
                            if ui.button("Save").clicked() {
                                self.message = match save(&self.recorder, &self.options.save_to) {
                                    Ok(()) => format!("saved {}", self.options.save_to.display()),
                                    Err(e) => e.to_string(),
                                };
                            }
                        });
                        ui.label(format!("saves to {}", self.options.save_to.display()));
                    });
                let shader_error = self
                    .gfx
                    .as_ref()
                    .and_then(|g| g.renderer.shader_error.clone());
                if let Some(e) = shader_error {
                    ui.colored_label(egui::Color32::LIGHT_RED, e);
                }
                ui.label(&self.message);
            });
        changed
    }

    fn frame(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let now = Instant::now();
        let interval = (now - self.last_frame).as_secs_f64();
        let dt = interval.min(0.25);
        self.last_frame = now;
        self.frame_time = if self.frame_time == 0.0 {
            dt
        } else {
            0.9 * self.frame_time + 0.1 * dt
        };
        if self.marched && self.level.record(interval, TARGET_FRAME) {
            // A new size: what the history holds carries over, re-projected.
            self.still_frames = 0;
        }

        let input = self.input();
        let step = if self.options.autopilot {
            AUTOPILOT_STEP
        } else {
            dt
        };
        let mut changed = false;
        if let Some((start, t0)) = self.playing {
            let path = self.recorder.path()?;
            let t = t0 + start.elapsed().as_secs_f64();
            if t >= path.duration() {
                self.playing = None;
            }
            self.scrub = t.min(path.duration());
            self.scene = path.sample(self.scrub);
            self.fly = FlyController::new(&self.scene.camera);
            changed = true;
        } else if self.scene.fractal.is_plane() {
            changed |= self.update_plane(&input, step);
        } else {
            changed |= self.fly.update(&input, step, self.scene.fractal.as_ref());
            self.scene.camera = self.fly.camera();
        }

        let gfx = self.gfx.as_mut().expect("window open");
        let raw_input = gfx.egui_state.take_egui_input(&gfx.window);
        let ctx = gfx.egui_ctx.clone();
        let mut ui_changed = false;
        let full_output = ctx.run_pass(raw_input, |ctx| ui_changed = self.ui(ctx));
        // Something in the panel is in use: it shows at once (else readouts are throttled).
        let interacting = ctx.is_pointer_over_egui()
            || ctx.egui_is_using_pointer()
            || ctx.egui_wants_keyboard_input();
        if ui_changed && !self.scene.fractal.is_plane() {
            self.scene.camera = self.fly.camera();
        }
        changed |= ui_changed;
        let gfx = self.gfx.as_mut().expect("window open");
        gfx.egui_state
            .handle_platform_output(&gfx.window, full_output.platform_output);

        #[allow(unused_mut)]
        let mut content = (
            self.scene.fractal.kind(),
            self.scene.fractal.uniform_bytes(),
            self.scene.look.clone(),
        );
        #[cfg(feature = "dev-shaders")]
        {
            // An edited shader file: draw again (and refine again) with the new text.
            let f = self.scene.fractal.as_ref();
            let source = if f.is_plane() {
                crate::gpu::shaders::plane_source(f, false)
            } else {
                crate::gpu::shaders::render_source(f)
            };
            if source != self.last_source {
                self.last_source = source;
                changed = true;
                // Nothing the old shader drew holds.
                content.1.clear();
            }
        }
        let content_changed = self.content.as_ref() != Some(&content);
        self.content = Some(content);
        changed |= content_changed;
        if changed {
            self.last_change = now;
            self.accumulated = 0;
            self.band_row = 0;
        }
        let (scale, marched) = if self.scene.fractal.is_plane() {
            self.view = None;
            self.marched = false;
            self.render_plane(changed, now, dt)?
        } else {
            self.render_volume(content_changed, now)?
        };
        let submission = self.present(
            full_output.shapes,
            full_output.textures_delta,
            full_output.pixels_per_point,
            interacting,
        )?;
        // The next frame reads its input once this one is done: what the input changed shows
        // within a frame, and no frames queue up behind it.
        let gfx = self.gfx.as_ref().expect("window open");
        gfx.renderer.gpu().wait(submission)?;
        let latency = now.elapsed().as_secs_f64();

        self.frames += 1;
        self.stats.push(
            FrameRecord {
                interval,
                latency,
                scale,
                marched,
            },
            self.frames > WARMUP_FRAMES,
        );
        if self.frames == WARMUP_FRAMES {
            self.warmup = self.started.elapsed().as_secs_f64();
        }
        if self.options.exit_after.is_some_and(|n| self.frames >= n) {
            if let Some(file) = self.options.screenshot.clone() {
                self.screenshot(file)?;
            }
            event_loop.exit();
        }
        Ok(())
    }

    /// Volume kinds: marches one frame of the temporal view, bounded in cost whether the view
    /// moves or refines; returns the fractions of the window's resolution shown and of its
    /// pixels marched.
    fn render_volume(&mut self, content_changed: bool, now: Instant) -> Result<(f64, f64)> {
        let gfx = self.gfx.as_mut().expect("window open");
        let window = (gfx.config.width, gfx.config.height);
        if gfx.temporal.as_ref().is_none_or(|t| t.capacity() != window) {
            gfx.temporal = Some(TemporalStage::new(gfx.renderer.gpu(), window.0, window.1)?);
        }
        let temporal = gfx.temporal.as_mut().expect("just made");
        if content_changed {
            temporal.reset();
        }
        let moving = (now - self.last_change).as_secs_f64() < SETTLE;
        let (history, block) = resolution::layout(self.level.level(), window, moving);
        let cycle = (block * block) as u64;
        let (phase, offset, max_samples) = if moving {
            self.still_frames = 0;
            (block_phase(self.cycle, block), [0.0, 0.0], MOVING_SAMPLES)
        } else {
            if self.still_frames >= cycle * MAX_SAMPLES as u64 {
                // Refined: every pixel holds its samples; show the history as it is.
                self.marched = false;
                return Ok((1.0, 0.0));
            }
            let k = self.still_frames;
            self.still_frames += 1;
            // Each pass over the block samples its pixels once more, at a new offset within
            // them (anti-aliasing); the first at their centres, as while moving.
            let sample = (k / cycle) as u32;
            let offset = if sample == 0 {
                [0.0, 0.0]
            } else {
                sample_jitter(sample, MAX_SAMPLES)
            };
            (block_phase(k, block), offset, MAX_SAMPLES)
        };
        let frame = TemporalFrame {
            history,
            block,
            phase,
            offset,
            max_samples,
        };
        gfx.renderer
            .render_reprojected(&self.scene, &frame, self.cycle as u32, temporal)?;
        self.cycle += 1;
        self.view = Some(frame);
        self.marched = true;
        let (mw, mh) = frame.march_size();
        Ok((
            history.1 as f64 / window.1 as f64,
            (mw * mh) as f64 / (window.0 * window.1) as f64,
        ))
    }

    /// Plane kinds: while the view changes, a fraction of the window's resolution adapted to
    /// hold the target frame rate; still, full resolution, one more jittered sample each frame.
    /// Returns the fractions of the window's resolution shown and of its pixels iterated.
    fn render_plane(&mut self, changed: bool, now: Instant, dt: f64) -> Result<(f64, f64)> {
        let gfx = self.gfx.as_mut().expect("window open");
        let (ww, wh) = (gfx.config.width, gfx.config.height);
        let still_for = (now - self.last_change).as_secs_f64();
        let render = if changed || self.shown.is_none() || still_for < SETTLE {
            if changed && dt > 0.0 {
                let factor = (TARGET_FRAME / dt).sqrt().clamp(0.8, 1.25);
                self.scale = (self.scale * factor).clamp(0.1, 1.0);
            }
            let w = ((ww as f64 * self.scale) as u32).max(16);
            let h = ((wh as f64 * self.scale) as u32).max(9);
            let (w, h) = (w.min(ww), h.min(wh));
            (self.shown != Some((w, h)) || changed).then_some((w, h, None))
        } else if self.accumulated < MAX_SAMPLES {
            Some((ww, wh, Some(self.accumulated)))
        } else {
            None
        };
        let mut iterated = 0.0;
        let mut band = None;
        match render {
            Some((w, h, None)) => {
                gfx.renderer.render_on_gpu(
                    &[Sample {
                        scene: &self.scene,
                        jitter: [0.0, 0.0],
                    }],
                    w,
                    h,
                    None,
                )?;
                gfx.show_plane((w, h));
                self.shown = Some((w, h));
                iterated = (w * h) as f64 / (ww * wh) as f64;
            }
            Some((w, h, Some(k))) => {
                if let Some(rows) = self.last_band {
                    self.band_rows =
                        resolution::next_band_rows(rows, dt, TARGET_FRAME, BAND_ROWS, h);
                }
                let first = self.band_row;
                let rows = self.band_rows.min(h - first);
                let complete = first + rows == h;
                let jitter = if k > 0 {
                    sample_jitter(k, MAX_SAMPLES)
                } else {
                    [0.0, 0.0]
                };
                gfx.renderer.render_band_on_gpu(
                    Sample {
                        scene: &self.scene,
                        jitter,
                    },
                    (w, h),
                    k,
                    (first, rows),
                    complete,
                )?;
                band = Some(rows);
                iterated = rows as f64 / wh as f64;
                if complete {
                    // Until its last band, the window shows what it showed before.
                    gfx.show_plane((w, h));
                    self.shown = Some((w, h));
                    self.accumulated += 1;
                    self.band_row = 0;
                } else {
                    self.band_row += rows;
                }
            }
            None => {}
        }
        self.last_band = band;
        let shown = self.shown.map_or(0.0, |(_, h)| h as f64 / wh as f64);
        Ok((shown, iterated))
    }

    /// Draws the frame and the controls into the window; returns the submission to wait for
    /// (None when the surface gave no image this time).
    fn present(
        &mut self,
        shapes: Vec<egui::epaint::ClippedShape>,
        mut textures: egui::TexturesDelta,
        pixels_per_point: f32,
        interacting: bool,
    ) -> Result<Option<wgpu::SubmissionIndex>> {
        let gfx = self.gfx.as_mut().expect("window open");
        let device = gfx.renderer.gpu().device.clone();
        let queue = gfx.renderer.gpu().queue.clone();
        // egui's texture changes apply whether or not this frame reaches the screen.
        for (id, deltas) in &textures.set {
            for delta in deltas.iter() {
                gfx.egui_renderer
                    .update_texture(&device, &queue, *id, delta);
            }
        }
        let textures_changed = !textures.set.is_empty() || !textures.free.is_empty();
        let freed = std::mem::take(&mut textures.free);
        textures.clear();
        for id in &freed {
            gfx.egui_renderer.free_texture(id);
        }
        let surface_texture = match gfx.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            // Lost or outdated (a resize, a display change): configure again, draw next time.
            wgpu::CurrentSurfaceTexture::Lost | wgpu::CurrentSurfaceTexture::Outdated => {
                gfx.surface
                    .configure(&gfx.renderer.gpu().device, &gfx.config);
                return Ok(None);
            }
            // Minimised, covered or slow: skip this frame.
            _ => return Ok(None),
        };
        let target = surface_texture
            .texture
            .create_view(&wgpu::TextureViewDescriptor::default());
        let window_size = (gfx.config.width, gfx.config.height);
        if gfx.overlay.size != window_size {
            gfx.overlay = Overlay::new(&device, gfx.config.format, window_size);
        }
        let mut encoder = device.create_command_encoder(&Default::default());
        let mut extra = Vec::new();
        if gfx
            .overlay
            .policy
            .decide(&shapes, textures_changed, interacting, Instant::now())
        {
            let paint_jobs = gfx.egui_ctx.tessellate(shapes, pixels_per_point);
            gfx.overlay.painted = painted_rect(&paint_jobs, pixels_per_point, window_size);
            let screen = egui_wgpu::ScreenDescriptor {
                size_in_pixels: [gfx.config.width, gfx.config.height],
                pixels_per_point,
            };
            extra = gfx.egui_renderer.update_buffers(
                &device,
                &queue,
                &mut encoder,
                &paint_jobs,
                &screen,
            );
            let mut pass = encoder
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("controls"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: &gfx.overlay.view,
                        resolve_target: None,
                        depth_slice: None,
                        ops: wgpu::Operations {
                            load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                            store: wgpu::StoreOp::Store,
                        },
                    })],
                    depth_stencil_attachment: None,
                    timestamp_writes: None,
                    occlusion_query_set: None,
                    multiview_mask: None,
                })
                .forget_lifetime();
            gfx.egui_renderer.render(&mut pass, &paint_jobs, &screen);
        }
        // The temporal view's history fills the start of a window-sized texture.
        let (frame_view, region) = match (&gfx.temporal, &self.view) {
            (Some(t), Some(v)) if !self.scene.fractal.is_plane() => (
                &t.display.srgb8_sampled_view,
                [
                    v.history.0 as f32 / t.display.width as f32,
                    v.history.1 as f32 / t.display.height as f32,
                ],
            ),
            _ => match &gfx.plane_display {
                Some(d) => (&d.view, d.region),
                None => (gfx.renderer.render_on_gpu_view(), [1.0, 1.0]),
            },
        };
        queue.write_buffer(
            &gfx.blit.params,
            0,
            bytemuck::cast_slice(&[region[0], region[1], 0.0, 0.0]),
        );
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("blit"),
            layout: &gfx.blit.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(frame_view),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Sampler(&gfx.blit.sampler),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: gfx.blit.params.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::TextureView(&gfx.overlay.view),
                },
            ],
        });
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("window"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &target,
                    resolve_target: None,
                    depth_slice: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_pipeline(&gfx.blit.frame);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.draw(0..3, 0..1);
            if let Some([x, y, width, height]) = gfx.overlay.painted {
                pass.set_pipeline(&gfx.blit.overlay);
                pass.set_scissor_rect(x, y, width, height);
                pass.draw(0..3, 0..1);
            }
        }
        let submission = queue.submit(extra.into_iter().chain([encoder.finish()]));
        gfx.window.pre_present_notify();
        queue.present(surface_texture);
        Ok(Some(submission))
    }
}

fn save(recorder: &Recorder, file: &std::path::Path) -> Result<()> {
    recorder.path()?;
    let text = recorder.to_toml();
    AtomicFile::create(file)?
        .commit(|w| std::io::Write::write_all(w, text.as_bytes()).map_err(|e| Error::io(file, e)))
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.gfx.is_none()
            && let Err(e) = self.init(event_loop)
        {
            self.fail(event_loop, e);
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        let Some(gfx) = self.gfx.as_mut() else {
            return;
        };
        let consumed = gfx.egui_state.on_window_event(&gfx.window, &event).consumed;
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::Resized(size) if size.width > 0 && size.height > 0 => {
                gfx.config.width = size.width;
                gfx.config.height = size.height;
                gfx.surface
                    .configure(&gfx.renderer.gpu().device, &gfx.config);
                self.shown = None;
                self.accumulated = 0;
                self.band_row = 0;
                self.still_frames = 0;
            }
            WindowEvent::RedrawRequested => {
                if let Err(e) = self.frame(event_loop) {
                    self.fail(event_loop, e);
                }
            }
            _ if consumed => {}
            WindowEvent::KeyboardInput { event, .. } => {
                let PhysicalKey::Code(code) = event.physical_key else {
                    return;
                };
                match event.state {
                    ElementState::Pressed => {
                        if !event.repeat {
                            match code {
                                KeyCode::KeyK => self.recorder.add(&self.scene),
                                KeyCode::Space => {
                                    self.playing = match self.playing {
                                        Some(_) => None,
                                        None => Some((Instant::now(), 0.0)),
                                    }
                                }
                                KeyCode::KeyP | KeyCode::F12 => {
                                    let name = PathBuf::from(format!(
                                        "mandelfly-{}.png",
                                        std::time::SystemTime::now()
                                            .duration_since(std::time::UNIX_EPOCH)
                                            .map_or(0, |d| d.as_secs())
                                    ));
                                    self.message = match self.screenshot(name) {
                                        Ok(f) => format!("wrote {}", f.display()),
                                        Err(e) => e.to_string(),
                                    };
                                }
                                _ => {}
                            }
                        }
                        self.held.insert(code);
                    }
                    ElementState::Released => {
                        self.held.remove(&code);
                    }
                }
            }
            WindowEvent::MouseInput {
                state,
                button: MouseButton::Left,
                ..
            } => {
                self.dragging = state == ElementState::Pressed;
            }
            WindowEvent::CursorMoved { position, .. } => {
                if let Some((x, y)) = self.cursor
                    && self.dragging
                {
                    self.look_delta[0] += position.x - x;
                    self.look_delta[1] += position.y - y;
                }
                self.cursor = Some((position.x, position.y));
            }
            WindowEvent::MouseWheel { delta, .. } => {
                self.scroll += match delta {
                    MouseScrollDelta::LineDelta(_, y) => y as f64,
                    MouseScrollDelta::PixelDelta(p) => p.y / 40.0,
                };
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, _: &ActiveEventLoop) {
        if let Some(gfx) = &self.gfx {
            gfx.window.request_redraw();
        }
    }
}
