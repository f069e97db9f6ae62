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

pub fn run(options: &GpuOptions, verbose: bool) -> Result<()> {
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
