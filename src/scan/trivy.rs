//! Running the Trivy executable: where it is, its arguments per target, a timeout, and its failures
//! turned into errors a user can act on.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::ScanReport;

/// Names the Trivy executable to use instead of `trivy` on `PATH`.
pub const TRIVY_PATH_VAR: &str = "OPSMITH_TRIVY_PATH";
/// How long one Trivy run may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The environment Trivy gets: its own `TRIVY_*` settings (database mirror, cache, offline mode), and
/// what a program needs to find files, certificates and proxies. Nothing else, so opsmith's own
/// secrets (App key, webhook secret) stay out of the child process.
const PASSED_VARS: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "USER",
    "LANG",
    "LC_ALL",
    "TZ",
    "XDG_CACHE_HOME",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "DOCKER_CONFIG",
];

/// Why Trivy could not give a report.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(
        "Trivy not found: set {TRIVY_PATH_VAR} to the trivy executable, or put `trivy` on PATH"
    )]
    NotFound,
    #[error("{TRIVY_PATH_VAR}={path}: {problem}")]
    BadPath { path: String, problem: String },
    #[error("cannot run Trivy ({program}): {message}")]
    Spawn { program: String, message: String },
    #[error("Trivy did not finish within {seconds} s and was stopped")]
    TimedOut { seconds: u64 },
    #[error(
        "Trivy has no vulnerability database and cannot download one ({detail}). Offline, copy a \
         database to CACHE/db/trivy.db and set TRIVY_CACHE_DIR=CACHE and TRIVY_SKIP_DB_UPDATE=true; \
         behind a mirror, set TRIVY_DB_REPOSITORY"
    )]
    Database { detail: String },
    #[error("Trivy failed ({status}): {detail}")]
    Failed { status: String, detail: String },
    #[error("Trivy's output is not a JSON report: {0}")]
    Output(String),
}

