//! The CI workflow, the container workflow and compose.yaml, generated from profiles built in code: every
//! ecosystem and package manager, a monorepo, a service at the root; checked by actionlint (with
//! shellcheck) and by reading the YAML back.

mod support;

use opsmith::generate::{Artifact, Context, GenerateSettings, Generation, ci, compose};
use opsmith::profile::{Ecosystem, PackageManager, RepoProfile, Service};
use serde_json::{Value, json};
use support::*;

const CI: &str = ".github/workflows/ci.yml";
const CONTAINER: &str = ".github/workflows/container.yml";
const COMPOSE: &str = "compose.yaml";

/// A service with the facts a detector would set.
#[allow(clippy::too_many_arguments)]
fn service(
    name: &str,
    path: &str,
    ecosystem: Ecosystem,
    pm: PackageManager,
    version: Option<&str>,
    port: Option<u16>,
    lockfile: Option<&str>,
    install: &str,
    lint: Option<&str>,
    test: Option<&str>,
) -> Service {
    let mut s = Service::new(name, path, ecosystem, pm);
    s.runtime_version = version.map(str::to_string);
    s.port = port;
    if let Some(l) = lockfile {
        s.fact("lockfile", l);
        s.fact("manifests", json!([l]));
    }
    s.fact("install_command", install);
    if let Some(l) = lint {
        s.fact("lint_command", l);
    }
    if let Some(t) = test {
        s.fact("test_command", t);
    }
    s
}

fn profile(services: Vec<Service>) -> RepoProfile {
    RepoProfile {
        root: "repo".into(),
        services,
        ..RepoProfile::default()
    }
}

