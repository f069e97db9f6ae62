//! `mandelfly info`: what wgpu sees and what mandelfly would use.

use crate::error::Result;
use crate::fractal;
use crate::gpu::{self, GpuContext, GpuOptions};

/// Features that matter to mandelfly, shown for every adapter.
const NOTABLE: &[(wgpu::Features, &str)] = &[
    (wgpu::Features::TIMESTAMP_QUERY, "timestamp-query"),
    (wgpu::Features::SHADER_F64, "shader-f64"),
    (wgpu::Features::SHADER_F16, "shader-f16"),
    (wgpu::Features::SHADER_INT64, "shader-int64"),
    (wgpu::Features::SUBGROUP, "subgroup"),
];

/// `info --json`: the same facts as data.
fn json(options: &GpuOptions) -> serde_json::Value {
    use serde_json::json;
    let adapter = |info: &wgpu::AdapterInfo| {
        json!({
            "name": info.name,
            "backend": format!("{:?}", info.backend),
            "device_type": format!("{:?}", info.device_type),
            "driver": info.driver,
            "driver_info": info.driver_info,
        })
    };
    let adapters: Vec<serde_json::Value> = gpu::list_adapters()
        .iter()
        .map(|a| {
            let mut v = adapter(&a.info);
            v["features"] = NOTABLE
                .iter()
                .filter(|(f, _)| a.features.contains(*f))
                .map(|(_, name)| *name)
                .collect::<Vec<_>>()
                .into();
            v["limits"] = json!({
                "max_texture_dimension_2d": a.limits.max_texture_dimension_2d,
                "max_buffer_size": a.limits.max_buffer_size,
                "max_compute_workgroups_per_dimension":
                    a.limits.max_compute_workgroups_per_dimension,
            });
            v
        })
        .collect();
    let using = match GpuContext::new(options) {
        Ok(gpu) => adapter(&gpu.adapter_info()),
        Err(e) => json!({"error": e.to_string()}),
    };
    let kinds: Vec<serde_json::Value> = fractal::REGISTRY
        .iter()
        .map(|kind| {
            let params: serde_json::Map<String, serde_json::Value> = (kind.default)()
                .params()
                .into_iter()
                .map(|(name, value)| (name, value.into()))
                .collect();
            json!({"name": kind.name, "parameters": params})
        })
        .collect();
    #[cfg(feature = "video")]
    let codecs: Vec<serde_json::Value> = crate::sink::video::available_codecs()
        .iter()
        .map(|c| json!({"name": c.name(), "encoder": c.encoder_name()}))
        .collect();
    #[cfg(not(feature = "video"))]
    let codecs: Vec<serde_json::Value> = Vec::new();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "adapters": adapters,
        "using": using,
        "fractal_kinds": kinds,
        "video_codecs": codecs,
    })
}

pub fn run(options: &GpuOptions, verbose: bool, as_json: bool) -> Result<()> {
    if as_json {
        let text = serde_json::to_string_pretty(&json(options)).expect("JSON values serialise");
        println!("{text}");
        return Ok(());
    }
    let adapters = gpu::list_adapters();
    println!("adapters ({}):", adapters.len());
    for (i, a) in adapters.iter().enumerate() {
        println!("  [{i}] {}", super::describe_adapter(&a.info));
        let notable: Vec<&str> = NOTABLE
            .iter()
            .filter(|(f, _)| a.features.contains(*f))
            .map(|(_, name)| *name)
            .collect();
        println!("      features: {}", notable.join(", "));
        println!(
            "      limits: texture {} px, buffer {} MiB, workgroups {} per dimension",
            a.limits.max_texture_dimension_2d,
            a.limits.max_buffer_size >> 20,
            a.limits.max_compute_workgroups_per_dimension
        );
        if verbose {
            println!("      all features: {:?}", a.features);
        }
    }
    match GpuContext::new(options) {
        Ok(gpu) => println!("using: {}", super::describe_adapter(&gpu.adapter_info())),
        Err(e) => println!("using: none ({e})"),
    }
    println!("fractal kinds (parameters with their defaults; all keyable in paths):");
    for kind in fractal::REGISTRY {
        let params: Vec<String> = (kind.default)()
            .params()
            .iter()
            .map(|(name, value)| format!("{name} = {value}"))
            .collect();
        println!("  {:<17} {}", kind.name, params.join(", "));
    }
    #[cfg(feature = "video")]
    {
        let codecs: Vec<String> = crate::sink::video::available_codecs()
            .iter()
            .map(|c| format!("{} ({})", c.name(), c.encoder_name()))
            .collect();
        println!("video codecs: {}", codecs.join(", "));
    }
    #[cfg(not(feature = "video"))]
    println!("video codecs: none (built without the `video` feature)");
    Ok(())
}
