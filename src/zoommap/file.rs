//! The zoom map as an OpenEXR file (`render --map-out` / `--map-in`): one image `angles` wide
//! and `chunks x chunk_rows` tall, row k at radius `exp(lnTop - (k + 1/2) delta)` round the
//! map's centre and column j at angle `(j + 1/2) 2 pi / angles` (counter-clockwise from the
//! real axis), with the level-0 samples exactly as the map keeps them: `N` the smooth
//! iteration count (f32, negative inside the set), `DE` the distance estimate over the radius
//! (f16), `SX`, `SY` the slope (f16, a unit vector or zero). The plan's parameters (centre at
//! full precision, sampling, depth range, fractal kind and parameters) are header attributes,
//! so a file can be checked against a path before it is used. The mip levels are not stored:
//! they are made again from level 0 by the same GPU pass, so frames assembled from a file are
//! the frames assembled from the map it was written from.
//!
//! Both directions go chunk by chunk (ZIP-compressed blocks of 16 scan lines, written in the
//! order chunks are made, read back by seeking to a chunk's blocks through the offset table), so memory stays bounded by a chunk
//! whatever the depth. Writing happens on a thread of its own (the GPU goes on with frames
//! while a chunk is compressed) into a temporary file renamed into place only once every
//! chunk is in: a failed or interrupted render leaves no map behind.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use exr::block::chunk::Chunk;
use exr::block::writer::ChunksWriter;
use exr::block::{BlockIndex, UncompressedBlock};
use exr::math::Vec2;
use exr::meta::attribute::{AttributeValue, ChannelDescription, LineOrder, SampleType, Text};
use exr::meta::header::Header;
use exr::meta::{BlockDescription, MetaData};
use exr::prelude::{Compression, SmallVec, f16};

use super::plan::MapPlan;
use crate::error::{Error, Result};
use crate::sink::png::{PARTIAL_SUFFIX, TempFile};

/// Version of the layout below; a file of another version is refused.
const VERSION: i32 = 1;
/// Scan lines per compressed block (ZIP's).
const BLOCK_LINES: usize = 16;
/// Chunks queued for the writer thread at most (each is one chunk's samples).
const QUEUE: usize = 2;

/// Channels in the file's (alphabetical) order, and bytes per sample of each.
const CHANNELS: [(&str, SampleType, usize); 4] = [
    ("DE", SampleType::F16, 2),
    ("N", SampleType::F32, 4),
    ("SX", SampleType::F16, 2),
    ("SY", SampleType::F16, 2),
];
const SAMPLE_BYTES: usize = 10;

/// What a map file says about itself: enough to check it against a path and to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct MapHeader {
    /// The map's centre, decimal text at full precision.
    pub center: [String; 2],
    /// The plane kind and its parameters other than `iterations` (which may change along the
    /// zoom: each chunk was computed with the count of the frames that show it finest).
    pub kind: String,
    pub params: Vec<(String, f64)>,
    pub angles: u32,
    pub chunk_rows: u32,
    pub chunks: u64,
    pub delta: f64,
    pub ln_top: f64,
    /// The farthest radius, in frame pixels, the angles sample at a pixel's resolution.
    pub outer_radius: f64,
}

impl MapHeader {
    /// The header of `plan`'s map, for a path rendering `fractal`.
    pub fn of(plan: &MapPlan, fractal: &dyn crate::fractal::Formula) -> Self {
        let mut params: Vec<(String, f64)> = fractal
            .params()
            .into_iter()
            .filter(|(name, _)| name != "iterations")
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        MapHeader {
            center: plan.center.clone(),
            kind: fractal.kind().to_string(),
            params,
            angles: plan.angles,
            chunk_rows: plan.chunk_rows,
            chunks: plan.chunks,
            delta: plan.delta,
            ln_top: plan.ln_top,
            outer_radius: plan.outer_radius,
        }
    }

    /// Rows in the file.
    pub fn rows(&self) -> u64 {
        self.chunks * self.chunk_rows as u64
    }

    /// ln of the radius (plane units) at the bottom edge of the last row.
    pub fn ln_bottom(&self) -> f64 {
        self.ln_top - self.rows() as f64 * self.delta
    }

