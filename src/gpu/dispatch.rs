//! How the passes whose pixels differ in cost (the march, plane kinds, zoom map chunks) are
//! dispatched: as `[bands, positions, 1]` workgroups, each shading the 8x8 tile that
//! `spread_pixel` in shaders/output.wgsl gives it, so that any contiguous run of workgroups
//! covers tiles spread evenly over the image.
//!
//! Why: lavapipe hands each of its threads one contiguous run of a dispatch's workgroups, in
//! order, x fastest (Mesa's lp_cs_tpool: `iter_per_thread`). In raster order, on two cores, one
//! thread gets the top half of the frame and the other the bottom half; a frame with sky above
//! and a surface below left one core idle for a quarter of the explorer's frame. Here the tiles
//! are dealt, in raster order, into bands of `positions` (a power of two, 16 at most), and
//! workgroup (b, p) shades position `reverse_bits(p)` of band b. A run of workgroups holds a
//! range of p over every band, and with the bits reversed those are positions spread through
//! each band: with two threads, one shades the even positions, the other the odd ones. GPUs
//! schedule workgroups one at a time as they free up, so the order costs them nothing.
//!
//! Passes whose pixels all cost alike (the zoom map's frames) take the same dispatch's tiles in
//! raster order instead (`raster_pixel`, CPU twin [`raster_tile`]): there is nothing to balance,
//! and neighbouring tiles one after another read the same data while it is still in cache.

/// The side of a workgroup's tile in pixels (`@workgroup_size(8, 8)`).
pub const TILE: u32 = 8;

/// Tiles a band holds, at most (a power of two).
const POSITIONS: u32 = 16;

/// The most workgroups a dispatch may have along one axis (WebGPU's default limit).
const MAX_GROUPS: u32 = 65_535;

/// The workgroups to dispatch for an image of `width` x `height` pixels (one invocation each).
pub fn spread_workgroups(width: u32, height: u32) -> [u32; 3] {
    let tiles = width.div_ceil(TILE) * height.div_ceil(TILE);
    // No more positions than tiles (a workgroup with no tile still costs lavapipe a pass
    // through the shader); more for very large images, to stay within the limit per axis.
    let positions = POSITIONS
        .min(tiles.max(1).next_power_of_two())
        .max(tiles.div_ceil(MAX_GROUPS).next_power_of_two());
    [tiles.div_ceil(positions), positions, 1]
}

/// CPU twin of `spread_pixel`'s tile: which tile (x, y) workgroup `group` of a dispatch of
/// `groups` shades, for an image `tiles_x` tiles wide (y may lie past the image's last row:
/// such a workgroup does nothing).
pub fn spread_tile(group: [u32; 2], groups: [u32; 2], tiles_x: u32) -> (u32, u32) {
    let bits = groups[1].trailing_zeros();
    let position = if bits == 0 {
        0
    } else {
        group[1].reverse_bits() >> (32 - bits)
    };
    let tile = group[0] * groups[1] + position;
    (tile % tiles_x, tile / tiles_x)
}

