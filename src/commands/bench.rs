//! `mandelfly bench`: runs the suite, prints a table or JSON, compares with a baseline.

use crate::bench::{self, Options};
use crate::cli::BenchArgs;
use crate::error::{Error, Result};
use crate::gpu::renderer::Renderer;
use crate::gpu::{GpuContext, GpuOptions};
use crate::sink::png::AtomicFile;

pub fn run(args: &BenchArgs, gpu: &GpuOptions) -> Result<()> {
    if !(args.max_regression >= 0.0 && args.max_regression.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "--max-regression must be a percentage >= 0, got {}",
            args.max_regression
        )));
    }
    if args.runs == Some(0) {
        return Err(Error::InvalidArgument("--runs must be at least 1".into()));
    }
    let options = Options {
        quick: args.quick,
        runs: args.runs,
        cases: args.cases.clone(),
    };
    options.check()?;
    // Read the baseline first: a bad file should not cost a whole run.
    let baseline = args
        .baseline
        .as_deref()
        .map(bench::read_report)
        .transpose()?;
    let output = args.output.as_deref().map(AtomicFile::create).transpose()?;

    let mut renderer = Renderer::new(GpuContext::new(gpu)?);
    let steps = options.steps();
    let mut step = 0;
    let report = bench::run(&mut renderer, &options, &mut |case| {
        step += 1;
        if !crate::report::quiet() {
            eprintln!("bench: {step}/{} {case}", steps.max(step))
        }
    })?;
    let json = serde_json::to_string_pretty(&report).expect("reports serialise");
    if args.json {
        println!("{json}");
    } else {
        print!("{}", bench::format_table(&report));
    }
    if let Some(file) = output {
        let path = file.path().to_path_buf();
        file.commit(|w| {
            std::io::Write::write_all(w, json.as_bytes()).map_err(|e| Error::io(&path, e))
        })?;
    }

    let Some(baseline) = baseline else {
        return Ok(());
    };
    if baseline.adapter.name != report.adapter.name || baseline.quick != report.quick {
        eprintln!(
            "bench: warning: the baseline ran on {}{}; this run on {}{}",
            baseline.adapter.name,
            if baseline.quick { " (--quick)" } else { "" },
            report.adapter.name,
            if report.quick { " (--quick)" } else { "" },
        );
    }
    let changes = bench::compare_all(&baseline, &report, args.max_regression).map_err(|e| {
        let file = args.baseline.as_deref().unwrap_or(std::path::Path::new(""));
        Error::InvalidArgument(format!("{}: {e}", file.display()))
    })?;
    // With --json, stdout holds only the report.
    let mut lines = String::from("against the baseline:\n");
    for c in &changes {
        let work = c
            .de_per_pixel
            .map_or(String::new(), |(a, b)| format!(", DE/px {a:.1} -> {b:.1}"));
        lines += &format!(
            "  {:<16} {:>10.2} -> {:>10.2} {} ({:+.1}%{work}){}\n",
            c.case,
            c.baseline,
            c.current,
            c.figure,
            c.slower_pct,
            if c.regressed { "  REGRESSION" } else { "" }
        );
    }
    if args.json {
        eprint!("{lines}");
    } else {
        print!("{lines}");
    }
    let regressed: Vec<String> = changes
        .iter()
        .filter(|c| c.regressed)
        .map(|c| format!("{} {:+.1}%", c.case, c.slower_pct))
        .collect();
    if !regressed.is_empty() {
        return Err(Error::Regression(format!(
            "{} (allowed {}%)",
            regressed.join(", "),
            args.max_regression
        )));
    }
    Ok(())
}
