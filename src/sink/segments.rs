//! Sharded renders: one flight split into contiguous frame ranges rendered anywhere (a
//! Kubernetes Indexed Job, a Slurm job array), each into a segment file with a manifest, then
//! joined without re-encoding.
//!
//! A segment is written under a temporary name and renamed when complete; its manifest is
//! written (atomically) only after that, so a segment without a manifest is never trusted. A
//! re-run skips a shard whose manifest and segment are complete and match.

pub mod status;

use std::path::{Path, PathBuf};

use ffmpeg_next as ffmpeg;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::sink::png::{AtomicFile, TempFile};
use crate::sink::video::{VideoCodec, VideoSettings, WRITING_SUFFIX};

/// 2 added `segment_sha256`.
pub const MANIFEST_VERSION: u32 = 2;

pub use crate::flight::MAX_SHARDS;

/// The I-th of N shards (I counts from 0, as JOB_COMPLETION_INDEX and SLURM_ARRAY_TASK_ID do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// This shard's contiguous share of `total` frames (shares differ by at most one frame).
    pub fn frames(&self, total: u64) -> std::ops::Range<u64> {
        let (i, n) = (self.index as u64, self.count as u64);
        (total * i / n)..(total * (i + 1) / n)
    }

    pub fn stem(&self) -> String {
        format!("shard-{:04}-of-{:04}", self.index, self.count)
    }
}

/// The encoder configuration every segment of a flight must share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderConfig {
    pub codec: String,
    pub encoder: String,
    pub pixel_format: String,
    pub crf: Option<u32>,
    pub preset: Option<String>,
    pub bitrate: Option<u64>,
    pub width: u32,
    pub height: u32,
    /// Frames per second as a string, so that it compares exactly.
    pub fps: String,
}

impl EncoderConfig {
    pub fn of(s: &VideoSettings) -> Self {
        EncoderConfig {
            codec: s.codec.name().into(),
            encoder: s.codec.encoder_name().into(),
            pixel_format: s.pixel_format_name().into(),
            crf: s.crf,
            preset: s.preset.clone(),
            bitrate: s.bitrate,
            width: s.width,
            height: s.height,
            fps: format!("{}", s.fps),
        }
    }
}

impl EncoderConfig {
    /// The codec, checked: a manifest is input like any other.
    pub fn video_codec(&self) -> Result<VideoCodec> {
        VideoCodec::parse(&self.codec).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "unknown codec \"{}\" (this mandelfly writes: {})",
                self.codec,
                VideoCodec::ALL.map(|c| c.name()).join(", ")
            ))
        })
    }

    /// The frame rate, checked as `--fps` is.
    pub fn fps_value(&self) -> Result<f64> {
        match self.fps.parse::<f64>() {
            Ok(fps) if fps > 0.0 && fps <= 1000.0 => Ok(fps),
            _ => Err(Error::InvalidArgument(format!(
                "fps \"{}\" is not a frame rate in (0, 1000]",
                self.fps
            ))),
        }
    }
}

/// `shard-IIII-of-NNNN.json` beside each segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub mandelfly_version: String,
    pub shard: u32,
    pub shards: u32,
    /// Frames `first..end` of the flight (end exclusive).
    pub first_frame: u64,
    pub end_frame: u64,
    pub total_frames: u64,
    /// SHA-256 of the path file's text and every setting that changes pixels.
    pub render_hash: String,
    pub encoder: EncoderConfig,
    pub segment: String,
    pub segment_bytes: u64,
    /// SHA-256 of the segment's bytes: a segment overwritten in place is caught.
    pub segment_sha256: String,
    /// The GPU adapter that rendered the segment (identical pixels are promised only on one
    /// adapter); absent in manifests written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
}