/// One service per ecosystem and package manager, each in its own folder.
fn every_ecosystem() -> RepoProfile {
    use Ecosystem as E;
    use PackageManager as P;
    let mut services = vec![
        service(
            "npm-App",
            "node/npm",
            E::Node,
            P::Npm,
            Some("20"),
            Some(3000),
            Some("package-lock.json"),
            "npm ci",
            Some("npm run lint"),
            Some("npm test"),
        ),
        service(
            "yarn-classic",
            "node/yarn1",
            E::Node,
            P::Yarn,
            None,
            Some(3000),
            Some("yarn.lock"),
            "yarn install --frozen-lockfile",
            None,
            Some("yarn test"),
        ),
        service(
            "yarn-berry",
            "node/yarn4",
            E::Node,
            P::Yarn,
            Some("22"),
            None,
            Some("yarn.lock"),
            "yarn install --immutable",
            Some("yarn lint"),
            None,
        ),
        service(
            "pnpm",
            "node/pnpm",
            E::Node,
            P::Pnpm,
            Some("22"),
            Some(3000),
            Some("pnpm-lock.yaml"),
            "pnpm install --frozen-lockfile",
            None,
            Some("pnpm test"),
        ),
        service(
            "bun",
            "node/bun",
            E::Node,
            P::Bun,
            None,
            Some(3000),
            Some("bun.lock"),
            "bun install --frozen-lockfile",
            None,
            Some("bun test"),
        ),
        service(
            "deno",
            "deno",
            E::Deno,
            P::Deno,
            Some("2.1"),
            Some(8000),
            Some("deno.lock"),
            "deno install",
            Some("deno lint"),
            Some("deno test"),
        ),
        service(
            "pip",
            "py/pip",
            E::Python,
            P::Pip,
            Some("3.12"),
            Some(8000),
            None,
            "python -m pip install -r requirements.txt",
            Some("ruff check ."),
            Some("pytest"),
        ),
        service(
            "poetry",
            "py/poetry",
            E::Python,
            P::Poetry,
            Some("3.11"),
            Some(8000),
            Some("poetry.lock"),
            "poetry install --no-interaction --no-root",
            None,
            Some("poetry run pytest"),
        ),
        service(
            "uv",
            "py/uv",
            E::Python,
            P::Uv,
            None,
            Some(8000),
            Some("uv.lock"),
            "uv sync --locked",
            Some("uv run ruff check"),
            Some("uv run pytest"),
        ),
        service(
            "pipenv",
            "py/pipenv",
            E::Python,
            P::Pipenv,
            Some("3.12"),
            Some(5000),
            Some("Pipfile.lock"),
            "pipenv install --deploy --dev",
            None,
            None,
        ),
        service(
            "pdm",
            "py/pdm",
            E::Python,
            P::Pdm,
            Some("3.12"),
            Some(8000),
            Some("pdm.lock"),
            "pdm install --frozen-lockfile",
            None,
            Some("pdm run pytest"),
        ),
        service(
            "go",
            "go",
            E::Go,
            P::Go,
            Some("1.22"),
            Some(8080),
            Some("go.sum"),
            "go mod download",
            Some("go vet ./..."),
            Some("go test ./..."),
        ),
        service(
            "rust",
            "rust",
            E::Rust,
            P::Cargo,
            Some("1.80"),
            Some(3000),
            Some("Cargo.lock"),
            "cargo fetch --locked",
            Some("cargo clippy --all-targets -- -D warnings"),
            Some("cargo test"),
        ),
        service(
            "maven",
            "java/maven",
            E::Java,
            P::Maven,
            Some("21"),
            Some(8080),
            None,
            "./mvnw -B dependency:go-offline",
            None,
            Some("./mvnw -B verify"),
        ),
        service(
            "gradle",
            "java/gradle",
            E::Java,
            P::Gradle,
            Some("17"),
            Some(8080),
            None,
            "./gradlew dependencies",
            None,
            Some("./gradlew test"),
        ),
        service(
            "dotnet",
            "dotnet",
            E::Dotnet,
            P::Dotnet,
            Some("8.0"),
            Some(8080),
            Some("packages.lock.json"),
            "dotnet restore --locked-mode",
            None,
            Some("dotnet test"),
        ),
        service(
            "ruby",
            "ruby",
            E::Ruby,
            P::Bundler,
            Some("3.3"),
            Some(3000),
            Some("Gemfile.lock"),
            "bundle install",
            Some("bundle exec rubocop"),
            Some("bundle exec rspec"),
        ),
        service(
            "php",
            "php",
            E::Php,
            P::Composer,
            Some("8.3"),
            Some(8080),
            Some("composer.lock"),
            "composer install --no-interaction",
            None,
            Some("vendor/bin/phpunit"),
        ),
        service(
            "elixir",
            "elixir",
            E::Elixir,
            P::Mix,
            Some("1.15"),
            Some(4000),
            Some("mix.lock"),
            "mix deps.get",
            Some("mix format --check-formatted"),
            Some("mix test"),
        ),
        service(
            "Static-Site",
            "site",
            E::Static,
            P::None,
            None,
            Some(8080),
            None,
            "",
            None,
            None,
        ),
    ];
    for s in &mut services {
        match s.name.as_str() {
            // Laravel with Vite assets built by pnpm; Rails with jsbundling on yarn.
            "php" => {
                s.fact("node_assets", true);
                s.fact("js_package_manager", "pnpm");
                s.fact("js_manifests", json!(["package.json", "pnpm-lock.yaml"]));
                s.fact("node_version", "20");
                s.fact("php_extensions", json!(["intl", "pdo_pgsql"]));
                s.fact("php_extensions_unsupported", json!(["redis"]));
                s.build_command = Some("pnpm run build".into());
            }
            "ruby" => {
                s.fact("js_bundling", true);
                s.fact("js_package_manager", "yarn");
                s.fact("js_manifests", json!(["package.json", "yarn.lock"]));
                s.build_command = Some("bin/rails assets:precompile".into());
            }
            "dotnet" => s.fact("sdk_version", "9.0"),
            "npm-App" => s.fact("package_manager_version", "10.8.0"),
            _ => {}
        }
        if s.ecosystem == E::Go {
            s.runtime_version_source = Some("go/go.mod".into());
        }
        if s.ecosystem == E::Rust || s.package_manager == P::Npm {
            s.build_command = Some(match s.ecosystem {
                E::Rust => "cargo build --release --locked".into(),
                _ => "npm run build".into(),
            });
        }
    }
    profile(services)
}

/// A pnpm workspace member (context = the workspace root), a uv service and a Go service.
fn monorepo() -> RepoProfile {
    let mut web = service(
        "Web-App",
        "apps/Web-App",
        Ecosystem::Node,
        PackageManager::Pnpm,
        Some("22"),
        Some(3000),
        Some("pnpm-lock.yaml"),
        "pnpm install --frozen-lockfile",
        Some("pnpm run lint"),
        Some("pnpm test"),
    );
    web.fact("build_context", ".");
    web.fact("service_in_context", "apps/Web-App/");
    web.fact(
        "manifests",
        json!([
            "package.json",
            "pnpm-lock.yaml",
            "pnpm-workspace.yaml",
            "apps/Web-App/package.json"
        ]),
    );
    web.fact("runtime_image", "node:22-bookworm-slim");
    web.build_command = Some("pnpm run build".into());
    web.health_path = Some("/health".into());
    let api = service(
        "api",
        "services/api",
        Ecosystem::Python,
        PackageManager::Uv,
        Some("3.12"),
        Some(8000),
        Some("uv.lock"),
        "uv sync --locked",
        Some("uv run ruff check"),
        Some("uv run pytest"),
    );
    let mut worker = service(
        "worker",
        "services/worker",
        Ecosystem::Go,
        PackageManager::Go,
        Some("1.23"),
        Some(8000),
        Some("go.sum"),
        "go mod download",
        Some("go vet ./..."),
        Some("go test ./..."),
    );
    worker.runtime_version_source = Some("services/worker/go.mod".into());
    worker.fact("runtime_image", "gcr.io/distroless/static-debian12:nonroot");
    profile(vec![web, api, worker])
}

