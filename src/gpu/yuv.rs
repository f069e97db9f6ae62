//! RGB to Y'CbCr on the GPU (shaders/post/yuv.wgsl): the video path's colour conversion, so the
//! encoder thread only copies plane rows. BT.709, limited range, 8-bit 4:2:0 or 4:4:4.

use bytemuck::{Pod, Zeroable};

/// Where the planes lie in the packed buffer the shader writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YuvLayout {
    pub width: u32,
    pub height: u32,
    /// 1 for 4:2:0, 0 for 4:4:4.
    pub chroma_shift: u32,
}

impl YuvLayout {
    /// Bytes per row of the luma plane (a whole number of u32 words).
    pub fn y_stride(&self) -> usize {
        self.width.div_ceil(4) as usize * 4
    }
    pub fn chroma_width(&self) -> u32 {
        self.width.div_ceil(1 << self.chroma_shift)
    }
    pub fn chroma_height(&self) -> u32 {
        self.height.div_ceil(1 << self.chroma_shift)
    }
    pub fn c_stride(&self) -> usize {
        self.chroma_width().div_ceil(4) as usize * 4
    }
    /// Byte offset and stride of plane 0 (Y), 1 (Cb), 2 (Cr).
    pub fn plane(&self, index: usize) -> (usize, usize) {
        let y_size = self.y_stride() * self.height as usize;
        let c_size = self.c_stride() * self.chroma_height() as usize;
        match index {
            0 => (0, self.y_stride()),
            1 => (y_size, self.c_stride()),
            _ => (y_size + c_size, self.c_stride()),
        }
    }
    pub fn size(&self) -> u64 {
        (self.y_stride() * self.height as usize
            + 2 * self.c_stride() * self.chroma_height() as usize) as u64
    }
    pub fn params(&self) -> YuvParams {
        YuvParams {
            width: self.width,
            height: self.height,
            chroma_shift: self.chroma_shift,
            y_words: self.width.div_ceil(4),
            c_words: self.chroma_width().div_ceil(4),
            c_width: self.chroma_width(),
            c_height: self.chroma_height(),
            _pad: 0,
        }
    }
}

/// Twin of `YuvParams` in shaders/post/yuv.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct YuvParams {
    pub width: u32,
    pub height: u32,
    pub chroma_shift: u32,
    pub y_words: u32,
    pub c_words: u32,
    pub c_width: u32,
    pub c_height: u32,
    pub _pad: u32,
}

pub const SHADER: &str = include_str!("../../shaders/post/yuv.wgsl");

/// The CPU twin of the shader for one pixel's luma and chroma (tests).
pub fn rgb_to_ycbcr(rgb: [f32; 3]) -> [f32; 3] {
    let y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    [
        16.0 + 219.0 * y,
        128.0 + 224.0 * (rgb[2] - y) / 1.8556,
        128.0 + 224.0 * (rgb[0] - y) / 1.5748,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_odd_sizes() {
        let l = YuvLayout {
            width: 13,
            height: 7,
            chroma_shift: 1,
        };
        assert_eq!((l.chroma_width(), l.chroma_height()), (7, 4));
        assert_eq!((l.y_stride(), l.c_stride()), (16, 8));
        assert_eq!(l.plane(1), (16 * 7, 8));
        assert_eq!(l.plane(2), (16 * 7 + 8 * 4, 8));
        assert_eq!(l.size(), 16 * 7 + 2 * 8 * 4);
    }

    #[test]
    fn white_black_and_grey() {
        let w = rgb_to_ycbcr([1.0, 1.0, 1.0]);
        assert!((w[0] - 235.0).abs() < 1e-3 && (w[1] - 128.0).abs() < 1e-3);
        let b = rgb_to_ycbcr([0.0, 0.0, 0.0]);
        assert!((b[0] - 16.0).abs() < 1e-3 && (b[2] - 128.0).abs() < 1e-3);
        let blue = rgb_to_ycbcr([0.0, 0.0, 1.0]);
        assert!((blue[1] - 240.0).abs() < 1e-3);
    }

    #[test]
    fn params_match_wgsl() {
        let module = naga::front::wgsl::parse_str(SHADER).unwrap();
        let (_, ty) = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some("YuvParams"))
            .unwrap();
        assert_eq!(
            ty.inner.size(module.to_ctx()) as usize,
            std::mem::size_of::<YuvParams>()
        );
    }
}
