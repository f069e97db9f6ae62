//! Which flights the map can render, and how large the map is.
//!
//! A flight qualifies when it is a zoom about one fixed plane point F: the plane view's zoom
//! changes monotonically, and F (found from the first and last frames at full precision) stays
//! at a bounded distance from the screen in every frame (mandelfly's path interpolation moves
//! the centre in step with the zoom, so a two-key zoom is exactly such a flight, with F on the
//! screen). Rotation may change. Every pixel of every frame then lies at a known radius and
//! angle around F, and the map holds those: row k at radius `exp(ln_top - (k + 1/2) delta)`,
//! `angles` samples round it. The angle count is set by the largest radius a frame shows, in
//! pixels, so that even the outermost pixel is sampled at its own resolution; rows are as far
//! apart in log-radius as samples are in angle, so samples are square everywhere and every
//! pixel nearer F is sampled finer still. Rows go down to a quarter pixel of the deepest
//! frame, so the map reaches every pixel of every frame (the centre disc it cannot reach is
//! smaller than a pixel).

use std::f64::consts::TAU;
use std::ops::Range;

use crate::deep::floatexp::{FloatExp, ldexp};
use crate::deep::precise;
use crate::error::{Error, Result};
use crate::flight::FramePlan;

/// Rows per chunk of depth (at least): the unit the map is computed, kept and dropped in.
pub const CHUNK_ROWS: u32 = 512;
/// Most chunks a frame may show (resident at once).
pub const MAX_WINDOW: u32 = 32;
/// The innermost radius of a frame the map reaches, in frame pixels.
pub const INNER_RADIUS: f64 = 0.25;
/// Angle counts are rounded up to a multiple of this (mip levels halve it evenly).
const ANGLE_MULTIPLE: u32 = 64;
/// Bytes per stored sample: the smooth count (f32) and, packed in a u32, the DE and slope.
pub const SAMPLE_BYTES: u64 = 8;
/// Automatically, the map is used only where it computes at most this share of the pixels
/// that rendering each frame would.
const AUTO_SHARE: f64 = 0.5;
/// The fixed point may stray this many half-diagonals from the screen centre.
const MAX_ANCHOR: f64 = 4.0;
/// Frames checked for the fixed point: all of them up to this many, else evenly spread.
const MAX_CHECKS: u64 = 20000;
/// Most mip levels.
const MAX_LEVELS: u32 = 16;

/// How `render` makes the frames (`--method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// The map where the path qualifies and it saves work, else each frame.
    #[default]
    Auto,
    /// Each frame rendered from scratch.
    Frames,
    /// Through the map (an error when the path does not qualify).
    Map,
}

/// The map of one flight: where it is centred and how it is sampled.
#[derive(Debug, Clone)]
pub struct MapPlan {
    /// The fixed point F, as decimal text at the precision the deepest frame needs.
    pub center: [String; 2],
    pub center_f64: [f64; 2],
    /// Frame size and samples per pixel.
    pub width: u32,
    pub height: u32,
    pub samples: u32,
    /// Frames of the flight.
    pub frames: u64,
    /// The largest distance of any frame's pixel from F, in pixels (plus one for the
    /// anti-aliasing filter's reach).
    pub outer_radius: f64,
    /// Samples round each row.
    pub angles: u32,
    /// Rows per chunk.
    pub chunk_rows: u32,
    /// Log-radius from one row to the next (= 2 pi / angles: square samples).
    pub delta: f64,
    /// ln of the radius (plane units) at the top edge of row 0.
    pub ln_top: f64,
    /// ln of the smallest radius (plane units) a frame needs: the rows reach below it.
    pub ln_bottom: f64,
    /// Chunks from the outermost radius to the innermost.
    pub chunks: u64,
    /// Chunks a frame needs at once (resident in the ring).
    pub window: u32,
    /// Mip levels of each chunk.
    pub levels: u32,
    /// (time, ln pixel size) of the frames checked, in frame order.
    frames_ln_pixel: Vec<(f64, f64)>,
}

/// Where one mip level of a frame's window lies in the window's texture ([`MapPlan::window_layout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelBinding {
    /// The texture row its first chunk starts at.
    pub row: u64,
    /// Texture rows from one chunk's part to the next's.
    pub rows_per_chunk: u64,
    /// Chunks it holds: the window's first ones.
    pub chunks: u32,
}