    fn attributes(&self) -> Vec<(String, AttributeValue)> {
        let text = |s: &str| AttributeValue::Text(Text::new_or_panic(s));
        let mut list = vec![
            ("mandelfly.zoommap".into(), AttributeValue::I32(VERSION)),
            ("mandelfly.centerRe".into(), text(&self.center[0])),
            ("mandelfly.centerIm".into(), text(&self.center[1])),
            ("mandelfly.kind".into(), text(&self.kind)),
            (
                "mandelfly.angles".into(),
                AttributeValue::I32(self.angles as i32),
            ),
            (
                "mandelfly.chunkRows".into(),
                AttributeValue::I32(self.chunk_rows as i32),
            ),
            (
                "mandelfly.chunks".into(),
                AttributeValue::I32(self.chunks as i32),
            ),
            ("mandelfly.delta".into(), AttributeValue::F64(self.delta)),
            ("mandelfly.lnTop".into(), AttributeValue::F64(self.ln_top)),
            (
                "mandelfly.outerRadius".into(),
                AttributeValue::F64(self.outer_radius),
            ),
            (
                "mandelfly.layout".into(),
                text(
                    "mandelfly zoom map: row k at radius exp(lnTop - (k + 0.5) delta) (plane \
                     units) round (centerRe, centerIm), column j at angle (j + 0.5) 2 pi / \
                     angles; N: smooth iteration count (negative inside); DE: distance \
                     estimate / radius; SX, SY: slope",
                ),
            ),
        ];
        for (name, value) in &self.params {
            list.push((
                format!("mandelfly.param.{name}"),
                AttributeValue::F64(*value),
            ));
        }
        list
    }

    /// The header of a map file (`path` names it in errors).
    fn from_exr(path: &Path, header: &Header) -> Result<Self> {
        let bad = |what: String| Error::InvalidArgument(format!("{}: {what}", path.display()));
        let other = &header.own_attributes.other;
        let get = |name: &str| other.get(&Text::new_or_panic(name));
        match get("mandelfly.zoommap") {
            Some(AttributeValue::I32(VERSION)) => {}
            Some(AttributeValue::I32(v)) => {
                return Err(bad(format!(
                    "a zoom map of version {v}; this mandelfly reads version {VERSION}"
                )));
            }
            _ => {
                return Err(bad(
                    "not a mandelfly zoom map (no `mandelfly.zoommap` attribute; write one \
                     with `render --map-out`)"
                        .into(),
                ));
            }
        }
        let missing = |name: &str| bad(format!("the zoom map lacks its `{name}` attribute"));
        let text = |name: &str| match get(name) {
            Some(AttributeValue::Text(t)) => Ok(t.to_string()),
            _ => Err(missing(name)),
        };
        let int = |name: &str| match get(name) {
            Some(AttributeValue::I32(v)) if *v > 0 => Ok(*v as u32),
            _ => Err(missing(name)),
        };
        let float = |name: &str| match get(name) {
            Some(AttributeValue::F64(v)) if v.is_finite() => Ok(*v),
            _ => Err(missing(name)),
        };
        let mut params: Vec<(String, f64)> = other
            .iter()
            .filter_map(|(name, value)| {
                let name = name.to_string();
                let param = name.strip_prefix("mandelfly.param.")?.to_string();
                match value {
                    AttributeValue::F64(v) => Some((param, *v)),
                    _ => None,
                }
            })
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let map = MapHeader {
            center: [text("mandelfly.centerRe")?, text("mandelfly.centerIm")?],
            kind: text("mandelfly.kind")?,
            params,
            angles: int("mandelfly.angles")?,
            chunk_rows: int("mandelfly.chunkRows")?,
            chunks: int("mandelfly.chunks")? as u64,
            delta: float("mandelfly.delta")?,
            ln_top: float("mandelfly.lnTop")?,
            outer_radius: float("mandelfly.outerRadius")?,
        };
        let size = header.layer_size;
        if (size.0 as u64, size.1 as u64) != (map.angles as u64, map.rows())
            || !(map.chunk_rows as usize).is_multiple_of(BLOCK_LINES)
        {
            return Err(bad(format!(
                "the zoom map's image is {}x{}, not the {}x{} its attributes describe",
                size.0,
                size.1,
                map.angles,
                map.rows()
            )));
        }
        let names: Vec<(String, SampleType)> = header
            .channels
            .list
            .iter()
            .map(|c| (c.name.to_string(), c.sample_type))
            .collect();
        let want: Vec<(String, SampleType)> = CHANNELS
            .iter()
            .map(|(n, t, _)| (n.to_string(), *t))
            .collect();
        if names != want {
            return Err(bad(format!(
                "the zoom map's channels are {names:?}, not {want:?} (N f32, DE SX SY f16)"
            )));
        }
        if !matches!(header.blocks, BlockDescription::ScanLines) {
            return Err(bad(
                "the zoom map is tiled; mandelfly writes scan lines".into()
            ));
        }
        Ok(map)
    }
}

