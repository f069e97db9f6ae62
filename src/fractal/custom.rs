//! `kind = "custom"`: a distance estimator written by the user in WGSL.
//!
//! The user's file defines `fn fractal_de(p: vec3<f32>) -> vec2<f32>` (distance estimate, orbit
//! trap), like the built-in kinds. mandelfly puts a uniform block before it holding the
//! parameters the scene declares in `[fractal.params]`, in order, as f32 fields of
//! `fractal` (so `fractal.twist` reads `twist`); they are keyable by name in paths. Compile
//! errors are reported at the user's file, line and column.
//!
//! There is no CPU twin: for the tools that need one (`path check`, scale-aware timing) the
//! distance estimate is the distance to the bounding sphere (`extent`), a true lower bound.

use std::path::{Path, PathBuf};

use glam::DVec3;
use serde::Deserialize;

use super::steps::check_range;
use super::{
    DistanceSample, Family, Formula, ParamError, ParseContext, ParseFailure, VolumeFormula,
};
use crate::camera::Camera;
use crate::error::SourceError;

/// Most user parameters.
pub const MAX_PARAMS: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub struct Custom {
    pub formula: PathBuf,
    pub source: String,
    pub params: Vec<(String, f64)>,
    /// Radius of a sphere about the origin that holds the fractal.
    pub extent: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomTable {
    formula: String,
    #[serde(default = "default_extent")]
    extent: f64,
    #[serde(default)]
    params: toml::Table,
}

fn default_extent() -> f64 {
    2.0
}

/// The uniform block declaring the user's parameters.
fn prelude(params: &[(String, f64)]) -> String {
    let mut s = String::from(
        "// mandelfly: the parameters of [fractal.params], in order.\nstruct FractalParams {\n",
    );
    for (name, _) in params {
        s += &format!("    {name}: f32,\n");
    }
    // A struct needs a member; uniform blocks are padded to 16 bytes anyway.
    for i in params.len()..params.len().div_ceil(4).max(1) * 4 {
        s += &format!("    _pad{i}: f32,\n");
    }
    s += "}\n@group(0) @binding(1) var<uniform> fractal: FractalParams;\n";
    s
}

impl Custom {
    /// A small example formula (a sphere with ripples), for `mandelfly info`'s defaults.
    pub fn example() -> Self {
        Custom {
            formula: PathBuf::from("<built-in example>"),
            source: "fn fractal_de(p: vec3<f32>) -> vec2<f32> {\n    \
                     let ripple = fractal.amplitude * sin(10.0 * p.x) * sin(10.0 * p.y) * sin(10.0 * p.z);\n    \
                     return vec2<f32>(0.5 * (length(p) - 1.0 + ripple), dot(p, p));\n}\n"
                .into(),
            params: vec![("amplitude".into(), 0.05)],
            extent: 2.0,
        }
    }

    pub fn parse(
        de: toml::de::ValueDeserializer<'_>,
        context: &ParseContext<'_>,
    ) -> Result<Box<dyn Formula>, ParseFailure> {
        let table = CustomTable::deserialize(de)?;
        let formula = Path::new(context.file)
            .parent()
            .unwrap_or(Path::new(""))
            .join(&table.formula);
        let source = std::fs::read_to_string(&formula).map_err(|e| {
            ParseFailure::Param(ParamError {
                key: "formula",
                message: format!("cannot read the formula {}: {e}", formula.display()),
            })
        })?;
        let mut params = Vec::new();
        for (name, value) in &table.params {
            let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let number = value
                .as_float()
                .or_else(|| value.as_integer().map(|i| i as f64));
            match (valid_name, number) {
                (true, Some(v)) if v.is_finite() => params.push((name.clone(), v)),
                _ => {
                    return Err(ParseFailure::Param(ParamError {
                        key: "params",
                        message: format!(
                            "params.{name}: user parameters need a WGSL-style name and a finite number"
                        ),
                    }));
                }
            }
        }
        if params.len() > MAX_PARAMS {
            return Err(ParseFailure::Param(ParamError {
                key: "params",
                message: format!("at most {MAX_PARAMS} user parameters"),
            }));
        }
        let custom = Custom {
            formula,
            source,
            params,
            extent: table.extent,
        };
        custom.compile_check().map_err(ParseFailure::Source)?;
        Ok(Box::new(custom))
    }

    /// Compiles the formula with naga (as wgpu will) and reports the first error at the
    /// user's file, line and column.
    pub fn compile_check(&self) -> Result<(), SourceError> {
        let prelude = prelude(&self.params);
        let probe = "\n@compute @workgroup_size(1)\nfn mandelfly_check() {\n    let d: vec2<f32> = fractal_de(vec3<f32>(0.0));\n}\n";
        let full = format!("{prelude}{}{probe}", self.source);
        let file = self.formula.display().to_string();
        let prelude_lines = prelude.lines().count();
        let located = |message: String, span: Option<naga::Span>| {
            let (line, column) = span.map(|s| s.location(&full)).map_or((1, 1), |l| {
                (l.line_number as usize, l.line_position as usize)
            });
            let (line, column) = if line > prelude_lines {
                (line - prelude_lines, column)
            } else {
                (1, 1)
            };
            SourceError {
                file: file.clone(),
                line,
                column,
                message,
            }
        };
        let module = naga::front::wgsl::parse_str(&full).map_err(|e| {
            let span = e.labels().next().map(|(span, _)| span);
            located(e.message().to_string(), span)
        })?;
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .map_err(|e| {
            let span = e.spans().next().map(|(span, _)| *span);
            located(format!("{}", e.as_inner()), span)
        })?;
        Ok(())
    }
}

impl Formula for Custom {
    fn kind(&self) -> &'static str {
        "custom"
    }

    fn wgsl(&self) -> String {
        format!("{}{}", prelude(&self.params), self.source)
    }

    fn uniform_bytes(&self) -> Vec<u8> {
        let mut values: Vec<f32> = self.params.iter().map(|(_, v)| *v as f32).collect();
        values.resize(self.params.len().div_ceil(4).max(1) * 4, 0.0);
        bytemuck::cast_slice(&values).to_vec()
    }

    fn validate(&self) -> Result<(), ParamError> {
        check_range("extent", self.extent, 0.01, 1e4)
    }

    fn params(&self) -> Vec<(String, f64)> {
        let mut v = self.params.clone();
        v.push(("extent".into(), self.extent));
        v
    }

    fn set_param(&mut self, name: &str, value: f64) -> bool {
        if name == "extent" {
            self.extent = value;
            return true;
        }
        match self.params.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                true
            }
            None => false,
        }
    }

    fn fixed_toml(&self) -> String {
        let mut s = format!(
            "[fractal]\nkind = \"custom\"\nformula = {:?}\n[fractal.params]\n",
            self.formula.display().to_string()
        );
        for (name, value) in &self.params {
            s += &format!("{name} = {value:?}\n");
        }
        s
    }

    fn clone_box(&self) -> Box<dyn Formula> {
        Box::new(self.clone())
    }

    fn family(&self) -> Family<'_> {
        Family::Volume(self)
    }
}

impl VolumeFormula for Custom {
    fn distance(&self, p: DVec3) -> DistanceSample {
        DistanceSample {
            distance: (p.length() - self.extent).max(0.0),
            trap: p.length_squared(),
        }
    }

    fn bounding_radius(&self) -> f64 {
        self.extent
    }

    fn default_camera(&self) -> Camera {
        Camera {
            position: DVec3::new(1.4, -1.4, 1.0) * self.extent,
            look_at: DVec3::ZERO,
            up: DVec3::Z,
            fov: 50.0,
            roll: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_compiles_and_broken_code_is_located() {
        Custom::example().compile_check().unwrap();
        let mut broken = Custom::example();
        broken.source = "fn fractal_de(p: vec3<f32>) -> vec2<f32> {\n    let x = 1.0;\n    return vec2<f32>(x, y);\n}\n".into();
        let e = broken.compile_check().unwrap_err();
        assert_eq!((e.line, e.column), (3, 25), "{e}");
        assert!(e.message.contains("y"), "{e}");
    }
}
