//! The deploy artifacts for every cloud, from profiles built in code: the Terraform and the deploy
//! workflow pass the real validators, carry the properties a reviewer looks for, and are snapshots.

mod support;

use opsmith::generate::{Artifact, Context, GenerateSettings, deploy};
use opsmith::profile::{Cloud, Ecosystem, PackageManager, RepoProfile, Service};
use support::{validate_tree, write_tree};

const CLOUDS: [Cloud; 3] = [Cloud::Aws, Cloud::Gcp, Cloud::Azure];

fn service(name: &str, path: &str, eco: Ecosystem, pm: PackageManager) -> Service {
    Service::new(name, path, eco, pm)
}

/// One web service at the repository root.
fn single_service() -> RepoProfile {
    let mut web = service("shop", ".", Ecosystem::Node, PackageManager::Npm);
    web.framework = Some("express".into());
    web.port = Some(3000);
    web.health_path = Some("/healthz".into());
    RepoProfile {
        root: "shop".into(),
        services: vec![web],
        ..Default::default()
    }
}

/// Two web services with different ports and health paths (one without a health path), and a worker
/// with no port.
fn three_services() -> RepoProfile {
    let mut api = service("api", "services/api", Ecosystem::Python, PackageManager::Uv);
    api.framework = Some("fastapi".into());
    api.port = Some(8000);
    api.health_path = Some("/health".into());
    let mut web = service(
        "@acme/web",
        "apps/web",
        Ecosystem::Node,
        PackageManager::Pnpm,
    );
    web.framework = Some("next".into());
    web.port = Some(3000);
    let mut worker = service(
        "worker",
        "services/worker",
        Ecosystem::Go,
        PackageManager::Go,
    );
    worker.start_command = Some("/app/worker".into());
    RepoProfile {
        root: "monorepo".into(),
        services: vec![api, web, worker],
        ..Default::default()
    }
}

/// Only a worker: nothing listens, so nothing is exposed.
fn worker_only() -> RepoProfile {
    let worker = service("jobs", ".", Ecosystem::Ruby, PackageManager::Bundler);
    RepoProfile {
        root: "jobs".into(),
        services: vec![worker],
        ..Default::default()
    }
}

/// The deploy artifacts only (the Terraform folder and the deploy workflow), from the deploy generator
/// itself so that the other generators' templates, which want facts these profiles leave out, stay out.
fn deploy_artifacts(profile: &RepoProfile, cloud: Cloud) -> Vec<Artifact> {
    let context = Context::new(profile, &GenerateSettings { cloud });
    deploy::artifacts(&context).expect("profile generates")
}

fn file<'a>(artifacts: &'a [Artifact], path: &str) -> &'a str {
    artifacts
        .iter()
        .find(|a| a.path == path)
        .map(|a| a.contents.as_str())
        .unwrap_or_else(|| panic!("{path} is not generated"))
}

