//! Scanning against the real thing: Trivy 0.76 with the tiny real vulnerability database from
//! `../shared/trivy-db`, a debootstrap bookworm root file system, and (when `DOCKER_HOST` is set) a
//! real Docker engine behind `opsmith scan`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use opsmith::repo_config::Severity as Threshold;
use opsmith::report::{replace_scan_section, sarif_upload, scan_check_run, scan_section};
use opsmith::scan::{
    BuildOutcome, ScanError, ScanOutcome, ScanRun, ServiceScan, Severity, Target, Trivy,
};

/// A fake AWS key pair, assembled so this file holds no key-shaped text itself.
fn fake_keys() -> (String, String) {
    (
        ["AKIA", "OPSMITHFAKEKEY00"].concat(),
        ["opsmithFake", "SecretAccessKey0000000000000x"].concat(),
    )
}

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn trivy_program() -> PathBuf {
    let venv = project().join("target/tools/venv/bin/trivy");
    assert!(
        venv.exists(),
        "trivy is not installed: run scripts/install-test-tools (scripts/test does)"
    );
    venv
}

/// A cache folder holding the test database, as users set one up for offline scanning.
fn offline_cache() -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    let db = cache.path().join("db");
    std::fs::create_dir_all(&db).unwrap();
    let shared = project().join("../shared/trivy-db/db");
    for name in ["trivy.db", "metadata.json"] {
        std::fs::copy(shared.join(name), db.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", shared.join(name).display()));
    }
    cache
}

fn offline_trivy(cache: &Path) -> Trivy {
    Trivy::at(trivy_program())
        .with_env("TRIVY_CACHE_DIR", cache)
        .with_env("TRIVY_SKIP_DB_UPDATE", "true")
        .with_env("TRIVY_OFFLINE_SCAN", "true")
}

