//! Video files straight from the renderer through the system FFmpeg libraries: frames go to an
//! encoder thread over a bounded queue (memory stays flat however long the video), are
//! converted to YUV by swscale there, encoded and muxed. The file is written under a temporary
//! name and renamed when complete; an interrupted render is finalised and kept under a name the
//! caller reports.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use ffmpeg::{Dictionary, Packet, Rational, codec, encoder, format, frame, software::scaling};
use ffmpeg_next as ffmpeg;

use crate::error::{Error, Result};
use crate::frame::{ColorFormat, Frame, Readout};
use crate::gpu::yuv::YuvLayout;
use crate::sink::png::TempFile;
use crate::sink::{Finished, FrameSink, Outcome};

/// The suffix of a video's temporary file (`.NAME.XXXXXX.writing` beside the destination).
pub const WRITING_SUFFIX: &str = ".writing";

/// A frame for the encoder: RGBA8 for swscale to convert, or planes already converted.
pub enum FrameData {
    Rgba(Vec<u8>),
    Yuv(Vec<u8>, YuvLayout),
}

/// Frames queued between the renderer and the encoder thread.
const QUEUE: usize = 3;

/// The codecs `--codec` names, with the FFmpeg encoder behind each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    Hevc,
    Vp9,
    Av1,
    Prores,
    Ffv1,
}

impl VideoCodec {
    pub const ALL: [VideoCodec; 6] = [
        VideoCodec::H264,
        VideoCodec::Hevc,
        VideoCodec::Vp9,
        VideoCodec::Av1,
        VideoCodec::Prores,
        VideoCodec::Ffv1,
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::H264 => "h264",
            VideoCodec::Hevc => "hevc",
            VideoCodec::Vp9 => "vp9",
            VideoCodec::Av1 => "av1",
            VideoCodec::Prores => "prores",
            VideoCodec::Ffv1 => "ffv1",
        }
    }

    /// The FFmpeg encoder used.
    pub fn encoder_name(self) -> &'static str {
        match self {
            VideoCodec::H264 => "libx264",
            VideoCodec::Hevc => "libx265",
            VideoCodec::Vp9 => "libvpx-vp9",
            VideoCodec::Av1 => "libsvtav1",
            VideoCodec::Prores => "prores_ks",
            VideoCodec::Ffv1 => "ffv1",
        }
    }

    fn default_pixel_format(self) -> &'static str {
        match self {
            // ProRes has no 4:2:0.
            VideoCodec::Prores => "yuv422p10le",
            _ => "yuv420p",
        }
    }

    /// The largest `--crf` the encoder takes, for the codecs that have one.
    fn max_crf(self) -> Option<u32> {
        match self {
            VideoCodec::H264 | VideoCodec::Hevc => Some(51),
            VideoCodec::Vp9 | VideoCodec::Av1 => Some(63),
            VideoCodec::Prores | VideoCodec::Ffv1 => None,
        }
    }

    /// Is `preset` one the encoder takes? Returns what it takes otherwise.
    fn check_preset(self, preset: &str) -> Result<(), &'static str> {
        let number_in =
            |lo: i32, hi: i32| preset.parse::<i32>().is_ok_and(|v| (lo..=hi).contains(&v));
        let ok = match self {
            VideoCodec::H264 | VideoCodec::Hevc => X26X_PRESETS.contains(&preset),
            VideoCodec::Vp9 => number_in(-8, 8),
            VideoCodec::Av1 => number_in(0, 13),
            VideoCodec::Prores => {
                number_in(0, 5)
                    || ["proxy", "lt", "standard", "hq", "4444", "4444xq"].contains(&preset)
            }
            VideoCodec::Ffv1 => false,
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            VideoCodec::H264 | VideoCodec::Hevc => {
                "ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, \
                 placebo"
            }
            VideoCodec::Vp9 => "a cpu-used number from -8 to 8",
            VideoCodec::Av1 => "a number from 0 (slowest) to 13 (fastest)",
            VideoCodec::Prores => "a profile 0-5 or proxy, lt, standard, hq, 4444, 4444xq",
            VideoCodec::Ffv1 => "none (ffv1 has no presets)",
        })
    }
}

