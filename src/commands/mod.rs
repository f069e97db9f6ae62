//! The commands behind the CLI. Each returns errors; `main` turns them into messages and exit codes.

mod bench;
mod info;
mod path;
pub mod render;
mod still;

use crate::cli::{Cli, Command};
use crate::error::Result;
use crate::gpu::GpuOptions;

pub fn run(cli: Cli) -> Result<()> {
    let gpu = GpuOptions {
        adapter: cli.global.adapter.clone(),
    };
    match &cli.command {
        Command::Still(args) => still::run(args, &gpu, cli.global.verbose),
        Command::Info => info::run(&gpu, cli.global.verbose),
        Command::Render(args) => render::run(args, &gpu, cli.global.verbose),
        Command::Bench(args) => bench::run(args, &gpu),
        Command::Concat { dir, output } => concat(dir, output),
        Command::Path(command) => path::run(command, &gpu),
    }
}

fn concat(dir: &std::path::Path, output: &std::path::Path) -> Result<()> {
    #[cfg(feature = "video")]
    {
        let (packets, manifests) = crate::sink::segments::concat(dir, output)?;
        let total = manifests.last().map_or(0, |m| m.end_frame);
        println!(
            "wrote {}: {} segments, {packets} frames of {total}, no re-encoding",
            output.display(),
            manifests.len()
        );
        Ok(())
    }
    #[cfg(not(feature = "video"))]
    {
        let _ = (dir, output);
        Err(crate::error::Error::InvalidArgument(
            "concat joins video segments: this build has no `video` feature".into(),
        ))
    }
}

/// One line describing an adapter.
pub(crate) fn describe_adapter(info: &wgpu::AdapterInfo) -> String {
    let driver = [info.driver.as_str(), info.driver_info.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{} ({:?}, {:?}{})",
        info.name,
        info.backend,
        info.device_type,
        if driver.is_empty() {
            String::new()
        } else {
            format!(", {driver}")
        }
    )
}