impl Manifest {
    /// The checks a manifest must pass before anything is read or allocated from it.
    fn validate(&self) -> Result<(), String> {
        if self.version != MANIFEST_VERSION {
            return Err(format!(
                "manifest version {}, this mandelfly reads {MANIFEST_VERSION}: render the \
                 shard again",
                self.version
            ));
        }
        if !(1..=MAX_SHARDS).contains(&self.shards) || self.shard >= self.shards {
            return Err(format!(
                "shard {} of {}: shards must be 1 to {MAX_SHARDS} and the index below them",
                self.shard, self.shards
            ));
        }
        let max = crate::path::MAX_FRAMES;
        if !(self.first_frame < self.end_frame
            && self.end_frame <= self.total_frames
            && self.total_frames <= max)
        {
            return Err(format!(
                "frames {}..{} of {}: not a range within the flight (at most {max} frames)",
                self.first_frame, self.end_frame, self.total_frames
            ));
        }
        let expected = format!(
            "{}.mkv",
            Shard {
                index: self.shard,
                count: self.shards
            }
            .stem()
        );
        if self.segment != expected {
            return Err(format!(
                "segment \"{}\": shard {} of {} is {expected}",
                self.segment.chars().take(80).collect::<String>(),
                self.shard,
                self.shards
            ));
        }
        self.encoder.video_codec().map_err(|e| e.to_string())?;
        self.encoder.fps_value().map_err(|e| e.to_string())?;
        let max_side = crate::frame::MAX_SIDE;
        if !(1..=max_side).contains(&self.encoder.width)
            || !(1..=max_side).contains(&self.encoder.height)
        {
            return Err(format!(
                "size {}x{}: each side must be 1 to {max_side}",
                self.encoder.width, self.encoder.height
            ));
        }
        Ok(())
    }
}