/// A debootstrap bookworm minbase root file system, made once and kept under target/standin/.
fn bookworm_rootfs() -> PathBuf {
    let dir = project().join("target/standin/scan-rootfs");
    let rootfs = dir.join("rootfs");
    if rootfs.join("var/lib/dpkg/status").is_file() {
        return rootfs;
    }
    let partial = dir.join("rootfs.partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&dir).unwrap();
    let status = Command::new("debootstrap")
        .args(["--variant=minbase", "bookworm"])
        .arg(&partial)
        .arg("http://deb.debian.org/debian")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("debootstrap is installed by scripts/install-test-tools");
    assert!(status.success(), "debootstrap failed");
    std::fs::rename(&partial, &rootfs).unwrap();
    rootfs
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

#[test]
fn a_bookworm_rootfs_has_the_tar_advisory_and_not_the_curl_one() {
    let cache = offline_cache();
    let rootfs = bookworm_rootfs();
    let trivy = offline_trivy(cache.path());
    let rt = runtime();
    let report = rt.block_on(trivy.report(&Target::Rootfs(&rootfs))).unwrap();
    // One scan gives the same findings and, converted, the SBOM.
    let scan = rt.block_on(trivy.scan(&Target::Rootfs(&rootfs))).unwrap();
    assert_eq!(scan.report, report);
    let sbom: serde_json::Value =
        serde_json::from_slice(&rt.block_on(trivy.sbom_of(&scan)).unwrap()).unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert!(
        sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "tar"),
        "{sbom:#}"
    );
    let tar = report
        .findings
        .iter()
        .find(|f| f.id == "CVE-2005-2541")
        .unwrap_or_else(|| panic!("no tar finding in {report:#?}"));
    assert_eq!(tar.package, "tar");
    assert_eq!(tar.severity, Severity::Low);
    assert_eq!(tar.fixed, None);
    assert!(!tar.installed.is_empty());
    assert!(report.vulnerabilities.low >= 1);
    assert!(
        !report.findings.iter().any(|f| f.id == "CVE-2023-38545"),
        "curl is not installed: {report:#?}"
    );
    assert!(
        !report.findings.iter().any(|f| f.id == "CVE-2023-4911"),
        "glibc is already fixed: {report:#?}"
    );
}

#[test]
fn a_planted_key_is_a_secret_finding_and_never_shown() {
    let (key_id, secret_key) = fake_keys();
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("config")).unwrap();
    std::fs::write(
        repo.path().join("config/settings.ini"),
        format!(
            "[aws]\nregion = eu-west-1\naws_access_key_id = {key_id}\naws_secret_access_key = {secret_key}\n"
        ),
    )
    .unwrap();
    let cache = offline_cache();
    let trivy = offline_trivy(cache.path());
    let target = Target::Filesystem(repo.path());
    let rt = runtime();
    let report = rt.block_on(trivy.report(&target)).unwrap();
    let found: Vec<(&str, &str, Option<u32>)> = report
        .secrets
        .iter()
        .map(|s| (s.rule.as_str(), s.file.as_str(), s.line))
        .collect();
    assert!(
        found.contains(&("aws-access-key-id", "config/settings.ini", Some(3))),
        "{found:?}"
    );

    let run = ScanRun {
        services: vec![ServiceScan {
            name: "api".into(),
            image: "opsmith/demo-api:local".into(),
            build: BuildOutcome::Built {
                image: "opsmith/test:1".into(),
                seconds: 1.0,
            },
            scan: ScanOutcome::Scanned(report.clone()),
        }],
        configuration: ScanOutcome::NotRun,
        threshold: Threshold::Critical,
    };
    let section = scan_section(&run);
    assert!(section.contains("`aws-access-key-id`"), "{section}");
    let check = scan_check_run(&run);
    let sarif = rt.block_on(trivy.sarif(&target)).unwrap();
    // The same SARIF from the one scan's JSON, without scanning again.
    let scan = rt.block_on(trivy.scan(&target)).unwrap();
    assert_eq!(scan.report, report);
    let converted = rt.block_on(trivy.sarif_of(&scan)).unwrap();
    let rules = |sarif: &[u8]| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_slice(sarif).unwrap();
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(rules(&converted), rules(&sarif));
    assert!(rules(&sarif).contains(&"aws-access-key-id".to_string()));
    let converted_upload = sarif_upload(&converted, "0123456789abcdef", "refs/heads/main").unwrap();
    assert!(!decompress(&converted_upload.sarif).contains(&key_id));
    let upload = sarif_upload(&sarif, "0123456789abcdef", "refs/heads/main").unwrap();
    let shown = [
        format!("{report:?}"),
        serde_json::to_string(&report).unwrap(),
        section.clone(),
        replace_scan_section("body", &section),
        check.summary,
        check.title,
        serde_json::to_string(&check.annotations).unwrap(),
        serde_json::to_string(&upload).unwrap(),
        decompress(&upload.sarif),
    ];
    for text in shown {
        assert!(!text.contains(&key_id), "{text}");
        assert!(!text.contains(&secret_key), "{text}");
    }
}

