//! Deep-zoom locations the program computes itself, for its tests, benchmarks and examples:
//! minibrots found by Newton's method on the real axis near -2 (each period p has a nucleus
//! about 4^-p from -2, its minibrot about 16^-p wide), and the Misiurewicz point i (an endless
//! spiral of dendrites at every depth).

use glam::DVec2;

use super::floatexp::FloatExp;
use super::{precise, reference};
use crate::plane::PlaneView;

/// A named view and the iteration limit it needs.
#[derive(Debug, Clone)]
pub struct Location {
    pub name: String,
    pub view: PlaneView,
    pub iterations: u32,
}

fn view_at(center: [&astro_float_num::BigFloat; 2], zoom: FloatExp) -> PlaneView {
    let mut view = PlaneView {
        zoom,
        ..PlaneView::default()
    };
    view.set_precise_center(&[center[0].clone(), center[1].clone()]);
    view
}

/// A view `zoom` tall beside the period-`period` minibrot nearest -2, its centre `offset`
/// view heights off the nucleus: the reference orbit then passes near 0 every `period`
/// iterations while the pixels' do not, where perturbation without rebasing glitches.
pub fn minibrot(period: u32, zoom: FloatExp, offset: DVec2) -> Option<PlaneView> {
    let bits = precise::precision_for(zoom.scale(1.0 / 4096.0)) + 64;
    let start = precise::add(
        &precise::from_f64(-2.0, bits),
        &precise::from_floatexp(FloatExp::new(1.1, -2 * period as i64), bits),
        bits,
    );
    let nucleus = reference::real_nucleus(&start, period, bits)?;
    let re = precise::add(
        &nucleus,
        &precise::from_floatexp(zoom.scale(offset.x), bits),
        bits,
    );
    let im = precise::from_floatexp(zoom.scale(offset.y), bits);
    Some(view_at([&re, &im], zoom))
}

/// A view `zoom` tall near i, its centre `offset` view heights off it.
pub fn misiurewicz_i(zoom: FloatExp, offset: DVec2) -> PlaneView {
    let bits = precise::precision_for(zoom.scale(1.0 / 4096.0));
    let re = precise::from_floatexp(zoom.scale(offset.x), bits);
    let im = precise::add(
        &precise::from_f64(1.0, bits),
        &precise::from_floatexp(zoom.scale(offset.y), bits),
        bits,
    );
    view_at([&re, &im], zoom)
}

fn depth(text: &str) -> FloatExp {
    FloatExp::parse(text).expect("a valid literal")
}

/// The views the tests check perturbation on, shallow to deep.
pub fn test_views() -> Vec<Location> {
    let off = DVec2::new(0.07, 0.04);
    let mut views = vec![
        Location {
            name: "spiral-1e-20".into(),
            view: misiurewicz_i(depth("1e-20"), off),
            iterations: 2000,
        },
        Location {
            name: "spiral-1e-100".into(),
            view: misiurewicz_i(depth("1e-100"), off),
            iterations: 4000,
        },
        Location {
            name: "spiral-1e-300".into(),
            view: misiurewicz_i(depth("1e-300"), off),
            iterations: 8000,
        },
    ];
    // The minibrots about a fifth of the view wide, a little off centre.
    for (period, zoom, name) in [
        (80, "2e-94", "minibrot-1e-94"),
        (251, "2e-300", "minibrot-1e-300"),
    ] {
        if let Some(view) = minibrot(period, depth(zoom), DVec2::new(0.3, 0.1)) {
            views.push(Location {
                name: name.into(),
                view,
                iterations: 40 * period,
            });
        }
    }
    views
}

/// The scene file of a location (what examples/scenes/deep-*.toml hold).
pub fn scene_toml(location: &Location, comment: &str) -> String {
    let v = &location.view;
    format!(
        "# {comment}\n[fractal]\nkind = \"mandelbrot\"\niterations = {}\n\n[camera]\ncenter = [\"{}\", \"{}\"]\nzoom = \"{:e}\"\n",
        location.iterations, v.center_text[0], v.center_text[1], v.zoom
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minibrots_are_where_expected() {
        let v = minibrot(40, depth("1e-45"), DVec2::ZERO).expect("converges");
        // Period 40: about 1.2e-23 from -2.
        let x = precise::parse(&v.center_text[0], 256).unwrap();
        let gap = precise::to_f64(&precise::add(&x, &precise::from_f64(2.0, 256), 256));
        assert!((1e-24..1e-22).contains(&gap), "{gap:e}");
        assert!(v.center_text[0].len() > 60, "{}", v.center_text[0]);
        assert_eq!(test_views().len(), 5);
    }
}
