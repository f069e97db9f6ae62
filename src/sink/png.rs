//! PNG: stills and sequences of the colour pass as 8-bit or 16-bit RGB, the depth pass as 16-bit
//! grey. Files are written atomically: into a temporary file beside the destination, renamed over
//! it when complete, so a sequence interrupted at any moment holds only whole frames.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use image::{ImageEncoder, codecs::png::PngEncoder};

use crate::error::{Error, Result};
use crate::frame::{ColorFormat, Frame, Readout};
use crate::sink::{Finished, FrameSink, Outcome, frame_file_name};

/// An output file being written: nothing appears at `path` until [`AtomicFile::commit`].
/// Creating it first checks that the destination is writable before any long render.
pub struct AtomicFile {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if path.is_dir() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
            ));
        }
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| Error::io(path, e))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the content with `write`, then renames the file into place.
    pub fn commit(mut self, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
        {
            let mut out = BufWriter::new(self.temp.as_file_mut());
            write(&mut out)?;
            out.flush().map_err(|e| Error::io(&self.path, e))?;
        }
        self.temp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(&self.path, e))?;
        // Temp files are created 0600; a rendered image is an ordinary file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = self
                .temp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        self.temp
            .persist(&self.path)
            .map_err(|e| Error::io(&self.path, e.error))?;
        Ok(())
    }
}

fn encode(
    path: &Path,
    out: &mut dyn Write,
    bytes: &[u8],
    w: u32,
    h: u32,
    ty: image::ExtendedColorType,
) -> Result<()> {
    PngEncoder::new(out)
        .write_image(bytes, w, h, ty)
        .map_err(|e| Error::Encode {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Writes sRGB RGBA8 pixels as an 8-bit RGB PNG.
pub fn write_color(file: AtomicFile, width: u32, height: u32, rgba: &[u8]) -> Result<()> {
    let rgb: Vec<u8> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    write_rgb(file, width, height, &rgb)
}

/// Writes sRGB RGB8 pixels as an 8-bit RGB PNG.
pub fn write_rgb(file: AtomicFile, width: u32, height: u32, rgb: &[u8]) -> Result<()> {
    let path = file.path().to_path_buf();
    file.commit(|out| {
        encode(
            &path,
            out,
            rgb,
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
    })
}

/// Writes sRGB RGBA16 values as a 16-bit RGB PNG.
pub fn write_color16(file: AtomicFile, width: u32, height: u32, rgba: &[u16]) -> Result<()> {
    // The encoder takes native-endian samples and writes PNG's big-endian itself.
    let bytes: Vec<u8> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .flat_map(u16::to_ne_bytes)
        .collect();
    let path = file.path().to_path_buf();
    file.commit(|out| {
        encode(
            &path,
            out,
            &bytes,
            width,
            height,
            image::ExtendedColorType::Rgb16,
        )
    })
}

/// Bits per channel of a PNG sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PngDepth {
    Eight,
    Sixteen,
}

/// A folder of `frame_NNNNN.png`, each written atomically.
pub struct PngSequence {
    dir: PathBuf,
    depth: PngDepth,
    written: u64,
}

impl PngSequence {
    /// Creates the folder if needed.
    pub fn create(dir: &Path, depth: PngDepth) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(PngSequence {
            dir: dir.to_path_buf(),
            depth,
            written: 0,
        })
    }
}

impl FrameSink for PngSequence {
    fn readout(&self) -> Readout {
        Readout::color(match self.depth {
            PngDepth::Eight => ColorFormat::Srgb8,
            PngDepth::Sixteen => ColorFormat::Srgb16,
        })
    }

    fn push(&mut self, index: u64, frame: Frame) -> Result<()> {
        let file = AtomicFile::create(&self.dir.join(frame_file_name(index, "png")))?;
        match self.depth {
            PngDepth::Eight => write_color(file, frame.width, frame.height, &frame.color)?,
            PngDepth::Sixteen => write_color16(file, frame.width, frame.height, &frame.color16)?,
        }
        self.written += 1;
        Ok(())
    }

    /// Every frame pushed is already complete on disk, whatever the outcome.
    fn finish(&mut self, _outcome: Outcome) -> Result<Finished> {
        Ok(Finished {
            path: self.dir.clone(),
            frames: self.written,
        })
    }
}

/// The 16-bit grey value of a depth: `round(65535 * distance / depth_max)`, clamped to
/// [1, 65535] for a hit so that only an escaped ray (distance 0) is black.
pub fn depth_to_u16(distance: f32, depth_max: f64) -> u16 {
    if distance <= 0.0 || !distance.is_finite() {
        return 0;
    }
    (65535.0 * distance as f64 / depth_max)
        .round()
        .clamp(1.0, 65535.0) as u16
}

/// Writes distances as a 16-bit grey PNG, scaled by [`depth_to_u16`].
pub fn write_depth(
    file: AtomicFile,
    width: u32,
    height: u32,
    depth: &[f32],
    depth_max: f64,
) -> Result<()> {
    // The encoder takes native-endian samples and writes PNG's big-endian itself.
    let bytes: Vec<u8> = depth
        .iter()
        .flat_map(|&d| depth_to_u16(d, depth_max).to_ne_bytes())
        .collect();
    let path = file.path().to_path_buf();
    file.commit(|out| {
        encode(
            &path,
            out,
            &bytes,
            width,
            height,
            image::ExtendedColorType::L16,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_scale() {
        assert_eq!(depth_to_u16(0.0, 10.0), 0);
        assert_eq!(depth_to_u16(5.0, 10.0), 32768);
        assert_eq!(depth_to_u16(20.0, 10.0), 65535);
        assert_eq!(depth_to_u16(1e-9, 10.0), 1);
    }

    #[test]
    fn nothing_appears_until_commit_and_16_bit_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.png");
        let file = AtomicFile::create(&path).unwrap();
        assert!(!path.exists());
        write_depth(file, 2, 1, &[0.0, 2.5], 5.0).unwrap();
        let img = image::open(&path).unwrap().into_luma16();
        assert_eq!(img.as_raw(), &vec![0u16, 32768]);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1);
    }

    #[test]
    fn unwritable_destination_fails_early() {
        let e = AtomicFile::create(Path::new("/nonexistent-dir/x.png"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent-dir/x.png"), "{e}");
    }
}