/// Two programs of one Go module (`cmd/api`, `cmd/worker`) and a module of a `go.work` workspace.
fn go_layouts() -> RepoProfile {
    let mut services = Vec::new();
    for program in ["api", "worker"] {
        let mut s = service(
            program,
            &format!("cmd/{program}"),
            Ecosystem::Go,
            PackageManager::Go,
            Some("1.24"),
            Some(8080),
            Some("go.sum"),
            "go mod download",
            Some("go vet ./..."),
            Some("go test ./..."),
        );
        s.runtime_version_source = Some("go.mod".into());
        s.build_command = Some(format!("go build -o bin/{program} ./cmd/{program}"));
        s.fact("build_context", ".");
        s.fact("module_dir", "");
        services.push(s);
    }
    let mut billing = service(
        "billing",
        "billing",
        Ecosystem::Go,
        PackageManager::Go,
        None,
        None,
        None,
        "go mod download",
        None,
        None,
    );
    billing.fact("build_context", ".");
    billing.fact("module_dir", "billing/");
    services.push(billing);
    profile(services)
}

/// One Rust service at the repository root.
fn root_service() -> RepoProfile {
    profile(vec![service(
        "MyTool",
        ".",
        Ecosystem::Rust,
        PackageManager::Cargo,
        None,
        Some(8080),
        Some("Cargo.lock"),
        "cargo fetch --locked",
        Some("cargo clippy -- -D warnings"),
        Some("cargo test"),
    )])
}

/// What the CI and compose generators make of a profile (the Dockerfile and other generators have
/// their own tests, and need facts these hand-made profiles do not carry).
fn generation(profile: &RepoProfile) -> Generation {
    let context = Context::new(profile, &GenerateSettings::default());
    let mut artifacts = ci::artifacts(&context).expect("workflows generate");
    artifacts.extend(compose::artifacts(&context).expect("compose generates"));
    Generation {
        artifacts,
        kept: Vec::new(),
    }
}

fn artifact<'a>(generation: &'a Generation, path: &str) -> &'a Artifact {
    generation
        .artifacts
        .iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("no {path} generated"))
}

fn yaml(generation: &Generation, path: &str) -> Value {
    let text = &artifact(generation, path).contents;
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}\n{text}"))
}

/// The generated files pass the real validators (actionlint with shellcheck).
fn assert_valid(generation: &Generation) {
    assert!(!generation.artifacts.is_empty());
    let out = tempfile::tempdir().unwrap();
    write_tree(generation, out.path());
    let mut problems = validate_tree(out.path());
    problems.extend(compose_config(out.path()));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `docker-compose config` (Debian's `docker-compose`, installed by scripts/install-test-tools) checks
/// compose.yaml against the Compose specification's schema.
fn compose_config(out: &std::path::Path) -> Vec<String> {
    if !out.join(COMPOSE).exists() {
        return Vec::new();
    }
    let tool = support::tool("docker-compose");
    // The build contexts must exist for the check.
    let compose: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(out.join(COMPOSE)).unwrap()).unwrap();
    for service in compose["services"].as_object().into_iter().flatten() {
        let context = service.1["build"]["context"].as_str().unwrap();
        std::fs::create_dir_all(out.join(context)).unwrap();
    }
    let (ok, text) = run(std::process::Command::new(tool)
        .args(["-f", COMPOSE, "config", "-q"])
        .current_dir(out));
    if ok {
        Vec::new()
    } else {
        vec![format!("docker-compose config: {text}")]
    }
}

fn steps(job: &Value) -> &Vec<Value> {
    job["steps"].as_array().expect("job has steps")
}

fn uses(job: &Value) -> Vec<&str> {
    steps(job)
        .iter()
        .filter_map(|s| s["uses"].as_str())
        .collect()
}

/// Index in the job's steps of the first step using the action.
fn position(job: &Value, action_prefix: &str) -> usize {
    steps(job)
        .iter()
        .position(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with(action_prefix))
        })
        .unwrap_or_else(|| panic!("no {action_prefix} step in {job:#}"))
}

