//! OpenEXR output: scene-linear half-float RGBA (exposure applied, no tone mapping) with the
//! frame's data channels as 32-bit floats, for compositing and re-colouring: `Z` (distance from
//! the camera, 0 where the ray escapes) for volume kinds; `N` (smooth iteration count, negative
//! inside the set) and `DE` (distance estimate, pixels) for plane kinds, as deep-zoom tools export
//! them. One file per still, a folder of `frame_NNNNN.exr` per flight; each written atomically.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use exr::prelude::{
    AnyChannel, AnyChannels, Encoding, FlatSamples, Image, Layer, LayerAttributes, SmallVec,
    WritableImage, f16,
};

use crate::error::{Error, Result};
use crate::frame::{ColorFormat, Frame, Readout};
use crate::sink::png::AtomicFile;
use crate::sink::{Finished, FrameSink, Outcome, frame_file_name};

/// Which data channels an EXR carries besides colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataChannels {
    /// Volume kinds: `Z`.
    Depth,
    /// Plane kinds: `N` and `DE`.
    Plane,
}

impl DataChannels {
    pub fn for_plane(plane: bool) -> Self {
        if plane {
            DataChannels::Plane
        } else {
            DataChannels::Depth
        }
    }
}

/// What an EXR needs of a frame: linear colour and the aux channels.
pub const READOUT: Readout = Readout {
    color: ColorFormat::Linear,
    aux: true,
};

/// The EXR file's bytes for a frame read back with [`READOUT`].
pub fn encode(frame: &Frame, data: DataChannels) -> std::result::Result<Vec<u8>, String> {
    let pixels = frame.width as usize * frame.height as usize;
    if frame.linear.len() != pixels * 4 || frame.depth.len() != pixels {
        return Err("the frame was not read back with linear colour and data channels".into());
    }
    let plane = |c: usize| -> Vec<f16> {
        frame
            .linear
            .iter()
            .skip(c)
            .step_by(4)
            .map(|&bits| f16::from_bits(bits))
            .collect()
    };
    let mut channels = vec![
        AnyChannel::new("R", FlatSamples::F16(plane(0))),
        AnyChannel::new("G", FlatSamples::F16(plane(1))),
        AnyChannel::new("B", FlatSamples::F16(plane(2))),
        AnyChannel::new("A", FlatSamples::F16(plane(3))),
    ];
    match data {
        DataChannels::Depth => {
            channels.push(AnyChannel::new("Z", FlatSamples::F32(frame.depth.clone())));
        }
        DataChannels::Plane => {
            channels.push(AnyChannel::new("N", FlatSamples::F32(frame.depth.clone())));
            channels.push(AnyChannel::new(
                "DE",
                FlatSamples::F32(frame.distance.clone()),
            ));
        }
    }
    let layer = Layer::new(
        (frame.width as usize, frame.height as usize),
        LayerAttributes::named("mandelfly"),
        Encoding::FAST_LOSSLESS,
        AnyChannels::sort(SmallVec::from_vec(channels)),
    );
    let mut bytes = Cursor::new(Vec::new());
    Image::from_layer(layer)
        .write()
        .non_parallel()
        .to_buffered(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok(bytes.into_inner())
}

/// Writes a frame read back with [`READOUT`] to `file`.
pub fn write(file: AtomicFile, frame: &Frame, data: DataChannels) -> Result<()> {
    let path = file.path().to_path_buf();
    let bytes = encode(frame, data).map_err(|message| Error::Encode {
        path: path.clone(),
        message,
    })?;
    file.commit(|out| out.write_all(&bytes).map_err(|e| Error::io(&path, e)))
}

/// A folder of `frame_NNNNN.exr`.
pub struct ExrSequence {
    dir: PathBuf,
    data: DataChannels,
    written: u64,
}

impl ExrSequence {
    /// Creates the folder if needed, and tidies the temporary files a killed run left there.
    pub fn create(dir: &Path, data: DataChannels) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        crate::sink::png::remove_stale(dir, ".frame_", crate::sink::png::PARTIAL_SUFFIX);
        Ok(ExrSequence {
            dir: dir.to_path_buf(),
            data,
            written: 0,
        })
    }
}

impl FrameSink for ExrSequence {
    fn readout(&self) -> Readout {
        READOUT
    }

    fn push(&mut self, index: u64, frame: Frame) -> Result<()> {
        let file = AtomicFile::create_in_sequence(&self.dir.join(frame_file_name(index, "exr")))?;
        write(file, &frame, self.data)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use exr::prelude::ReadChannels;
    use exr::prelude::ReadLayers;

    #[test]
    fn channels_round_trip_through_the_exr_reader() {
        let frame = Frame {
            width: 3,
            height: 2,
            linear: (0..24)
                .map(|i| f16::from_f32(i as f32 * 0.25).to_bits())
                .collect(),
            depth: vec![1.0, 2.0, 3.0, 4.0, 5.0, -1.0],
            distance: vec![0.5; 6],
            ..Default::default()
        };
        let bytes = encode(&frame, DataChannels::Plane).unwrap();
        let image = exr::prelude::read()
            .no_deep_data()
            .largest_resolution_level()
            .all_channels()
            .first_valid_layer()
            .all_attributes()
            .from_buffered(Cursor::new(bytes))
            .unwrap();
        let channels = &image.layer_data.channel_data.list;
        let names: Vec<String> = channels.iter().map(|c| c.name.to_string()).collect();
        assert_eq!(names, ["A", "B", "DE", "G", "N", "R"]);
        let n = channels.iter().find(|c| c.name.to_string() == "N").unwrap();
        assert_eq!(n.sample_data, FlatSamples::F32(frame.depth.clone()));
        let g = channels.iter().find(|c| c.name.to_string() == "G").unwrap();
        match &g.sample_data {
            FlatSamples::F16(v) => assert_eq!(v[1].to_f32(), 5.0 * 0.25),
            other => panic!("G is {other:?}"),
        }
    }

    #[test]
    fn a_frame_without_linear_colour_is_refused() {
        let frame = Frame {
            width: 1,
            height: 1,
            ..Default::default()
        };
        assert!(encode(&frame, DataChannels::Depth).is_err());
    }
}
