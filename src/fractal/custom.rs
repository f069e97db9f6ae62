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
            if valid_name && !usable_param_name(name) {
                return Err(ParseFailure::NestedParam {
                    table: "params",
                    key: name.clone(),
                    message: format!(
                        "params.{name}: `{name}` is a WGSL keyword or reserved word; name the \
                         parameter otherwise"
                    ),
                });
            }
            match (valid_name, number) {
                (true, Some(v)) if v.is_finite() => params.push((name.clone(), v)),
                _ => {
                    return Err(ParseFailure::NestedParam {
                        table: "params",
                        key: name.clone(),
                        message: format!(
                            "params.{name}: user parameters need a WGSL-style name and a finite number"
                        ),
                    });
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
        let user_lines = self.source.lines().count();
        let located = |message: String, span: Option<naga::Span>| {
            let (line, column) = span.map(|s| s.location(&full)).map_or((1, 1), |l| {
                (l.line_number as usize, l.line_position as usize)
            });
            let (line, column, message) = if line > prelude_lines + user_lines {
                // In the call mandelfly adds: the user's file lacks the function or its shape.
                (
                    1,
                    1,
                    format!(
                        "the formula must define `fn fractal_de(p: vec3<f32>) -> vec2<f32>` \
                         (distance estimate, orbit trap): {message}"
                    ),
                )
            } else if line > prelude_lines {
                (line - prelude_lines, column, message)
            } else {
                (1, 1, message)
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
        check_resources(&module).map_err(|(message, span)| located(message, Some(span)))
    }
}

/// Most bytes of per-invocation memory one variable may take: a GPU gives each invocation
/// little, and a huge array makes drivers allocate it for every invocation at once.
pub const MAX_VARIABLE_BYTES: u64 = 16 * 1024;

/// What naga can see of resource abuse in a validated formula: huge private, workgroup or
/// function arrays, bindings or entry points of its own. The error comes with its span.
fn check_resources(module: &naga::Module) -> Result<(), (String, naga::Span)> {
    let gctx = module.to_ctx();
    let bytes = |ty: naga::Handle<naga::Type>| {
        module.types[ty]
            .inner
            .try_size(gctx)
            .map_or(u64::MAX, u64::from)
    };
    let too_big = |what: &str, name: &Option<String>, size: u64| {
        format!(
            "{what} `{}` takes {} bytes; at most {MAX_VARIABLE_BYTES} bytes per variable",
            name.as_deref().unwrap_or("?"),
            if size == u64::MAX {
                "too many".to_string()
            } else {
                size.to_string()
            }
        )
    };
    for (handle, var) in module.global_variables.iter() {
        let span = module.global_variables.get_span(handle);
        match var.space {
            naga::AddressSpace::Private | naga::AddressSpace::WorkGroup => {
                let size = bytes(var.ty);
                if size > MAX_VARIABLE_BYTES {
                    return Err((too_big("variable", &var.name, size), span));
                }
            }
            // The parameter block mandelfly declares.
            naga::AddressSpace::Uniform if var.name.as_deref() == Some("fractal") => {}
            _ => {
                return Err((
                    format!(
                        "`{}`: a formula declares no buffers, textures or bindings of its own; \
                         its inputs are the [fractal.params] in `fractal`",
                        var.name.as_deref().unwrap_or("?")
                    ),
                    span,
                ));
            }
        }
    }
    let functions = module
        .functions
        .iter()
        .map(|(_, f)| f)
        .chain(module.entry_points.iter().map(|e| &e.function));
    for function in functions {
        for (handle, local) in function.local_variables.iter() {
            let size = bytes(local.ty);
            if size > MAX_VARIABLE_BYTES {
                let span = function.local_variables.get_span(handle);
                return Err((too_big("local variable", &local.name, size), span));
            }
        }
    }
    if let Some(entry) = module
        .entry_points
        .iter()
        .find(|e| e.name != "mandelfly_check")
    {
        return Err((
            format!(
                "`{}`: a formula defines functions, not entry points (@compute, @vertex, \
                 @fragment)",
                entry.name
            ),
            naga::Span::default(),
        ));
    }
    Ok(())
}

/// Can `name` be a field of the parameter block? (Not a WGSL keyword or reserved word.)
fn usable_param_name(name: &str) -> bool {
    naga::front::wgsl::parse_str(&format!("struct S {{ {name}: f32, }}")).is_ok()
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

    fn check(source: &str) -> Result<(), SourceError> {
        let mut c = Custom::example();
        c.source = source.into();
        c.compile_check()
    }

    #[test]
    fn huge_arrays_and_own_bindings_are_refused_where_written() {
        let de =
            "fn fractal_de(p: vec3<f32>) -> vec2<f32> {\n    return vec2<f32>(big[0], 0.0);\n}\n";
        let e = check(&format!("var<private> big: array<f32, 100000000>;\n{de}")).unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        assert!(e.message.contains("400000000 bytes"), "{e}");
        let e = check(&format!("var<workgroup> big: array<f32, 100000>;\n{de}")).unwrap_err();
        assert!(e.message.contains("`big`"), "{e}");
        let local = "fn fractal_de(p: vec3<f32>) -> vec2<f32> {\n    var big: array<f32, 1000000>;\n    big[1] = p.x;\n    return vec2<f32>(big[1], 0.0);\n}\n";
        let e = check(local).unwrap_err();
        assert!(e.message.contains("local variable `big`"), "{e}");
        let binding = format!("@group(0) @binding(7) var<storage, read> big: array<f32>;\n{de}");
        let e = check(&binding).unwrap_err();
        assert!(e.message.contains("bindings"), "{e}");
        // A small private table is fine.
        check(&format!("var<private> big: array<f32, 64>;\n{de}")).unwrap();
    }

    #[test]
    fn a_missing_function_is_named_within_the_users_file() {
        for source in [
            "",
            "// nothing here\n",
            "fn fractal_de(p: vec3<f32>) -> f32 { return 1.0; }\n",
        ] {
            let e = check(source).unwrap_err();
            assert_eq!((e.line, e.column), (1, 1), "{e}");
            assert!(e.message.contains("must define `fn fractal_de"), "{e}");
        }
    }

    #[test]
    fn a_keyword_as_parameter_name_is_a_parameter_error() {
        assert!(usable_param_name("twist"));
        assert!(!usable_param_name("loop"));
        assert!(!usable_param_name("fn"));
    }
}