/// The method `render` uses, and why.
#[derive(Debug, Clone)]
pub enum Decision {
    Frames(String),
    Map(Box<MapPlan>, String),
}

impl MapPlan {
    /// (angles, rows) of each mip level of a chunk.
    pub fn level_sizes(&self) -> Vec<(u32, u32)> {
        let (mut w, mut h) = (self.angles, self.chunk_rows);
        (0..self.levels)
            .map(|_| {
                let size = (w, h);
                w = (w / 2).max(1);
                h = (h / 2).max(1);
                size
            })
            .collect()
    }

    /// Bytes of a chunk's level 0 (what a chunk computes, and what a map file holds of it).
    pub fn level0_bytes(&self) -> u64 {
        self.angles as u64 * self.chunk_rows as u64 * SAMPLE_BYTES
    }

    /// Where each level starts in a chunk, in u32 words (two per sample).
    pub fn level_offsets(&self) -> Vec<u64> {
        let mut offset = 0;
        self.level_sizes()
            .iter()
            .map(|&(w, h)| {
                let start = offset;
                offset += w as u64 * h as u64 * 2;
                start
            })
            .collect()
    }

    /// u32 words of one chunk with all its levels.
    pub fn chunk_words(&self) -> u64 {
        self.level_sizes()
            .iter()
            .map(|&(w, h)| w as u64 * h as u64 * 2)
            .sum()
    }

    /// Bytes between chunks in the store (a multiple of the storage offset alignment).
    pub fn chunk_stride(&self) -> u64 {
        (self.chunk_words() * 4).div_ceil(256) * 256
    }

    /// The finest level a frame can read from the `j`-th chunk of its window: the chunk lies
    /// at least `j - 1` chunk spans (less a row) inside the frame's farthest pixel (the first
    /// chunk may hold only its last rows), where a pixel spans 1 / (rho delta) samples of a
    /// row. Only these levels are bound for frames.
    pub fn min_level(&self, j: u32) -> u32 {
        let rows = (j.saturating_sub(1) * self.chunk_rows) as f64 - 1.0;
        let octaves = rows.max(0.0) * self.delta / std::f64::consts::LN_2
            - (self.outer_radius * self.delta).log2()
            - 0.5 * (self.samples as f64).log2();
        (octaves.floor().max(0.0) as u32).min(self.levels - 1)
    }

    /// Chunks of a frame's window whose level `level` is bound for frames: the first ones, from
    /// which a frame can read that level (`min_level`), and the one after them, which the
    /// taps of a pixel at the last one's inner edge reach into.
    pub fn bound_chunks(&self, level: u32) -> u32 {
        let readable = (0..self.window)
            .take_while(|&j| self.min_level(j) <= level)
            .count() as u32;
        (readable + 1).min(self.window)
    }

    /// Where the bound levels lie in a texture `width` words wide: each level's chunks one after
    /// another, each from the start of a row (so a row of any chunk is found from its level's
    /// entry alone), level after level. Per level: its first row, rows from one chunk to the
    /// next, chunks.
    pub fn window_layout(&self, width: u32) -> Vec<LevelBinding> {
        let mut row = 0;
        self.level_sizes()
            .iter()
            .enumerate()
            .map(|(level, &(w, h))| {
                let binding = LevelBinding {
                    row,
                    rows_per_chunk: (w as u64 * h as u64 * 2).div_ceil(width as u64),
                    chunks: self.bound_chunks(level as u32),
                };
                row += binding.rows_per_chunk * binding.chunks as u64;
                binding
            })
            .collect()
    }

    /// u32 words bound for a frame's window (each level of the chunks `bound_chunks` gives).
    pub fn bound_words(&self) -> u64 {
        self.level_sizes()
            .iter()
            .enumerate()
            .map(|(level, &(w, h))| {
                w as u64 * h as u64 * 2 * self.bound_chunks(level as u32) as u64
            })
            .sum()
    }

    /// Rows of a texture `width` words wide that the bound levels take.
    pub fn bound_rows(&self, width: u32) -> u64 {
        self.window_layout(width)
            .iter()
            .map(|l| l.rows_per_chunk * l.chunks as u64)
            .sum()
    }

