//! The map's chunks, computed on the GPU when a frame first needs them and kept in a ring of
//! `window` chunks (so memory is bounded whatever the depth). A chunk is computed as a view
//! centred on the map's centre, by the plane kind's own per-pixel module (direct iteration, or
//! perturbation with BLA where the chunk's innermost samples need it) with shaders/zoommap/
//! map.wgsl placing the samples on their rows and storing them, packed, as level 0 of the
//! chunk's ring slot; shaders/zoommap/mip.wgsl then reduces its mip levels. Perturbation uses
//! one reference orbit for the whole dive: the first deep chunk asks for one precise enough
//! for the deepest chunk (every chunk has the same centre, so the reference stays valid all
//! the way down). With `--map-in` a chunk's level 0 is read from a map file instead (and its
//! mip levels made as for a computed one); with `--map-out` each chunk's level 0 is read back
//! once and handed to the file's writer (src/zoommap/file.rs).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytemuck::{Pod, Zeroable};

use super::file::{MapReader, MapWriter};
use super::plan::MapPlan;
use crate::deep::floatexp::FloatExp;
use crate::error::{Error, Result};
use crate::frame::Sample;
use crate::gpu::GpuContext;
use crate::gpu::deep::{DeepState, TextureAccess};
use crate::gpu::dispatch::spread_workgroups;
use crate::gpu::pipelines::{
    DisplayStandIn, parameter_entry, render_bind_group, render_offsets, storage_entry,
};
use crate::gpu::renderer::{PlaneArithmetic, plane_arithmetic};
use crate::gpu::shaders;
use crate::gpu::uniforms::{PlaneUniform, Tile};
use crate::path::CameraPath;
use crate::scene::Scene;

/// Side of the view a chunk is computed as, in pixels: the chunk's top radius is half of it.
const VIEW: u32 = 1024;
/// Bytes between the mip passes' uniform blocks (the dynamic-offset alignment).
const MIP_STRIDE: u64 = 256;
/// Bytes of a fractal uniform block (as the renderer's).
const FRACTAL_UNIFORM: u64 = 1024;

/// Twin of `Mip` in shaders/zoommap/mip.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct MipUniform {
    src_offset: u32,
    dst_offset: u32,
    src_width: u32,
    src_height: u32,
    dst_width: u32,
    dst_height: u32,
    _pad: [u32; 2],
}

/// What computing the map has cost so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct MapStats {
    pub chunks: u64,
    pub samples: u64,
    /// Wall time spent computing chunks (until their work was submitted and done), or
    /// reading them from a map file.
    pub time: Duration,
    /// Wall time spent reading chunks back for the map file and handing them to its writer.
    pub output_time: Duration,
}

pub struct MapStore {
    pub plan: MapPlan,
    path: CameraPath,
    /// `window` chunks, each with all its levels, in ring slots.
    store: wgpu::Buffer,
    /// What frames read: the levels of the current window's chunks that a frame can read
    /// ([`MapPlan::window_layout`]), as the words of a texture [`MapStore::texture_width`] words
    /// wide. A texture, not a storage buffer: lavapipe reads a storage
    /// buffer at per-lane addresses lane by lane, a texture with one gather. Its texels are
    /// `Rg32Uint`, a sample's two words: one gather per sample, not two.
    window: wgpu::Texture,
    /// How frames read it: as a read-only storage texture where the adapter allows (lavapipe
    /// reads a sampled texture's texel with a lookup of its mip level's size and offset lane
    /// by lane, a storage texture's without), else as a sampled one.
    pub window_access: TextureAccess,
    /// Group 1 of the frames' pipeline: the window's texture.
    pub window_layout: wgpu::BindGroupLayout,
    pub window_group: wgpu::BindGroup,
    /// The window the texture holds (first chunk, chunks), and per level where it lies there
    /// (`levels` of shaders/zoommap/assemble.wgsl's block).
    bound_window: Option<(u64, u64)>,
    pub levels: Vec<[u32; 4]>,
    /// Which chunk each ring slot holds.
    slots: Vec<Option<u64>>,
    deep: DeepState,
    /// The scene the reference orbit is made for: the deepest chunk's.
    deepest: Option<Scene>,
    pipelines: HashMap<PlaneArithmetic, wgpu::ComputePipeline>,
    mip_pipeline: wgpu::ComputePipeline,
    mip_layout: wgpu::BindGroupLayout,
    plane_uniform: wgpu::Buffer,
    fractal_uniform: wgpu::Buffer,
    mip_uniforms: wgpu::Buffer,
    /// Bound where the render layout wants the HDR frame, the aux channels and the evaluation
    /// counters, which the map's plane shaders do not use (the chunk's ring slot is bound at
    /// the ray marcher's cone starts).
    scratch: [wgpu::Buffer; 3],
    /// Bound where the render layout wants the display target, which they do not use either.
    display: DisplayStandIn,
    pub stats: MapStats,
    /// `--map-in`: chunks come from this file instead of being computed.
    input: Option<MapReader>,
    /// `--map-out`: each chunk's level 0 goes to this file once, and where it is read back.
    output: Option<(MapWriter, wgpu::Buffer)>,
}

