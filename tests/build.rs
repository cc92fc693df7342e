//! Image builds on a real Docker engine: fixtures are generated, built with `Engine::build`, run, and
//! asked over HTTP on their detected port; failing builds name their step; limits and redirections hold.
//!
//! Needs an engine at `DOCKER_HOST` with the stand-in base images (`scripts/test` starts one with
//! `scripts/docker-engine` and builds them with `scripts/standin-images`). Without `DOCKER_HOST` and with
//! no engine at the default socket the tests skip loudly; under `CI=true` they fail instead.

#[path = "support/containers.rs"]
mod containers;
mod support;

use containers::{Container, docker_output};
use opsmith::analyze::{AnalyzeOptions, analyze};
use opsmith::build::{BuildOutcome, BuildRequest, BuildSettings, Engine, TAIL_LINES, image_tag};
use opsmith::generate::{Context, GenerateSettings, generate};
use opsmith::profile::Cloud;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::fixture_dir;

/// The engine, or None (after saying so loudly) when there is none and none is expected.
async fn engine_or_skip(test: &str) -> Option<Engine> {
    match Engine::connect().await {
        Ok(engine) => Some(engine),
        Err(error) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            let host_set = std::env::var("DOCKER_HOST").is_ok_and(|v| !v.trim().is_empty());
            if ci || host_set {
                panic!(
                    "{test}: {error}\n(CI=true or DOCKER_HOST is set, so an engine is required: scripts/test starts one)"
                );
            }
            eprintln!(
                "\n\n*** SKIPPED {test}: {error}.\n*** Start one with `scripts/docker-engine start && eval \"$(scripts/docker-engine env)\" && scripts/standin-images`, or run scripts/test. ***\n"
            );
            None
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fixture copied into a temporary repository with the generated files written into it, as the App
/// commits them.
struct Repository {
    _dir: tempfile::TempDir,
    root: PathBuf,
    name: String,
}

/// What the build of one service needs, from the generator's own view of the service.
struct ServiceBuild {
    name: String,
    context: PathBuf,
    dockerfile: String,
    port: Option<u16>,
}

fn generated_repository(fixture: &str) -> (Repository, Vec<ServiceBuild>) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(fixture);
    copy_tree(&fixture_dir(fixture), &root);
    let profile = analyze(&root, AnalyzeOptions::default()).expect("fixture analyzes");
    let settings = GenerateSettings { cloud: Cloud::Aws };
    let generation = generate(&profile, &settings).expect("fixture generates");
    for a in &generation.artifacts {
        let path = root.join(&a.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &a.contents).unwrap();
    }
    let services = Context::new(&profile, &settings)
        .services
        .iter()
        .map(|s| {
            let dockerfile = if s.context == "." {
                s.dockerfile.clone()
            } else {
                s.dockerfile
                    .strip_prefix(&format!("{}/", s.context))
                    .expect("the Dockerfile is inside its context")
                    .to_string()
            };
            ServiceBuild {
                name: s.service.name.clone(),
                context: root.join(&s.context),
                dockerfile,
                port: s.service.port,
            }
        })
        .collect();
    (
        Repository {
            _dir: dir,
            root,
            name: fixture.to_string(),
        },
        services,
    )
}

/// Image references of the FROM lines that are not stage names.
fn base_images(dockerfile: &str) -> Vec<String> {
    let mut stages: Vec<String> = Vec::new();
    let mut images = Vec::new();
    for line in dockerfile.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words
            .first()
            .is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
        {
            let Some(image) = words[1..].iter().find(|w| !w.starts_with("--")) else {
                continue;
            };
            if !stages.contains(&image.to_lowercase()) && !images.contains(&image.to_string()) {
                images.push(image.to_string());
            }
            if let Some(i) = words.iter().position(|w| w.eq_ignore_ascii_case("as")) {
                stages.push(words[i + 1].to_lowercase());
            }
        }
    }
    images
}

struct Build {
    outcome: BuildOutcome,
    log: Vec<String>,
}