fn decompress(encoded: &str) -> String {
    use base64::Engine as _;
    use std::io::Read;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let mut out = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn a_misconfigured_generated_dockerfile_is_reported_with_file_and_line() {
    let repo = copy_fixture("python-pip-flask", "scan-config");
    let out = tempfile::tempdir().unwrap();
    let generate = opsmith_command()
        .args(["generate"])
        .arg(repo.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(generate.status.success(), "{generate:?}");
    // Run the package index update as a step of its own: Trivy's DS-0017.
    let dockerfile = out.path().join("Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).unwrap();
    let (head, tail) = text.split_at(text.rfind("\nUSER ").unwrap() + 1);
    let line = head.lines().count() as u32 + 1;
    std::fs::write(&dockerfile, format!("{head}RUN apt-get update\n{tail}")).unwrap();

    let report = runtime()
        .block_on(Trivy::at(trivy_program()).report(&Target::Config(out.path())))
        .unwrap();
    let m = report
        .misconfigurations
        .iter()
        .find(|m| m.id == "DS-0017")
        .unwrap_or_else(|| panic!("{report:#?}"));
    assert_eq!((m.file.as_str(), m.line), ("Dockerfile", Some(line)));
    assert_eq!(m.severity, Severity::High);
    // Only the planted problem: the rest of what opsmith generates passes at HIGH.
    assert!(
        report
            .misconfigurations
            .iter()
            .all(|m| m.id == "DS-0017" || m.severity < Severity::High),
        "{report:#?}"
    );

    let run = ScanRun {
        services: vec![],
        configuration: ScanOutcome::Scanned(report),
        threshold: Threshold::High,
    };
    let check = scan_check_run(&run);
    let annotation = check
        .annotations
        .iter()
        .find(|a| a.title.contains("DS-0017"))
        .unwrap();
    assert_eq!(
        (annotation.path.as_str(), annotation.start_line),
        ("Dockerfile", line)
    );
    assert_eq!(annotation.annotation_level, "failure");
    assert!(scan_section(&run).contains(&format!("`Dockerfile:{line}`")));
}

#[test]
fn without_a_database_the_error_says_how_to_point_trivy_at_one() {
    let empty = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let trivy = Trivy::at(trivy_program())
        .with_env("TRIVY_CACHE_DIR", empty.path())
        .with_env("TRIVY_SKIP_DB_UPDATE", "true");
    let err = runtime()
        .block_on(trivy.report(&Target::Filesystem(target.path())))
        .unwrap_err();
    assert!(matches!(err, ScanError::Database { .. }), "{err}");
    let message = err.to_string();
    for named in [
        "TRIVY_CACHE_DIR",
        "TRIVY_SKIP_DB_UPDATE",
        "TRIVY_DB_REPOSITORY",
    ] {
        assert!(message.contains(named), "{message}");
    }
}

#[test]
fn a_trivy_that_does_not_finish_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("trivy");
    std::fs::write(&program, "#!/bin/sh\nexec sleep 600\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let trivy = Trivy::at(&program).with_timeout(std::time::Duration::from_secs(1));
    let err = runtime()
        .block_on(trivy.report(&Target::Config(dir.path())))
        .unwrap_err();
    assert!(matches!(err, ScanError::TimedOut { seconds: 1 }), "{err}");
}

#[test]
fn malformed_trivy_output_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("trivy");
    std::fs::write(&program, "#!/bin/sh\necho '{\"Results\": ['\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = runtime()
        .block_on(Trivy::at(&program).report(&Target::Config(dir.path())))
        .unwrap_err();
    assert!(matches!(err, ScanError::Output(_)), "{err}");
}

fn opsmith_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsmith"));
    command.env_remove("OPSMITH_TRIVY_PATH");
    command
}

/// A copy of a fixture in a folder named `name`: the folder name is the repository name in image
/// tags, so a fixed one keeps reruns from piling up images under new names.
struct Checkout {
    _root: tempfile::TempDir,
    path: PathBuf,
}

impl Checkout {
    fn path(&self) -> &Path {
        &self.path
    }
}

fn copy_fixture(fixture: &str, name: &str) -> Checkout {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join(name);
    std::fs::create_dir(&path).unwrap();
    copy_tree(&project().join("tests/fixtures").join(fixture), &path);
    Checkout { _root: root, path }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn without_trivy_the_cli_says_where_it_looked() {
    let repo = copy_fixture("python-pip-flask", "scan-no-trivy");
    let output = opsmith_command()
        .arg("scan")
        .arg(repo.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let message = stderr(&output);
    assert!(
        message.contains("OPSMITH_TRIVY_PATH") && message.contains("PATH"),
        "{message}"
    );
    let output = opsmith_command()
        .arg("scan")
        .arg(repo.path())
        .env("OPSMITH_TRIVY_PATH", repo.path().join("no-trivy-here"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr(&output).contains("no-trivy-here"), "{output:?}");
}

#[test]
fn without_an_engine_the_cli_names_the_address() {
    let repo = copy_fixture("python-pip-flask", "scan-no-engine");
    let missing = repo.path().join("no-engine.sock");
    let host = format!("unix://{}", missing.display());
    let output = opsmith_command()
        .arg("scan")
        .arg(repo.path())
        .env("OPSMITH_TRIVY_PATH", trivy_program())
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        stderr(&output).contains(&format!("no Docker engine at {host}")),
        "{output:?}"
    );
}

#[test]
fn bad_input_exits_2() {
    let repo = copy_fixture("python-pip-flask", "scan-bad-input");
    let bad_image = opsmith_command()
        .args(["scan", "--image", "python"])
        .arg(repo.path())
        .output()
        .unwrap();
    assert_eq!(bad_image.status.code(), Some(2), "{bad_image:?}");
    assert!(stderr(&bad_image).contains("NAME=REF"));
    let missing = opsmith_command()
        .arg("scan")
        .arg(repo.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    std::fs::create_dir_all(repo.path().join(".github")).unwrap();
    std::fs::write(
        repo.path().join(".github/opsmith.yml"),
        "severity_threshold: severe\n",
    )
    .unwrap();
    let bad_config = opsmith_command()
        .arg("scan")
        .arg(repo.path())
        .env("OPSMITH_TRIVY_PATH", trivy_program())
        .output()
        .unwrap();
    assert_eq!(bad_config.status.code(), Some(2), "{bad_config:?}");
    assert!(stderr(&bad_config).contains("severity_threshold"));
}

/// `opsmith scan` against the engine at `DOCKER_HOST` (the test command starts one and builds the
/// stand-in base images); `None` when there is none.
fn scan_with_engine(repo: &Path, cache: &Path, args: &[&str]) -> Option<Output> {
    let host = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())?;
    Some(
        opsmith_command()
            .arg("scan")
            .arg(repo)
            .args(args)
            .env("DOCKER_HOST", host)
            .env("OPSMITH_TRIVY_PATH", trivy_program())
            .env("TRIVY_CACHE_DIR", cache)
            .env("TRIVY_SKIP_DB_UPDATE", "true")
            .env("TRIVY_OFFLINE_SCAN", "true")
            .output()
            .unwrap(),
    )
}

#[test]
fn scan_builds_and_scans_a_python_app_with_a_planted_secret() {
    let cache = offline_cache();
    let repo = copy_fixture("python-pip-flask", "scan-secret");
    let (key_id, secret_key) = fake_keys();
    std::fs::create_dir_all(repo.path().join("config")).unwrap();
    std::fs::write(
        repo.path().join("config/settings.ini"),
        format!("[aws]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret_key}\n"),
    )
    .unwrap();
    let Some(output) = scan_with_engine(repo.path(), cache.path(), &["--json"]) else {
        eprintln!("DOCKER_HOST is not set: the engine scan is left to the test command");
        return;
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    for shown in [&stdout, &stderr(&output)] {
        assert!(
            !shown.contains(&key_id) && !shown.contains(&secret_key),
            "{shown}"
        );
    }
    // The planted key is CRITICAL: at the default threshold the scan fails.
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let service = &report["services"][0];
    assert_eq!(service["build"]["ok"], true, "{report:#}");
    assert!(service["image"].as_str().unwrap().starts_with("opsmith/"));
    let findings = service["findings"].as_array().unwrap();
    let tar = findings
        .iter()
        .find(|f| f["id"] == "CVE-2005-2541")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(
        (&tar["package"], &tar["severity"], &tar["fixed"]),
        (
            &serde_json::json!("tar"),
            &serde_json::json!("low"),
            &serde_json::Value::Null
        )
    );
    assert!(!findings.iter().any(|f| f["id"] == "CVE-2023-38545"));
    assert!(service["vulnerabilities"]["low"].as_u64().unwrap() >= 1);
    let secrets = service["secrets"].as_array().unwrap();
    assert!(
        secrets.iter().any(|s| s["rule"] == "aws-access-key-id"
            && s["file"].as_str().unwrap().ends_with("config/settings.ini")),
        "{report:#}"
    );
    let sboms: Vec<PathBuf> = std::fs::read_dir(repo.path().join(".opsmith/sbom"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sboms.len(), 1, "one SBOM per image: {sboms:?}");
    let sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sboms[0]).unwrap()).unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert!(
        sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "tar"),
        "the SBOM lists the image's packages"
    );
}

#[test]
fn scan_reports_the_failing_build_step() {
    let cache = offline_cache();
    let repo = copy_fixture("python-pip-flask", "scan-failing");
    // Generated files already in place are used as they are: break the Dockerfile at a RUN step.
    let generate = opsmith_command()
        .arg("generate")
        .arg(repo.path())
        .output()
        .unwrap();
    assert!(generate.status.success(), "{generate:?}");
    std::fs::write(
        repo.path().join(".opsmith/out/Dockerfile"),
        "FROM python:3.12-slim-bookworm\nRUN echo preparing && echo opsmith-step-failed >&2 && false\n",
    )
    .unwrap();
    let Some(output) = scan_with_engine(repo.path(), cache.path(), &[]) else {
        eprintln!("DOCKER_HOST is not set: the engine scan is left to the test command");
        return;
    };
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("build FAILED at step"), "{stdout}");
    assert!(stdout.contains("false"), "{stdout}");
    assert!(stdout.contains("opsmith-step-failed"), "{stdout}");
    let json = scan_with_engine(repo.path(), cache.path(), &["--json"]).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let build = &report["services"][0]["build"];
    assert_eq!(build["ok"], false, "{report:#}");
    assert!(
        build["error"].as_str().unwrap().contains("failed at step"),
        "{report:#}"
    );
}

#[test]
fn base_image_redirections_reach_the_build_and_the_flag_wins() {
    let cache = offline_cache();
    let repo = copy_fixture("python-pip-flask", "scan-redirect");
    std::fs::create_dir_all(repo.path().join(".github")).unwrap();
    std::fs::write(
        repo.path().join(".github/opsmith.yml"),
        "images:\n  \"python:3.12-slim-bookworm\": opsmith-test/from-config:1\n",
    )
    .unwrap();
    let error = |args: &[&str]| {
        let output = scan_with_engine(repo.path(), cache.path(), args)?;
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        Some(report["services"][0]["build"]["error"].to_string())
    };
    let Some(from_config) = error(&["--json"]) else {
        eprintln!("DOCKER_HOST is not set: the engine scan is left to the test command");
        return;
    };
    // No registry is reachable, so the build stops at the redirected base image, naming it.
    assert!(
        from_config.contains("opsmith-test/from-config:1"),
        "{from_config}"
    );
    let from_flag = error(&[
        "--json",
        "--image",
        "python:3.12-slim-bookworm=opsmith-test/from-flag:1",
    ])
    .unwrap();
    assert!(
        from_flag.contains("opsmith-test/from-flag:1"),
        "{from_flag}"
    );
}

#[test]
fn scan_builds_python_go_and_node_services_of_a_monorepo() {
    let cache = offline_cache();
    let repo = copy_fixture("monorepo-three", "scan-monorepo");
    // The Go and Node versions the fixture declares have no stand-in image: redirect them, as a
    // user behind a mirror would.
    let Some(output) = scan_with_engine(
        repo.path(),
        cache.path(),
        &[
            "--json",
            "--image",
            "golang:1.22-bookworm=golang:1.25-bookworm",
            "--image",
            "node:24-bookworm-slim=node:22-bookworm-slim",
        ],
    ) else {
        eprintln!("DOCKER_HOST is not set: the engine scan is left to the test command");
        return;
    };
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {output:?}"));
    // Nothing at or above `critical`: the scan passes.
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    let services = report["services"].as_array().unwrap();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "api", "web"], "{report:#}");
    for service in services {
        assert_eq!(service["build"]["ok"], true, "{report:#}");
        assert!(
            !service["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == "CVE-2023-38545"),
            "{report:#}"
        );
    }
    let has_tar = |name: &str| {
        services.iter().any(|s| {
            s["name"] == name
                && s["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["id"] == "CVE-2005-2541" && f["package"] == "tar")
        })
    };
    // The Python and Node images are Debian-based; the Go one is distroless, with no tar.
    assert!(
        has_tar("admin") && has_tar("web") && !has_tar("api"),
        "{report:#}"
    );
}
