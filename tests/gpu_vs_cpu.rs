//! Layer 2 of DESIGN.md: each fractal's WGSL distance estimator against its f64 CPU twin, on
//! points inside, outside and near the surface.

mod common;

use glam::DVec3;
use mandelfly::fractal::{self, Formula, VolumeFormula, mandelbulb::Mandelbulb};
use mandelfly::gpu::probe;

/// Points in three groups: spread through the bounding cube, far outside, and within a hair of
/// the surface (found by CPU sphere tracing from random directions).
fn sample_points(f: &dyn VolumeFormula) -> Vec<DVec3> {
    let mut seq = common::Sequence::new(7);
    // Space-filling kinds have a large extent; their detail is near the origin.
    let r = f.bounding_radius().min(3.0);
    let mut points = Vec::new();
    for _ in 0..800 {
        points.push(DVec3::new(seq.next_f64(), seq.next_f64(), seq.next_f64()) * 2.0 * r - r);
    }
    for _ in 0..100 {
        let dir = DVec3::new(
            seq.next_f64() - 0.5,
            seq.next_f64() - 0.5,
            seq.next_f64() - 0.5,
        );
        points.push(dir.normalize() * (r + 0.5 + 3.0 * seq.next_f64()));
    }
    let mut near = 0;
    let mut attempts = 0;
    while near < 300 {
        attempts += 1;
        assert!(attempts < 100_000, "{}: cannot find the surface", f.kind());
        let dir = DVec3::new(
            seq.next_f64() - 0.5,
            seq.next_f64() - 0.5,
            seq.next_f64() - 0.5,
        )
        .normalize();
        let mut p = -dir * r;
        for _ in 0..400 {
            let d = f.distance(p).distance;
            if d < 1e-3 {
                points.push(p);
                near += 1;
                break;
            }
            p += dir * d;
        }
    }
    points
}

/// `tolerance`: relative error allowed (f32 trigonometry on some drivers is only good to ~1e-4,
/// which the orbit amplifies; the trig-free integer-power path is far tighter).
/// At most `max_outliers` (a fraction) may differ by more.
fn compare(f: &dyn Formula, tolerance: f64, max_outliers: f64) {
    let Some(gpu) = common::gpu() else { return };
    let volume = f.volume().expect("a ray-marched kind");
    let points = sample_points(volume);
    assert!(points.len() >= 1000);
    let gpu_values = probe::evaluate(&gpu, f, &points).expect("probe runs");
    let mut worst = (0.0, DVec3::ZERO);
    let mut outliers = 0;
    for (p, g) in points.iter().zip(&gpu_values) {
        let cpu = volume.distance(*p);
        let (d, gd) = (cpu.distance, g[0] as f64);
        // f32 against f64: a relative tolerance, with an absolute floor near the surface where
        // the estimate is small.
        let err = (gd - d).abs() / (d.abs() + 1e-3);
        // The trap is the smallest |z|^2 along the orbit; it must agree as well.
        let trap_err = (g[1] as f64 - cpu.trap).abs() / (cpu.trap + 1e-3);
        // Points of a chaotic orbit right at the escape radius may take one iteration more or
        // less in f32: a handful may differ, never many.
        // The trap only colours the surface. Inside and at the surface the orbit never escapes
        // and may be chaotic (the Mandelbox's is), so it is compared where the point is clear
        // of the surface.
        let trap_differs = d > 1e-3 && trap_err > 10.0 * tolerance;
        if err > tolerance || trap_differs {
            outliers += 1;
            eprintln!(
                "{}: {p}: gpu {gd} vs cpu {d}, trap {} vs {}",
                f.kind(),
                g[1],
                cpu.trap
            );
        }
        if err > worst.0 {
            worst = (err, *p);
        }
        // Same side of the surface, wherever the distance is clear of f32 noise.
        if d.abs() > 1e-4 {
            assert_eq!(gd > 0.0, d > 0.0, "{p}: gpu {gd} vs cpu {d}");
        }
    }
    eprintln!(
        "{}: worst relative error {:.2e} at {}",
        f.kind(),
        worst.0,
        worst.1
    );
    assert!(
        outliers as f64 <= max_outliers * points.len() as f64,
        "{outliers} of {} points differ",
        points.len()
    );
}

#[test]
fn mandelbulb_power_8_matches_cpu() {
    compare(&Mandelbulb::default(), 2e-3, 0.005);
}

#[test]
fn mandelbulb_non_integer_power_matches_cpu() {
    // Takes the trigonometric path of the shader.
    compare(
        &Mandelbulb {
            power: 7.5,
            iterations: 10,
            bailout: 4.0,
        },
        3e-2,
        0.02,
    );
}

#[test]
fn mandelbulb_power_3_matches_cpu() {
    compare(
        &Mandelbulb {
            power: 3.0,
            iterations: 15,
            bailout: 10.0,
        },
        2e-3,
        0.005,
    );
}

/// Every other kind at its defaults. Folding fractals (Kleinian, Apollonian) amplify f32
/// rounding where a point sits on a fold's edge, hence their looser outlier allowance.
#[test]
fn every_kind_matches_its_cpu_twin() {
    for (name, tolerance, outliers) in [
        ("mandelbox", 2e-3, 0.01),
        ("julia-quaternion", 2e-3, 0.01),
        ("menger", 2e-3, 0.01),
        ("kleinian", 5e-3, 0.03),
        ("apollonian", 5e-3, 0.03),
        ("hybrid", 5e-3, 0.02),
        ("mandelbrot-terrain", 1e-2, 0.03),
    ] {
        let kind = fractal::find_kind(name).unwrap();
        compare((kind.default)().as_ref(), tolerance, outliers);
    }
}