fn step_named<'a>(job: &'a Value, name: &str) -> Option<&'a Value> {
    steps(job).iter().find(|s| s["name"] == name)
}

#[test]
fn every_ecosystem_passes_actionlint() {
    assert_valid(&generation(&every_ecosystem()));
}

#[test]
fn monorepo_passes_actionlint() {
    assert_valid(&generation(&monorepo()));
}

#[test]
fn root_service_passes_actionlint() {
    assert_valid(&generation(&root_service()));
}

#[test]
fn every_ecosystem_sets_up_its_toolchain_after_checkout() {
    let profile = every_ecosystem();
    let ci = yaml(&generation(&profile), CI);
    let jobs = ci["jobs"].as_object().unwrap();
    assert_eq!(jobs.len(), profile.services.len(), "one job per service");
    for s in &profile.services {
        let id = s.name.to_lowercase();
        let job = &jobs[&id];
        assert_eq!(job["defaults"]["run"]["working-directory"], s.path.as_str());
        assert!(job["timeout-minutes"].as_u64().is_some());
        assert!(job["name"].as_str().unwrap().contains(&s.name));
        assert_eq!(uses(job)[0], "actions/checkout@v6");
        let setup = match (s.ecosystem, s.package_manager) {
            (Ecosystem::Node, _) => "actions/setup-node@v6",
            (Ecosystem::Deno, _) => "denoland/setup-deno@v2",
            (Ecosystem::Python, PackageManager::Uv) => "astral-sh/setup-uv@",
            (Ecosystem::Python, PackageManager::Pdm) => "pdm-project/setup-pdm@",
            (Ecosystem::Python, _) => "actions/setup-python@v6",
            (Ecosystem::Go, _) => "actions/setup-go@v6",
            (Ecosystem::Rust, _) => "dtolnay/rust-toolchain@",
            (Ecosystem::Java, _) => "actions/setup-java@v5",
            (Ecosystem::Dotnet, _) => "actions/setup-dotnet@v5",
            (Ecosystem::Ruby, _) => "ruby/setup-ruby@v1",
            (Ecosystem::Php, _) => "shivammathur/setup-php@v2",
            (Ecosystem::Elixir, _) => "erlef/setup-beam@v1",
            (Ecosystem::Static, _) => "actions/checkout@v6",
        };
        position(job, setup);
        // Commands appear exactly when declared, in order install, lint, test, build.
        let runs: Vec<&str> = steps(job)
            .iter()
            .filter_map(|st| st["run"].as_str())
            .collect();
        let mut expected: Vec<String> = Vec::new();
        let install = s.facts["install_command"].as_str().unwrap();
        if !install.is_empty() && s.ecosystem != Ecosystem::Ruby {
            expected.push(install.to_string());
        }
        for key in ["lint_command", "test_command"] {
            if let Some(c) = s.facts.get(key).and_then(|v| v.as_str()) {
                expected.push(c.to_string());
            }
        }
        if let Some(b) = &s.build_command {
            expected.push(b.clone());
        }
        // In order, each once (other run steps, such as set-up commands, may come between).
        let found: Vec<&str> = runs
            .iter()
            .copied()
            .filter(|r| expected.iter().any(|e| e == r))
            .collect();
        assert_eq!(found, expected, "{id}: command steps");
        if !s.facts.contains_key("lint_command") {
            assert!(
                step_named(job, "Lint").is_none(),
                "{id}: lint without a linter"
            );
        }
    }
}