/// SHA-256 of a file, in hex.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut file, &mut buffer).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buffer[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The hash that says two shards render the same flight the same way.
pub fn render_hash(path_text: &str, settings: &[(&str, String)]) -> String {
    let mut h = Sha256::new();
    h.update(path_text.as_bytes());
    for (k, v) in settings {
        h.update([0u8]);
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn segment_path(dir: &Path, shard: Shard) -> PathBuf {
    dir.join(format!("{}.mkv", shard.stem()))
}

pub fn manifest_path(dir: &Path, shard: Shard) -> PathBuf {
    dir.join(format!("{}.json", shard.stem()))
}

pub(crate) fn read_manifest(path: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        Error::InvalidArgument(format!(
            "{}:{}:{}: not a segment manifest: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    manifest
        .validate()
        .map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
    Ok(manifest)
}

/// Is this shard already done, exactly as `expected` describes it?
pub fn is_complete(dir: &Path, expected: &Manifest) -> bool {
    let shard = Shard {
        index: expected.shard,
        count: expected.shards,
    };
    let Ok(m) = read_manifest(&manifest_path(dir, shard)) else {
        return false;
    };
    let segment = dir.join(&m.segment);
    let size = std::fs::metadata(&segment).map(|md| md.len()).ok();
    m.render_hash == expected.render_hash
        && m.encoder == expected.encoder
        && (m.first_frame, m.end_frame, m.total_frames)
            == (
                expected.first_frame,
                expected.end_frame,
                expected.total_frames,
            )
        && size == Some(m.segment_bytes)
        && file_sha256(&segment).is_ok_and(|h| h == m.segment_sha256)
}

/// Records a finished segment.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let shard = Shard {
        index: manifest.shard,
        count: manifest.shards,
    };
    let path = manifest_path(dir, shard);
    let json = serde_json::to_string_pretty(manifest).expect("manifests serialise");
    AtomicFile::create(&path)?
        .commit(|w| std::io::Write::write_all(w, json.as_bytes()).map_err(|e| Error::io(&path, e)))
}

/// What a run of `shard` may have left beside its segment: the finalised part of an
/// interrupted run (`shard-I-of-N.partial.mkv`) and the temporary files of killed ones
/// (`.shard-I-of-N.mkv…writing`). Sorted by name.
pub fn leftovers(dir: &Path, shard: Shard) -> Vec<PathBuf> {
    let segment = format!("{}.mkv", shard.stem());
    let partial = format!("{}.partial.", shard.stem());
    let temp = format!(".{segment}");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&partial) || (name.starts_with(&temp) && name.ends_with(".writing"))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// Once a shard is complete, removes what interrupted runs of it kept (`.partial.` files);
/// returns what it removed. Temporary files are not touched: a killed run's is reused by the
/// next run, and another process may still be writing one.
pub fn remove_leftovers(dir: &Path, shard: Shard) -> Vec<PathBuf> {
    let partial = format!("{}.partial.", shard.stem());
    leftovers(dir, shard)
        .into_iter()
        .filter(|p| file_name_starts(p, &partial) && std::fs::remove_file(p).is_ok())
        .collect()
}

fn file_name_starts(path: &Path, prefix: &str) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
}

/// A warning when the segments came from more than one adapter: they join, but frames from
/// different GPUs or drivers may differ slightly at the seams.
pub fn adapter_warning(manifests: &[Manifest]) -> Option<String> {
    let mut by_adapter: Vec<(String, Vec<u32>)> = Vec::new();
    for m in manifests {
        let name = m.adapter.clone().unwrap_or_else(|| "unrecorded".into());
        match by_adapter.iter_mut().find(|(a, _)| *a == name) {
            Some((_, shards)) => shards.push(m.shard),
            None => by_adapter.push((name, vec![m.shard])),
        }
    }
    if by_adapter.len() < 2 {
        return None;
    }
    let list: Vec<String> = by_adapter
        .iter()
        .map(|(a, shards)| {
            let shards: Vec<String> = shards.iter().map(u32::to_string).collect();
            format!(
                "{a} (shard{} {})",
                if shards.len() > 1 { "s" } else { "" },
                shards.join(", ")
            )
        })
        .collect();
    Some(format!(
        "the segments were rendered on different adapters: {}; identical pixels are promised \
         only on one adapter, so frames may differ slightly where they meet",
        list.join("; ")
    ))
}

/// Finds the manifests in `dir` and checks that they describe one whole flight: same hash and
/// encoder settings, shards 0..N all present once, frame ranges contiguous, segments complete.
pub fn check_set(dir: &Path) -> Result<Vec<Manifest>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut manifests = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.starts_with("shard-") && name.ends_with(".json") {
            manifests.push((name, read_manifest(&path)?));
        }
    }
    if manifests.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: no segment manifests (shard-*.json) here",
            dir.display()
        )));
    }
    manifests.sort_by_key(|(_, m)| (m.first_frame, m.shard));
    let (first_name, first) = &manifests[0];
    let mut problems = Vec::new();
    for (name, m) in &manifests {
        if m.render_hash != first.render_hash {
            problems.push(format!(
                "{name}: rendered from a different path or settings than {first_name}"
            ));
        }
        if m.encoder != first.encoder {
            problems.push(format!(
                "{name}: encoder settings differ from {first_name} ({:?} vs {:?})",
                m.encoder, first.encoder
            ));
        }
        if (m.shards, m.total_frames) != (first.shards, first.total_frames) {
            problems.push(format!(
                "{name}: one of {} shards of {} frames, but {first_name} is one of {} of {}",
                m.shards, m.total_frames, first.shards, first.total_frames
            ));
        }
        let segment = dir.join(&m.segment);
        match std::fs::metadata(&segment) {
            Ok(md) if md.len() == m.segment_bytes => match file_sha256(&segment) {
                Ok(h) if h == m.segment_sha256 => {}
                Ok(_) => problems.push(format!(
                    "{}: its content is not what {name} records (SHA-256 differs): \
                     overwritten or damaged; render that shard again",
                    m.segment
                )),
                Err(e) => problems.push(e.to_string()),
            },
            Ok(md) => problems.push(format!(
                "{}: {} bytes, its manifest {name} says {}",
                m.segment,
                md.len(),
                m.segment_bytes
            )),
            Err(_) => problems.push(format!("{}: missing (listed by {name})", m.segment)),
        }
    }
    let mut seen = vec![0u32; first.shards as usize];
    for (_, m) in &manifests {
        if let Some(s) = seen.get_mut(m.shard as usize) {
            *s += 1;
        }
    }
    for (i, n) in seen.iter().enumerate() {
        let stem = Shard {
            index: i as u32,
            count: first.shards,
        }
        .stem();
        match n {
            0 => problems.push(format!("{stem}: missing (no manifest)")),
            1 => {}
            _ => problems.push(format!("{stem}: present {n} times")),
        }
    }
    let mut next = 0;
    for (name, m) in &manifests {
        if m.first_frame > next {
            problems.push(format!(
                "frames {next}..{} are in no segment",
                m.first_frame
            ));
        } else if m.first_frame < next {
            problems.push(format!(
                "{name}: frames {}..{} overlap the segment before",
                m.first_frame, next
            ));
        }
        next = next.max(m.end_frame);
    }
    if next < first.total_frames && problems.is_empty() {
        problems.push(format!(
            "frames {next}..{} are in no segment",
            first.total_frames
        ));
    }
    if !problems.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: the segments do not make one flight:\n  {}",
            dir.display(),
            problems.join("\n  ")
        )));
    }
    Ok(manifests.into_iter().map(|(_, m)| m).collect())
}