/// The EXR header of a map file.
fn exr_header(map: &MapHeader) -> Header {
    let channels: SmallVec<[ChannelDescription; 5]> = CHANNELS
        .iter()
        .map(|(name, ty, _)| ChannelDescription::new(*name, *ty, true))
        .collect();
    let mut header = Header::new(
        Text::new_or_panic("zoommap"),
        (map.angles as usize, map.rows() as usize),
        channels,
    )
    .with_encoding(
        Compression::ZIP16,
        BlockDescription::ScanLines,
        // Blocks are written as chunks are made (deepening for a zoom in, the other way for a
        // zoom out); readers find them by the offset table whatever their order.
        LineOrder::Increasing,
    );
    for (name, value) in map.attributes() {
        header
            .own_attributes
            .other
            .insert(Text::new_or_panic(name), value);
    }
    header
}

/// A sample as the map packs it (two words, see shaders/zoommap/sample.wgsl) to the file's
/// channel values: N's bits, DE's f16 bits, and the slope's f16s.
fn unpack(words: [u32; 2]) -> (f32, f16, f16, f16) {
    let snorm = |byte: u32| f16::from_f32(((byte as u8 as i8) as f32 / 127.0).max(-1.0));
    (
        f32::from_bits(words[0]),
        f16::from_bits((words[1] & 0xffff) as u16),
        snorm(words[1] >> 16),
        snorm(words[1] >> 24),
    )
}

/// The file's channel values back to the packed words (exactly those they were made from).
fn pack(n: f32, de: f16, sx: f16, sy: f16) -> [u32; 2] {
    let snorm = |v: f16| ((v.to_f32().clamp(-1.0, 1.0) * 127.0).round() as i8) as u8 as u32;
    [
        n.to_bits(),
        de.to_bits() as u32 | snorm(sx) << 16 | snorm(sy) << 24,
    ]
}

/// One block of scan lines of a chunk's packed samples (`words`, two per sample, the chunk's
/// rows one after another), as the EXR block of file rows `first..first + lines`.
fn block_bytes(words: &[u32], angles: usize, row_in_chunk: usize, lines: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(lines * angles * SAMPLE_BYTES);
    for line in 0..lines {
        let row = &words[(row_in_chunk + line) * angles * 2..][..angles * 2];
        let samples: Vec<(f32, f16, f16, f16)> =
            row.chunks_exact(2).map(|w| unpack([w[0], w[1]])).collect();
        // Per line, each channel's samples in turn, in channel order (native endian).
        bytes.extend(samples.iter().flat_map(|s| s.1.to_ne_bytes()));
        bytes.extend(samples.iter().flat_map(|s| s.0.to_ne_bytes()));
        bytes.extend(samples.iter().flat_map(|s| s.2.to_ne_bytes()));
        bytes.extend(samples.iter().flat_map(|s| s.3.to_ne_bytes()));
    }
    bytes
}

/// A map file being written, chunk by chunk, on a thread of its own.
pub struct MapWriter {
    path: PathBuf,
    header: MapHeader,
    sender: Option<SyncSender<(u64, Vec<u32>)>>,
    thread: Option<JoinHandle<Result<TempFile>>>,
    /// Which chunks were handed over.
    written: Vec<bool>,
}