#[test]
fn package_managers_get_their_caches() {
    let ci = yaml(&generation(&every_ecosystem()), CI);
    let jobs = &ci["jobs"];

    // pnpm must be on PATH before setup-node asks it for its store.
    let pnpm = &jobs["pnpm"];
    assert!(position(pnpm, "pnpm/action-setup@") < position(pnpm, "actions/setup-node@"));
    let node = &steps(pnpm)[position(pnpm, "actions/setup-node@")];
    assert_eq!(node["with"]["cache"], "pnpm");
    assert_eq!(
        node["with"]["cache-dependency-path"],
        "node/pnpm/pnpm-lock.yaml"
    );
    assert_eq!(node["with"]["node-version"], "22");

    let npm = &jobs["npm-app"];
    let node = &steps(npm)[position(npm, "actions/setup-node@")];
    assert_eq!(node["with"]["cache"], "npm");
    assert_eq!(node["with"]["node-version"], "20");

    // Yarn 2+ needs Corepack before setup-node runs yarn; yarn 1 does not.
    assert!(step_named(&jobs["yarn-berry"], "Enable Corepack").is_some());
    assert!(step_named(&jobs["yarn-classic"], "Enable Corepack").is_none());

    let uv = &jobs["uv"];
    let setup = &steps(uv)[position(uv, "astral-sh/setup-uv@")];
    assert_eq!(setup["with"]["enable-cache"], true);
    assert!(
        setup["with"]["cache-dependency-glob"]
            .as_str()
            .unwrap()
            .contains("py/uv/uv.lock")
    );
    assert!(
        !uses(uv)
            .iter()
            .any(|u| u.starts_with("actions/setup-python"))
    );

    let poetry = &jobs["poetry"];
    let install_poetry = steps(poetry)
        .iter()
        .position(|s| s["run"] == "pipx install poetry")
        .expect("poetry installed");
    assert!(install_poetry < position(poetry, "actions/setup-python@"));
    let py = &steps(poetry)[position(poetry, "actions/setup-python@")];
    assert_eq!(py["with"]["cache"], "poetry");

    // pip without a lockfile or manifest: setup-python's pip cache would fail on a missing file.
    let pip = &jobs["pip"];
    let py = &steps(pip)[position(pip, "actions/setup-python@")];
    assert!(py["with"].get("cache").is_none());

    let go = &jobs["go"];
    let setup = &steps(go)[position(go, "actions/setup-go@")];
    assert_eq!(setup["with"]["go-version-file"], "go/go.mod");
    assert_eq!(setup["with"]["cache-dependency-path"], "go/go.sum");

    let rust = &jobs["rust"];
    let toolchain = &steps(rust)[position(rust, "dtolnay/rust-toolchain@")];
    assert_eq!(toolchain["with"]["toolchain"], "1.80");
    assert!(
        toolchain["with"]["components"]
            .as_str()
            .unwrap()
            .contains("clippy")
    );
    position(rust, "Swatinem/rust-cache@v2");

    for (id, cache) in [("maven", "maven"), ("gradle", "gradle")] {
        let job = &jobs[id];
        let java = &steps(job)[position(job, "actions/setup-java@")];
        assert_eq!(java["with"]["cache"], cache);
    }

    let dotnet = &jobs["dotnet"];
    let setup = &steps(dotnet)[position(dotnet, "actions/setup-dotnet@")];
    // The SDK the repository pins (global.json), not the target framework, is what CI installs.
    assert_eq!(setup["with"]["dotnet-version"], "9.0.x");
    assert_eq!(setup["with"]["cache"], true);

    let ruby = &jobs["ruby"];
    let setup = &steps(ruby)[position(ruby, "ruby/setup-ruby@")];
    assert_eq!(setup["with"]["bundler-cache"], true);
    assert_eq!(setup["with"]["ruby-version"], "3.3");

    let php = &jobs["php"];
    let setup = &steps(php)[position(php, "shivammathur/setup-php@")];
    assert_eq!(setup["with"]["extensions"], "intl, pdo_pgsql, redis");
    assert!(position(php, "shivammathur/setup-php@") < position(php, "actions/cache@"));
    // Vite assets: pnpm and Node are set up and the JavaScript installed before the build.
    let js_install = steps(php)
        .iter()
        .position(|s| s["name"] == "Install JavaScript dependencies")
        .expect("php installs its JavaScript");
    assert!(position(php, "pnpm/action-setup@") < position(php, "actions/setup-node@"));
    let node = &steps(php)[position(php, "actions/setup-node@")];
    assert_eq!(node["with"]["node-version"], "20");
    assert_eq!(node["with"]["cache-dependency-path"], "php/pnpm-lock.yaml");
    let build = steps(php)
        .iter()
        .position(|s| s["name"] == "Build")
        .unwrap();
    assert!(js_install < build);

    let ruby = &jobs["ruby"];
    let node = &steps(ruby)[position(ruby, "actions/setup-node@")];
    assert_eq!(node["with"]["cache"], "yarn");
    assert!(step_named(ruby, "Install JavaScript dependencies").is_some());
    // A Node service names no JavaScript assets step.
    assert!(step_named(&jobs["npm-app"], "Install JavaScript dependencies").is_none());

    // Elixir 1.15 does not run on the newest OTP: the OTP line follows the Elixir line.
    let elixir = &jobs["elixir"];
    let beam = &steps(elixir)[position(elixir, "erlef/setup-beam@")];
    assert_eq!(beam["with"]["otp-version"], "26");
    let cache = &steps(elixir)[position(elixir, "actions/cache@")];
    assert_eq!(
        cache["with"]["key"],
        "${{ runner.os }}-elixir-elixir-1.15-otp-26-${{ hashFiles('elixir/mix.lock') }}"
    );
}