/// What Trivy looks at.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// An image in a Docker engine (`unix:///…/docker.sock`, `tcp://…`); never pulled from a registry.
    Image {
        docker_host: &'a str,
        image: &'a str,
    },
    /// An unpacked root file system (an OS with its packages).
    Rootfs(&'a Path),
    /// A project folder (lockfiles, files holding secrets).
    Filesystem(&'a Path),
    /// Configuration files: Dockerfiles, Terraform, Kubernetes manifests.
    Config(&'a Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Findings only.
    Json,
    /// Findings and every package, which a conversion to an SBOM needs.
    FullJson,
    CycloneDx,
    Sarif,
}

/// One scan's typed findings and Trivy's whole JSON report, which may hold a secret's matched
/// text: it only ever goes back to Trivy and is never shown (nor printed by `Debug`).
pub struct TrivyScan {
    pub report: ScanReport,
    json: Vec<u8>,
}

impl std::fmt::Debug for TrivyScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrivyScan")
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

/// A Trivy executable and how long a run may take.
#[derive(Debug, Clone)]
pub struct Trivy {
    program: PathBuf,
    timeout: Duration,
    /// Set on top of the passed environment (a cache folder the App's settings name, say).
    env: Vec<(OsString, OsString)>,
}

impl Trivy {
    /// `OPSMITH_TRIVY_PATH` if set, else `trivy` on `PATH`.
    pub fn locate() -> Result<Trivy, ScanError> {
        let explicit = std::env::var_os(TRIVY_PATH_VAR).filter(|v| !v.is_empty());
        locate_in(explicit.as_deref(), std::env::var_os("PATH").as_deref())
    }

    /// A Trivy executable at a known place.
    pub fn at(program: impl Into<PathBuf>) -> Trivy {
        Trivy {
            program: program.into(),
            timeout: DEFAULT_TIMEOUT,
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for Trivy (`TRIVY_CACHE_DIR`, …) on top of the passed ones.
    pub fn with_env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Trivy {
        self.env
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Trivy {
        self.timeout = timeout;
        self
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Vulnerabilities and secrets (images, root file systems, folders) or misconfigurations
    /// (configuration), as a typed report.
    pub async fn report(&self, target: &Target<'_>) -> Result<ScanReport, ScanError> {
        let output = self
            .run(&arguments(target, Format::Json, self.timeout), None)
            .await?;
        ScanReport::from_trivy_json(&output)
    }

    /// Scans once, keeping Trivy's full JSON so that [`Trivy::sarif_of`] and [`Trivy::sbom_of`]
    /// need no second scan (an image scan exports the whole image from the engine).
    pub async fn scan(&self, target: &Target<'_>) -> Result<TrivyScan, ScanError> {
        let json = self
            .run(&arguments(target, Format::FullJson, self.timeout), None)
            .await?;
        Ok(TrivyScan {
            report: ScanReport::from_trivy_json(&json)?,
            json,
        })
    }

    /// A scan's findings as SARIF for code scanning.
    pub async fn sarif_of(&self, scan: &TrivyScan) -> Result<Vec<u8>, ScanError> {
        self.convert(scan, "sarif").await
    }

    /// A CycloneDX SBOM (JSON) of what a scan saw.
    pub async fn sbom_of(&self, scan: &TrivyScan) -> Result<Vec<u8>, ScanError> {
        self.convert(scan, "cyclonedx").await
    }

    async fn convert(&self, scan: &TrivyScan, format: &str) -> Result<Vec<u8>, ScanError> {
        let args: Vec<OsString> = ["convert", "--quiet", "--format", format, "--", "/dev/stdin"]
            .into_iter()
            .map(OsString::from)
            .collect();
        self.run(&args, Some(&scan.json)).await
    }

    /// A CycloneDX SBOM (JSON) of what the target holds.
    pub async fn sbom(&self, target: &Target<'_>) -> Result<Vec<u8>, ScanError> {
        self.run(&arguments(target, Format::CycloneDx, self.timeout), None)
            .await
    }

    /// The same findings as [`Trivy::report`], as SARIF for code scanning.
    pub async fn sarif(&self, target: &Target<'_>) -> Result<Vec<u8>, ScanError> {
        self.run(&arguments(target, Format::Sarif, self.timeout), None)
            .await
    }

    /// Runs Trivy with `args` (no shell) and `input` on its standard input, returning its standard
    /// output.
    async fn run(&self, args: &[OsString], input: Option<&[u8]>) -> Result<Vec<u8>, ScanError> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(args)
            .env_clear()
            .envs(passed_environment())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| ScanError::Spawn {
            program: self.program.display().to_string(),
            message: e.to_string(),
        })?;
        let stdin = child.stdin.take();
        let feed = async {
            if let (Some(input), Some(mut stdin)) = (input, stdin) {
                use tokio::io::AsyncWriteExt;
                // A Trivy that exits early closes the pipe; its exit status says why.
                let _ = stdin.write_all(input).await;
            }
        };
        // Written while the output is read, so neither side waits on a full pipe. On timeout the
        // child is dropped, which kills it.
        let run = async {
            let (_, output) = tokio::join!(feed, child.wait_with_output());
            output
        };
        let output = tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| ScanError::TimedOut {
                seconds: self.timeout.as_secs(),
            })?
            .map_err(|e| ScanError::Spawn {
                program: self.program.display().to_string(),
                message: e.to_string(),
            })?;
        if output.status.success() {
            return Ok(output.stdout);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail = error_detail(&stderr);
        if stderr.contains("failed to download vulnerability DB")
            || stderr.contains("--skip-db-update cannot be specified on the first run")
            || stderr.contains("DB error")
        {
            return Err(ScanError::Database { detail });
        }
        Err(ScanError::Failed {
            status: output.status.to_string(),
            detail,
        })
    }
}

fn locate_in(explicit: Option<&OsStr>, path: Option<&OsStr>) -> Result<Trivy, ScanError> {
    if let Some(explicit) = explicit {
        let program = PathBuf::from(explicit);
        return match executable(&program) {
            Ok(()) => Ok(Trivy::at(program)),
            Err(problem) => Err(ScanError::BadPath {
                path: program.display().to_string(),
                problem,
            }),
        };
    }
    std::env::split_paths(path.unwrap_or_default())
        .map(|dir| dir.join("trivy"))
        .find(|candidate| executable(candidate).is_ok())
        .map(Trivy::at)
        .ok_or(ScanError::NotFound)
}

fn executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a file".into());
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err("not executable".into());
    }
    Ok(())
}

fn passed_environment() -> Vec<(OsString, OsString)> {
    std::env::vars_os()
        .filter(|(name, _)| {
            name.to_str()
                .is_some_and(|name| name.starts_with("TRIVY_") || PASSED_VARS.contains(&name))
        })
        .collect()
}

fn arguments(target: &Target<'_>, format: Format, timeout: Duration) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |s: &str| args.push(s.into());
    let (subcommand, scanners) = match target {
        Target::Image { .. } => ("image", true),
        Target::Rootfs(_) => ("rootfs", true),
        Target::Filesystem(_) => ("fs", true),
        Target::Config(_) => ("config", false),
    };
    push(subcommand);
    push("--quiet");
    push("--format");
    push(match format {
        Format::Json | Format::FullJson => "json",
        Format::CycloneDx => "cyclonedx",
        Format::Sarif => "sarif",
    });
    // The SBOM lists packages; findings need no database for it.
    if scanners && format != Format::CycloneDx {
        push("--scanners");
        push("vuln,secret");
    }
    if format == Format::Json && scanners {
        // The package list (hundreds of KB per image) is the SBOM's job.
        push("--list-all-pkgs=false");
    }
    if let Target::Image { docker_host, .. } = target {
        push("--docker-host");
        push(docker_host);
        // Only the engine: an image that is not there must not be fetched from a registry.
        push("--image-src");
        push("docker");
    }
    // Trivy's own limit (5 minutes by default) would cut a long scan short of ours.
    push("--timeout");
    push(&format!("{}s", timeout.as_secs().max(1)));
    // Everything after `--` is the target, even a name that starts with `-`.
    args.push("--".into());
    args.push(match target {
        Target::Image { image, .. } => OsString::from(image),
        Target::Rootfs(p) | Target::Filesystem(p) | Target::Config(p) => p.as_os_str().into(),
    });
    args
}

/// The lines of Trivy's log that say what went wrong (its `FATAL`/`ERROR` lines, else the last
/// ones), bounded.
fn error_detail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains("FATAL") || l.contains("ERROR"))
        .collect();
    let chosen = if errors.is_empty() {
        &lines[lines.len().saturating_sub(3)..]
    } else {
        &errors[errors.len().saturating_sub(3)..]
    };
    // A mirror named with its credentials (`https://user:token@host/…`) must not show them.
    let userinfo = regex::Regex::new(r"://[^/@\s]+@").expect("a valid pattern");
    let text = userinfo
        .replace_all(&chosen.join(" / "), "://***@")
        .into_owned();
    let text = if text.is_empty() {
        "no error message".to_string()
    } else {
        text
    };
    match text.char_indices().nth(1_000) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(target: Target<'_>, format: Format) -> String {
        arguments(&target, format, Duration::from_secs(600))
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn arguments_per_target() {
        let image = Target::Image {
            docker_host: "unix:///d/docker.sock",
            image: "opsmith/x-api:local",
        };
        assert_eq!(
            shown(image, Format::Json),
            "image --quiet --format json --scanners vuln,secret --list-all-pkgs=false \
             --docker-host unix:///d/docker.sock --image-src docker --timeout 600s -- opsmith/x-api:local"
        );
        assert_eq!(
            shown(image, Format::CycloneDx),
            "image --quiet --format cyclonedx --docker-host unix:///d/docker.sock --image-src docker \
             --timeout 600s -- opsmith/x-api:local"
        );
        assert_eq!(
            shown(Target::Config(Path::new("-out")), Format::Sarif),
            "config --quiet --format sarif --timeout 600s -- -out"
        );
    }

    #[test]
    fn locating_names_both_places() {
        let err = locate_in(None, Some(OsStr::new("/nonexistent-a:/nonexistent-b"))).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(TRIVY_PATH_VAR) && message.contains("PATH"),
            "{message}"
        );
        let err = locate_in(Some(OsStr::new("/nonexistent/trivy")), None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("OPSMITH_TRIVY_PATH=/nonexistent/trivy: "),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let found = locate_in(None, Some(dir.path().as_os_str()));
        assert!(matches!(found, Err(ScanError::NotFound)));
        let program = dir.path().join("trivy");
        std::fs::write(&program, "#!/bin/sh\n").unwrap();
        assert!(
            locate_in(None, Some(dir.path().as_os_str())).is_err(),
            "not executable"
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let found = locate_in(None, Some(dir.path().as_os_str())).unwrap();
        assert_eq!(found.program(), program);
    }

    #[test]
    fn error_detail_prefers_fatal_lines() {
        let log = "INFO a\nFATAL Fatal error run error: boom\nINFO b\n";
        assert_eq!(error_detail(log), "FATAL Fatal error run error: boom");
        assert_eq!(error_detail(""), "no error message");
        assert_eq!(error_detail("x\ny\nz\nw"), "y / z / w");
        assert_eq!(
            error_detail("FATAL cannot reach https://bot:s3cret@mirror.internal/trivy-db:2"),
            "FATAL cannot reach https://***@mirror.internal/trivy-db:2"
        );
    }
}
