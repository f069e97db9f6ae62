//! The commands behind the CLI. Each returns errors; `main` turns them into messages and exit codes.

mod bench;
mod info;
mod path;
pub mod render;
mod still;

use crate::cli::{Cli, Command, ShardsCommand};
use crate::error::Result;
use crate::gpu::GpuOptions;

pub fn run(cli: Cli) -> Result<()> {
    let gpu = GpuOptions {
        adapter: cli.global.adapter.clone(),
    };
    crate::report::set_quiet(cli.global.quiet);
    match &cli.command {
        Command::Still(args) => still::run(args, &gpu, cli.global.verbose),
        Command::Info { json } => info::run(&gpu, cli.global.verbose, *json),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "mandelfly", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command)
                .render(&mut std::io::stdout())
                .map_err(|e| crate::error::Error::io("<stdout>", e))
        }
        Command::Render(args) => render::run(args, &gpu, cli.global.verbose),
        Command::Explore(args) => explore(args, gpu, cli.global.verbose),
        Command::Bench(args) => bench::run(args, &gpu),
        Command::Concat { dir, output } => concat(dir, output),
        Command::Shards(ShardsCommand::Status { dir, json }) => shards_status(dir, *json),
        Command::Path(command) => path::run(command, &gpu),
    }
}

fn explore(args: &crate::cli::ExploreArgs, gpu: GpuOptions, verbose: bool) -> Result<()> {
    #[cfg(feature = "window")]
    {
        use crate::path::{SceneSource, load_scene_or_path};
        let (scene, path) = match &args.file {
            None => (crate::scene::Scene::empty(), None),
            Some(file) => match load_scene_or_path(file)? {
                SceneSource::Scene(scene) => (*scene, None),
                SceneSource::Path(path) => (path.sample(0.0), Some(*path)),
            },
        };
        crate::explore::app::run(crate::explore::app::ExploreOptions {
            scene,
            path,
            save_to: args.output.clone(),
            size: args.size,
            gpu,
            exit_after: args.exit_after,
            screenshot: args.screenshot.clone(),
            autopilot: args.autopilot,
            verbose,
        })
    }
    #[cfg(not(feature = "window"))]
    {
        let _ = (args, gpu, verbose);
        Err(crate::error::Error::InvalidArgument(
            "explore opens a window: this build has no `window` feature".into(),
        ))
    }
}

fn concat(dir: &std::path::Path, output: &std::path::Path) -> Result<()> {
    #[cfg(feature = "video")]
    {
        let (packets, manifests) = crate::sink::segments::concat(dir, output)?;
        if let Some(warning) = crate::sink::segments::adapter_warning(&manifests) {
            eprintln!("mandelfly: warning: {warning}");
        }
        let total = manifests.last().map_or(0, |m| m.end_frame);
        crate::status!(
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

fn shards_status(dir: &std::path::Path, json: bool) -> Result<()> {
    #[cfg(feature = "video")]
    {
        let status = crate::sink::segments::status::status(dir)?;
        let report = if json {
            serde_json::to_string_pretty(&status).expect("a status serialises") + "\n"
        } else {
            status.to_text()
        };
        // Not print!: a closed pipe (`| head`) is an error to report, not a panic.
        std::io::Write::write_all(&mut std::io::stdout(), report.as_bytes())
            .map_err(|e| crate::error::Error::io("<stdout>", e))?;
        Ok(())
    }
    #[cfg(not(feature = "video"))]
    {
        let _ = (dir, json);
        Err(crate::error::Error::InvalidArgument(
            "shards status reads video segments: this build has no `video` feature".into(),
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