#[test]
fn workflows_ask_for_least_privilege() {
    let generation = generation(&monorepo());
    let ci = yaml(&generation, CI);
    assert_eq!(ci["permissions"], json!({"contents": "read"}));
    for (_, job) in ci["jobs"].as_object().unwrap() {
        assert!(
            job.get("permissions").is_none(),
            "ci jobs inherit read-only"
        );
        let checkout = &steps(job)[0];
        assert_eq!(checkout["with"]["persist-credentials"], false);
    }
    assert_eq!(ci["concurrency"]["cancel-in-progress"], true);
    assert!(
        ci["concurrency"]["group"]
            .as_str()
            .unwrap()
            .contains("github.ref")
    );
    assert_eq!(ci["on"]["push"]["branches"], json!(["main"]));
    assert!(ci["on"].get("pull_request").is_some());

    let container = yaml(&generation, CONTAINER);
    assert_eq!(container["permissions"], json!({}));
    for (_, job) in container["jobs"].as_object().unwrap() {
        assert_eq!(
            job["permissions"],
            json!({"contents": "read", "packages": "write", "security-events": "write"})
        );
    }
}

#[test]
fn workspace_members_install_at_the_workspace_root() {
    let ci = yaml(&generation(&monorepo()), CI);
    let web = &ci["jobs"]["web-app"];
    assert_eq!(web["defaults"]["run"]["working-directory"], "apps/Web-App");
    let install = step_named(web, "Install dependencies").unwrap();
    assert_eq!(install["working-directory"], ".");
    assert_eq!(install["run"], "pnpm install --frozen-lockfile");
    let pnpm = &steps(web)[position(web, "pnpm/action-setup@")];
    assert_eq!(pnpm["with"]["package_json_file"], "package.json");
    // A service that is its own context installs where it stands.
    let api = &ci["jobs"]["api"];
    assert!(
        step_named(api, "Install dependencies")
            .unwrap()
            .get("working-directory")
            .is_none()
    );
}

#[test]
fn container_images_build_from_the_right_context_and_push_only_from_main_and_tags() {
    let generation = generation(&monorepo());
    let container = yaml(&generation, CONTAINER);
    assert_eq!(container["on"]["push"]["branches"], json!(["main"]));
    assert_eq!(container["on"]["push"]["tags"], json!(["v*"]));
    let jobs = &container["jobs"];

    let web = &jobs["web-app"];
    let build = &steps(web)[position(web, "docker/build-push-action@")];
    assert_eq!(build["with"]["context"], ".");
    assert_eq!(build["with"]["file"], "apps/Web-App/Dockerfile");
    assert_eq!(build["with"]["cache-from"], "type=gha,scope=web-app");
    assert!(
        build["with"].get("push").is_none(),
        "the first build only loads"
    );

    let api = &jobs["api"];
    let build = &steps(api)[position(api, "docker/build-push-action@")];
    assert_eq!(build["with"]["context"], "services/api");
    assert_eq!(build["with"]["file"], "services/api/Dockerfile");

    let mut categories = Vec::new();
    for (id, job) in jobs.as_object().unwrap() {
        // GHCR names are lower case: the repository part is lowered at run time.
        let name = step_named(job, "Name the image").unwrap()["run"]
            .as_str()
            .unwrap();
        assert!(name.contains("${GITHUB_REPOSITORY,,}"), "{name}");
        assert!(
            name.contains(&format!("/{id}\"")) || name.contains(&format!("/{id} ")),
            "{name}"
        );
        for step in steps(job) {
            let action = step["uses"].as_str().unwrap_or("");
            let pushes = step["with"]["push"] == true;
            if action.starts_with("docker/login-action") || pushes {
                assert_eq!(step["if"], "github.event_name == 'push'", "{id}: {step}");
            }
        }
        let trivy = &steps(job)[position(job, "aquasecurity/trivy-action@")];
        let pin = trivy["uses"].as_str().unwrap().split('@').nth(1).unwrap();
        assert!(
            pin.len() == 40 && pin.chars().all(|c| c.is_ascii_hexdigit()),
            "trivy pinned: {pin}"
        );
        assert_eq!(trivy["with"]["format"], "sarif");
        let upload = &steps(job)[position(job, "github/codeql-action/upload-sarif@v4")];
        assert!(upload["if"].as_str().unwrap().contains("always()"));
        assert_eq!(upload["with"]["sarif_file"], trivy["with"]["output"]);
        categories.push(upload["with"]["category"].as_str().unwrap().to_string());
        assert!(
            position(job, "aquasecurity/trivy-action@")
                < position(job, "github/codeql-action/upload-sarif@")
        );
    }
    categories.sort();
    categories.dedup();
    assert_eq!(
        categories.len(),
        3,
        "one code-scanning category per service"
    );
}