    /// GPU memory the map holds at any time: the store of resident chunks with all their
    /// levels (a chunk is computed into its slot) and the levels bound for frames. It does not
    /// grow with the depth of the zoom.
    pub fn resident_bytes(&self) -> u64 {
        self.window as u64 * self.chunk_stride() + self.bound_words() * 4
    }

    /// Samples computed for the whole flight.
    pub fn computed_samples(&self) -> u64 {
        self.chunks * self.angles as u64 * self.chunk_rows as u64
    }

    /// Pixels computed by rendering every frame instead (all samples per pixel).
    pub fn per_frame_pixels(&self) -> u64 {
        self.frames * self.width as u64 * self.height as u64 * self.samples as u64
    }

    /// Log-radius span of one chunk.
    pub fn chunk_span(&self) -> f64 {
        self.chunk_rows as f64 * self.delta
    }

    /// ln of the radius (plane units) at the top edge of chunk `c`.
    pub fn chunk_ln_top(&self, c: u64) -> f64 {
        self.ln_top - c as f64 * self.chunk_span()
    }

    /// Row coordinate (rows from the map's top edge) of radius `exp(ln_radius)`.
    pub fn row(&self, ln_radius: f64) -> f64 {
        (self.ln_top - ln_radius) / self.delta
    }

    /// The chunks a frame with pixels `exp(ln_pixel)` wide shows, between radii `inner` and
    /// `outer` pixels from F (a row of margin either side for the filter).
    pub fn chunks_for(&self, ln_pixel: f64, inner: f64, outer: f64) -> Range<u64> {
        let top = self.row(ln_pixel + outer.ln()) - 1.0;
        let bottom = self.row(ln_pixel + inner.ln()) + 1.0;
        let chunk = |row: f64| (row / self.chunk_rows as f64).floor().max(0.0) as u64;
        let last = self.chunks - 1;
        chunk(top).min(last)..chunk(bottom).min(last) + 1
    }

    /// The time of the frame whose pixel size is nearest `exp(ln_pixel)`: the frame that shows
    /// the rows at that radius one pixel from F (the deepest that still resolves them), whose
    /// iteration count those rows are computed with.
    pub fn time_for(&self, ln_pixel: f64) -> f64 {
        self.frames_ln_pixel
            .iter()
            .min_by(|a, b| (a.1 - ln_pixel).abs().total_cmp(&(b.1 - ln_pixel).abs()))
            .map_or(0.0, |f| f.0)
    }

    /// The deepest frame's pixel size (ln).
    pub fn ln_pixel_min(&self) -> f64 {
        self.frames_ln_pixel
            .iter()
            .map(|f| f.1)
            .fold(f64::INFINITY, f64::min)
    }

    /// One line for `--verbose`.
    pub fn describe(&self) -> String {
        format!(
            "map: {} angles x {} rows per chunk, {} chunks down to {}, {} resident ({} mip \
             levels, {:.0} MB on the GPU); {} samples instead of {} pixels per frame ({:.1}x fewer)",
            self.angles,
            self.chunk_rows,
            self.chunks,
            FloatExp::from_ln(self.chunk_ln_top(self.chunks)).to_decimal(3),
            self.window,
            self.levels,
            self.resident_bytes() as f64 / 1e6,
            count(self.computed_samples()),
            count(self.per_frame_pixels()),
            self.per_frame_pixels() as f64 / self.computed_samples() as f64
        )
    }
}

/// A count for people: 814.3 M.
pub fn count(n: u64) -> String {
    let n = n as f64;
    match n {
        n if n >= 1e9 => format!("{:.2} G", n / 1e9),
        n if n >= 1e6 => format!("{:.1} M", n / 1e6),
        n if n >= 1e3 => format!("{:.1} k", n / 1e3),
        n => format!("{n}"),
    }
}