fn terraform(artifacts: &[Artifact]) -> String {
    artifacts
        .iter()
        .filter(|a| a.path.ends_with(".tf"))
        .map(|a| a.contents.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes the artifacts and runs every validator over them.
fn assert_valid(artifacts: &[Artifact], what: &str) {
    let out = tempfile::tempdir().unwrap();
    let generation = opsmith::generate::Generation {
        artifacts: artifacts.to_vec(),
        kept: Vec::new(),
    };
    write_tree(&generation, out.path());
    let problems = validate_tree(out.path());
    assert!(
        problems.is_empty(),
        "{what}: the generated files do not pass:\n{}",
        problems.join("\n")
    );
}

/// OIDC only: the workflow may mint an ID token and never reads a stored cloud key.
fn assert_oidc_only(workflow: &str, cloud: Cloud) {
    assert!(
        workflow.contains("id-token: write"),
        "{cloud:?}: no id-token permission"
    );
    assert!(
        workflow.contains("permissions: {}"),
        "{cloud:?}: workflow-wide permissions not empty"
    );
    assert!(
        workflow.contains("environment: production"),
        "{cloud:?}: apply not gated"
    );
    assert!(
        workflow.contains("cancel-in-progress: false"),
        "{cloud:?}: applies may overlap"
    );
    for forbidden in [
        "aws-access-key-id",
        "aws-secret-access-key",
        "AWS_SECRET_ACCESS_KEY",
        "credentials_json",
        "client-secret",
        "creds:",
        "secrets.",
    ] {
        assert!(
            !workflow.contains(forbidden),
            "{cloud:?}: workflow uses {forbidden}"
        );
    }
    let login = match cloud {
        Cloud::Aws => "role-to-assume:",
        Cloud::Gcp => "workload_identity_provider:",
        Cloud::Azure => "client-id:",
    };
    assert!(
        workflow.contains(login),
        "{cloud:?}: no OIDC login ({login})"
    );
    for step in [
        "terraform fmt -check",
        "terraform init",
        "terraform validate",
        "terraform plan",
        "terraform apply",
        "working-directory: deploy/terraform",
        "GITHUB_STEP_SUMMARY",
    ] {
        assert!(workflow.contains(step), "{cloud:?}: workflow lacks {step}");
    }
}

#[test]
fn every_cloud_single_service_passes_the_validators() {
    for cloud in CLOUDS {
        let artifacts = deploy_artifacts(&single_service(), cloud);
        assert_valid(&artifacts, &format!("{cloud:?} single service"));
        let tf = terraform(&artifacts);
        assert!(tf.contains("\"shop\" = {"), "{cloud:?}: service missing");
        assert!(
            tf.contains("\"/healthz\""),
            "{cloud:?}: health path missing"
        );
        assert_oidc_only(file(&artifacts, ".github/workflows/deploy.yml"), cloud);
    }
}

#[test]
fn every_cloud_three_services_pass_the_validators() {
    for cloud in CLOUDS {
        let artifacts = deploy_artifacts(&three_services(), cloud);
        assert_valid(&artifacts, &format!("{cloud:?} three services"));
        let services = file(&artifacts, "deploy/terraform/services.tf");
        for key in ["\"api\" = {", "\"acme-web\" = {", "\"worker\" = {"] {
            assert!(services.contains(key), "{cloud:?}: {key} missing");
        }
        let workflow = file(&artifacts, ".github/workflows/deploy.yml");
        assert_oidc_only(workflow, cloud);
        for dockerfile in [
            "services/api/Dockerfile",
            "apps/web/Dockerfile",
            "services/worker/Dockerfile",
        ] {
            assert!(
                workflow.contains(dockerfile),
                "{cloud:?}: {dockerfile} not built"
            );
        }
    }
}

#[test]
fn every_cloud_keeps_a_worker_without_ingress() {
    for cloud in CLOUDS {
        let artifacts = deploy_artifacts(&worker_only(), cloud);
        assert_valid(&artifacts, &format!("{cloud:?} worker only"));
        let tf = terraform(&artifacts);
        assert!(tf.contains("\"jobs\" = {"), "{cloud:?}: worker missing");
        let exposed = match cloud {
            Cloud::Aws => "aws_lb",
            Cloud::Gcp => "allUsers",
            Cloud::Azure => "external_enabled",
        };
        assert!(!tf.contains(exposed), "{cloud:?}: a worker got {exposed}");
    }
}

/// `text` with every run of spaces squashed to one, so assertions do not depend on `terraform fmt`
/// alignment.
fn squashed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out
}

fn assert_has(text: &str, needle: &str, what: &str) {
    assert!(squashed(text).contains(needle), "{what} lacks `{needle}`");
}

#[test]
fn aws_routes_each_web_service_and_checks_its_health_path() {
    let artifacts = deploy_artifacts(&three_services(), Cloud::Aws);
    let services = file(&artifacts, "deploy/terraform/services.tf");
    for line in [
        "health_path = \"/health\"",
        "port = 8000",
        "port = 3000",
        "port = null",
        "default_service = \"api\"",
        "web_services = { for name, service in local.services : name => service if service.port != null }",
    ] {
        assert_has(services, line, "services.tf");
    }
    let alb = file(&artifacts, "deploy/terraform/alb.tf");
    for line in [
        "resource \"aws_lb_target_group\" \"service\" {\n for_each = local.web_services",
        "path = each.value.health_path",
        "drop_invalid_header_fields = true",
        "ssl_policy = \"ELBSecurityPolicy-TLS13-1-2-2021-06\"",
        "certificate_arn = var.certificate_arn",
        "type = \"redirect\"",
        "protocol = \"HTTPS\"",
        "internal = !var.load_balancer_internet_facing",
    ] {
        assert_has(alb, line, "alb.tf");
    }
    let variables = file(&artifacts, "deploy/terraform/variables.tf");
    assert_has(
        variables,
        "variable \"load_balancer_internet_facing\" {",
        "variables.tf",
    );
    assert!(
        !squashed(variables).contains("0.0.0.0/0\"]\n}"),
        "an open CIDR is a default"
    );
    let ecs = file(&artifacts, "deploy/terraform/ecs.tf");
    for line in [
        "resource \"aws_ecs_service\" \"service\" {\n for_each = local.services",
        "rollback = true",
        "containerInsights",
        "assign_public_ip = false",
        "readonlyRootFilesystem = each.value.read_only_root_filesystem",
    ] {
        assert_has(ecs, line, "ecs.tf");
    }
    let backend = file(&artifacts, "deploy/terraform/backend.tf");
    assert_has(backend, "backend \"s3\"", "backend.tf");
    assert_has(backend, "use_lockfile = true", "backend.tf");
    assert_has(
        file(&artifacts, "deploy/terraform/github_oidc.tf"),
        "\"repo:${var.github_repository}:environment:production\"",
        "github_oidc.tf",
    );
}

#[test]
fn gcp_keeps_services_private_unless_asked() {
    let artifacts = deploy_artifacts(&three_services(), Cloud::Gcp);
    let tf = terraform(&artifacts);
    for line in [
        "backend \"gcs\"",
        "resource \"google_artifact_registry_repository\" \"images\"",
        "resource \"google_cloud_run_v2_service\" \"service\" {\n for_each = local.web_services",
        "resource \"google_cloud_run_v2_worker_pool\" \"worker\" {\n for_each = local.workers",
        "path = each.value.health_path",
        "startup_probe {",
        "liveness_probe {",
        "service_account = google_service_account.service[each.key].email",
        "attribute_condition = \"assertion.repository == \\\"${var.github_repository}\\\"\"",
    ] {
        assert_has(&tf, line, "gcp terraform");
    }
    let variables = file(&artifacts, "deploy/terraform/variables.tf");
    assert_has(variables, "variable \"public_services\" {", "variables.tf");
    let main = squashed(file(&artifacts, "deploy/terraform/main.tf"));
    let public = &main[main.find("\"public\"").expect("public invoke binding")..];
    assert!(public.contains("for_each = toset([for name in var.public_services"));
}

#[test]
fn azure_pulls_with_a_managed_identity() {
    let artifacts = deploy_artifacts(&three_services(), Cloud::Azure);
    let tf = terraform(&artifacts);
    for line in [
        "backend \"azurerm\"",
        "admin_enabled = false",
        "role_definition_name = \"AcrPull\"",
        "identity = azurerm_user_assigned_identity.service[each.key].id",
        "resource \"azurerm_container_app\" \"service\" {\n for_each = local.services",
        "external_enabled = contains(var.external_services, each.key)",
        "path = each.value.health_path",
        "resource \"azurerm_federated_identity_credential\" \"github\"",
        "retention_in_days = var.log_retention_days",
    ] {
        assert_has(&tf, line, "azure terraform");
    }
}

/// Every fixture's real profile on GCP and Azure (AWS, the default, is validated by `tests/fixtures.rs`):
/// one tree per cloud with a folder per fixture, validated in one run of the tools.
#[test]
fn every_fixture_passes_the_validators_on_gcp_and_azure() {
    let mut fixtures: Vec<String> =
        std::fs::read_dir(support::project_dir().join("tests/fixtures"))
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty());
    for cloud in [Cloud::Gcp, Cloud::Azure] {
        let out = tempfile::tempdir().unwrap();
        let mut written = 0;
        for name in &fixtures {
            let artifacts = deploy_artifacts(&support::profile_of(name), cloud);
            written += artifacts.len();
            let generation = opsmith::generate::Generation {
                artifacts,
                kept: Vec::new(),
            };
            write_tree(&generation, &out.path().join(name));
        }
        assert!(written > 0, "{cloud:?}: no fixture has a service");
        let problems = validate_tree(out.path());
        assert!(
            problems.is_empty(),
            "{cloud:?}: the fixtures' deploy files do not pass:\n{}",
            problems.join("\n")
        );
    }
}

#[test]
fn terraform_snapshots() {
    for cloud in CLOUDS {
        for a in deploy_artifacts(&three_services(), cloud) {
            let snap = format!("{}@{}", cloud.as_str(), a.path.replace('/', "__"));
            insta::with_settings!({snapshot_path => "snapshots/clouds", prepend_module_to_snapshot => false, description => a.reason.clone()}, {
                insta::assert_snapshot!(snap, a.contents);
            });
        }
    }
}