/// Containers by file extension, and the codecs each takes.
pub fn container_for(path: &Path) -> Option<(&'static str, &'static [VideoCodec])> {
    use VideoCodec::*;
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "mp4" => ("mp4", &[H264, Hevc, Vp9, Av1]),
        "mkv" => ("matroska", &[H264, Hevc, Vp9, Av1, Prores, Ffv1]),
        "mov" => ("mov", &[H264, Hevc, Prores]),
        "webm" => ("webm", &[Vp9, Av1]),
        _ => return None,
    })
}

/// Is `path` a video file name (by extension)?
pub fn is_video_path(path: &Path) -> bool {
    container_for(path).is_some()
}

/// How to encode.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSettings {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub codec: VideoCodec,
    pub crf: Option<u32>,
    pub preset: Option<String>,
    /// Bits per second.
    pub bitrate: Option<u64>,
    pub pixel_format: Option<String>,
    /// No B-frames (for segments that are joined later: decode order then never reaches back
    /// across a join).
    pub no_b_frames: bool,
}

/// x264's and x265's speed presets.
const X26X_PRESETS: &[&str] = &[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

impl VideoSettings {
    /// `--crf`, `--bitrate` and `--preset` checked against the codec, naming the option: the
    /// encoder itself would only say "Invalid argument".
    pub fn check_encoder_options(&self) -> Result<()> {
        let codec = self.codec.name();
        if let Some(crf) = self.crf {
            match self.codec.max_crf() {
                None => {
                    return Err(Error::InvalidArgument(format!(
                        "--crf does not apply to {codec} (use --bitrate or the defaults)"
                    )));
                }
                Some(max) if crf > max => {
                    return Err(Error::InvalidArgument(format!(
                        "--crf {crf} is out of range for {codec}: 0 to {max} (lower is better)"
                    )));
                }
                Some(_) => {}
            }
            if self.bitrate.is_some() {
                return Err(Error::InvalidArgument(
                    "--crf (constant quality) and --bitrate (a target rate) exclude each other: \
                     give one"
                        .into(),
                ));
            }
        }
        if let Some(preset) = &self.preset
            && let Err(takes) = self.codec.check_preset(preset)
        {
            return Err(Error::InvalidArgument(format!(
                "--preset \"{}\" is not a {codec} preset; it takes: {takes}",
                preset.chars().take(40).collect::<String>()
            )));
        }
        Ok(())
    }

    pub fn pixel_format_name(&self) -> &str {
        self.pixel_format
            .as_deref()
            .unwrap_or(self.codec.default_pixel_format())
    }

    /// The plane layout the GPU conversion can produce for this pixel format, if any (8-bit
    /// 4:2:0 and 4:4:4).
    pub fn gpu_yuv_layout(&self) -> Option<YuvLayout> {
        let chroma_shift = match self.pixel_format_name() {
            "yuv420p" => 1,
            "yuv444p" => 0,
            _ => return None,
        };
        Some(YuvLayout {
            width: self.width,
            height: self.height,
            chroma_shift,
        })
    }
}

/// The encoders of [`VideoCodec::ALL`] that this FFmpeg has.
pub fn available_codecs() -> Vec<VideoCodec> {
    if ffmpeg::init().is_err() {
        return Vec::new();
    }
    VideoCodec::ALL
        .into_iter()
        .filter(|c| encoder::find_by_name(c.encoder_name()).is_some())
        .collect()
}

/// Where an interrupted video is kept: `name.partial.ext` beside the destination.
pub fn partial_path(dest: &Path) -> PathBuf {
    let stem = dest.file_stem().unwrap_or_default().to_string_lossy();
    let ext = dest.extension().unwrap_or_default().to_string_lossy();
    dest.with_file_name(format!("{stem}.partial.{ext}"))
}

/// How a video ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub frames: u64,
}

