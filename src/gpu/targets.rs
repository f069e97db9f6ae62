//! What a frame is rendered into, per tile size, and the ring of readback buffers that lets the
//! next frame render while the previous one is copied back.

use crate::gpu::uniforms::CONE_CELL;

/// Bytes per pixel of the HDR frame: a vec4<f32> sum of samples and their count.
pub const HDR_BYTES: u64 = 16;
/// Bytes per pixel of the auxiliary channels (two f32) and of the wide colour outputs (RGBA16).
pub const AUX_BYTES: u64 = 8;
pub const WIDE_BYTES: u64 = 8;

/// The GPU side of one tile size.
pub struct FrameTargets {
    pub width: u32,
    pub height: u32,
    /// Linear HDR colour (shaders/output.wgsl `hdr`).
    pub hdr: wgpu::Buffer,
    /// Depth, or smooth count and distance estimate (shaders/output.wgsl `aux`).
    pub aux: wgpu::Buffer,
    /// The 8-bit sRGB frame: the window draws it, the YUV stage reads it.
    pub srgb8: wgpu::Texture,
    pub srgb8_view: wgpu::TextureView,
    pub srgb8_sampled_view: wgpu::TextureView,
    /// 16-bit sRGB or linear half-float colour.
    pub wide: wgpu::Buffer,
    /// Row pitch of the 8-bit frame's readback (rows aligned for texture copies).
    pub srgb8_pitch: u32,
    /// The bloom's ping-pong buffers, a quarter of the tile's resolution (shaders/post/bloom.wgsl).
    pub bloom: [wgpu::Buffer; 2],
    /// Where each cell's rays start marching (shaders/march.wgsl `cone_starts`).
    pub cone_starts: wgpu::Buffer,
}

/// A storage buffer that can be read back.
pub(super) fn storage(device: &wgpu::Device, label: &str, size: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    })
}

/// A plain 2D texture: one mip level, one sample.
pub fn texture_2d(
    device: &wgpu::Device,
    label: &str,
    (width, height): (u32, u32),
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

impl FrameTargets {
    pub fn new(device: &wgpu::Device, width: u32, height: u32) -> Self {
        let pixels = width as u64 * height as u64;
        let srgb8 = texture_2d(
            device,
            "sRGB frame",
            (width, height),
            wgpu::TextureFormat::Rgba8Unorm,
            wgpu::TextureUsages::STORAGE_BINDING
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_SRC,
        );
        FrameTargets {
            width,
            height,
            hdr: storage(device, "HDR frame", pixels * HDR_BYTES),
            aux: storage(device, "aux channels", pixels * AUX_BYTES),
            srgb8_view: srgb8.create_view(&Default::default()),
            srgb8_sampled_view: srgb8.create_view(&Default::default()),
            srgb8,
            wide: storage(device, "wide colour", pixels * WIDE_BYTES),
            srgb8_pitch: (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT),
            bloom: {
                let (w, h) = crate::gpu::bloom::bloom_size(width, height);
                let size = w as u64 * h as u64 * HDR_BYTES;
                [
                    storage(device, "bloom a", size),
                    storage(device, "bloom b", size),
                ]
            },
            cone_starts: storage(
                device,
                "cone starts",
                (width.div_ceil(CONE_CELL) * height.div_ceil(CONE_CELL)) as u64 * 8,
            ),
        }
    }

    /// Records the copy of the 8-bit frame's first `width` x `height` pixels into `buffer`.
    pub fn copy_srgb8(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        buffer: &wgpu::Buffer,
        width: u32,
        height: u32,
    ) {
        encoder.copy_texture_to_buffer(
            self.srgb8.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(self.srgb8_pitch),
                    rows_per_image: None,
                },
            },
            wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
        );
    }
}

/// Which readback buffer of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Color = 0,
    Aux = 1,
}

/// Mappable buffers, one per channel in each slot, grown on demand: `slots - 1` slots in
/// rotation for pipelined frames, and one for synchronous renders.
pub struct ReadbackRing {
    slots: Vec<[Option<wgpu::Buffer>; 2]>,
    next: usize,
}

impl ReadbackRing {
    pub fn new(slots: usize) -> Self {
        ReadbackRing {
            slots: (0..slots).map(|_| [None, None]).collect(),
            next: 0,
        }
    }

    /// The next slot in turn, for a frame that stays in flight while others are submitted.
    pub fn next_slot(&mut self) -> usize {
        let slot = self.next;
        self.next = (self.next + 1) % (self.slots.len() - 1);
        slot
    }

    /// The slot for a render that is read back before anything else is submitted: always the
    /// same one, so a still or a tiled frame never allocates readback buffers anew.
    pub fn sync_slot(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot's buffer for `channel`, at least `size` bytes.
    pub fn buffer(
        &mut self,
        device: &wgpu::Device,
        slot: usize,
        channel: Channel,
        size: u64,
    ) -> &wgpu::Buffer {
        let entry = &mut self.slots[slot][channel as usize];
        if entry.as_ref().is_none_or(|b| b.size() < size) {
            *entry = Some(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }));
        }
        entry.as_ref().expect("just made")
    }
}
