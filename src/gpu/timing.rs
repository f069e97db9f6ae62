//! What a frame cost on the GPU: the render pass's time from timestamp queries, and the number
//! of distance-estimator evaluations (counted by the shaders when asked, for `mandelfly bench`).

use std::time::Duration;

use crate::error::Result;
use crate::gpu::GpuContext;

/// How the renderer measures the render pass's time.
pub enum GpuClock {
    /// Timestamp queries around the pass (GPUs).
    Timestamps(PassTimer),
    /// The wall clock from the frame's submission until its read-back is mapped: for adapters
    /// that run on the CPU, where the device's time is the CPU's and lavapipe's timestamps read
    /// equal when other work shares the command buffer. It includes the post stage and the
    /// copies (a small part).
    Wall,
}

impl GpuClock {
    /// The clock for this device, if it has one.
    pub fn new(gpu: &GpuContext) -> Option<Self> {
        if gpu.adapter_info().device_type == wgpu::DeviceType::Cpu {
            return Some(GpuClock::Wall);
        }
        PassTimer::new(gpu).map(GpuClock::Timestamps)
    }

    pub fn timer(&self) -> Option<&PassTimer> {
        match self {
            GpuClock::Timestamps(timer) => Some(timer),
            GpuClock::Wall => None,
        }
    }
}

/// Timestamps at the beginning and end of the render pass.
pub struct PassTimer {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    period_ns: f64,
}

impl PassTimer {
    /// A timer, where the device has timestamp queries.
    pub fn new(gpu: &GpuContext) -> Option<Self> {
        let device = &gpu.device;
        gpu.timestamps.then(|| PassTimer {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("pass timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
            resolve: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamp resolve"),
                size: 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            readback: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamp readback"),
                size: 16,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            period_ns: gpu.queue.get_timestamp_period() as f64,
        })
    }

    pub fn pass_writes(&self) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        }
    }

    /// Records the copy of the timestamps to where [`PassTimer::read`] finds them.
    pub fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.resolve_query_set(&self.queries, 0..2, &self.resolve, 0);
        encoder.copy_buffer_to_buffer(&self.resolve, 0, &self.readback, 0, 16);
    }

    /// The pass's time, once its submission has completed.
    pub fn read(&self, gpu: &GpuContext) -> Result<Duration> {
        let data = gpu.read_buffer(&self.readback, 16)?;
        let t: &[u64] = bytemuck::cast_slice(&data);
        let ns = t[1].saturating_sub(t[0]) as f64 * self.period_ns;
        Ok(Duration::from_nanos(ns as u64))
    }
}

/// Bytes of the evaluation counters (64 u32, shaders/output.wgsl `evaluations`).
const COUNTERS_SIZE: u64 = 64 * 4;

/// The shaders' evaluation counters and their readback.
pub struct EvaluationCounters {
    pub buffer: wgpu::Buffer,
    readback: wgpu::Buffer,
}

impl EvaluationCounters {
    pub fn new(device: &wgpu::Device) -> Self {
        EvaluationCounters {
            buffer: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("evaluation counters"),
                size: COUNTERS_SIZE,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            readback: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("evaluation counters readback"),
                size: COUNTERS_SIZE,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
        }
    }

    pub fn clear(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.clear_buffer(&self.buffer, 0, None);
    }

    pub fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.copy_buffer_to_buffer(&self.buffer, 0, &self.readback, 0, COUNTERS_SIZE);
    }

    /// The evaluations counted, once the submission has completed.
    pub fn read(&self, gpu: &GpuContext) -> Result<u64> {
        let data = gpu.read_buffer(&self.readback, COUNTERS_SIZE)?;
        let counts: &[u32] = bytemuck::cast_slice(&data);
        Ok(counts.iter().map(|&c| c as u64).sum())
    }
}
