//! PNG: stills and sequences of the colour pass as 8-bit or 16-bit RGB, the depth pass as 16-bit
//! grey. Files are written atomically: into a temporary file beside the destination, renamed over
//! it when complete, so a sequence interrupted at any moment holds only whole frames.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use image::{ImageEncoder, codecs::png::PngEncoder};

use crate::error::{Error, Result};
use crate::frame::{ColorFormat, Frame, Readout};
use crate::sink::{Finished, FrameSink, Outcome, frame_file_name};

/// What was at a destination when writing began (size, modification time, inode): the final
/// rename must not replace a file another process put there in the meantime.
#[derive(Debug, Clone, PartialEq)]
struct Seen(Option<(u64, Option<std::time::SystemTime>, u64)>);

impl Seen {
    fn at(path: &Path) -> Self {
        Seen(std::fs::metadata(path).ok().map(|m| {
            #[cfg(unix)]
            let inode = std::os::unix::fs::MetadataExt::ino(&m);
            #[cfg(not(unix))]
            let inode = 0;
            (m.len(), m.modified().ok(), inode)
        }))
    }
}

/// A temporary file beside a destination: named uniquely per process (`.NAME.XXXXXX` plus a
/// suffix), locked while its writer lives (so that a later run can tell an abandoned one from
/// one in progress, see [`remove_stale`]), removed if dropped or interrupted, and renamed over
/// the destination by [`TempFile::persist`] only if no other process wrote the destination
/// meanwhile. (Dropped unpersisted, it stays registered for removal on a signal: harmless, the
/// path is gone.)
pub struct TempFile {
    temp: tempfile::NamedTempFile,
    dest: PathBuf,
    seen: Seen,
}

impl TempFile {
    /// `clean`: first remove abandoned temporary files of the same destination (one directory
    /// listing; callers writing thousands of files clean once with [`remove_stale`] instead).
    pub fn create(dest: &Path, suffix: &str, clean: bool) -> Result<Self> {
        if dest.is_dir() {
            return Err(Error::io(
                dest,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
            ));
        }
        let dir = parent_dir(dest);
        if !dir.is_dir() {
            // Said plainly: creating the temporary file would name it, not the destination.
            return Err(Error::io(
                dest,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    if dir.exists() {
                        format!("{} is not a directory", dir.display())
                    } else {
                        format!("its directory {} does not exist", dir.display())
                    },
                ),
            ));
        }
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let prefix = format!(".{name}.");
        if clean {
            remove_stale(dir, &prefix, suffix);
        }
        let seen = Seen::at(dest);
        // A cleaner could remove the file between its creation and the lock: then make another.
        for _ in 0..8 {
            // Made and registered before an interrupt's handler can look for it.
            let made = crate::interrupt::making_files(|| {
                let temp = tempfile::Builder::new()
                    .prefix(&prefix)
                    .suffix(suffix)
                    .tempfile_in(dir)
                    .map_err(|e| Error::io(dest, e))?;
                // Advisory on Unix; elsewhere (Windows) a lock would stop FFmpeg writing the file.
                #[cfg(unix)]
                let _ = temp.as_file().try_lock();
                let kept = same_file(temp.as_file(), temp.path());
                if kept {
                    crate::interrupt::register(temp.path());
                }
                Ok::<_, Error>(kept.then_some(temp))
            })?;
            if let Some(temp) = made {
                return Ok(TempFile {
                    temp,
                    dest: dest.to_path_buf(),
                    seen,
                });
            }
        }
        Err(Error::io(
            dest,
            std::io::Error::other("cannot keep a temporary file beside it"),
        ))
    }

    /// The temporary file's path.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    pub fn file_mut(&mut self) -> &mut std::fs::File {
        self.temp.as_file_mut()
    }

    pub fn file(&self) -> &std::fs::File {
        self.temp.as_file()
    }

    /// Temporary files are created 0600; a finished image, video or map is an ordinary file.
    fn make_ordinary(&self) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = self
                .file()
                .set_permissions(std::fs::Permissions::from_mode(0o644));
        }
    }

    /// Renames the file to the destination given at creation. Fails, removing the file, when
    /// another process wrote the destination since.
    pub fn persist(self) -> Result<()> {
        self.make_ordinary();
        let dest = self.dest.clone();
        if self.seen.0.is_some() && Seen::at(&dest) != self.seen {
            return Err(written_meanwhile(&dest));
        }
        let path = self.temp.path().to_path_buf();
        let result = if self.seen.0.is_none() {
            // Atomically: the rename fails if anything appeared there.
            self.temp.persist_noclobber(&dest).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    written_meanwhile(&dest)
                } else {
                    Error::io(&dest, e.error)
                }
            })
        } else {
            self.temp
                .persist(&dest)
                .map_err(|e| Error::io(&dest, e.error))
        };
        crate::interrupt::unregister(&path);
        result.map(drop)
    }

    /// Renames the file to `other` (replacing what is there), e.g. a partial result.
    pub fn persist_as(self, other: &Path) -> Result<()> {
        self.make_ordinary();
        let path = self.temp.path().to_path_buf();
        let result = self
            .temp
            .persist(other)
            .map_err(|e| Error::io(other, e.error));
        crate::interrupt::unregister(&path);
        result.map(drop)
    }
}