/// Joins the segments of `dir` into `output` without re-encoding: packets are copied with
/// their timestamps offset by each segment's first frame.
pub fn concat(dir: &Path, output: &Path) -> Result<(u64, Vec<Manifest>)> {
    let manifests = check_set(dir)?;
    let (format_name, codecs) = crate::sink::video::container_for(output).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{}: unknown video container; use .mp4, .mkv, .mov or .webm",
            output.display()
        ))
    })?;
    let codec = manifests[0].encoder.video_codec()?;
    if !codecs.contains(&codec) {
        return Err(Error::InvalidArgument(format!(
            "{}: the {format_name} container cannot hold {}",
            output.display(),
            codec.name()
        )));
    }
    let fail = |what: &str, e: ffmpeg::Error| Error::Encode {
        path: output.to_path_buf(),
        message: format!("{what}: {e}"),
    };
    ffmpeg::init().map_err(|e| fail("cannot initialise FFmpeg", e))?;
    ffmpeg::log::set_level(ffmpeg::log::Level::Error);
    // Unique per process, removed unless complete (see TempFile).
    let temp = TempFile::create(output, WRITING_SUFFIX, true)?;
    let result = (|| -> Result<u64> {
        // FFmpeg opens the file again by its name: not while an interrupt removes it.
        let opened =
            crate::interrupt::making_files(|| ffmpeg::format::output_as(temp.path(), format_name));
        let mut out = opened
            .map_err(|e| Error::io(output, std::io::Error::other(format!("cannot create: {e}"))))?;
        let fps = manifests[0].encoder.fps_value()?;
        let rate = ffmpeg::Rational::from(fps).reduce();
        let frame_tb = rate.invert();
        {
            let first = ffmpeg::format::input(&dir.join(&manifests[0].segment))
                .map_err(|e| fail("cannot read the first segment", e))?;
            let stream = first
                .streams()
                .best(ffmpeg::media::Type::Video)
                .ok_or_else(|| {
                    fail(
                        "no video in the first segment",
                        ffmpeg::Error::StreamNotFound,
                    )
                })?;
            let mut ost = out
                .add_stream(ffmpeg::encoder::find(ffmpeg::codec::Id::None))
                .map_err(|e| fail("cannot add the stream", e))?;
            ost.set_parameters(stream.parameters());
            ost.set_time_base(frame_tb);
            ost.set_avg_frame_rate(rate);
            ost.set_rate(rate);
            // Let the output container choose its own tag for the codec.
            unsafe {
                (*ost.parameters().as_mut_ptr()).codec_tag = 0;
            }
        }
        out.write_header()
            .map_err(|e| fail("cannot write the header", e))?;
        let out_tb = out.stream(0).expect("one stream").time_base();
        let mut packets = 0u64;
        for m in &manifests {
            let seg_path = dir.join(&m.segment);
            let mut input = ffmpeg::format::input(&seg_path).map_err(|e| Error::Encode {
                path: seg_path.clone(),
                message: format!("cannot read: {e}"),
            })?;
            let index = input
                .streams()
                .best(ffmpeg::media::Type::Video)
                .map(|s| s.index())
                .ok_or_else(|| fail("a segment has no video", ffmpeg::Error::StreamNotFound))?;
            let in_tb = input.stream(index).expect("exists").time_base();
            // Segment timestamps start at 0; frame k of the flight is at k / fps.
            let offset = ffmpeg::Rational::new(m.first_frame as i32, 1) * frame_tb;
            let offset_ts = (f64::from(offset) / f64::from(out_tb)).round() as i64;
            for (stream, mut packet) in input.packets() {
                if stream.index() != index {
                    continue;
                }
                packet.rescale_ts(in_tb, out_tb);
                packet.set_pts(packet.pts().map(|t| t + offset_ts));
                packet.set_dts(packet.dts().map(|t| t + offset_ts));
                if packet.duration() == 0 {
                    packet.set_duration((f64::from(frame_tb) / f64::from(out_tb)).round() as i64);
                }
                packet.set_position(-1);
                packet.set_stream(0);
                packet
                    .write_interleaved(&mut out)
                    .map_err(|e| fail("cannot write a packet", e))?;
                packets += 1;
            }
        }
        out.write_trailer()
            .map_err(|e| fail("cannot finish the file", e))?;
        Ok(packets)
    })();
    let packets = result?;
    temp.persist()?;
    Ok((packets, manifests))
}