/// CPU twin of `raster_pixel`'s tile: the same dispatch's workgroups taking the tiles in
/// raster order, in the order lavapipe runs them (for pixels that all cost alike).
pub fn raster_tile(group: [u32; 2], groups: [u32; 2], tiles_x: u32) -> (u32, u32) {
    let tile = group[1] * groups[0] + group[0];
    (tile % tiles_x, tile / tiles_x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tiles each of `threads` contiguous runs of workgroups shades (lavapipe's order:
    /// x fastest; its split: equal runs, the remainder one at a time at the end).
    fn runs(width: u32, height: u32, threads: u32) -> Vec<Vec<(u32, u32)>> {
        let [gx, gy, _] = spread_workgroups(width, height);
        let tiles_x = width.div_ceil(TILE);
        let tiles_y = height.div_ceil(TILE);
        let order: Vec<(u32, u32)> = (0..gy)
            .flat_map(|y| (0..gx).map(move |x| (x, y)))
            .map(|(x, y)| spread_tile([x, y], [gx, gy], tiles_x))
            .collect();
        // Workgroups past the image count in a thread's share, and do nothing.
        let per = order.len().div_ceil(threads as usize);
        order
            .chunks(per)
            .map(|run| {
                run.iter()
                    .copied()
                    .filter(|&(_, ty)| ty < tiles_y)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_tile_is_shaded_exactly_once() {
        for (w, h) in [
            (1, 1),
            (8, 8),
            (160, 90),
            (20, 12),
            (1280, 720),
            (1921, 1081),
            (3840, 2160),
            (8192, 8192),
        ] {
            let [gx, gy, gz] = spread_workgroups(w, h);
            assert!(gx <= MAX_GROUPS && gy <= MAX_GROUPS && gz == 1, "{w}x{h}");
            let (tx, ty) = (w.div_ceil(TILE), h.div_ceil(TILE));
            for order in [spread_tile, raster_tile] {
                let mut seen = vec![0u8; (tx * ty) as usize];
                for y in 0..gy {
                    for x in 0..gx {
                        let (a, b) = order([x, y], [gx, gy], tx);
                        if b < ty {
                            seen[(b * tx + a) as usize] += 1;
                        }
                    }
                }
                assert!(seen.iter().all(|&n| n == 1), "{w}x{h}");
            }
            // Workgroups with nothing to do: fewer than a band.
            assert!(gx * gy - tx * ty < gy, "{w}x{h}");
        }
    }

    #[test]
    fn each_threads_run_covers_the_whole_height() {
        for (w, h, threads) in [
            (160u32, 90u32, 2u32),
            (1280, 720, 2),
            (1280, 720, 16),
            (640, 360, 4),
        ] {
            let tiles_y = h.div_ceil(TILE);
            for run in runs(w, h, threads) {
                // A quarter of each run lies in every quarter of the image's rows (give or take
                // a strip): no thread is left with the sky while another has the ground.
                for quarter in 0..4 {
                    let inside = run
                        .iter()
                        .filter(|&&(_, y)| y * 4 / tiles_y == quarter)
                        .count();
                    let share = inside as f64 / run.len() as f64;
                    assert!(
                        (share - 0.25).abs() < 0.1,
                        "{w}x{h}, {threads} threads: {share} of a run in quarter {quarter}"
                    );
                }
            }
        }
    }

    #[test]
    fn two_threads_share_every_row_and_column_evenly() {
        // The explorer's march (160x90) and a 720p frame: each thread shades as much of the
        // left half as of the right (the sky may be on one side), and of the top as of the
        // bottom.
        for (w, h) in [(160u32, 90u32), (1280, 720)] {
            let (tiles_x, tiles_y) = (w.div_ceil(TILE), h.div_ceil(TILE));
            for run in runs(w, h, 2) {
                let left = run.iter().filter(|&&(x, _)| x < tiles_x / 2).count();
                let top = run.iter().filter(|&&(_, y)| y < tiles_y / 2).count();
                for (part, name) in [(left, "left"), (top, "top")] {
                    let share = part as f64 / run.len() as f64;
                    assert!((share - 0.5).abs() < 0.03, "{w}x{h}: {share} on the {name}");
                }
            }
        }
    }

    #[test]
    fn small_images_have_few_idle_workgroups() {
        // The cone pass of a 160x90 frame: 20x12 cells, 3x2 tiles.
        assert_eq!(spread_workgroups(20, 12), [1, 8, 1]);
        assert_eq!(spread_workgroups(160, 90), [15, 16, 1]);
        assert_eq!(spread_workgroups(1, 1), [1, 1, 1]);
    }

    /// shaders/output.wgsl's `tile_xy` as the shader computes it: the quotient estimated in
    /// f32, then corrected by one either way.
    fn tile_xy_as_shader(tile: u32, tiles_x: u32) -> (u32, u32) {
        let mut y = (tile as f32 / tiles_x as f32) as u32;
        if y * tiles_x > tile {
            y -= 1;
        }
        if (y + 1) * tiles_x <= tile {
            y += 1;
        }
        (tile - y * tiles_x, y)
    }

    /// The shaders' tile division (a float estimate, corrected) is the integer division the
    /// CPU twins use, on each side of every row's first tile, for raster widths up to 4096
    /// tiles and rows up to 2^22.
    #[test]
    fn the_shaders_tile_division_is_exact() {
        for tiles_x in (1..=4096u32)
            .step_by(7)
            .chain([2, 3, 1024, 2048, 4095, 4096])
        {
            let rows = (1u32 << 22).min(u32::MAX / tiles_x - 1);
            for row in (0..rows).step_by(997).chain([rows - 1]) {
                let first = row * tiles_x;
                for tile in [first, first + tiles_x / 2, first + tiles_x - 1] {
                    assert_eq!(
                        tile_xy_as_shader(tile, tiles_x),
                        (tile % tiles_x, tile / tiles_x),
                        "tile {tile} of rows {tiles_x} wide"
                    );
                }
            }
        }
    }
}