/// A video being written. Push RGBA8 frames in order; then `finish` or `finish_interrupted`.
pub struct VideoSink {
    tx: Option<SyncSender<FrameData>>,
    thread: Option<JoinHandle<Result<u64>>>,
    /// Until finished; dropping it removes the file.
    temp: Option<TempFile>,
    dest: PathBuf,
    frame_bytes: usize,
    /// Frames come as Y'CbCr planes converted on the GPU (else RGBA, converted by swscale).
    gpu_yuv: Option<YuvLayout>,
}

impl VideoSink {
    /// Checks the settings, opens the encoder and the (temporary) file.
    pub fn create(dest: &Path, settings: &VideoSettings) -> Result<Self> {
        let (format_name, codecs) = container_for(dest).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{}: unknown video container; use .mp4, .mkv, .mov or .webm",
                dest.display()
            ))
        })?;
        if !codecs.contains(&settings.codec) {
            return Err(Error::InvalidArgument(format!(
                "{}: the {} container cannot hold {}; use one of: {}",
                dest.display(),
                format_name,
                settings.codec.name(),
                codecs
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        settings.check_encoder_options()?;
        if !(settings.fps > 0.0 && settings.fps <= 1000.0) {
            return Err(Error::InvalidArgument(format!(
                "fps must be in (0, 1000], got {}",
                settings.fps
            )));
        }
        ffmpeg::init().map_err(|e| Error::Encode {
            path: dest.to_path_buf(),
            message: format!("cannot initialise FFmpeg: {e}"),
        })?;
        // Encoders' statistics are noise in a render's output; errors come back as values.
        ffmpeg::log::set_level(ffmpeg::log::Level::Error);
        let pixel: format::Pixel = settings.pixel_format_name().parse().map_err(|_| {
            Error::InvalidArgument(format!(
                "unknown pixel format \"{}\"",
                settings.pixel_format_name()
            ))
        })?;
        let codec = encoder::find_by_name(settings.codec.encoder_name()).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "the {} encoder ({}) is not in this FFmpeg; available: {}",
                settings.codec.name(),
                settings.codec.encoder_name(),
                available_codecs()
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if let Some(formats) = codec.video().ok().and_then(|v| v.formats()) {
            let formats: Vec<format::Pixel> = formats.collect();
            if !formats.contains(&pixel) {
                let names: Vec<String> = formats
                    .iter()
                    .filter_map(|p| p.descriptor().map(|d| d.name().to_string()))
                    .collect();
                return Err(Error::InvalidArgument(format!(
                    "{} cannot encode {}; it takes: {}",
                    settings.codec.name(),
                    settings.pixel_format_name(),
                    names.join(", ")
                )));
            }
        }
        let chroma = pixel
            .descriptor()
            .map_or((0, 0), |d| (d.log2_chroma_w(), d.log2_chroma_h()));
        if (chroma.0 > 0 && settings.width % 2 == 1) || (chroma.1 > 0 && settings.height % 2 == 1) {
            return Err(Error::InvalidArgument(format!(
                "{} halves the colour resolution and needs an even width and height, got {}x{}; \
                 use an even --size or --pix-fmt yuv444p",
                settings.pixel_format_name(),
                settings.width,
                settings.height
            )));
        }

        if settings.codec == VideoCodec::Av1 && (settings.width < 64 || settings.height < 64) {
            return Err(Error::InvalidArgument(format!(
                "av1 (libsvtav1) needs at least 64x64 pixels, got {}x{}",
                settings.width, settings.height
            )));
        }
        // Unique per process: two renders to one destination (or a retried shard beside a
        // live one) never write into the same file.
        let temp = TempFile::create(dest, WRITING_SUFFIX, true)?;
        let (tx, rx) = sync_channel::<FrameData>(QUEUE);
        let (ready_tx, ready_rx) = sync_channel::<Result<()>>(1);
        let thread_temp = temp.path().to_path_buf();
        let thread_dest = dest.to_path_buf();
        let thread_settings = settings.clone();
        let thread = std::thread::Builder::new()
            .name("encoder".into())
            .spawn(move || {
                let mut encoder = match Encoder::open(
                    &thread_temp,
                    &thread_dest,
                    format_name,
                    &thread_settings,
                    pixel,
                ) {
                    Ok(e) => {
                        let _ = ready_tx.send(Ok(()));
                        e
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return Ok(0);
                    }
                };
                encoder.run(rx)
            })
            .map_err(|e| Error::io(dest, e))?;
        let opened = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(Error::Gpu("the encoder thread stopped".into())));
        if let Err(e) = opened {
            let _ = thread.join();
            return Err(e);
        }
        Ok(VideoSink {
            tx: Some(tx),
            thread: Some(thread),
            temp: Some(temp),
            dest: dest.to_path_buf(),
            frame_bytes: settings.width as usize * settings.height as usize * 4,
            gpu_yuv: settings.gpu_yuv_layout(),
        })
    }

    /// Takes frames as RGBA for swscale even where the GPU could convert them (`--yuv cpu`).
    pub fn convert_on_cpu(&mut self) {
        self.gpu_yuv = None;
    }

    /// Queues one frame; blocks while the queue is full.
    pub fn push_data(&mut self, frame: FrameData) -> Result<()> {
        match &frame {
            FrameData::Rgba(rgba) => assert_eq!(rgba.len(), self.frame_bytes, "frame size"),
            FrameData::Yuv(planes, layout) => {
                assert_eq!(planes.len() as u64, layout.size(), "plane size")
            }
        }
        let sent = self.tx.as_ref().expect("open").send(frame);
        if sent.is_err() {
            // The encoder thread stopped: its error says why.
            return Err(self.join().err().unwrap_or_else(|| Error::Encode {
                path: self.dest.clone(),
                message: "the encoder stopped".into(),
            }));
        }
        Ok(())
    }

    fn join(&mut self) -> Result<u64> {
        self.tx = None;
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| {
                Err(Error::Encode {
                    path: self.dest.clone(),
                    message: "the encoder thread panicked".into(),
                })
            }),
            None => Ok(0),
        }
    }

    /// Flushes the encoder, writes the trailer and renames the file into place.
    pub fn finish(mut self) -> Result<Written> {
        self.end(Outcome::Complete)
    }

    /// Finalises what was written so far and keeps it at [`partial_path`].
    pub fn finish_interrupted(mut self) -> Result<Written> {
        self.end(Outcome::Interrupted)
    }

    /// Ends the file as the outcome says: in place, kept at [`partial_path`], or removed
    /// (dropping the temporary file removes it).
    fn end(&mut self, outcome: Outcome) -> Result<Written> {
        if outcome == Outcome::Failed {
            if self.thread.is_some() {
                let _ = self.join();
            }
            self.temp = None;
            return Ok(Written {
                path: self.dest.clone(),
                frames: 0,
            });
        }
        let frames = self.join()?;
        let temp = self.temp.take().ok_or_else(|| self.stopped())?;
        let path = match outcome {
            Outcome::Interrupted => {
                let partial = partial_path(&self.dest);
                temp.persist_as(&partial)?;
                partial
            }
            _ => {
                temp.persist()?;
                self.dest.clone()
            }
        };
        Ok(Written { path, frames })
    }

    fn stopped(&self) -> Error {
        Error::Encode {
            path: self.dest.clone(),
            message: "the encoder stopped".into(),
        }
    }
}

