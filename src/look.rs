//! Named looks (`[look] preset = "NAME"`): complete sets of light, colour, atmosphere and
//! camera values, each a distinct mood, chosen by eye on the example scenes. Any key given beside
//! the preset overrides the preset's value. `reference` is the clay look of the reference view,
//! pixel for pixel; the default look of 3D kinds is `daylight`.

use crate::scene::{Look, PALETTES, ToneMap};

/// The presets, with a line each for `info` and the README.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "daylight",
        "warm sun, blue sky and haze, copper and teal surface (the default)",
    ),
    (
        "nebula",
        "deep space: violet and cyan glow, rim light, a dark starless sky",
    ),
    (
        "ember",
        "molten: orange glow from within, smoke-dark air, fire palette",
    ),
    (
        "ice",
        "high key: pale blue fog, frosted white and cyan surface",
    ),
    (
        "sunset",
        "golden hour: low sun, long shadows, rose sky and warm haze",
    ),
    (
        "reference",
        "grey clay on flat grey: the reference view (Mandelbulber2 comparison)",
    ),
];

/// The default look of 3D kinds.
pub fn default_look() -> Look {
    let mut look = preset("daylight").expect("the default preset exists");
    // `preset` records what a file named; the default names nothing.
    look.preset = None;
    look
}

/// The look a preset names, or None.
pub fn preset(name: &str) -> Option<Look> {
    let mut look = Look::reference();
    // What every preset except the reference shares: filmic tone mapping, a sky, palette
    // colouring and a gentle vignette.
    if name != "reference" {
        look.tone_map = ToneMap::Aces;
        look.sky = true;
        look.trap_palette = true;
        look.vignette = 0.35;
        look.specular = 0.5;
        look.shininess = 32.0;
        look.ao_strength = 1.0;
        look.shadow_stride = 0.05;
        look.bloom = 0.08;
    }
    match name {
        "reference" => {}
        "daylight" => {
            look.light_direction = [0.45, -0.55, 0.75];
            look.key_color = [1.0, 0.93, 0.82];
            look.light_intensity = 2.0;
            look.fill_direction = [-0.6, 0.5, 0.25];
            look.fill_color = [0.55, 0.7, 1.0];
            look.fill_intensity = 0.35;
            look.rim_color = [1.0, 0.9, 0.75];
            look.rim_intensity = 0.5;
            look.ambient = 0.55;
            look.sky_zenith = [0.22, 0.42, 0.78];
            look.sky_horizon = [0.78, 0.84, 0.9];
            look.sky_ground = [0.38, 0.47, 0.6];
            look.sun_glow = 0.6;
            look.fog_color = [0.72, 0.8, 0.9];
            look.fog_density = 0.025;
            look.surface_palette = "copper".into();
            look.trap_density = 2.4;
            look.glow_color = [1.0, 0.85, 0.6];
            look.glow_strength = 0.15;
            look.exposure = 0.0;
        }
        "nebula" => {
            look.light_direction = [-0.3, -0.6, 0.7];
            look.key_color = [0.85, 0.8, 1.0];
            look.light_intensity = 1.8;
            look.fill_direction = [0.7, 0.4, -0.2];
            look.fill_color = [0.3, 0.9, 1.0];
            look.fill_intensity = 0.5;
            look.rim_color = [0.35, 0.85, 1.0];
            look.rim_intensity = 1.4;
            look.rim_power = 2.5;
            look.ambient = 0.25;
            look.sky_zenith = [0.02, 0.01, 0.06];
            look.sky_horizon = [0.12, 0.04, 0.2];
            look.sky_ground = [0.01, 0.01, 0.03];
            look.sun_glow = 0.4;
            look.fog_color = [0.16, 0.05, 0.26];
            look.fog_density = 0.06;
            look.glow_color = [0.75, 0.3, 1.0];
            look.glow_strength = 0.9;
            look.glow_width = 0.03;
            look.surface_palette = "nebula".into();
            look.trap_density = 2.6;
            look.exposure = 0.4;
            look.bloom = 0.25;
            look.bloom_threshold = 0.6;
            look.bloom_radius = 0.03;
        }
        "ember" => {
            look.light_direction = [0.2, -0.4, 0.9];
            look.key_color = [1.0, 0.75, 0.5];
            look.light_intensity = 1.6;
            look.fill_direction = [-0.4, 0.6, -0.5];
            look.fill_color = [1.0, 0.3, 0.1];
            look.fill_intensity = 0.45;
            look.rim_color = [1.0, 0.5, 0.15];
            look.rim_intensity = 1.1;
            look.ambient = 0.2;
            look.sky_zenith = [0.03, 0.02, 0.02];
            look.sky_horizon = [0.2, 0.07, 0.03];
            look.sky_ground = [0.05, 0.02, 0.01];
            look.sun_glow = 0.3;
            look.fog_color = [0.22, 0.08, 0.03];
            look.fog_density = 0.08;
            look.glow_color = [1.0, 0.42, 0.08];
            look.glow_strength = 1.2;
            look.glow_width = 0.025;
            look.surface_palette = "magma".into();
            look.trap_density = 2.2;
            look.exposure = 0.3;
            look.bloom = 0.25;
            look.bloom_threshold = 0.6;
            look.bloom_radius = 0.025;
        }
        "ice" => {
            look.light_direction = [0.3, -0.3, 0.9];
            look.key_color = [1.0, 1.0, 1.0];
            look.light_intensity = 1.6;
            look.fill_direction = [-0.5, 0.7, 0.1];
            look.fill_color = [0.6, 0.85, 1.0];
            look.fill_intensity = 0.5;
            look.rim_color = [0.8, 0.95, 1.0];
            look.rim_intensity = 0.8;
            look.ambient = 0.5;
            look.sky_zenith = [0.55, 0.7, 0.85];
            look.sky_horizon = [0.9, 0.95, 0.98];
            look.sky_ground = [0.7, 0.76, 0.82];
            look.sun_glow = 0.3;
            look.fog_color = [0.82, 0.9, 0.96];
            look.fog_density = 0.08;
            look.surface_palette = "ice".into();
            look.trap_density = 2.0;
            look.glow_color = [0.7, 0.9, 1.0];
            look.glow_strength = 0.2;
            look.exposure = 0.1;
            look.shadow_softness = 4.0;
        }
        "sunset" => {
            look.light_direction = [0.8, -0.4, 0.22];
            look.key_color = [1.0, 0.62, 0.32];
            look.light_intensity = 3.2;
            look.fill_direction = [-0.7, 0.5, 0.5];
            look.fill_color = [0.45, 0.45, 0.9];
            look.fill_intensity = 0.3;
            look.rim_color = [1.0, 0.55, 0.35];
            look.rim_intensity = 0.9;
            look.ambient = 0.4;
            look.sky_zenith = [0.12, 0.14, 0.38];
            look.sky_horizon = [0.95, 0.5, 0.38];
            look.sky_ground = [0.42, 0.26, 0.24];
            look.sun_glow = 1.2;
            look.fog_color = [0.9, 0.55, 0.45];
            look.fog_density = 0.03;
            look.surface_palette = "sunset".into();
            look.trap_density = 2.2;
            look.glow_color = [1.0, 0.6, 0.3];
            look.glow_strength = 0.25;
            look.exposure = 0.0;
            look.bloom = 0.15;
            look.bloom_radius = 0.03;
        }
        _ => return None,
    }
    look.preset = Some(name.to_string());
    Some(look)
}

