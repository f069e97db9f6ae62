//! The window's look controls: every `[look]` value live, grouped as the README's Looks section
//! groups them, showing only what applies to the fractal's family (a plane kind has no lights;
//! a 3D kind has no iteration palette). Colours get pickers, directions three fields, integers
//! integer fields. Every edit is validated before it reaches the scene, so the window never
//! renders a look a file could not hold.

use crate::fractal::Formula;
use crate::scene::{Look, PALETTES, ToneMap};

/// Shows the look controls; true when the look changed.
pub fn show(ui: &mut egui::Ui, look: &mut Look, plane: bool) -> bool {
    let mut changed = false;
    if !plane {
        changed |= preset_picker(ui, look);
    }
    egui::CollapsingHeader::new("Camera and film")
        .default_open(true)
        .show(ui, |ui| {
            changed |= tone_map_picker(ui, look);
            for name in ["exposure", "contrast", "vignette"] {
                changed |= number(ui, look, name);
            }
            for name in ["bloom", "bloom_radius", "bloom_threshold"] {
                changed |= number(ui, look, name);
            }
            if !plane {
                changed |= number(ui, look, "aperture");
                changed |= number(ui, look, "focus_distance");
            }
        });
    if plane {
        egui::CollapsingHeader::new("Palette").show(ui, |ui| {
            changed |= palette_picker(ui, "palette", &mut look.palette, !look.gradient.is_empty());
            changed |= transfer_picker(ui, look);
            for name in ["density", "palette_offset"] {
                changed |= number(ui, look, name);
            }
            changed |= ui
                .checkbox(&mut look.band_limit, "band-limited palette (no moire)")
                .changed();
            for name in ["stripes", "stripe_density"] {
                changed |= number(ui, look, name);
            }
            changed |= colour(ui, look, "interior");
            for name in [
                "edges",
                "edge_width",
                "relief",
                "relief_angle",
                "relief_height",
            ] {
                changed |= number(ui, look, name);
            }
        });
        return changed;
    }
    egui::CollapsingHeader::new("Lights").show(ui, |ui| {
        changed |= direction(ui, look, "light_direction");
        changed |= colour(ui, look, "key_color");
        changed |= number(ui, look, "light_intensity");
        changed |= direction(ui, look, "fill_direction");
        changed |= colour(ui, look, "fill_color");
        changed |= number(ui, look, "fill_intensity");
        changed |= colour(ui, look, "rim_color");
        changed |= number(ui, look, "rim_intensity");
        changed |= number(ui, look, "rim_power");
        for name in ["ambient", "specular", "shininess"] {
            changed |= number(ui, look, name);
        }
        changed |= ui.checkbox(&mut look.shadows, "soft shadows").changed();
        changed |= number(ui, look, "shadow_softness");
        changed |= ui
            .checkbox(&mut look.ambient_occlusion, "ambient occlusion")
            .changed();
        changed |= number(ui, look, "ao_strength");
        changed |= number(ui, look, "ao_radius");
    });
    egui::CollapsingHeader::new("Sky").show(ui, |ui| {
        changed |= ui
            .checkbox(&mut look.sky, "sky (else a flat background)")
            .changed();
        if look.sky {
            for name in ["sky_zenith", "sky_horizon", "sky_ground"] {
                changed |= colour(ui, look, name);
            }
            changed |= number(ui, look, "sun_glow");
        } else {
            changed |= colour(ui, look, "background");
        }
    });
    egui::CollapsingHeader::new("Fog and glow").show(ui, |ui| {
        changed |= colour(ui, look, "fog_color");
        for name in ["fog_density", "fog_height_falloff", "fog_height"] {
            changed |= number(ui, look, name);
        }
        changed |= colour(ui, look, "glow_color");
        changed |= number(ui, look, "glow_strength");
        changed |= number(ui, look, "glow_width");
    });
    egui::CollapsingHeader::new("Surface").show(ui, |ui| {
        changed |= colour(ui, look, "albedo");
        changed |= ui.checkbox(&mut look.orbit_trap, "orbit trap").changed();
        changed |= colour(ui, look, "trap_color");
        changed |= ui
            .checkbox(&mut look.trap_palette, "palette by orbit trap")
            .changed();
        changed |= palette_picker(
            ui,
            "surface palette",
            &mut look.surface_palette,
            look.cosine.len() == 4,
        );
        changed |= number(ui, look, "trap_density");
    });
    egui::CollapsingHeader::new("Quality").show(ui, |ui| {
        changed |= number(ui, look, "detail");
        changed |= number(ui, look, "max_steps");
        changed |= number(ui, look, "shadow_stride");
    });
    changed
}

/// Presets replace the whole look (as `preset = "NAME"` with no other key would).
fn preset_picker(ui: &mut egui::Ui, look: &mut Look) -> bool {
    let current = look.preset.clone().unwrap_or_else(|| "(custom)".into());
    let mut chosen = None;
    egui::ComboBox::from_label("preset")
        .selected_text(&current)
        .show_ui(ui, |ui| {
            for (name, about) in crate::look::PRESETS {
                if ui
                    .selectable_label(current == *name, *name)
                    .on_hover_text(*about)
                    .clicked()
                {
                    chosen = Some(*name);
                }
            }
        });
    match chosen.and_then(crate::look::preset) {
        Some(preset) if preset != *look => {
            *look = preset;
            true
        }
        _ => false,
    }
}

