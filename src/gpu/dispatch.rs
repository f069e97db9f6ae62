//! How the passes whose pixels differ in cost (the march, plane kinds, zoom map chunks) are
//! dispatched: as `[bands, groups per band, 1]` workgroups, each shading the 8x8 tile that
//! `spread_pixel` in shaders/output.wgsl gives it, so that any contiguous run of workgroups
//! covers strips all over the image.
//!
//! Why: lavapipe hands each of its threads one contiguous run of a dispatch's workgroups, in
//! order, x fastest (Mesa's lp_cs_tpool: `iter_per_thread`). In raster order, on two cores, one
//! thread gets the top half of the frame and the other the bottom half; a frame with sky above
//! and a surface below left one core idle for a quarter of the explorer's frame. GPUs schedule
//! workgroups one at a time as they free up, so the order costs them nothing.

/// The side of a workgroup's tile in pixels (`@workgroup_size(8, 8)`).
pub const TILE: u32 = 8;

/// How many strips (bands) the tiles are dealt into, at most.
const BANDS: u32 = 16;

/// The most workgroups a dispatch may have along one axis (WebGPU's default limit).
const MAX_GROUPS: u32 = 65_535;

/// The workgroups to dispatch for an image of `width` x `height` pixels (one invocation each).
pub fn spread_workgroups(width: u32, height: u32) -> [u32; 3] {
    let tiles = width.div_ceil(TILE) * height.div_ceil(TILE);
    // Fewer bands than tiles would leave whole workgroups with nothing to do; very large
    // images need more bands to stay within the limit per axis.
    let bands = BANDS.min(tiles).max(tiles.div_ceil(MAX_GROUPS)).max(1);
    [bands, tiles.div_ceil(bands), 1]
}

/// CPU twin of `spread_pixel`'s tile: which tile (x, y) workgroup `group` of a dispatch of
/// `groups` shades, for an image `tiles_x` tiles wide (y may lie past the image's last row:
/// such a workgroup does nothing).
pub fn spread_tile(group: [u32; 2], groups: [u32; 2], tiles_x: u32) -> (u32, u32) {
    let tile = group[0] * groups[1] + group[1];
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
            .filter(|&(_, ty)| ty < tiles_y)
            .collect();
        let per = order.len().div_ceil(threads as usize);
        order.chunks(per).map(<[_]>::to_vec).collect()
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
            let mut seen = vec![0u8; (tx * ty) as usize];
            for y in 0..gy {
                for x in 0..gx {
                    let (a, b) = spread_tile([x, y], [gx, gy], tx);
                    if b < ty {
                        seen[(b * tx + a) as usize] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{w}x{h}");
            // Workgroups with nothing to do: fewer than one per band.
            assert!(gx * gy - tx * ty < gx, "{w}x{h}");
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
    fn small_images_have_no_idle_workgroups() {
        // The cone pass of a 160x90 frame: 20x12 cells, 3x2 tiles.
        assert_eq!(spread_workgroups(20, 12), [6, 1, 1]);
        assert_eq!(spread_workgroups(160, 90), [16, 15, 1]);
    }
}