/// The window texture's format: a sample's two words in one texel.
pub const WINDOW_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rg32Uint;

fn buffer(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage,
        mapped_at_creation: false,
    })
}

/// Words per row of the window's texture (two per texel): the widest power of two the device
/// allows, up to 16384 (a row of a few chunk rows).
fn texture_width(max_dimension: u32) -> u32 {
    2 << max_dimension.clamp(128, 8192).ilog2()
}

impl MapStore {
    pub fn new(gpu: &GpuContext, plan: MapPlan, path: &CameraPath) -> Result<Self> {
        let device = &gpu.device;
        let limits = device.limits();
        let store_bytes = plan.window as u64 * plan.chunk_stride();
        let binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let texture_width = texture_width(limits.max_texture_dimension_2d);
        let window_rows = plan.bound_rows(texture_width);
        let too_large = [
            (store_bytes, limits.max_buffer_size),
            (plan.chunk_stride(), binding),
            (
                window_rows * texture_width as u64 * 4,
                limits.max_texture_dimension_2d as u64 * texture_width as u64 * 4,
            ),
        ]
        .into_iter()
        .find(|(need, most)| need > most);
        if let Some((need, most)) = too_large {
            return Err(Error::Gpu(format!(
                "the zoom map at {}x{} needs a buffer of {:.0} MB, more than this GPU allows \
                 ({:.0} MB); use --method frames or a smaller --size",
                plan.width,
                plan.height,
                need as f64 / 1e6,
                most as f64 / 1e6
            )));
        }
        // The frames' pipeline binds the deep textures, the display target and this one.
        let deep = DeepState::new(gpu);
        let window_access = TextureAccess::for_formats(
            gpu,
            [WINDOW_FORMAT],
            deep.texture_access().storage_textures() + 2,
        );
        let window = crate::gpu::targets::texture_2d(
            device,
            "zoom map window",
            (texture_width / 2, window_rows.max(1) as u32),
            WINDOW_FORMAT,
            window_access.usage(),
        );
        let window_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("zoom map window"),
            entries: &[window_access.layout_entry(0, WINDOW_FORMAT)],
        });
        let window_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("zoom map window"),
            layout: &window_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::TextureView(
                    &window.create_view(&wgpu::TextureViewDescriptor::default()),
                ),
            }],
        });
        use wgpu::BufferUsages as U;
        let mip_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("zoom map mips"),
            entries: &[parameter_entry(0), storage_entry(1, false)],
        });
        let mip_pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("zoom map mips"),
            bind_group_layouts: &[Some(&mip_layout)],
            immediate_size: 0,
        });
        let mip_pipeline = gpu.compute_pipeline(
            "zoom map mips",
            &format!(
                "{}\n{}",
                crate::shader!("zoommap/sample.wgsl"),
                crate::shader!("zoommap/mip.wgsl")
            ),
            "mip_main",
            Some(&mip_pipeline_layout),
        )?;
        Ok(MapStore {
            store: buffer(
                device,
                "zoom map chunks",
                store_bytes,
                // COPY_DST: chunks read from a map file are written in.
                U::STORAGE | U::COPY_SRC | U::COPY_DST,
            ),
            window,
            window_access,
            window_layout,
            window_group,
            bound_window: None,
            levels: Vec::new(),
            slots: vec![None; plan.window as usize],
            deep,
            display: DisplayStandIn::new(&gpu.device),
            deepest: None,
            pipelines: HashMap::new(),
            mip_pipeline,
            mip_layout,
            plane_uniform: buffer(
                device,
                "zoom map view",
                std::mem::size_of::<PlaneUniform>() as u64,
                U::STORAGE | U::UNIFORM | U::COPY_DST,
            ),
            fractal_uniform: buffer(
                device,
                "zoom map fractal",
                FRACTAL_UNIFORM,
                U::UNIFORM | U::COPY_DST,
            ),
            mip_uniforms: buffer(
                device,
                "zoom map mip levels",
                MIP_STRIDE * plan.levels as u64,
                U::STORAGE | U::COPY_DST,
            ),
            scratch: [
                buffer(device, "zoom map HDR stand-in", 256, U::STORAGE),
                buffer(device, "zoom map aux", 256, U::STORAGE),
                buffer(device, "zoom map counters", 256, U::STORAGE),
            ],
            path: path.clone(),
            plan,
            stats: MapStats::default(),
            input: None,
            output: None,
        })
    }

    /// Takes the chunks from a map file instead of computing them (the plan adopted the
    /// file's sampling: [`MapPlan::adopt`]).
    pub fn read_from(&mut self, reader: MapReader) {
        self.input = Some(reader);
    }

    /// Writes every chunk's level 0 to a map file as it is made.
    pub fn write_to(&mut self, gpu: &GpuContext, writer: MapWriter) {
        let readback = buffer(
            &gpu.device,
            "zoom map readback",
            self.plan.level0_bytes(),
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        self.output = Some((writer, readback));
    }

    /// Completes the map file: computes the chunks no frame showed (a render of some of the
    /// frames still writes the whole map), then renames the file into place. Returns where it
    /// is, or None without `--map-out`.
    pub fn finish_output(
        &mut self,
        gpu: &GpuContext,
        layout: &wgpu::PipelineLayout,
    ) -> Result<Option<std::path::PathBuf>> {
        let Some(missing) = self.output.as_ref().map(|(w, _)| w.missing()) else {
            return Ok(None);
        };
        for c in missing {
            let slot = self.slot(c);
            self.make(gpu, layout, c, slot)?;
        }
        let (writer, _) = self.output.take().expect("checked above");
        let path = writer.path().to_path_buf();
        writer.finish()?;
        Ok(Some(path))
    }

    /// Makes chunk `c` in ring slot `slot` (computed, or read from the map file), and hands
    /// it to the map file being written.
    fn make(
        &mut self,
        gpu: &GpuContext,
        layout: &wgpu::PipelineLayout,
        c: u64,
        slot: u64,
    ) -> Result<()> {
        let started = Instant::now();
        if let Some(reader) = &self.input {
            let words = reader.read(c)?;
            gpu.queue.write_buffer(
                &self.store,
                slot * self.plan.chunk_stride(),
                bytemuck::cast_slice(&words),
            );
            self.mips(gpu, slot, None)?;
        } else {
            self.compute(gpu, layout, c, slot)?;
            self.stats.samples += self.plan.angles as u64 * self.plan.chunk_rows as u64;
        }
        self.slots[slot as usize] = Some(c);
        self.stats.chunks += 1;
        self.stats.time += started.elapsed();
        // The bound copy is stale if it held this slot.
        self.bound_window = None;
        if let Some((writer, readback)) = &mut self.output
            && !writer.has(c)
        {
            let started = Instant::now();
            let size = self.plan.level0_bytes();
            debug_assert_eq!(size, readback.size());
            let mut encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("zoom map readback"),
                });
            encoder.copy_buffer_to_buffer(
                &self.store,
                slot * self.plan.chunk_stride(),
                readback,
                0,
                size,
            );
            let submission = gpu.queue.submit([encoder.finish()]);
            let bytes = gpu.read_buffer_after(readback, size, Some(submission))?;
            writer.write(c, bytemuck::pod_collect_to_vec(&bytes))?;
            self.stats.output_time += started.elapsed();
        }
        Ok(())
    }

    /// Words per row of the window's texture (a power of two; two per texel).
    pub fn texture_width(&self) -> u32 {
        self.window.width() * 2
    }

    /// The ring slot of chunk `c`.
    pub fn slot(&self, c: u64) -> u64 {
        c % self.plan.window as u64
    }

    /// Makes chunks `chunks` resident, computing those that are not.
    pub fn ensure(
        &mut self,
        gpu: &GpuContext,
        layout: &wgpu::PipelineLayout,
        chunks: std::ops::Range<u64>,
    ) -> Result<()> {
        if chunks.end - chunks.start > self.plan.window as u64 {
            return Err(Error::Gpu(format!(
                "a frame needs zoom map chunks {chunks:?}, more than the {} kept at once",
                self.plan.window
            )));
        }
        for c in chunks {
            let slot = self.slot(c);
            if self.slots[slot as usize] != Some(c) {
                self.make(gpu, layout, c, slot)?;
            }
        }
        Ok(())
    }

    /// Copies the levels frames can read of chunks `chunks` (resident) into the window's
    /// texture, unless it holds that window already.
    pub fn bind_window(&mut self, gpu: &GpuContext, chunks: std::ops::Range<u64>) {
        let key = (chunks.start, chunks.end - chunks.start);
        if self.bound_window == Some(key) {
            return;
        }
        let plan = &self.plan;
        let width = self.texture_width() as u64;
        let mut row = 0u64;
        self.levels.clear();
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("zoom map window"),
            });
        // `rows` rows of `words` words each, from byte `from` of the store into the texture
        // from row `top` on. Parts are whole samples (two words, a texel) on texel boundaries.
        let mut copy = |from: u64, top: u64, words: u64, rows: u64| {
            if words == 0 || rows == 0 {
                return;
            }
            debug_assert!(
                words.is_multiple_of(2) && from.is_multiple_of(8),
                "whole texels"
            );
            encoder.copy_buffer_to_texture(
                wgpu::TexelCopyBufferInfo {
                    buffer: &self.store,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: from,
                        bytes_per_row: Some(width as u32 * 4),
                        rows_per_image: None,
                    },
                },
                wgpu::TexelCopyTextureInfo {
                    texture: &self.window,
                    mip_level: 0,
                    origin: wgpu::Origin3d {
                        x: 0,
                        y: top as u32,
                        z: 0,
                    },
                    aspect: wgpu::TextureAspect::All,
                },
                wgpu::Extent3d {
                    width: (words / 2) as u32,
                    height: rows as u32,
                    depth_or_array_layers: 1,
                },
            );
        };
        let n = chunks.end - chunks.start;
        let offsets = plan.level_offsets();
        for ((binding, (angles, rows)), offset) in plan
            .window_layout(width as u32)
            .into_iter()
            .zip(plan.level_sizes())
            .zip(offsets)
        {
            let bound = (binding.chunks as u64).min(n);
            let size = angles as u64 * rows as u64 * 2;
            for (j, c) in chunks.clone().take(bound as usize).enumerate() {
                let from = self.slot(c) * plan.chunk_stride() + offset * 4;
                let top = binding.row + j as u64 * binding.rows_per_chunk;
                // Whole rows, then what is left in a row of its own.
                let full = size / width;
                copy(from, top, width, full);
                copy(from + full * width * 4, top + full, size % width, 1);
            }
            // The level's entry in the frames' block (`levels` in shaders/zoommap/assemble.wgsl).
            self.levels.push([
                angles,
                (binding.row * width) as u32,
                (binding.rows_per_chunk * width) as u32,
                rows.trailing_zeros() | (bound as u32) << 8,
            ]);
            row = row.max(binding.row + bound * binding.rows_per_chunk);
        }
        assert!(row <= self.window.height() as u64, "sized by bound_rows");
        gpu.queue.submit([encoder.finish()]);
        self.bound_window = Some(key);
    }

    /// The view chunk `c` is computed as: centred on the map's centre, unrotated, the chunk's
    /// top radius `VIEW / 2` pixels; the fractal (its iteration count) of the frame that shows
    /// the chunk's innermost row one pixel from the centre.
    fn chunk_scene(&self, c: u64) -> Scene {
        let top = self.plan.chunk_ln_top(c);
        let inner = top - self.plan.chunk_span();
        let mut scene = self.path.sample(self.plan.time_for(inner));
        scene.plane.center = glam::DVec2::from(self.plan.center_f64);
        scene.plane.center_text = self.plan.center.clone();
        scene.plane.zoom = FloatExp::from_ln(top + 2f64.ln());
        scene.plane.rotation = 0.0;
        scene
    }

    fn compute(
        &mut self,
        gpu: &GpuContext,
        layout: &wgpu::PipelineLayout,
        c: u64,
        slot: u64,
    ) -> Result<()> {
        let plan = &self.plan;
        let scene = self.chunk_scene(c);
        // The arithmetic the innermost samples need: their spacing as the pixel.
        let inner = plan.chunk_ln_top(c) - plan.chunk_span();
        let mut probe = scene.clone();
        probe.plane.zoom = FloatExp::from_ln(inner + plan.delta.ln() + (VIEW as f64).ln());
        let arithmetic = plane_arithmetic(&probe, VIEW, gpu.f64)?;
        let pixel = scene.plane.zoom.scale(1.0 / VIEW as f64);
        let fractal_bytes = match arithmetic {
            PlaneArithmetic::Perturbation { f64 } => {
                if self.deepest.is_none() {
                    self.deepest = Some(self.chunk_scene(plan.chunks - 1));
                }
                let deepest = self.deepest.as_ref().expect("just made");
                let samples = [
                    Sample {
                        scene: &scene,
                        jitter: [0.0; 2],
                    },
                    Sample {
                        scene: deepest,
                        jitter: [0.0; 2],
                    },
                ];
                self.deep
                    .prepare(&gpu.device, &gpu.queue, &samples, (VIEW, VIEW), f64)?
                    .swap_remove(0)
            }
            _ => scene
                .fractal
                .plane()
                .map_or_else(Vec::new, |p| p.plane_uniform_bytes(pixel.to_f64())),
        };
        let pipeline = match self.pipelines.get(&arithmetic) {
            Some(p) => p.clone(),
            None => {
                let body = match arithmetic {
                    PlaneArithmetic::Perturbation { f64 } => {
                        shaders::plane_deep_source(f64, self.deep.texture_access())
                    }
                    a => shaders::plane_source(scene.fractal.as_ref(), a == PlaneArithmetic::F64),
                };
                let text = format!(
                    "{body}\n{}\n{}",
                    crate::shader!("zoommap/sample.wgsl"),
                    crate::shader!("zoommap/map.wgsl")
                );
                let p = gpu.compute_pipeline("zoom map chunk", &text, "map_main", Some(layout))?;
                self.pipelines.insert(arithmetic, p.clone());
                p
            }
        };
        let plan = &self.plan;
        let (angles, rows) = (plan.angles, plan.chunk_rows);
        let tile = Tile {
            x: 0,
            y: 0,
            width: VIEW,
            height: VIEW,
        };
        let mut view = PlaneUniform::new(&scene, VIEW, VIEW, tile, None);
        view.image = [angles, rows, 0, 0];
        view.jitter = [
            (VIEW as f32 * 0.5).ln(),
            plan.delta as f32,
            (std::f64::consts::TAU / angles as f64) as f32,
            0.0,
        ];
        gpu.queue
            .write_buffer(&self.plane_uniform, 0, bytemuck::bytes_of(&view));
        if !fractal_bytes.is_empty() {
            gpu.queue
                .write_buffer(&self.fractal_uniform, 0, &fractal_bytes);
        }
        let bind_group = render_bind_group(
            &gpu.device,
            "zoom map chunk",
            &pipeline.get_bind_group_layout(0),
            [
                (
                    &self.plane_uniform,
                    std::mem::size_of::<PlaneUniform>() as u64,
                ),
                (&self.fractal_uniform, FRACTAL_UNIFORM),
            ],
            [
                self.scratch[0].as_entire_binding(),
                self.scratch[1].as_entire_binding(),
                // The cone starts' binding: level 0 of the slot (`map_chunk` in map.wgsl).
                wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &self.store,
                    offset: slot * plan.chunk_stride(),
                    size: wgpu::BufferSize::new(plan.level0_bytes()),
                }),
                self.scratch[2].as_entire_binding(),
            ],
            &self.deep,
            self.display.target(),
        );

        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("zoom map chunk"),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("zoom map chunk"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &render_offsets(0, 0));
            let [x, y, z] = spread_workgroups(angles, rows);
            pass.dispatch_workgroups(x, y, z);
        }
        self.mips(gpu, slot, Some(encoder))
    }

    /// The mip levels of the chunk in ring slot `slot`, each reduced from the one before, after
    /// `encoder`'s work (which computes level 0 into the slot; without it, level 0 is there
    /// already). Waits for the work: bounded work in flight, and honest timing of the map's
    /// cost.
    fn mips(
        &self,
        gpu: &GpuContext,
        slot: u64,
        encoder: Option<wgpu::CommandEncoder>,
    ) -> Result<()> {
        let plan = &self.plan;
        let entry = |binding, resource| wgpu::BindGroupEntry { binding, resource };
        let sizes = plan.level_sizes();
        let offsets = plan.level_offsets();
        let mut mips = vec![0u8; (MIP_STRIDE * plan.levels as u64) as usize];
        for (l, &(w, h)) in sizes.iter().enumerate().skip(1) {
            // Offsets in samples (two words each).
            let u = MipUniform {
                src_offset: (offsets[l - 1] / 2) as u32,
                dst_offset: (offsets[l] / 2) as u32,
                src_width: sizes[l - 1].0,
                src_height: sizes[l - 1].1,
                dst_width: w,
                dst_height: h,
                _pad: [0; 2],
            };
            let at = l * MIP_STRIDE as usize;
            mips[at..at + std::mem::size_of::<MipUniform>()]
                .copy_from_slice(bytemuck::bytes_of(&u));
        }
        gpu.queue.write_buffer(&self.mip_uniforms, 0, &mips);
        let mip_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("zoom map mips"),
            layout: &self.mip_layout,
            entries: &[
                entry(
                    0,
                    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &self.mip_uniforms,
                        offset: 0,
                        size: wgpu::BufferSize::new(std::mem::size_of::<MipUniform>() as u64),
                    }),
                ),
                entry(
                    1,
                    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &self.store,
                        offset: slot * plan.chunk_stride(),
                        size: wgpu::BufferSize::new(plan.chunk_words() * 4),
                    }),
                ),
            ],
        });
        let mut encoder = encoder.unwrap_or_else(|| {
            gpu.device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("zoom map mips"),
                })
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("zoom map mips"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.mip_pipeline);
            for (l, &(w, h)) in sizes.iter().enumerate().skip(1) {
                pass.set_bind_group(0, &mip_group, &[(l as u64 * MIP_STRIDE) as u32]);
                pass.dispatch_workgroups(w.div_ceil(8), h.div_ceil(8), 1);
            }
        }
        let submission = gpu.queue.submit([encoder.finish()]);
        gpu.wait(Some(submission))
    }
}