fn tone_map_picker(ui: &mut egui::Ui, look: &mut Look) -> bool {
    let before = look.tone_map;
    egui::ComboBox::from_label("tone map")
        .selected_text(match look.tone_map {
            ToneMap::Clamp => "clamp",
            ToneMap::Aces => "aces",
        })
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut look.tone_map, ToneMap::Clamp, "clamp");
            ui.selectable_value(&mut look.tone_map, ToneMap::Aces, "aces");
        });
    look.tone_map != before
}

/// How counts map onto the palette across the view's range.
fn transfer_picker(ui: &mut egui::Ui, look: &mut Look) -> bool {
    use crate::colouring::Transfer;
    let before = look.transfer;
    let name = |t: Transfer| match t {
        Transfer::Linear => "linear",
        Transfer::Sqrt => "sqrt",
        Transfer::Log => "log",
        Transfer::Histogram => "histogram",
    };
    egui::ComboBox::from_label("transfer")
        .selected_text(name(look.transfer))
        .show_ui(ui, |ui| {
            for t in [
                Transfer::Linear,
                Transfer::Sqrt,
                Transfer::Log,
                Transfer::Histogram,
            ] {
                ui.selectable_value(&mut look.transfer, t, name(t));
            }
        });
    look.transfer != before
}

/// A built-in palette by name; `overridden` when stops or a cosine palette take its place.
fn palette_picker(ui: &mut egui::Ui, label: &str, palette: &mut String, overridden: bool) -> bool {
    let before = palette.clone();
    ui.add_enabled_ui(!overridden, |ui| {
        egui::ComboBox::from_label(label)
            .selected_text(palette.as_str())
            .show_ui(ui, |ui| {
                for (name, _) in PALETTES {
                    ui.selectable_value(palette, (*name).to_string(), *name);
                }
            });
    });
    *palette != before
}

/// A numeric value, kept only if the look stays valid.
fn number(ui: &mut egui::Ui, look: &mut Look, name: &str) -> bool {
    let Some(value) = look.param(name) else {
        return false;
    };
    let integer = name == "max_steps";
    let mut v = value;
    let mut changed = false;
    ui.horizontal(|ui| {
        ui.label(name.replace('_', " "));
        let drag = if integer {
            egui::DragValue::new(&mut v).speed(1.0).fixed_decimals(0)
        } else {
            let speed = (v.abs() * 0.01).max(1e-3);
            egui::DragValue::new(&mut v).speed(speed)
        };
        if ui.add(drag).changed() {
            changed = try_set(look, &[(name.to_string(), v)]);
        }
    });
    changed
}

/// A vector's components, as `name.0`..`name.2` set them.
fn components(look: &Look, name: &str) -> Option<[f64; 3]> {
    let c = |i: usize| look.param(&format!("{name}.{i}"));
    Some([c(0)?, c(1)?, c(2)?])
}

fn try_set(look: &mut Look, values: &[(String, f64)]) -> bool {
    let mut trial = look.clone();
    for (name, v) in values {
        trial.set_param(name, *v);
    }
    if trial.validate().is_ok() && trial != *look {
        *look = trial;
        true
    } else {
        false
    }
}

/// An sRGB colour with a picker.
fn colour(ui: &mut egui::Ui, look: &mut Look, name: &str) -> bool {
    let Some(c) = components(look, name) else {
        return false;
    };
    let mut rgb = c.map(|x| (x.clamp(0.0, 1.0) * 255.0).round() as u8);
    let before = rgb;
    ui.horizontal(|ui| {
        ui.color_edit_button_srgb(&mut rgb);
        ui.label(name.replace('_', " "));
    });
    if rgb == before {
        return false;
    }
    let values: Vec<(String, f64)> = (0..3)
        .map(|i| (format!("{name}.{i}"), rgb[i] as f64 / 255.0))
        .collect();
    try_set(look, &values)
}

/// A direction as three fields (it need not be unit length; all zero is refused).
fn direction(ui: &mut egui::Ui, look: &mut Look, name: &str) -> bool {
    let Some(mut d) = components(look, name) else {
        return false;
    };
    let mut edited = false;
    ui.horizontal(|ui| {
        ui.label(name.replace('_', " "));
        for v in &mut d {
            edited |= ui
                .add(egui::DragValue::new(v).speed(0.01).fixed_decimals(2))
                .changed();
        }
    });
    edited
        && d.iter().any(|v| *v != 0.0)
        && try_set(
            look,
            &(0..3)
                .map(|i| (format!("{name}.{i}"), d[i]))
                .collect::<Vec<_>>(),
        )
}

/// Whether a fractal parameter takes whole numbers: such parameters round what they are given.
pub fn is_integer_param(fractal: &dyn Formula, name: &str) -> bool {
    let mut probe = fractal.clone_box();
    let Some(value) = fractal
        .params()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|p| p.1)
    else {
        return false;
    };
    probe.set_param(name, value.round() + 0.25);
    probe
        .params()
        .into_iter()
        .any(|(n, v)| n == name && v == v.round())
}