async fn build(
    engine: &Engine,
    context: &Path,
    dockerfile: &str,
    tag: String,
    images: &BTreeMap<String, String>,
    settings: &BuildSettings,
) -> Build {
    let text = std::fs::read_to_string(context.join(dockerfile)).unwrap();
    for image in base_images(&opsmith::build::redirect_images(&text, images)) {
        let (present, _) = docker_output(&["image", "inspect", "--format", "{{.Id}}", &image]);
        assert!(
            present,
            "the base image {image} is not in the engine: run scripts/standin-images"
        );
    }
    let mut log = Vec::new();
    let request = BuildRequest {
        context,
        dockerfile,
        tag,
        images,
    };
    let outcome = engine
        .build(&request, settings, &mut |line: &str| {
            log.push(line.to_string())
        })
        .await;
    Build { outcome, log }
}

/// Builds the fixture's single service and returns its image and detected port.
async fn build_fixture(engine: &Engine, fixture: &str) -> (String, u16, Repository) {
    let (repo, services) = generated_repository(fixture);
    assert_eq!(services.len(), 1, "{fixture} has one service");
    let service = &services[0];
    let tag = image_tag(&repo.name, &service.name, "e2e");
    let result = build(
        engine,
        &service.context,
        &service.dockerfile,
        tag,
        &BTreeMap::new(),
        &BuildSettings::default(),
    )
    .await;
    let BuildOutcome::Built { image, seconds } = &result.outcome else {
        panic!(
            "{fixture} did not build: {:?}\n--- build output ---\n{}",
            result.outcome,
            result.log.join("\n")
        );
    };
    eprintln!("{fixture}: built {image} in {seconds:.1} s");
    assert!(
        result.log.iter().any(|l| l.starts_with('#')),
        "the build output was streamed"
    );
    let port = service.port.expect("the service has a detected port");
    (image.clone(), port, repo)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_flask_app_builds_and_answers() {
    let Some(engine) = engine_or_skip("python flask").await else {
        return;
    };
    let (image, port, _repo) = build_fixture(&engine, "python-pip-flask").await;
    let app = Container::run(&image, port);
    let (status, body) = app.get("/health");
    assert_eq!(
        (status, json(&body)),
        (200, serde_json::json!({"status": "ok"}))
    );
    let (status, body) = app.get("/notes");
    assert_eq!((status, json(&body)), (200, serde_json::json!([])));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_express_app_builds_and_answers() {
    let Some(engine) = engine_or_skip("node express").await else {
        return;
    };
    let (image, port, _repo) = build_fixture(&engine, "node-npm-express").await;
    let app = Container::run(&image, port);
    let (status, body) = app.get("/healthz");
    assert_eq!(
        (status, json(&body)),
        (200, serde_json::json!({"status": "ok"}))
    );
    let (status, body) = app.get("/orders");
    assert_eq!((status, json(&body)), (200, serde_json::json!([])));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_go_app_builds_into_distroless_and_answers() {
    let Some(engine) = engine_or_skip("go net/http").await else {
        return;
    };
    let (image, port, _repo) = build_fixture(&engine, "go-nethttp").await;
    let app = Container::run(&image, port);
    let (status, body) = app.get("/healthz");
    assert_eq!((status, body.as_str()), (204, ""));
    let (status, body) = app.get("/now");
    assert_eq!(status, 200);
    let now = json(&body)["now"].as_str().unwrap_or_default().to_string();
    let rfc3339 = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$").unwrap();
    assert!(rfc3339.is_match(&now), "{body}");
    // Only what the generated Dockerfile copies: no shell in the runtime image.
    let (has_shell, _) = docker_output(&[
        "run",
        "--rm",
        "--entrypoint",
        "/bin/sh",
        &image,
        "-c",
        "true",
    ]);
    assert!(!has_shell, "the distroless runtime image has no shell");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_static_site_builds_and_serves_its_files() {
    let Some(engine) = engine_or_skip("static site").await else {
        return;
    };
    let (image, port, repo) = build_fixture(&engine, "static-plain").await;
    let app = Container::run(&image, port);
    for (path, file) in [
        ("/", "public/index.html"),
        ("/menu.html", "public/menu.html"),
    ] {
        let expected = std::fs::read_to_string(repo.root.join(file)).unwrap();
        assert_eq!(app.get(path), (200, expected), "GET {path}");
    }
    let (status, _) = app.get("/README.md");
    assert_eq!(status, 404, "only the site folder is served");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_run_step_is_named_with_its_log_tail() {
    let Some(engine) = engine_or_skip("failing RUN step").await else {
        return;
    };
    let (repo, services) = generated_repository("python-build-fails");
    let service = &services[0];
    let result = build(
        &engine,
        &service.context,
        &service.dockerfile,
        image_tag(&repo.name, &service.name, "e2e"),
        &BTreeMap::new(),
        &BuildSettings::default(),
    )
    .await;
    let BuildOutcome::Failed { step, log_tail, .. } = &result.outcome else {
        panic!("the build should fail: {:?}", result.outcome);
    };
    assert!(
        step.ends_with("RUN python check_settings.py") && step.starts_with('['),
        "step {step:?}"
    );
    assert_eq!(log_tail.len(), TAIL_LINES, "{log_tail:#?}");
    assert!(
        log_tail
            .iter()
            .any(|l| l == "error: required settings are missing: DATABASE_URL"),
        "{log_tail:#?}"
    );
    assert!(
        log_tail.last().unwrap().starts_with("ERROR: ")
            && log_tail.last().unwrap().contains("exit code: 3"),
        "{log_tail:#?}"
    );
    // The tail is that step's own output: its first lines scrolled out, no other step's lines.
    assert!(!log_tail.iter().any(|l| l.contains("checking SETTING_01:")));
    assert!(log_tail.iter().all(|l| !l.starts_with('#')));
    // The whole output, stdout and stderr, was streamed line by line.
    for line in [
        "checking SETTING_01: ok",
        "warning: no .env file, reading the settings from the environment",
    ] {
        assert!(result.log.iter().any(|l| l.ends_with(line)), "{line}");
    }
}

/// A scratch context with a Dockerfile and files.
fn scratch_context(dockerfile: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    for (path, contents) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn the_context_honours_dockerignore_and_carries_symlinks_as_links() {
    let Some(engine) = engine_or_skip("context").await else {
        return;
    };
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("host-secret"), "host secret").unwrap();
    let dir = scratch_context(
        "FROM debian:bookworm-slim\nCOPY . /ctx\n",
        &[
            ("app/main.txt", "main"),
            ("app/cache/big.bin", "cache"),
            (".env", "API_KEY=1"),
            (".dockerignore", ".env\napp/cache\n"),
        ],
    );
    std::os::unix::fs::symlink(
        outside.path().join("host-secret"),
        dir.path().join("app/link"),
    )
    .unwrap();
    let tag = image_tag("context", "probe", "e2e");
    let result = build(
        &engine,
        dir.path(),
        "Dockerfile",
        tag.clone(),
        &BTreeMap::new(),
        &BuildSettings::default(),
    )
    .await;
    assert!(
        matches!(result.outcome, BuildOutcome::Built { .. }),
        "{:?}\n{}",
        result.outcome,
        result.log.join("\n")
    );
    let (ok, listing) = docker_output(&[
        "run",
        "--rm",
        &tag,
        "sh",
        "-c",
        "cd /ctx && find . | sort && readlink app/link && cat app/link 2>&1 || true",
    ]);
    assert!(ok, "{listing}");
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(
        &lines[..6],
        [
            ".",
            "./.dockerignore",
            "./Dockerfile",
            "./app",
            "./app/link",
            "./app/main.txt"
        ],
        "{listing}"
    );
    assert_eq!(
        lines[6],
        outside.path().join("host-secret").to_str().unwrap()
    );
    assert!(
        !listing.contains("host secret"),
        "the link's target is not in the image: {listing}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn base_images_are_redirected() {
    let Some(engine) = engine_or_skip("redirect").await else {
        return;
    };
    // A "mirror" that holds the plain Debian stand-in under another name: the build can only pass
    // when FROM python:… was rewritten to it (the Debian image has no python3).
    let (ok, out) = docker_output(&[
        "tag",
        "debian:bookworm-slim",
        "opsmith-mirror/python:3.12-slim-bookworm",
    ]);
    assert!(ok, "{out}");
    let dir = scratch_context(
        "FROM python:3.12-slim-bookworm AS base\nFROM base\nRUN ! command -v python3\n",
        &[],
    );
    let images = BTreeMap::from([("python".to_string(), "opsmith-mirror/python".to_string())]);
    let result = build(
        &engine,
        dir.path(),
        "Dockerfile",
        image_tag("redirect", "probe", "e2e"),
        &images,
        &BuildSettings::default(),
    )
    .await;
    assert!(
        matches!(result.outcome, BuildOutcome::Built { .. }),
        "{:?}\n{}",
        result.outcome,
        result.log.join("\n")
    );
    // Without the redirection the same Dockerfile fails at that step, in the real python stand-in.
    let result = build(
        &engine,
        dir.path(),
        "Dockerfile",
        image_tag("redirect", "probe", "e2e"),
        &BTreeMap::new(),
        &BuildSettings::default(),
    )
    .await;
    let BuildOutcome::Failed { step, .. } = &result.outcome else {
        panic!("{:?}", result.outcome);
    };
    assert!(step.ends_with("RUN ! command -v python3"), "{step}");
}

#[tokio::test(flavor = "multi_thread")]
async fn build_network_off_means_no_network_in_run_steps() {
    let Some(engine) = engine_or_skip("network off").await else {
        return;
    };
    let dir = scratch_context(
        "FROM python:3.12-slim-bookworm\nRUN python3 -c \"import urllib.request; urllib.request.urlopen('https://pypi.org/simple/pip/', timeout=20); print('reached pypi')\"\n",
        &[],
    );
    let offline = BuildSettings {
        network: false,
        ..BuildSettings::default()
    };
    let result = build(
        &engine,
        dir.path(),
        "Dockerfile",
        image_tag("network", "off", "e2e"),
        &BTreeMap::new(),
        &offline,
    )
    .await;
    let BuildOutcome::Failed { step, log_tail, .. } = &result.outcome else {
        panic!(
            "a RUN step reached the network with the network off: {:?}",
            result.outcome
        );
    };
    assert!(step.contains("RUN python3 -c"), "{step}");
    assert!(
        log_tail.iter().any(|l| l.contains("URLError")),
        "{log_tail:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_build_past_its_timeout_is_abandoned() {
    let Some(engine) = engine_or_skip("timeout").await else {
        return;
    };
    let dir = scratch_context(
        "FROM debian:bookworm-slim\nRUN echo started && sleep 600\n",
        &[],
    );
    let settings = BuildSettings {
        timeout: Duration::from_secs(5),
        ..BuildSettings::default()
    };
    let result = build(
        &engine,
        dir.path(),
        "Dockerfile",
        image_tag("timeout", "probe", "e2e"),
        &BTreeMap::new(),
        &settings,
    )
    .await;
    let BuildOutcome::Failed { step, log_tail, .. } = &result.outcome else {
        panic!("{:?}", result.outcome);
    };
    assert_eq!(step, "timeout");
    assert!(
        log_tail
            .last()
            .unwrap()
            .contains("did not finish within 5 s"),
        "{log_tail:#?}"
    );
    assert!(
        log_tail.iter().any(|l| l.ends_with(" started")),
        "{log_tail:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_dockerfile_or_a_missing_base_image_is_a_named_failure() {
    let Some(engine) = engine_or_skip("broken Dockerfile").await else {
        return;
    };
    let dir = scratch_context("FROM debian:bookworm-slim\nRUNN echo typo\n", &[]);
    let result = build(
        &engine,
        dir.path(),
        "Dockerfile",
        image_tag("broken", "parse", "e2e"),
        &BTreeMap::new(),
        &BuildSettings::default(),
    )
    .await;
    let BuildOutcome::Failed { step, log_tail, .. } = &result.outcome else {
        panic!("{:?}", result.outcome);
    };
    assert_eq!(step, "Dockerfile", "{log_tail:#?}");
    assert!(
        log_tail.last().unwrap().contains("unknown instruction"),
        "{log_tail:#?}"
    );

    // No registry is reachable and builds never pull: a base image the engine lacks fails its step.
    let dir = scratch_context("FROM opsmith-test/absent:1\nRUN true\n", &[]);
    let request = BuildRequest {
        context: dir.path(),
        dockerfile: "Dockerfile",
        tag: image_tag("broken", "base", "e2e"),
        images: &BTreeMap::new(),
    };
    let outcome = engine
        .build(&request, &BuildSettings::default(), &mut |_| {})
        .await;
    let BuildOutcome::Failed { step, log_tail, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(step.contains("opsmith-test/absent:1"), "{step}");
    assert!(
        log_tail.last().unwrap().starts_with("ERROR: "),
        "{log_tail:#?}"
    );

    // A Dockerfile path outside the context is refused before the engine sees it.
    let request = BuildRequest {
        dockerfile: "../Dockerfile",
        ..request
    };
    let outcome = engine
        .build(&request, &BuildSettings::default(), &mut |_| {})
        .await;
    assert!(
        matches!(&outcome, BuildOutcome::Failed { step, .. } if step == "Dockerfile"),
        "{outcome:?}"
    );
}