#[test]
fn compose_builds_every_service_from_the_repository_root() {
    let compose = yaml(&generation(&monorepo()), COMPOSE);
    let services = compose["services"].as_object().unwrap();
    assert_eq!(services.len(), 3);
    let web = &services["web-app"];
    assert_eq!(
        web["build"],
        json!({"context": ".", "dockerfile": "apps/Web-App/Dockerfile"})
    );
    assert_eq!(web["ports"], json!(["3000:3000"]));
    assert_eq!(web["environment"]["PORT"], "3000");
    assert_eq!(web["restart"], "unless-stopped");
    assert_eq!(web["security_opt"], json!(["no-new-privileges:true"]));
    // The log shipper (deploy/monitoring/logging) tells services apart by this label.
    for (name, service) in services {
        assert_eq!(
            service["logging"],
            json!({"driver": "json-file", "options": {"labels": "com.docker.compose.service"}}),
            "{name}"
        );
    }
    let api = &services["api"];
    assert_eq!(
        api["build"],
        json!({"context": "./services/api", "dockerfile": "Dockerfile"})
    );
    assert_eq!(api["ports"], json!(["8000:8000"]));
    // Two services on 8000: the second is published on the next free host port.
    let worker = &services["worker"];
    assert_eq!(worker["ports"], json!(["8001:8000"]));
    // Distroless: no shell, no probe, so no healthcheck; a Go binary can run read-only.
    assert!(worker.get("healthcheck").is_none());
    assert_eq!(worker["read_only"], true);
    assert_eq!(worker["tmpfs"], json!(["/tmp"]));
}

#[test]
fn go_commands_run_in_the_module_folder() {
    let generation = generation(&go_layouts());
    let ci = yaml(&generation, CI);
    let api = &ci["jobs"]["api"];
    assert_eq!(api["defaults"]["run"]["working-directory"], "cmd/api");
    for name in ["Install dependencies", "Lint", "Test", "Build"] {
        assert_eq!(
            step_named(api, name).unwrap()["working-directory"],
            ".",
            "{name}"
        );
    }
    let setup = &steps(api)[position(api, "actions/setup-go@")];
    assert_eq!(setup["with"]["go-version-file"], "go.mod");
    assert_eq!(setup["with"]["cache-dependency-path"], "go.sum");
    // A workspace module: its own folder, not the workspace root; no go.sum, no cache.
    let billing = &ci["jobs"]["billing"];
    assert!(
        step_named(billing, "Install dependencies")
            .unwrap()
            .get("working-directory")
            .is_none()
    );
    let setup = &steps(billing)[position(billing, "actions/setup-go@")];
    assert_eq!(setup["with"]["go-version-file"], "billing/go.mod");
    assert_eq!(setup["with"]["cache"], false);
    assert_valid(&generation);
}

/// On a real fixture, through the whole generator: each compose healthcheck is the HEALTHCHECK of the
/// service's generated Dockerfile.
#[test]
fn compose_healthchecks_mirror_the_generated_dockerfiles() {
    let generation = generation_of("monorepo-three", opsmith::profile::Cloud::Aws);
    let compose = yaml(&generation, COMPOSE);
    let mut mirrored = 0;
    for (name, service) in compose["services"].as_object().unwrap() {
        let context = service["build"]["context"].as_str().unwrap();
        let dockerfile = format!(
            "{}/{}",
            context.trim_start_matches("./"),
            service["build"]["dockerfile"].as_str().unwrap()
        );
        let dockerfile = dockerfile.trim_start_matches("./");
        let text = &artifact(&generation, dockerfile).contents;
        let joined = text.replace("\\\n", " ");
        let probe = joined
            .lines()
            .find(|l| l.starts_with("HEALTHCHECK"))
            .map(|l| l.split_once(" CMD ").expect("exec form").1.trim());
        match (probe, service.get("healthcheck")) {
            (Some(cmd), Some(check)) => {
                let argv: Vec<String> = serde_json::from_str(cmd).unwrap();
                let test: Vec<String> = check["test"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().replace("$$", "$"))
                    .collect();
                assert_eq!(test[0], "CMD", "{name}");
                assert_eq!(test[1..], argv[..], "{name}");
                mirrored += 1;
            }
            (None, None) => {}
            (probe, check) => panic!("{name}: Dockerfile {probe:?}, compose {check:?}"),
        }
    }
    assert!(mirrored > 0, "the fixture has services with a health probe");
}

