//! The GPU side: adapter and device selection, shader composition, the frame renderer and the
//! distance-estimator probe. One [`GpuContext`] and its compiled pipelines serve every frame.

pub mod bloom;
pub mod deep;
pub mod dispatch;
pub mod pipelines;
pub mod post;
pub mod probe;
pub mod renderer;
pub mod shaders;
pub mod targets;
pub mod temporal;
pub mod timing;
pub mod uniforms;
pub mod yuv;

use crate::error::{Error, Result};

/// How to pick the adapter.
#[derive(Debug, Clone, Default)]
pub struct GpuOptions {
    /// Use the first adapter whose name contains this (case-insensitive). Falls back to the
    /// `MANDELFLY_ADAPTER` environment variable, then to wgpu's high-performance choice.
    pub adapter: Option<String>,
}

/// An adapter's description, as `mandelfly info` shows it.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    pub info: wgpu::AdapterInfo,
    pub features: wgpu::Features,
    pub limits: wgpu::Limits,
}

/// The device everything renders with. Cloning shares the device and queue (wgpu handles are
/// reference-counted), so a renderer, a probe and a window can use one device.
#[derive(Clone)]
pub struct GpuContext {
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// The adapter can time passes with timestamp queries (and the device has them enabled).
    pub timestamps: bool,
    /// f64 in shaders (SHADER_F64), for deep plane views.
    pub f64: bool,
}

pub(crate) fn instance() -> wgpu::Instance {
    instance_of(wgpu::Backends::all())
}

/// An instance of `backends`, unless WGPU_BACKEND in the environment names others (it and the
/// other WGPU_* variables win).
fn instance_of(backends: wgpu::Backends) -> wgpu::Instance {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
    descriptor.backends = backends;
    wgpu::Instance::new(descriptor.with_env())
}

/// Every adapter wgpu can see, on every enabled backend.
pub fn list_adapters() -> Vec<AdapterSummary> {
    let adapters = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
    adapters
        .iter()
        .map(|a| AdapterSummary {
            info: a.get_info(),
            features: a.features(),
            limits: a.limits(),
        })
        .collect()
}

const NO_ADAPTER_HINT: &str = "wgpu found no usable adapter. Without a GPU, install Mesa's software \
Vulkan driver (Debian: apt-get install mesa-vulkan-drivers libvulkan1)";

impl GpuContext {
    pub fn new(options: &GpuOptions) -> Result<Self> {
        // OpenGL only when nothing else opens: initialising it (EGL, and on a machine without a
        // GPU a second software rasteriser with threads of its own) cost every process about
        // 10 ms of its start on a quiet 2-core machine, several times that under load.
        match Self::open(instance_of(wgpu::Backends::PRIMARY), options, None) {
            Err(Error::NoAdapter(_)) => Self::open(instance(), options, None),
            opened => opened,
        }
    }

    /// A device that can present to `surface` (created from `instance`).
    pub fn for_surface(
        instance: wgpu::Instance,
        options: &GpuOptions,
        surface: &wgpu::Surface<'_>,
    ) -> Result<Self> {
        Self::open(instance, options, Some(surface))
    }