impl FrameSink for VideoSink {
    fn readout(&self) -> Readout {
        Readout::color(match self.gpu_yuv {
            Some(layout) => ColorFormat::Yuv(layout),
            None => ColorFormat::Srgb8,
        })
    }

    /// Takes the planes where the frame has them (a frame too large for one GPU piece comes as
    /// RGBA instead).
    fn push(&mut self, _index: u64, frame: Frame) -> Result<()> {
        match self.gpu_yuv {
            Some(layout) if !frame.yuv.is_empty() => {
                self.push_data(FrameData::Yuv(frame.yuv, layout))
            }
            _ => self.push_data(FrameData::Rgba(frame.color)),
        }
    }

    fn finish(&mut self, outcome: Outcome) -> Result<Finished> {
        let written = self.end(outcome)?;
        Ok(Finished {
            path: written.path,
            frames: written.frames,
        })
    }
}

impl Drop for VideoSink {
    /// Dropped without finishing (an error anywhere): the encoder stops, and dropping the
    /// temporary file removes it: nothing is left behind.
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// The encoder thread's state.
struct Encoder {
    output: format::context::Output,
    encoder: encoder::Video,
    scaler: scaling::Context,
    rgba: frame::Video,
    yuv: frame::Video,
    time_base: Rational,
    stream_time_base: Rational,
    frames: u64,
    dest: PathBuf,
}

impl Encoder {
    fn open(
        temp: &Path,
        dest: &Path,
        format_name: &str,
        s: &VideoSettings,
        pixel: format::Pixel,
    ) -> Result<Self> {
        let fail = |what: &str, e: ffmpeg::Error| Error::Encode {
            path: dest.to_path_buf(),
            message: format!("{what}: {e}"),
        };
        // FFmpeg opens the file again by its name: not while an interrupt removes it.
        let opened = crate::interrupt::making_files(|| format::output_as(temp, format_name));
        let mut output = opened.map_err(|e| {
            Error::io(
                dest,
                std::io::Error::other(format!("cannot create the file: {e}")),
            )
        })?;
        let codec = encoder::find_by_name(s.codec.encoder_name()).expect("checked before");
        let global_header = output
            .format()
            .flags()
            .contains(format::Flags::GLOBAL_HEADER);
        let mut video = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| fail("cannot create the encoder", e))?;
        let rate = Rational::from(s.fps).reduce();
        let time_base = rate.invert();
        video.set_width(s.width);
        video.set_height(s.height);
        video.set_format(pixel);
        video.set_time_base(time_base);
        video.set_frame_rate(Some(rate));
        // sRGB frames, tagged as the BT.709 video they become.
        video.set_colorspace(ffmpeg::color::Space::BT709);
        video.set_color_range(ffmpeg::color::Range::MPEG);
        video.set_color_primaries(ffmpeg::color::Primaries::BT709);
        video.set_color_transfer_characteristic(ffmpeg::color::TransferCharacteristic::BT709);
        if let Some(b) = s.bitrate {
            video.set_bit_rate(b as usize);
        }
        if global_header {
            video.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        if s.no_b_frames {
            video.set_max_b_frames(0);
        }
        let mut options = Dictionary::new();
        match s.codec {
            VideoCodec::H264 | VideoCodec::Hevc => {
                options.set("preset", s.preset.as_deref().unwrap_or("medium"));
                if s.bitrate.is_none() {
                    options.set("crf", &s.crf.unwrap_or(18).to_string());
                }
                if s.codec == VideoCodec::Hevc {
                    let bframes = if s.no_b_frames { ":bframes=0" } else { "" };
                    options.set("x265-params", &format!("log-level=error{bframes}"));
                }
            }
            VideoCodec::Vp9 => {
                options.set("cpu-used", s.preset.as_deref().unwrap_or("4"));
                options.set("row-mt", "1");
                if s.bitrate.is_none() {
                    options.set("crf", &s.crf.unwrap_or(31).to_string());
                    options.set("b", "0");
                }
            }
            VideoCodec::Av1 => {
                options.set("preset", s.preset.as_deref().unwrap_or("8"));
                if s.bitrate.is_none() {
                    options.set("crf", &s.crf.unwrap_or(30).to_string());
                }
            }
            VideoCodec::Prores => {
                if let Some(p) = &s.preset {
                    options.set("profile", p);
                }
            }
            VideoCodec::Ffv1 => {}
        }
        let encoder = video.open_with(options).map_err(|e| {
            let what = format!(
                "{} refused these settings (--pix-fmt {}{}{}{}, {}x{}, {} fps)",
                s.codec.encoder_name(),
                s.pixel_format_name(),
                s.crf.map_or(String::new(), |c| format!(", --crf {c}")),
                s.preset
                    .as_ref()
                    .map_or(String::new(), |p| format!(", --preset {p}")),
                s.bitrate
                    .map_or(String::new(), |b| format!(", --bitrate {b}")),
                s.width,
                s.height,
                s.fps
            );
            fail(&what, e)
        })?;
        {
            let mut stream = output
                .add_stream(codec)
                .map_err(|e| fail("cannot add the video stream", e))?;
            stream.set_parameters(&encoder);
            stream.set_time_base(time_base);
            stream.set_avg_frame_rate(rate);
            stream.set_rate(rate);
        }
        output
            .write_header()
            .map_err(|e| fail("cannot write the header", e))?;
        let stream_time_base = output.stream(0).expect("one stream").time_base();
        let mut scaler = scaling::Context::get(
            format::Pixel::RGBA,
            s.width,
            s.height,
            pixel,
            s.width,
            s.height,
            scaling::Flags::BICUBIC | scaling::Flags::ACCURATE_RND | scaling::Flags::FULL_CHR_H_INT,
        )
        .map_err(|e| fail("cannot convert RGBA to the pixel format", e))?;
        // BT.709 matrix, full-range RGB in, limited-range YUV out (swscale's default is BT.601).
        unsafe {
            let coefficients = ffmpeg::ffi::sws_getCoefficients(1 /* SWS_CS_ITU709 */);
            ffmpeg::ffi::sws_setColorspaceDetails(
                scaler.as_mut_ptr(),
                coefficients,
                1,
                coefficients,
                0,
                0,
                1 << 16,
                1 << 16,
            );
        }
        Ok(Encoder {
            output,
            encoder,
            scaler,
            rgba: frame::Video::new(format::Pixel::RGBA, s.width, s.height),
            yuv: frame::Video::new(pixel, s.width, s.height),
            time_base,
            stream_time_base,
            frames: 0,
            dest: dest.to_path_buf(),
        })
    }