impl Manifest {
    /// The manifest shard `shard` of a `total`-frame flight will have once its segment is
    /// complete (`segment_bytes` is filled in then).
    pub fn planned(
        dir: &Path,
        shard: Shard,
        total: u64,
        render_hash: String,
        settings: &VideoSettings,
    ) -> Self {
        let frames = shard.frames(total);
        Manifest {
            version: MANIFEST_VERSION,
            mandelfly_version: env!("CARGO_PKG_VERSION").into(),
            shard: shard.index,
            shards: shard.count,
            first_frame: frames.start,
            end_frame: frames.end,
            total_frames: total,
            render_hash,
            encoder: EncoderConfig::of(settings),
            segment: segment_path(dir, shard)
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned(),
            segment_bytes: 0,
            segment_sha256: String::new(),
            adapter: None,
        }
    }
}

/// One shard's segment: a video sink whose manifest is written when, and only when, every frame
/// of the shard is in the segment.
pub struct ShardSink {
    video: crate::sink::video::VideoSink,
    dir: PathBuf,
    manifest: Manifest,
}

impl ShardSink {
    pub fn create(dir: &Path, manifest: Manifest, settings: &VideoSettings) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let segment = dir.join(&manifest.segment);
        Ok(ShardSink {
            video: crate::sink::video::VideoSink::create(&segment, settings)?,
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// See [`crate::sink::video::VideoSink::convert_on_cpu`].
    pub fn convert_on_cpu(&mut self) {
        self.video.convert_on_cpu();
    }
}

impl crate::sink::FrameSink for ShardSink {
    fn readout(&self) -> crate::frame::Readout {
        self.video.readout()
    }

    fn push(&mut self, index: u64, frame: crate::frame::Frame) -> Result<()> {
        self.video.push(index, frame)
    }

    fn finish(&mut self, outcome: crate::sink::Outcome) -> Result<crate::sink::Finished> {
        let finished = crate::sink::FrameSink::finish(&mut self.video, outcome)?;
        if outcome == crate::sink::Outcome::Complete {
            self.manifest.segment_bytes = std::fs::metadata(&finished.path)
                .map_err(|e| Error::io(&finished.path, e))?
                .len();
            self.manifest.segment_sha256 = file_sha256(&finished.path)?;
            write_manifest(&self.dir, &self.manifest)?;
        }
        Ok(finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_frames_exactly_once() {
        for total in [0u64, 1, 7, 100, 361] {
            for n in 1..=9 {
                let mut next = 0;
                for i in 0..n {
                    let r = Shard { index: i, count: n }.frames(total);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    fn manifest() -> Manifest {
        Manifest {
            version: MANIFEST_VERSION,
            mandelfly_version: "0".into(),
            shard: 0,
            shards: 1,
            first_frame: 0,
            end_frame: 2,
            total_frames: 2,
            render_hash: "h".into(),
            encoder: EncoderConfig::of(&VideoSettings {
                width: 64,
                height: 36,
                fps: 10.0,
                codec: VideoCodec::Ffv1,
                crf: None,
                preset: None,
                bitrate: None,
                pixel_format: None,
                no_b_frames: true,
            }),
            segment: "shard-0000-of-0001.mkv".into(),
            segment_bytes: 3,
            adapter: None,
            segment_sha256: String::new(),
        }
    }

    /// Writes a manifest changed by `edit` (and a 3-byte segment), returns concat's error.
    fn concat_error(edit: impl Fn(&mut serde_json::Value)) -> String {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("shard-0000-of-0001.mkv"), b"abc").unwrap();
        let mut m = manifest();
        m.segment_sha256 = file_sha256(&dir.path().join("shard-0000-of-0001.mkv")).unwrap();
        let mut json = serde_json::to_value(&m).unwrap();
        edit(&mut json);
        std::fs::write(
            dir.path().join("shard-0000-of-0001.json"),
            serde_json::to_string(&json).unwrap(),
        )
        .unwrap();
        let out = dir.path().join("out.mkv");
        let e = concat(dir.path(), &out).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
        assert!(!out.exists());
        e.to_string()
    }

    #[test]
    fn concat_does_not_trust_its_manifests() {
        use serde_json::json;
        for (edit, expected) in [
            (
                json!({"encoder": {"codec": "bogus"}}),
                "unknown codec \"bogus\"",
            ),
            (json!({"encoder": {"fps": "0"}}), "fps \"0\""),
            (json!({"encoder": {"fps": "abc"}}), "fps \"abc\""),
            (json!({"shards": 100000000}), "shards must be 1 to 9999"),
            (json!({"shards": 0}), "shards must be 1 to 9999"),
            (json!({"shard": 1}), "shards must be 1 to 9999"),
            (json!({"end_frame": 0}), "not a range"),
            (
                json!({"total_frames": 1u64 << 60, "end_frame": 1u64 << 60}),
                "not a range",
            ),
            (
                json!({"segment": "../../etc/passwd"}),
                "shard 0 of 1 is shard-0000-of-0001.mkv",
            ),
            (json!({"encoder": {"width": 0}}), "size 0x36"),
            (json!({"version": 1}), "render the shard again"),
            (json!({"segment_sha256": "00"}), "SHA-256 differs"),
        ] {
            let e = concat_error(|v| merge(v, &edit));
            assert!(e.contains(expected), "{edit}: {e}");
        }
    }

    fn merge(into: &mut serde_json::Value, from: &serde_json::Value) {
        match (into, from) {
            (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                }
            }
            (a, b) => *a = b.clone(),
        }
    }

    #[test]
    fn mixed_adapters_are_named_with_their_shards() {
        let manifest = |shard, adapter: Option<&str>| Manifest {
            version: MANIFEST_VERSION,
            mandelfly_version: "0".into(),
            shard,
            shards: 3,
            first_frame: 0,
            end_frame: 1,
            total_frames: 3,
            render_hash: String::new(),
            encoder: EncoderConfig {
                codec: "ffv1".into(),
                encoder: "ffv1".into(),
                pixel_format: "yuv444p".into(),
                crf: None,
                preset: None,
                bitrate: None,
                width: 1,
                height: 1,
                fps: "1".into(),
            },
            segment: String::new(),
            segment_bytes: 0,
            segment_sha256: String::new(),
            adapter: adapter.map(String::from),
        };
        let same = [manifest(0, Some("A")), manifest(1, Some("A"))];
        assert_eq!(adapter_warning(&same), None);
        let mixed = [
            manifest(0, Some("A")),
            manifest(1, Some("B")),
            manifest(2, Some("A")),
        ];
        let w = adapter_warning(&mixed).unwrap();
        assert!(w.contains("A (shards 0, 2); B (shard 1)"), "{w}");
        // Manifests from before the adapter was recorded parse, and count as one more kind.
        let old: Manifest =
            serde_json::from_str(&serde_json::to_string(&manifest(0, None)).unwrap()).unwrap();
        assert_eq!(old.adapter, None);
        assert!(adapter_warning(&[old, manifest(1, Some("A"))]).is_some());
    }

    #[test]
    fn the_hash_sees_every_setting() {
        let a = render_hash("x", &[("size", "1x1".into())]);
        assert_eq!(a, render_hash("x", &[("size", "1x1".into())]));
        assert_ne!(a, render_hash("y", &[("size", "1x1".into())]));
        assert_ne!(a, render_hash("x", &[("size", "1x2".into())]));
        assert_eq!(a.len(), 64);
    }
}