fn written_meanwhile(dest: &Path) -> Error {
    Error::io(
        dest,
        std::io::Error::other(
            "another process wrote this file while this one was writing it; \
             it was left as that process wrote it and this result discarded",
        ),
    )
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Does `path` still name the open `file`?
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Removes the temporary files in `dir` named `PREFIX*SUFFIX` that no live process holds: left
/// by a killed run (a live writer keeps its file locked). Errors are ignored: this only tidies.
pub fn remove_stale(dir: &Path, prefix: &str, suffix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(prefix) && name.ends_with(suffix) && name.len() > prefix.len()) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        // Without advisory locks a live writer cannot be told from a dead one: keep all.
        #[cfg(unix)]
        if file.try_lock().is_ok() {
            let _ = std::fs::remove_file(&path);
        }
        #[cfg(not(unix))]
        drop(file);
    }
}

/// The suffix of [`AtomicFile`]'s temporary files.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// An output file being written: nothing appears at `path` until [`AtomicFile::commit`].
/// Creating it first checks that the destination is writable before any long render.
pub struct AtomicFile {
    path: PathBuf,
    temp: TempFile,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<Self> {
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp: TempFile::create(path, PARTIAL_SUFFIX, true)?,
        })
    }

    /// As [`AtomicFile::create`] without tidying abandoned temporary files first: for one file
    /// of a sequence, whose directory is tidied once with [`remove_stale`].
    pub fn create_in_sequence(path: &Path) -> Result<Self> {
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp: TempFile::create(path, PARTIAL_SUFFIX, false)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the content with `write`, then renames the file into place.
    pub fn commit(mut self, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
        {
            let mut out = BufWriter::new(self.temp.file_mut());
            write(&mut out)?;
            out.flush().map_err(|e| Error::io(&self.path, e))?;
        }
        self.temp
            .file()
            .sync_all()
            .map_err(|e| Error::io(&self.path, e))?;
        self.temp.persist()
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

/// sRGB RGBA8 pixels as the bytes of an 8-bit RGB PNG (`path` names it in errors).
pub fn encode_color(path: &Path, width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>> {
    let rgb: Vec<u8> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut out = Vec::new();
    encode(
        path,
        &mut out,
        &rgb,
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

/// Distances as the bytes of a 16-bit grey PNG, scaled by [`depth_to_u16`].
pub fn encode_depth(
    path: &Path,
    width: u32,
    height: u32,
    depth: &[f32],
    depth_max: f64,
) -> Result<Vec<u8>> {
    let bytes: Vec<u8> = depth
        .iter()
        .flat_map(|&d| depth_to_u16(d, depth_max).to_ne_bytes())
        .collect();
    let mut out = Vec::new();
    encode(
        path,
        &mut out,
        &bytes,
        width,
        height,
        image::ExtendedColorType::L16,
    )?;
    Ok(out)
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

/// sRGB RGBA16 values as the bytes of a 16-bit RGB PNG (`path` names it in errors).
pub fn encode_color16(path: &Path, width: u32, height: u32, rgba: &[u16]) -> Result<Vec<u8>> {
    // The encoder takes native-endian samples and writes PNG's big-endian itself.
    let bytes: Vec<u8> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .flat_map(u16::to_ne_bytes)
        .collect();
    let mut out = Vec::new();
    encode(
        path,
        &mut out,
        &bytes,
        width,
        height,
        image::ExtendedColorType::Rgb16,
    )?;
    Ok(out)
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
    /// Creates the folder if needed, and tidies the temporary files a killed run left there.
    pub fn create(dir: &Path, depth: PngDepth) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        remove_stale(dir, ".frame_", PARTIAL_SUFFIX);
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
        let path = self.dir.join(frame_file_name(index, "png"));
        let file = AtomicFile::create_in_sequence(&path)?;
        let bytes = match self.depth {
            PngDepth::Eight => encode_color(&path, frame.width, frame.height, &frame.color)?,
            PngDepth::Sixteen => encode_color16(&path, frame.width, frame.height, &frame.color16)?,
        };
        file.commit(|w| w.write_all(&bytes).map_err(|e| Error::io(&path, e)))?;
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
    fn a_missing_directory_is_named_plainly() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-dir");
        let message = |r: Result<AtomicFile>| r.err().expect("refused").to_string();
        let m = message(AtomicFile::create(&missing.join("a.png")));
        assert!(m.contains("a.png"), "{m}");
        assert!(
            m.contains("its directory") && m.contains("does not exist"),
            "{m}"
        );
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        let m = message(AtomicFile::create(&file.join("a.png")));
        assert!(m.contains("is not a directory"), "{m}");
        assert_eq!(names(dir.path()), ["plain"]);
    }

    fn put(w: &mut dyn Write, bytes: &[u8]) -> Result<()> {
        w.write_all(bytes).map_err(|e| Error::io("test", e))
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn two_writers_of_one_file_never_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.png");
        for existed in [false, true] {
            let a = AtomicFile::create(&path).unwrap();
            let b = AtomicFile::create(&path).unwrap();
            assert_ne!(a.temp.path(), b.temp.path());
            a.commit(|w| put(w, b"first")).unwrap();
            // The second must not silently replace what the first completed meanwhile.
            let e = b.commit(|w| put(w, b"second")).unwrap_err();
            assert!(e.to_string().contains("another process"), "{e}");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                b"first",
                "existed: {existed}"
            );
            assert_eq!(names(dir.path()), ["o.png"]);
        }
        // Alone, a writer replaces an existing file, as ever.
        let c = AtomicFile::create(&path).unwrap();
        c.commit(|w| put(w, b"third")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"third");
    }

    #[test]
    fn abandoned_temporary_files_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // Left by a killed run: nobody holds it.
        std::fs::write(dir.path().join(".frame_00001.png.abc123.partial"), b"x").unwrap();
        std::fs::write(dir.path().join(".o.png.def456.partial"), b"x").unwrap();
        let live = AtomicFile::create_in_sequence(&dir.path().join("frame_00002.png")).unwrap();
        let live_name = live
            .temp
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        remove_stale(dir.path(), ".frame_", PARTIAL_SUFFIX);
        assert_eq!(
            names(dir.path()),
            [live_name.clone(), ".o.png.def456.partial".into()]
        );
        // Creating o.png tidies its own.
        let o = AtomicFile::create(&dir.path().join("o.png")).unwrap();
        assert!(!dir.path().join(".o.png.def456.partial").exists());
        drop(o);
        drop(live);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn a_directory_is_not_a_destination() {
        let dir = tempfile::tempdir().unwrap();
        let e = AtomicFile::create(dir.path()).err().unwrap();
        assert!(e.to_string().contains("directory"), "{e}");
    }

    #[test]
    fn unwritable_destination_fails_early() {
        let e = AtomicFile::create(Path::new("/nonexistent-dir/x.png"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent-dir/x.png"), "{e}");
    }
}