    fn error(&self, what: &str, e: ffmpeg::Error) -> Error {
        Error::Encode {
            path: self.dest.clone(),
            message: format!("{what}: {e}"),
        }
    }

    fn run(&mut self, rx: Receiver<FrameData>) -> Result<u64> {
        for frame in rx {
            match frame {
                FrameData::Rgba(rgba) => self.convert(&rgba)?,
                FrameData::Yuv(planes, layout) => self.copy_planes(&planes, &layout),
            }
            self.encode()?;
        }
        self.encoder
            .send_eof()
            .map_err(|e| self.error("cannot flush the encoder", e))?;
        self.drain()?;
        self.output
            .write_trailer()
            .map_err(|e| self.error("cannot finish the file", e))?;
        Ok(self.frames)
    }

    /// RGBA8 into the YUV frame by swscale.
    fn convert(&mut self, rgba: &[u8]) -> Result<()> {
        let (w, h) = (self.rgba.width() as usize, self.rgba.height() as usize);
        let stride = self.rgba.stride(0);
        let plane = self.rgba.data_mut(0);
        for row in 0..h {
            plane[row * stride..row * stride + w * 4]
                .copy_from_slice(&rgba[row * w * 4..(row + 1) * w * 4]);
        }
        self.scaler
            .run(&self.rgba, &mut self.yuv)
            .map_err(|e| self.error("cannot convert the frame", e))
    }