impl MapWriter {
    /// Starts `path` (nothing appears there until [`MapWriter::finish`]).
    pub fn create(path: &Path, header: MapHeader) -> Result<Self> {
        if header.chunks > i32::MAX as u64 / header.chunk_rows as u64 {
            return Err(Error::InvalidArgument(format!(
                "{}: a zoom map of {} rows is more than OpenEXR holds",
                path.display(),
                header.rows()
            )));
        }
        let temp = TempFile::create(path, PARTIAL_SUFFIX, true)?;
        let (sender, receiver) = sync_channel(QUEUE);
        let exr = exr_header(&header);
        let (dest, angles, chunk_rows) = (
            path.to_path_buf(),
            header.angles as usize,
            header.chunk_rows as usize,
        );
        let thread = std::thread::Builder::new()
            .name("zoom map writer".into())
            .spawn(move || write_thread(temp, exr, receiver, &dest, angles, chunk_rows))
            .map_err(|e| Error::io(path, e))?;
        Ok(MapWriter {
            path: path.to_path_buf(),
            written: vec![false; header.chunks as usize],
            header,
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> &MapHeader {
        &self.header
    }

    /// Whether chunk `c` was handed over already.
    pub fn has(&self, c: u64) -> bool {
        self.written[c as usize]
    }

    /// The chunks not handed over yet.
    pub fn missing(&self) -> Vec<u64> {
        (0..self.header.chunks).filter(|&c| !self.has(c)).collect()
    }

    /// Hands over chunk `c`'s level-0 samples as the map packs them (two words a sample,
    /// its rows one after another). Waits while the writer is `QUEUE` chunks behind.
    pub fn write(&mut self, c: u64, words: Vec<u32>) -> Result<()> {
        assert_eq!(
            words.len(),
            self.header.angles as usize * self.header.chunk_rows as usize * 2
        );
        if self.has(c) {
            return Ok(());
        }
        let sent = self.sender.as_ref().map(|s| s.send((c, words)));
        if !matches!(sent, Some(Ok(()))) {
            // The thread ended early: its error says why.
            return Err(self.join().err().unwrap_or_else(|| {
                Error::io(&self.path, std::io::Error::other("the map writer stopped"))
            }));
        }
        self.written[c as usize] = true;
        Ok(())
    }

    fn join(&mut self) -> Result<TempFile> {
        self.sender = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::io(
                &self.path,
                std::io::Error::other("the map writer panicked"),
            )),
            None => Err(Error::io(
                &self.path,
                std::io::Error::other("the map writer was already finished"),
            )),
        }
    }

    /// Completes the file and renames it into place; every chunk must have been written.
    pub fn finish(mut self) -> Result<()> {
        let missing = self.missing();
        if !missing.is_empty() {
            return Err(Error::io(
                &self.path,
                std::io::Error::other(format!("{} chunk(s) of the map missing", missing.len())),
            ));
        }
        let temp = self.join()?;
        temp.file()
            .sync_all()
            .map_err(|e| Error::io(&self.path, e))?;
        temp.persist()
    }
}

/// Dropped unfinished (an error, an interrupted render): the thread ends, the temporary file
/// goes.
impl Drop for MapWriter {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_thread(
    mut temp: TempFile,
    header: Header,
    chunks: Receiver<(u64, Vec<u32>)>,
    dest: &Path,
    angles: usize,
    chunk_rows: usize,
) -> Result<TempFile> {
    let failed = |e: exr::error::Error| Error::Encode {
        path: dest.to_path_buf(),
        message: e.to_string(),
    };
    let out = BufWriter::with_capacity(1 << 20, temp.file_mut());
    exr::block::write(out, smallvec_of(header), true, |meta, writer| {
        for (c, words) in chunks {
            for first in (0..chunk_rows).step_by(BLOCK_LINES) {
                let lines = BLOCK_LINES.min(chunk_rows - first);
                let y = c as usize * chunk_rows + first;
                let block = UncompressedBlock {
                    index: BlockIndex {
                        layer: 0,
                        pixel_position: Vec2(0, y),
                        pixel_size: Vec2(angles, lines),
                        level: Vec2(0, 0),
                    },
                    data: block_bytes(&words, angles, first, lines),
                };
                let chunk: Chunk = block.compress_to_chunk(&meta.headers)?;
                writer.write_chunk(y / BLOCK_LINES, chunk)?;
            }
        }
        Ok(())
    })
    .map_err(failed)?;
    Ok(temp)
}

fn smallvec_of(header: Header) -> exr::meta::Headers {
    let mut headers = exr::meta::Headers::new();
    headers.push(header);
    headers
}

/// A map file opened for reading chunk by chunk.
pub struct MapReader {
    path: PathBuf,
    header: MapHeader,
}

impl MapReader {
    /// Opens `path` and reads its header (the samples are read a chunk at a time later).
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let reader = exr::block::read(BufReader::new(file), false).map_err(|e| {
            Error::InvalidArgument(format!(
                "{}: not an OpenEXR file mandelfly can read ({e})",
                path.display()
            ))
        })?;
        let headers = reader.headers();
        if headers.len() != 1 {
            return Err(Error::InvalidArgument(format!(
                "{}: {} layers; a zoom map has one",
                path.display(),
                headers.len()
            )));
        }
        Ok(MapReader {
            header: MapHeader::from_exr(path, &headers[0])?,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> &MapHeader {
        &self.header
    }

    /// Chunk `c`'s level-0 samples, packed as the map keeps them (two words a sample, its
    /// rows one after another).
    pub fn read(&self, c: u64) -> Result<Vec<u32>> {
        let (angles, chunk_rows) = (self.header.angles as usize, self.header.chunk_rows as usize);
        let broken = |what: String| {
            Error::InvalidArgument(format!(
                "{}: chunk {c} of the zoom map cannot be read: {what}",
                self.path.display()
            ))
        };
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let first = c as usize * chunk_rows;
        let rows = first..first + chunk_rows;
        let chunks = exr::block::read(BufReader::new(file), false)
            .and_then(|r| {
                r.filter_chunks(false, |_, _, block| rows.contains(&block.pixel_position.1))
            })
            .map_err(|e| broken(e.to_string()))?;
        let meta: MetaData = exr::block::reader::ChunksReader::meta_data(&chunks).clone();
        let mut words = vec![0u32; angles * chunk_rows * 2];
        let mut filled = vec![false; chunk_rows];
        for chunk in chunks {
            let block = chunk
                .and_then(|chunk| UncompressedBlock::decompress_chunk(chunk, &meta, false))
                .map_err(|e| broken(e.to_string()))?;
            let (y, lines) = (block.index.pixel_position.1, block.index.pixel_size.1);
            if block.index.pixel_size.0 != angles || !rows.contains(&y) || y + lines > rows.end {
                return Err(broken("a block outside the chunk".into()));
            }
            let line_bytes = angles * SAMPLE_BYTES;
            if block.data.len() != lines * line_bytes {
                return Err(broken("a block of the wrong size".into()));
            }
            for line in 0..lines {
                let bytes = &block.data[line * line_bytes..][..line_bytes];
                let (de, rest) = bytes.split_at(angles * 2);
                let (n, rest) = rest.split_at(angles * 4);
                let (sx, sy) = rest.split_at(angles * 2);
                let half = |b: &[u8], i: usize| f16::from_ne_bytes([b[2 * i], b[2 * i + 1]]);
                let row = y - first + line;
                let out = &mut words[row * angles * 2..][..angles * 2];
                for i in 0..angles {
                    let count = f32::from_ne_bytes(n[4 * i..4 * i + 4].try_into().expect("4"));
                    let w = pack(count, half(de, i), half(sx, i), half(sy, i));
                    out[2 * i] = w[0];
                    out[2 * i + 1] = w[1];
                }
                filled[row] = true;
            }
        }
        if let Some(row) = filled.iter().position(|f| !f) {
            return Err(broken(format!("row {} is missing", first + row)));
        }
        Ok(words)
    }
}