    fn open(
        instance: wgpu::Instance,
        options: &GpuOptions,
        surface: Option<&wgpu::Surface<'_>>,
    ) -> Result<Self> {
        let wanted = options
            .adapter
            .clone()
            .or_else(|| std::env::var("MANDELFLY_ADAPTER").ok())
            .filter(|s| !s.is_empty());
        let chosen_by_name = wanted.is_some();
        let adapter = match wanted {
            Some(name) => {
                let adapters =
                    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
                let needle = name.to_lowercase();
                let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
                adapters
                    .into_iter()
                    .filter(|a| surface.is_none_or(|s| a.is_surface_supported(s)))
                    .find(|a| a.get_info().name.to_lowercase().contains(&needle))
                    .ok_or_else(|| {
                        Error::NoAdapter(format!(
                            "no adapter name contains \"{name}\"; available: {}",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ))
                    })?
            }
            None => pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                compatible_surface: surface,
                ..Default::default()
            }))
            .map_err(|e| Error::NoAdapter(format!("{e}. {NO_ADAPTER_HINT}")))?,
        };

        // wgpu falls back to OpenGL silently; that costs speed and features, so say so unless
        // the user chose it.
        let info = adapter.get_info();
        if info.backend == wgpu::Backend::Gl
            && !chosen_by_name
            && std::env::var_os("WGPU_BACKEND").is_none()
            && !crate::report::quiet()
        {
            eprintln!(
                "warning: no Vulkan, Metal or DX12 adapter: using OpenGL ({}), which is slower \
                 and lacks f64 for deep zooms",
                info.name
            );
        }
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let mut required_features = wgpu::Features::empty();
        if timestamps {
            required_features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        let f64 = adapter.features().contains(wgpu::Features::SHADER_F64);
        if f64 {
            required_features |= wgpu::Features::SHADER_F64;
        }
        // The adapter's own limits: large tiles where the hardware allows them.
        let required_limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("mandelfly"),
            required_features,
            required_limits,
            ..Default::default()
        }))
        .map_err(|e| Error::Gpu(format!("cannot open the device: {e}")))?;
        Ok(GpuContext {
            adapter,
            device,
            queue,
            timestamps,
            f64,
        })
    }

    pub fn adapter_info(&self) -> wgpu::AdapterInfo {
        self.adapter.get_info()
    }

    /// Compiles a compute pipeline, turning validation errors into [`Error::Gpu`].
    /// `layout: None` derives the bind group layout from the shader.
    pub fn compute_pipeline(
        &self,
        label: &str,
        source: &str,
        entry_point: &str,
        layout: Option<&wgpu::PipelineLayout>,
    ) -> Result<wgpu::ComputePipeline> {
        self.compute_pipeline_with(label, source, entry_point, layout, &[])
    }

    /// [`GpuContext::compute_pipeline`] with values for the shader's `override` constants.
    pub fn compute_pipeline_with(
        &self,
        label: &str,
        source: &str,
        entry_point: &str,
        layout: Option<&wgpu::PipelineLayout>,
        constants: &[(&str, f64)],
    ) -> Result<wgpu::ComputePipeline> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout,
                module: &module,
                entry_point: Some(entry_point),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    ..Default::default()
                },
                cache: None,
            });
        match pollster::block_on(scope.pop()) {
            None => Ok(pipeline),
            Some(e) => {
                // The details (the shader compiler's message) are in the description.
                let message = match &e {
                    wgpu::Error::Validation { description, .. } => description.clone(),
                    other => other.to_string(),
                };
                Err(Error::Gpu(format!("cannot compile {label}: {message}")))
            }
        }
    }

    /// Blocks until the GPU has finished the given submission (or all submitted work) and map
    /// callbacks have run.
    pub fn wait(&self, submission: Option<wgpu::SubmissionIndex>) -> Result<()> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: submission,
                timeout: None,
            })
            .map(|_| ())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU: {e}")))
    }

    /// Reads a MAP_READ buffer's first `size` bytes once submitted work has completed.
    pub fn read_buffer(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        self.read_buffer_after(buffer, size, None)
    }

    /// Reads a MAP_READ buffer's first `size` bytes once `submission` has completed.
    pub fn read_buffer_after(
        &self,
        buffer: &wgpu::Buffer,
        size: u64,
        submission: Option<wgpu::SubmissionIndex>,
    ) -> Result<Vec<u8>> {
        let slice = buffer.slice(..size);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait(submission)?;
        rx.recv()
            .map_err(|_| Error::Gpu("buffer mapping was dropped".into()))?
            .map_err(|e| Error::Gpu(format!("cannot map a readback buffer: {e}")))?;
        let bytes = slice
            .get_mapped_range()
            .map_err(|e| Error::Gpu(format!("cannot read a mapped buffer: {e}")))?
            .to_vec();
        buffer.unmap();
        Ok(bytes)
    }
}