#[test]
fn compose_at_the_root_and_names_in_lower_case() {
    let generation = generation(&root_service());
    let compose = yaml(&generation, COMPOSE);
    assert_eq!(
        compose["services"]["mytool"]["build"],
        json!({"context": ".", "dockerfile": "Dockerfile"})
    );
    let ci = yaml(&generation, CI);
    assert_eq!(
        ci["jobs"]["mytool"]["defaults"]["run"]["working-directory"],
        "."
    );
    let rust = &ci["jobs"]["mytool"];
    let toolchain = &steps(rust)[position(rust, "dtolnay/rust-toolchain@")];
    assert_eq!(toolchain["with"]["toolchain"], "stable");
}

#[test]
fn a_repository_compose_file_is_kept() {
    for name in [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
    ] {
        let mut profile = monorepo();
        profile.existing_files = vec![name.to_string()];
        let generation = generation(&profile);
        assert!(
            !generation.artifacts.iter().any(|a| a.path == COMPOSE),
            "{name} exists: no compose.yaml"
        );
        artifact(&generation, CI);
    }
}

#[test]
fn a_repository_workflow_with_the_other_extension_is_kept() {
    let mut profile = root_service();
    profile.existing_files = vec![".github/workflows/ci.yaml".into()];
    let generation = generation(&profile);
    assert!(!generation.artifacts.iter().any(|a| a.path == CI));
    artifact(&generation, CONTAINER);
}

#[test]
fn no_service_no_workflows() {
    let generation = generation(&profile(Vec::new()));
    for path in [CI, CONTAINER, COMPOSE] {
        assert!(
            !generation.artifacts.iter().any(|a| a.path == path),
            "{path}"
        );
    }
}

#[test]
fn a_kept_dockerfile_still_gets_ci_and_an_image() {
    let mut profile = root_service();
    profile.existing_files = vec!["Dockerfile".into()];
    let generation = generation(&profile);
    assert!(yaml(&generation, CI)["jobs"].get("mytool").is_some());
    let container = yaml(&generation, CONTAINER);
    let job = &container["jobs"]["mytool"];
    let build = &steps(job)[position(job, "docker/build-push-action@")];
    assert_eq!(build["with"]["file"], "Dockerfile");
}

/// Templates must not depend on optional facts: a service with only its required fields renders.
#[test]
fn services_without_facts_still_get_valid_workflows() {
    use Ecosystem as E;
    use PackageManager as P;
    let pairs = [
        (E::Node, P::Npm),
        (E::Node, P::Yarn),
        (E::Node, P::Pnpm),
        (E::Node, P::Bun),
        (E::Deno, P::Deno),
        (E::Python, P::Pip),
        (E::Python, P::Poetry),
        (E::Python, P::Uv),
        (E::Python, P::Pipenv),
        (E::Python, P::Pdm),
        (E::Go, P::Go),
        (E::Rust, P::Cargo),
        (E::Java, P::Maven),
        (E::Java, P::Gradle),
        (E::Dotnet, P::Dotnet),
        (E::Ruby, P::Bundler),
        (E::Php, P::Composer),
        (E::Elixir, P::Mix),
        (E::Static, P::None),
    ];
    let services = pairs
        .iter()
        .map(|(e, p)| {
            let name = format!("{}-{}", e.as_str(), p.as_str());
            Service::new(&name, &name, *e, *p)
        })
        .collect();
    let generation = generation(&profile(services));
    let ci = yaml(&generation, CI);
    assert_eq!(ci["jobs"].as_object().unwrap().len(), pairs.len());
    assert_valid(&generation);
}

#[test]
fn colliding_names_get_distinct_jobs() {
    let go = |name: &str, path: &str| Service::new(name, path, Ecosystem::Go, PackageManager::Go);
    let profile = profile(vec![
        go("Web", "a"),
        go("web", "b"),
        go("9lives", "c"),
        go("svc-9lives", "d"),
        go("日本", "e"),
    ]);
    let generation = generation(&profile);
    let ci = yaml(&generation, CI);
    let mut ids: Vec<&String> = ci["jobs"].as_object().unwrap().keys().collect();
    ids.sort();
    assert_eq!(
        ids,
        ["go-service", "svc-9lives", "svc-9lives-2", "web", "web-2"]
    );
    let compose = yaml(&generation, COMPOSE);
    assert_eq!(compose["services"].as_object().unwrap().len(), 5);
    assert_valid(&generation);
}

#[test]
fn monorepo_snapshots() {
    let generation = generation(&monorepo());
    for (name, path) in [
        ("monorepo_ci", CI),
        ("monorepo_container", CONTAINER),
        ("monorepo_compose", COMPOSE),
    ] {
        insta::assert_snapshot!(name, artifact(&generation, path).contents);
    }
}