/// The map for `plan`'s flight, or why it cannot have one.
pub fn analyse(plan: &FramePlan<'_>) -> std::result::Result<MapPlan, String> {
    let path = plan.path;
    let base = &path.file.base.fractal;
    if !base.is_plane() {
        return Err(format!(
            "`{}` is ray-marched; the map holds plane views",
            base.kind()
        ));
    }
    let n = plan.frame_count();
    if n < 2 {
        return Err("the flight has a single frame".into());
    }
    // The map keeps count, distance and slope; the stripe average needs each pixel's orbit.
    if path.file.base.look.stripes > 0.0 || path.animated_look_params().contains(&"stripes") {
        return Err("the look uses the stripe average, which the map does not keep".into());
    }
    if let Some(name) = path
        .animated_fractal_params()
        .into_iter()
        .find(|name| *name != "iterations")
    {
        return Err(format!(
            "the fractal parameter `{name}` is keyed: the set itself changes from frame to frame"
        ));
    }
    let stride = n.div_ceil(MAX_CHECKS).max(1);
    let mut checked: Vec<u64> = (0..n).step_by(stride as usize).collect();
    if checked.last() != Some(&(n - 1)) {
        checked.push(n - 1);
    }
    let time = |k: u64| {
        let t = k as f64 / plan.fps;
        if path.is_loop() {
            t
        } else {
            t.clamp(0.0, path.duration())
        }
    };
    let height = plan.height as f64;
    let scenes: Vec<(f64, crate::scene::Scene)> = checked
        .iter()
        .map(|&k| (time(k), path.sample(time(k))))
        .collect();
    let ln_pixel: Vec<f64> = scenes
        .iter()
        .map(|(_, s)| s.plane.zoom.ln() - height.ln())
        .collect();
    let steps: Vec<f64> = ln_pixel.windows(2).map(|w| w[1] - w[0]).collect();
    let inward = steps[0] < 0.0;
    if let Some(i) = steps.iter().position(|&d| d == 0.0 || (d < 0.0) != inward) {
        return Err(if steps.iter().all(|&d| d == 0.0) {
            "the zoom does not change".into()
        } else {
            format!(
                "the zoom is not monotonic: it turns near frame {}",
                checked[i + 1]
            )
        });
    }
    let max_step = steps.iter().fold(0.0f64, |m, d| m.max(d.abs()));

    // The fixed point F of the similarity taking the first frame to the last:
    // F = c_a + (c_b - c_a) z_a / (z_a - z_b), at the deepest frame's precision and more.
    let deepest = ln_pixel.iter().copied().fold(f64::INFINITY, f64::min);
    let bits = precise::precision_for(FloatExp::from_ln(deepest).scale(1.0 / 65536.0));
    let (a, b) = (&scenes[0].1.plane, &scenes[scenes.len() - 1].1.plane);
    let (ca, cb) = (a.precise_center(bits), b.precise_center(bits));
    let (za, zb) = (
        precise::from_floatexp(a.zoom, bits),
        precise::from_floatexp(b.zoom, bits),
    );
    let q = precise::div(&za, &precise::sub(&za, &zb, bits), bits);
    let fixed: [_; 2] = std::array::from_fn(|i| {
        precise::add(
            &ca[i],
            &precise::mul(&precise::sub(&cb[i], &ca[i], bits), &q, bits),
            bits,
        )
    });

    // Where F is on each frame's screen, in pixels from the centre (y up): the map must
    // reach the corner farthest from it.
    let half = glam::DVec2::new(plan.width as f64, height) * 0.5;
    let half_diagonal = half.length();
    let mut outer = 0.0f64;
    for (_, scene) in &scenes {
        let view = &scene.plane;
        let c = view.precise_center(bits);
        let offset = |i: usize| {
            let d = precise::to_floatexp(&precise::sub(&fixed[i], &c[i], bits));
            // In pixels: d / (zoom / height).
            ldexp(d.mantissa / view.zoom.mantissa, d.exp - view.zoom.exp) * height
        };
        let plane_px = glam::DVec2::new(offset(0), offset(1));
        let (s, co) = view.rotation.to_radians().sin_cos();
        let screen = glam::DVec2::new(
            co * plane_px.x + s * plane_px.y,
            -s * plane_px.x + co * plane_px.y,
        );
        if !screen.is_finite() || screen.length() > MAX_ANCHOR * half_diagonal {
            return Err(format!(
                "the view does not zoom about one point: the fixed point of the first and last \
                 frames is {:.0} pixels from the centre at t = {:.2} s",
                screen.length(),
                scenes
                    .iter()
                    .find(|(_, s2)| std::ptr::eq(s2, scene))
                    .map_or(0.0, |f| f.0)
            ));
        }
        let corners = [
            glam::DVec2::new(half.x, half.y),
            glam::DVec2::new(-half.x, half.y),
            glam::DVec2::new(half.x, -half.y),
            glam::DVec2::new(-half.x, -half.y),
        ];
        for corner in corners {
            outer = outer.max(corner.distance(screen));
        }
    }
    let outer_radius = outer + 1.0;
    let angles = ((TAU * outer_radius) / ANGLE_MULTIPLE as f64).ceil() as u32 * ANGLE_MULTIPLE;
    let delta = TAU / angles as f64;
    let shallowest = ln_pixel.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // A frame step of margin either way: samples within a frame's shutter lie between frames.
    let ln_top = shallowest + outer_radius.ln() + max_step;
    let ln_bottom = deepest + INNER_RADIUS.ln() - max_step;
    // Chunks of at least CHUNK_ROWS rows, more for large frames so a frame's window stays
    // within MAX_WINDOW chunks.
    let mut chunk_rows = CHUNK_ROWS;
    while window_for(outer_radius, delta, chunk_rows) > MAX_WINDOW {
        chunk_rows *= 2;
    }
    let span = chunk_rows as f64 * delta;
    let chunks = ((ln_top - ln_bottom) / span).ceil().max(1.0) as u64;
    let window = window_for(outer_radius, delta, chunk_rows);
    let levels = ((outer_radius / INNER_RADIUS).log2().ceil() as u32 + 1).clamp(1, MAX_LEVELS);
    let center = [
        precise::to_decimal(&fixed[0]),
        precise::to_decimal(&fixed[1]),
    ];
    Ok(MapPlan {
        center_f64: [precise::to_f64(&fixed[0]), precise::to_f64(&fixed[1])],
        center,
        width: plan.width,
        height: plan.height,
        samples: plan.samples,
        frames: n,
        outer_radius,
        angles,
        chunk_rows,
        delta,
        ln_top,
        ln_bottom,
        chunks,
        window: window.min(chunks as u32 + 1),
        levels,
        frames_ln_pixel: scenes.iter().map(|s| s.0).zip(ln_pixel).collect(),
    })
}