/// Names of the presets, for messages.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.0).collect()
}

/// The surface colour stops in use (linear-light conversion is the uniform's business): the
/// cosine palette sampled at 16 stops when given, else the named palette.
pub fn surface_stops(look: &Look) -> Vec<[f64; 4]> {
    if look.cosine.len() == 4 {
        let [a, b, c, d] = [
            look.cosine[0],
            look.cosine[1],
            look.cosine[2],
            look.cosine[3],
        ];
        let n = crate::scene::MAX_STOPS;
        return (0..n)
            .map(|i| {
                let t = i as f64 / n as f64;
                let channel = |k: usize| {
                    (a[k] + b[k] * (std::f64::consts::TAU * (c[k] * t + d[k])).cos())
                        .clamp(0.0, 1.0)
                };
                [t, channel(0), channel(1), channel(2)]
            })
            .collect();
    }
    let mut stops = PALETTES
        .iter()
        .find(|p| p.0 == look.surface_palette)
        .map_or_else(|| PALETTES[0].1.to_vec(), |p| p.1.to_vec());
    stops.sort_by(|a, b| a[0].total_cmp(&b[0]));
    stops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_distinct() {
        let looks: Vec<Look> = PRESETS
            .iter()
            .map(|(name, _)| preset(name).expect("exists"))
            .collect();
        for (look, (name, _)) in looks.iter().zip(PRESETS) {
            look.validate()
                .unwrap_or_else(|e| panic!("{name}: {}", e.message));
        }
        for i in 0..looks.len() {
            for j in i + 1..looks.len() {
                assert_ne!(looks[i].sky_zenith, looks[j].sky_zenith, "{i} {j}");
            }
        }
        assert!(preset("nonsense").is_none());
    }

    #[test]
    fn the_reference_preset_is_the_reference_look() {
        let mut reference = preset("reference").unwrap();
        reference.preset = None;
        assert_eq!(reference, Look::reference());
    }

    #[test]
    fn keys_beside_a_preset_override_it_and_plane_kinds_keep_the_plain_look() {
        let scene = |text: &str| crate::scene::Scene::parse("t.toml", text).unwrap();
        let s = scene("[look]\npreset = \"nebula\"\nfog_density = 0.5\n");
        let mut expected = preset("nebula").unwrap();
        expected.fog_density = 0.5;
        assert_eq!(s.look, expected);
        // A plane kind with look keys starts from the plain look, not the 3D default.
        let s = scene("[fractal]\nkind = \"mandelbrot\"\n[look]\ndensity = 0.9\n");
        let mut plain = Look::reference();
        plain.density = 0.9;
        assert_eq!(s.look, plain);
        // A 3D kind with look keys starts from the default look.
        let s = scene("[look]\nexposure = 1.0\n");
        assert_eq!(s.look.sky_zenith, default_look().sky_zenith);
        assert_eq!(s.look.exposure, 1.0);
    }

    #[test]
    fn cosine_palettes_become_stops() {
        let look = Look {
            cosine: vec![[0.5; 3], [0.5; 3], [1.0; 3], [0.0, 0.33, 0.67]],
            ..Look::default()
        };
        let stops = surface_stops(&look);
        assert_eq!(stops.len(), crate::scene::MAX_STOPS);
        // a + b cos(0) = 1 in the red channel at t = 0.
        assert!((stops[0][1] - 1.0).abs() < 1e-12);
        assert!(stops.windows(2).all(|w| w[0][0] < w[1][0]));
    }
}