    /// Planes converted on the GPU into the YUV frame, row by row.
    fn copy_planes(&mut self, planes: &[u8], layout: &YuvLayout) {
        for index in 0..3 {
            let (offset, src_stride) = layout.plane(index);
            let (width, height) = if index == 0 {
                (layout.width as usize, layout.height as usize)
            } else {
                (
                    layout.chroma_width() as usize,
                    layout.chroma_height() as usize,
                )
            };
            let dst_stride = self.yuv.stride(index);
            let dst = self.yuv.data_mut(index);
            for row in 0..height {
                let src = offset + row * src_stride;
                dst[row * dst_stride..row * dst_stride + width]
                    .copy_from_slice(&planes[src..src + width]);
            }
        }
    }

    fn encode(&mut self) -> Result<()> {
        self.yuv.set_pts(Some(self.frames as i64));
        self.encoder
            .send_frame(&self.yuv)
            .map_err(|e| self.error("cannot encode a frame", e))?;
        self.frames += 1;
        self.drain()
    }

    /// Writes every packet the encoder has ready.
    fn drain(&mut self) -> Result<()> {
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(0);
            // FFmpeg 5.1's muxers take the duration from the packet: without it the last frame
            // has none and MP4 durations come out a frame short.
            packet.set_duration(1);
            packet.rescale_ts(self.time_base, self.stream_time_base);
            packet
                .write_interleaved(&mut self.output)
                .map_err(|e| self.error("cannot write to the file", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(codec: VideoCodec) -> VideoSettings {
        VideoSettings {
            width: 64,
            height: 36,
            fps: 10.0,
            codec,
            crf: None,
            preset: None,
            bitrate: None,
            pixel_format: None,
            no_b_frames: false,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn encoder_options_are_checked_by_name() {
        let refused = |s: VideoSettings, expected: &str| {
            let e = s.check_encoder_options().unwrap_err().to_string();
            assert!(e.contains(expected), "{e}");
        };
        let mut s = settings(VideoCodec::H264);
        s.crf = Some(100);
        refused(s.clone(), "--crf 100 is out of range for h264: 0 to 51");
        s.crf = Some(18);
        s.bitrate = Some(1_000_000);
        refused(s, "exclude each other");
        let mut s = settings(VideoCodec::Hevc);
        s.crf = Some(52);
        refused(s, "0 to 51");
        let mut s = settings(VideoCodec::H264);
        s.preset = Some("bogus".into());
        refused(s.clone(), "--preset \"bogus\" is not a h264 preset");
        s.preset = Some("veryfast".into());
        s.check_encoder_options().unwrap();
        let mut s = settings(VideoCodec::Av1);
        s.preset = Some("14".into());
        refused(s, "0 (slowest) to 13");
        let mut s = settings(VideoCodec::Ffv1);
        s.preset = Some("1".into());
        refused(s, "ffv1 has no presets");
        let mut s = settings(VideoCodec::Prores);
        s.crf = Some(10);
        refused(s, "does not apply to prores");
    }

    #[test]
    fn two_videos_to_one_file_never_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("v.mkv");
        let s = settings(VideoCodec::Ffv1);
        let frame = || FrameData::Rgba(vec![128; 64 * 36 * 4]);
        let mut a = VideoSink::create(&dest, &s).unwrap();
        let mut b = VideoSink::create(&dest, &s).unwrap();
        a.push_data(frame()).unwrap();
        b.push_data(frame()).unwrap();
        b.push_data(frame()).unwrap();
        assert_eq!(a.finish().unwrap().frames, 1);
        // The second finds the first's complete file in place and leaves it.
        let e = b.finish().unwrap_err().to_string();
        assert!(e.contains("another process"), "{e}");
        assert_eq!(names(dir.path()), ["v.mkv"]);
    }

    #[test]
    fn a_video_not_finished_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("v.mkv");
        let mut sink = VideoSink::create(&dest, &settings(VideoCodec::Ffv1)).unwrap();
        sink.push_data(FrameData::Rgba(vec![0; 64 * 36 * 4]))
            .unwrap();
        assert_eq!(names(dir.path()).len(), 1);
        drop(sink);
        assert!(names(dir.path()).is_empty());
        // A directory is refused before anything is rendered.
        let out = dir.path().join("d.mp4");
        std::fs::create_dir(&out).unwrap();
        let e = VideoSink::create(&out, &settings(VideoCodec::H264))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("d.mp4") && e.contains("directory"), "{e}");
    }
}