/// Chunks a frame reaching `outer_radius` pixels from the centre shows at most, with rows
/// `delta` apart in log-radius, `chunk_rows` to a chunk.
fn window_for(outer_radius: f64, delta: f64, chunk_rows: u32) -> u32 {
    let rows_per_frame = (outer_radius / INNER_RADIUS).ln() / delta;
    (rows_per_frame / chunk_rows as f64).ceil() as u32 + 2
}

impl MapPlan {
    /// Takes the sampling and depth range of the map in `file` (described by `map`) instead of
    /// its own, for frames assembled from that map: refused, naming the file and what does
    /// not match, unless the map is of this path's fractal, about this path's fixed point,
    /// sampled at least as finely as its frames need and deep and shallow enough for all of
    /// them.
    pub fn adopt(
        &mut self,
        file: &std::path::Path,
        map: &super::file::MapHeader,
        fractal: &dyn crate::fractal::Formula,
    ) -> Result<()> {
        let refuse = |why: String| {
            Err(Error::InvalidArgument(format!(
                "{}: this zoom map does not fit the path: {why}",
                file.display()
            )))
        };
        let ours = super::file::MapHeader::of(self, fractal);
        if map.kind != ours.kind {
            return refuse(format!(
                "it is a map of `{}`, the path renders `{}`",
                map.kind, ours.kind
            ));
        }
        if map.params != ours.params {
            let show = |p: &[(String, f64)]| {
                p.iter()
                    .map(|(n, v)| format!("{n} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return refuse(format!(
                "it was computed with {}, the path has {}",
                show(&map.params),
                show(&ours.params)
            ));
        }
        // The centres agree to a small part of the deepest frame's pixel.
        let ln_pixel = self.ln_pixel_min();
        let bits = precise::precision_for(FloatExp::from_ln(ln_pixel).scale(1.0 / 65536.0));
        let apart = (0..2).try_fold(0.0f64, |most, i| {
            let theirs = precise::parse(&map.center[i], bits)?;
            let mine = precise::parse(&self.center[i], bits)?;
            let d = precise::to_floatexp(&precise::sub(&theirs, &mine, bits));
            Some(most.max(if d.is_zero() {
                0.0
            } else {
                (d.abs().ln() - ln_pixel).exp()
            }))
        });
        match apart {
            None => {
                return refuse(format!(
                    "its centre ({}, {}) is not a number",
                    map.center[0], map.center[1]
                ));
            }
            Some(pixels) if pixels > 1.0 / 64.0 => {
                return refuse(format!(
                    "it zooms about ({}, {}), the path about ({}, {}) ({pixels:.3e} pixels of the                      deepest frame apart)",
                    short(&map.center[0]),
                    short(&map.center[1]),
                    short(&self.center[0]),
                    short(&self.center[1])
                ));
            }
            Some(_) => {}
        }
        if map.outer_radius < self.outer_radius - 1e-9 || map.angles == 0 {
            return refuse(format!(
                "it is sampled for frames reaching {:.0} pixels from its centre, the path's reach                  {:.0} (a larger --size, or the centre farther off screen)",
                map.outer_radius, self.outer_radius
            ));
        }
        let depth = |ln: f64| FloatExp::from_ln(ln).to_decimal(3);
        if map.ln_top < self.ln_top - 1e-9 || map.ln_bottom() > self.ln_bottom + 1e-9 {
            return refuse(format!(
                "it holds radii from {} down to {}, the path's frames need {} down to {}",
                depth(map.ln_top),
                depth(map.ln_bottom()),
                depth(self.ln_top),
                depth(self.ln_bottom)
            ));
        }
        let delta = TAU / map.angles as f64;
        if (map.delta - delta).abs() > 1e-12 * delta {
            return refuse(format!(
                "its rows are {} apart in log-radius, not 2 pi / {} angles",
                map.delta, map.angles
            ));
        }
        let window = window_for(self.outer_radius, map.delta, map.chunk_rows);
        if window > MAX_WINDOW || !map.chunk_rows.is_power_of_two() {
            return refuse(format!(
                "its chunks of {} rows are too small for these frames",
                map.chunk_rows
            ));
        }
        self.angles = map.angles;
        self.delta = map.delta;
        self.ln_top = map.ln_top;
        self.chunk_rows = map.chunk_rows;
        self.chunks = map.chunks;
        self.window = window.min(map.chunks as u32 + 1);
        Ok(())
    }
}

/// A long decimal shortened for a message.
fn short(text: &str) -> String {
    if text.len() > 24 {
        format!("{}...", &text[..22])
    } else {
        text.to_string()
    }
}

/// The method for `plan` under `--method`, and why (for `--verbose`).
pub fn choose(method: Method, plan: &FramePlan<'_>) -> Result<Decision> {
    match method {
        Method::Frames => Ok(Decision::Frames("--method frames".into())),
        Method::Map => analyse(plan)
            .map(|m| Decision::Map(Box::new(m), "--method map".into()))
            .map_err(|why| {
                Error::InvalidArgument(format!(
                    "--method map: this path cannot be rendered through the map: {why}"
                ))
            }),
        Method::Auto => Ok(match analyse(plan) {
            Err(why) => Decision::Frames(why),
            Ok(map) => {
                let (computed, per_frame) = (map.computed_samples(), map.per_frame_pixels());
                if computed as f64 > AUTO_SHARE * per_frame as f64 {
                    Decision::Frames(format!(
                        "a zoom about one point, but its map ({} samples) would save little \
                         over rendering each frame ({} pixels)",
                        count(computed),
                        count(per_frame)
                    ))
                } else {
                    let why = format!(
                        "a zoom about one point: the map computes {:.1}x fewer samples than \
                         rendering each frame",
                        per_frame as f64 / computed as f64
                    );
                    Decision::Map(Box::new(map), why)
                }
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::{CameraPath, PathFile};

    fn path(keys: &str) -> CameraPath {
        let text = format!(
            "[fractal]\nkind = \"mandelbrot\"\niterations = 500\n[output]\nfps = 30\nsize = \
             [1280, 720]\n{keys}"
        );
        CameraPath::new(PathFile::parse("zoom.toml", &text).unwrap())
    }

    fn zoom_to(depth: &str, seconds: f64) -> CameraPath {
        path(&format!(
            "[[key]]\ntime = 0\ncenter = [\"-1.25\", \"0.02\"]\nzoom = 2.6\n[[key]]\ntime = \
             {seconds}\ncenter = [\"-1.25\", \"0.02\"]\nzoom = \"{depth}\"\nrotation = 90\n"
        ))
    }

    fn frame_plan(path: &CameraPath, fps: f64) -> FramePlan<'_> {
        FramePlan {
            path,
            fps,
            width: 1280,
            height: 720,
            samples: 1,
            shutter: 0.0,
        }
    }

    #[test]
    fn a_zoom_about_a_fixed_centre_renders_through_the_map() {
        let p = zoom_to("1e-100", 180.0);
        let plan = frame_plan(&p, 60.0);
        let Decision::Map(map, why) = choose(Method::Auto, &plan).unwrap() else {
            panic!("expected the map")
        };
        assert!(why.contains("fewer"), "{why}");
        assert_eq!(map.center_f64, [-1.25, 0.02]);
        // Every pixel within the half-diagonal (plus a pixel) is sampled at least once per
        // pixel round the outermost row.
        let half_diagonal = (640.0f64).hypot(360.0);
        assert!(map.outer_radius >= half_diagonal + 1.0);
        assert!(map.angles as f64 * INNER_RADIUS.max(1.0) >= TAU * map.outer_radius);
        // The rows span the whole zoom and a quarter pixel below the deepest frame.
        let deepest_pixel = FloatExp::parse("1e-100").unwrap().ln() - 720f64.ln();
        assert!(map.chunk_ln_top(map.chunks) <= deepest_pixel + INNER_RADIUS.ln());
        assert!(map.ln_top >= (2.6f64 / 720.0).ln() + half_diagonal.ln());
        // The 3-minute zoom to 1e-100 at 720p: at least 10x fewer samples than pixels.
        let ratio = map.per_frame_pixels() as f64 / map.computed_samples() as f64;
        assert!(ratio >= 10.0, "{ratio}");
        // Only `--method frames` turns it off.
        assert!(matches!(
            choose(Method::Frames, &plan).unwrap(),
            Decision::Frames(_)
        ));
    }

    #[test]
    fn memory_stays_bounded_for_a_zoom_to_1e_1000() {
        let shallow = zoom_to("1e-100", 10.0);
        let deep = zoom_to("1e-1000", 10.0);
        let (a, b) = (
            analyse(&frame_plan(&shallow, 30.0)).unwrap(),
            analyse(&frame_plan(&deep, 30.0)).unwrap(),
        );
        // Ten times the depth: about ten times the chunks, the same resident window.
        assert!(b.chunks > 9 * a.chunks, "{} vs {}", b.chunks, a.chunks);
        assert_eq!(a.resident_bytes(), b.resident_bytes());
        assert!(b.resident_bytes() < 1 << 30, "{}", b.resident_bytes());
        // Any frame of the deep flight needs no more chunks than the window holds.
        for ln_pixel in [b.ln_top - 5.0, -1000.0, b.ln_pixel_min()] {
            let need = b.chunks_for(ln_pixel, INNER_RADIUS, b.outer_radius);
            assert!(need.end - need.start <= b.window as u64, "{need:?}");
        }
        assert!(b.center[0].starts_with("-1.25"));
    }

    #[test]
    fn frames_never_need_a_level_finer_than_the_one_bound() {
        for (depth, samples) in [("1e-100", 1), ("1e-30", 4), ("1e-300", 16)] {
            let p = zoom_to(depth, 20.0);
            let mut plan = frame_plan(&p, 30.0);
            plan.samples = samples;
            let map = analyse(&plan).unwrap();
            // Frames at many depths (so the first chunk's rows in view vary), pixels at many
            // radii: the level a sample reads is never finer than its chunk's finest bound one.
            for step in 0..97 {
                let ln_pixel = map.ln_top - map.outer_radius.ln() - 0.0137 * step as f64;
                let window = map.chunks_for(ln_pixel, INNER_RADIUS, map.outer_radius);
                for k in 0..400 {
                    let rho =
                        map.outer_radius * (INNER_RADIUS / map.outer_radius).powf(k as f64 / 399.0);
                    let row = map.row(ln_pixel + rho.ln());
                    let chunk = (row / map.chunk_rows as f64).floor() as u64;
                    if !window.contains(&chunk) {
                        continue;
                    }
                    let j = (chunk - window.start) as u32;
                    let lod = (1.0 / (rho * map.delta)).log2() - 0.5 * (samples as f64).log2();
                    let level = lod.floor().clamp(0.0, map.levels as f64 - 1.0) as u32;
                    assert!(
                        level >= map.min_level(j),
                        "{depth}: rho {rho} reads level {level} of chunk {j} (bound from {})",
                        map.min_level(j)
                    );
                    // Its bilinear taps reach a row of that level further in, maybe in the
                    // next chunk: bound there too.
                    let level_rows = (map.chunk_rows >> level).max(1) as f64;
                    let reach = row + map.chunk_rows as f64 / level_rows;
                    let next = ((reach / map.chunk_rows as f64).floor() as u64).min(window.end - 1);
                    assert!(
                        ((next - window.start) as u32) < map.bound_chunks(level),
                        "{depth}: rho {rho} reads level {level} of chunk {} (bound in {})",
                        next - window.start,
                        map.bound_chunks(level)
                    );
                }
            }
            // And what is bound is far less than every chunk with every level.
            assert!(map.bound_words() * 2 < map.window as u64 * map.chunk_words());
            // Laid out level after level, each chunk's part of a level in whole rows.
            let width = 16384u64;
            let layout = map.window_layout(width as u32);
            let mut row = 0;
            for (binding, (w, h)) in layout.iter().zip(map.level_sizes()) {
                let words = w as u64 * h as u64 * 2;
                assert_eq!(binding.row, row);
                assert!(binding.rows_per_chunk * width >= words);
                assert!(binding.rows_per_chunk * width < words + width);
                row += binding.rows_per_chunk * binding.chunks as u64;
            }
            assert_eq!(row, map.bound_rows(width as u32));
        }
    }

    #[test]
    fn paths_that_do_not_zoom_about_one_point_keep_per_frame_rendering() {
        // A pan at constant zoom.
        let pan = path(
            "[[key]]\ntime = 0\ncenter = [\"-0.75\", \"0\"]\nzoom = 0.1\n[[key]]\ntime = 2\n\
             center = [\"-0.5\", \"0\"]\nzoom = 0.1\n",
        );
        let Decision::Frames(why) = choose(Method::Auto, &frame_plan(&pan, 10.0)).unwrap() else {
            panic!("a pan is not a zoom")
        };
        assert!(why.contains("does not change"), "{why}");
        // Zooming in, then out again.
        let back = path(
            "[[key]]\ntime = 0\nzoom = 2.6\n[[key]]\ntime = 1\nzoom = 0.01\n[[key]]\ntime = 2\n\
             zoom = 2.6\n",
        );
        let Decision::Frames(why) = choose(Method::Auto, &frame_plan(&back, 10.0)).unwrap() else {
            panic!("not monotonic")
        };
        assert!(why.contains("monotonic"), "{why}");
        // Two zooms into different points: no single fixed point.
        let two = path(
            "[[key]]\ntime = 0\ncenter = [\"-0.75\", \"0\"]\nzoom = 2.6\n[[key]]\ntime = 1\n\
             center = [\"-1.25\", \"0\"]\nzoom = 0.01\n[[key]]\ntime = 2\ncenter = [\"0.3\", \
             \"0.5\"]\nzoom = 0.0001\n",
        );
        let Decision::Frames(why) = choose(Method::Auto, &frame_plan(&two, 10.0)).unwrap() else {
            panic!("two fixed points")
        };
        assert!(why.contains("one point"), "{why}");
        // Forcing the map on it is an error that says why.
        let err = choose(Method::Map, &frame_plan(&two, 10.0)).unwrap_err();
        assert!(err.to_string().contains("--method map"), "{err}");
    }

    #[test]
    fn a_zoom_that_keeps_its_target_off_centre_has_that_target_as_fixed_point() {
        // The example flights: the centre moves in step with the zoom, so the point zoomed
        // into stays put on screen, off centre.
        let p = CameraPath::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/paths/seahorse-zoom.toml"
        )))
        .unwrap();
        let map = analyse(&frame_plan(&p, 30.0)).unwrap();
        assert!(
            (map.center_f64[0] - -0.743643887037151).abs() < 1e-9,
            "{:?}",
            map.center_f64
        );
        assert!((map.center_f64[1] - 0.131825904205330).abs() < 1e-9);
        // Farther from some corner than the half-diagonal, but on screen.
        assert!(map.outer_radius > (640.0f64).hypot(360.0) + 1.0);
    }
}
