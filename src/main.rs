//! The `opsmith` command line: parses arguments and hands over to the library.

use clap::{Parser, Subcommand};
use opsmith::analyze::{AnalyzeOptions, analyze};
use opsmith::generate::{GenerateSettings, generate};
use opsmith::profile::{Cloud, RepoProfile};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "opsmith",
    version,
    about = "Analyze a repository and generate what it needs to ship"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect languages and deployable services in a directory.
    Analyze {
        dir: PathBuf,
        /// Print the profile as JSON.
        #[arg(long)]
        json: bool,
        /// Also list every file with its language (with --json).
        #[arg(long)]
        per_file: bool,
    },
    /// Generate Dockerfiles, workflows, Terraform and monitoring for a directory.
    Generate {
        dir: PathBuf,
        /// Where to write the artifacts (default: DIR/.opsmith/out).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Cloud for the Terraform and deploy workflow.
        #[arg(long, value_enum, default_value_t = Cloud::Aws)]
        cloud: Cloud,
        /// Print what was written as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Build each service's image and scan it, and the generated configuration, with Trivy.
    Scan {
        dir: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Use REF wherever a Dockerfile names the base image NAME (repeatable; wins over
        /// `images:` in .github/opsmith.yml).
        #[arg(long = "image", value_name = "NAME=REF", value_parser = opsmith::scan::local::parse_image_redirection)]
        image: Vec<(String, String)>,
    },
    /// Run the GitHub App (settings from OPSMITH_* environment variables).
    Serve {
        /// Also read settings from this KEY=VALUE file (the environment wins).
        #[arg(long)]
        env_file: Option<PathBuf>,
    },
    /// Register the GitHub App from its manifest and write its credentials to an env file.
    Setup(opsmith::setup::SetupArgs),
}

/// A failure the user can act on: one line on stderr and exit code 2.
struct UserError(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze {
            dir,
            json,
            per_file,
        } => run_analyze(&dir, json, per_file),
        Command::Generate {
            dir,
            out,
            cloud,
            json,
        } => run_generate(&dir, out, cloud, json),
        Command::Scan { dir, json, image } => run_scan(&dir, json, &image),
        Command::Serve { env_file } => run_serve(env_file.as_deref()),
        Command::Setup(args) => opsmith::setup::run(args).map_err(|e| UserError(e.to_string())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(UserError(message)) => {
            eprintln!("opsmith: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_serve(env_file: Option<&Path>) -> Result<(), UserError> {
    let settings =
        opsmith::config::Settings::from_env(env_file).map_err(|e| UserError(e.to_string()))?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // Exactly one rustls provider, before any TLS client is built.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| UserError(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(opsmith::app::run(&settings))
        .map_err(|e| UserError(e.to_string()))
}

/// `opsmith scan`: exit 0 when clean or below the threshold, 1 when a finding is at or above it or a
/// build failed, 2 when the scan could not run.
fn run_scan(dir: &Path, json: bool, images: &[(String, String)]) -> Result<(), UserError> {
    use opsmith::scan::local;
    use std::io::{IsTerminal, Write};
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| UserError(format!("cannot start the async runtime: {e}")))?;
    let show_progress = std::io::stderr().is_terminal();
    let mut progress = |line: &str| {
        if show_progress {
            eprintln!("opsmith: {line}");
        }
    };
    let request = local::LocalScan { dir, images };
    let result = runtime
        .block_on(local::scan_directory(&request, &mut progress))
        .map_err(UserError)?;
    for note in &result.notes {
        eprintln!("opsmith: {note}");
    }
    if json {
        let report = local::json_report(&result);
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        );
    } else {
        print!("{}", local::text_report(&result));
    }
    let code = local::exit_code(&result.run);
    if code != 0 {
        let _ = std::io::stdout().flush();
        std::process::exit(code.into());
    }
    Ok(())
}

fn load(dir: &Path, per_file: bool) -> Result<RepoProfile, UserError> {
    let profile =
        analyze(dir, AnalyzeOptions { per_file }).map_err(|e| UserError(e.to_string()))?;
    for w in &profile.warnings {
        eprintln!("opsmith: warning: {w}");
    }
    Ok(profile)
}

fn run_analyze(dir: &Path, json: bool, per_file: bool) -> Result<(), UserError> {
    let profile = load(dir, per_file)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&profile).expect("profile serializes")
        );
    } else {
        print!("{}", summary(&profile));
    }
    Ok(())
}

fn summary(profile: &RepoProfile) -> String {
    let mut out = format!("{}\n", profile.root);
    let langs: Vec<String> = profile
        .languages
        .iter()
        .take(8)
        .map(|l| format!("{} {:.1}%", l.name, l.percent))
        .collect();
    out += &format!(
        "languages: {}\n",
        if langs.is_empty() {
            "none".into()
        } else {
            langs.join(", ")
        }
    );
    if profile.services.is_empty() {
        out += "services: none found\n";
    }
    for s in &profile.services {
        out += &format!(
            "service {} at {}: {} / {}{}\n",
            s.name,
            s.path,
            s.ecosystem.as_str(),
            s.package_manager.as_str(),
            s.framework
                .as_ref()
                .map(|f| format!(" / {f}"))
                .unwrap_or_default()
        );
        if let Some(v) = &s.runtime_version {
            out += &format!(
                "  runtime {v}{}\n",
                s.runtime_version_source
                    .as_ref()
                    .map(|f| format!(" (from {f})"))
                    .unwrap_or_default()
            );
        }
        for (label, value) in [
            ("build", &s.build_command),
            ("start", &s.start_command),
            ("health", &s.health_path),
        ] {
            if let Some(v) = value {
                out += &format!("  {label}: {v}\n");
            }
        }
        if let Some(p) = s.port {
            out += &format!("  port: {p}\n");
        }
    }
    out
}

fn run_generate(
    dir: &Path,
    out: Option<PathBuf>,
    cloud: Cloud,
    json: bool,
) -> Result<(), UserError> {
    let profile = load(dir, false)?;
    let generation =
        generate(&profile, &GenerateSettings { cloud }).map_err(|e| UserError(e.to_string()))?;
    let out = out.unwrap_or_else(|| dir.join(".opsmith").join("out"));
    for artifact in &generation.artifacts {
        let path = out.join(&artifact.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                UserError(format!(
                    "{}: cannot create directory: {e}",
                    parent.display()
                ))
            })?;
        }
        std::fs::write(&path, &artifact.contents)
            .map_err(|e| UserError(format!("{}: cannot write: {e}", path.display())))?;
    }
    if json {
        let listing = serde_json::json!({
            "out": out.display().to_string(),
            "services": profile.services,
            "artifacts": generation.artifacts.iter().map(|a| serde_json::json!({"path": a.path, "reason": a.reason})).collect::<Vec<_>>(),
            "kept": generation.kept,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&listing).expect("listing serializes")
        );
        return Ok(());
    }
    print!("{}", summary(&profile));
    if profile.services.is_empty() {
        println!("no deployable service found: nothing to generate");
    }
    println!(
        "wrote {} file(s) to {}",
        generation.artifacts.len(),
        out.display()
    );
    for a in &generation.artifacts {
        println!("  {}", a.path);
    }
    for k in &generation.kept {
        println!("  kept the repository's own {k}");
    }
    Ok(())
}