/// The hybrid's iteration is written out per sequence (`hybrid::with_sequence`): another
/// order and length than the default's, against the CPU twin.
#[test]
fn a_hybrid_sequence_written_out_matches_its_cpu_twin() {
    use mandelfly::fractal::hybrid::Hybrid;
    let f = Hybrid {
        sequence: vec!["mandelbox".into(), "mandelbulb".into(), "mandelbox".into()],
        ..Hybrid::default()
    };
    compare(&f, 5e-3, 0.02);
}

/// The plane kind's escape counts on the GPU against the f64 CPU twin, on grids over the whole
/// set and Seahorse Valley at 1e-2 (f32), and the valley at 1e-3 and 1e-9 (f64).
#[test]
fn mandelbrot_escape_matches_cpu() {
    use glam::DVec2;
    use mandelfly::fractal::mandelbrot::Mandelbrot;
    use mandelfly::gpu::probe::Probe;
    let Some(gpu) = common::gpu() else { return };
    let m = Mandelbrot {
        iterations: 2000,
        ..Default::default()
    };
    let sea = DVec2::new(-0.743643887037151, 0.131825904205330);
    for (center, size, f64, tolerance) in [
        (DVec2::new(-0.75, 0.0), 3.0, false, 2e-2),
        (sea, 1e-2, false, 2e-2),
        (sea, 1e-3, true, 1e-3),
        (sea, 1e-9, true, 1e-3),
    ] {
        let n = 48;
        let points: Vec<DVec2> = (0..n * n)
            .map(|i| {
                let (x, y) = (
                    (i % n) as f64 / n as f64 - 0.5,
                    (i / n) as f64 / n as f64 - 0.5,
                );
                center + DVec2::new(x, y) * size
            })
            .collect();
        let probe = Probe::new_plane(&gpu, &m, &points, f64, size / n as f64).unwrap();
        let gpu_values = probe.evaluate().unwrap();
        let (mut disagree, mut escaped) = (0, 0);
        let spacing = size / n as f64;
        for (p, g) in points.iter().zip(&gpu_values) {
            let e = m.escape(*p);
            // Within a grid step of the boundary, orbits are chaotic: any finite precision
            // may escape a step sooner or later there. Everywhere else the two must agree.
            if e.smooth_count.is_some() && e.distance < spacing {
                continue;
            }
            let cpu = e.smooth_count;
            match (cpu, g[0] >= 0.0) {
                (Some(c), true) => {
                    escaped += 1;
                    // Chaotic orbits near the boundary may leave a step earlier or later.
                    if (c - g[0] as f64).abs() > tolerance * c.max(1.0) {
                        disagree += 1;
                    }
                }
                (None, false) => {}
                _ => disagree += 1,
            }
        }
        assert!(
            escaped > points.len() / 4,
            "{center} {size}: the grid shows the outside"
        );
        assert!(
            disagree * 50 <= points.len(),
            "{center} {size} (f64 {f64}): {disagree} of {} points differ",
            points.len()
        );
    }
}

/// The colouring of plane kinds (shaders/colouring.wgsl, `colour_of`) against its CPU twin
/// (`ColourMapping::colour`), under every transfer, with slope shading, edges, stripes and band
/// limiting on, over counts inside, across and beyond the view's range and distances from far
/// from the set to well under a pixel.
#[test]
fn plane_colouring_matches_cpu() {
    use mandelfly::colouring::{ColourInput, ColourMapping, CountScale, Transfer};
    let Some(gpu) = common::gpu() else { return };
    let mut seq = common::Sequence::new(11);
    // A skewed distribution of counts, as deep views have.
    let counts: Vec<f32> = (0..2000)
        .map(|_| 20000.0 + 15000.0 * (seq.next_f64() as f32).powi(3))
        .collect();
    let scale = CountScale::measure(&counts).expect("all escaped");
    let inputs: Vec<ColourInput> = (0..600)
        .map(|i| {
            let angle = std::f64::consts::TAU * seq.next_f64();
            ColourInput {
                // Some inside the set, some beyond the measured range.
                count: if i % 50 == 0 {
                    -1.0
                } else {
                    18000.0 + 19000.0 * seq.next_f64() as f32
                },
                distance: (10.0f64).powf(4.0 * seq.next_f64() - 2.5) as f32,
                slope: [angle.cos() as f32, angle.sin() as f32],
                stripe: seq.next_f64() as f32,
            }
        })
        .collect();
    for transfer in [
        Transfer::Linear,
        Transfer::Sqrt,
        Transfer::Log,
        Transfer::Histogram,
    ] {
        let mut look = mandelfly::scene::Look::reference();
        look.transfer = transfer;
        look.density = 3.0;
        look.palette_offset = 0.3;
        look.stripes = 0.5;
        look.interior = [0.2, 0.1, 0.05];
        let mapping = ColourMapping::new(&look, Some(&scale));
        let gpu_colours = probe::colours(&gpu, &mapping, &inputs).expect("colour probe");
        let mut worst = 0.0f32;
        for (input, g) in inputs.iter().zip(&gpu_colours) {
            let c = mapping.colour(input);
            for k in 0..3 {
                worst = worst.max((c[k] - g[k]).abs());
            }
        }
        // f32 on both sides; transcendental functions differ in the last bits.
        assert!(
            worst < 2e-3,
            "{transfer:?}: GPU and CPU colours differ by {worst}"
        );
        // The inputs exercise the palette: not all one colour.
        let spread = gpu_colours
            .iter()
            .map(|c| c[0])
            .fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        assert!(spread.1 - spread.0 > 0.3, "{transfer:?}: {spread:?}");
    }
}
