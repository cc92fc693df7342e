//! The deploy artifacts: Terraform for the chosen cloud under `deploy/terraform/` and the
//! `.github/workflows/deploy.yml` workflow that plans it on pull requests and applies it from main.

use super::{Artifact, Context, GenerateError, ServiceView, templates, with_header};
use crate::profile::Ecosystem;
use serde::Serialize;

/// Where the Terraform files go, relative to the repository root.
const TERRAFORM_DIR: &str = "deploy/terraform";
/// Longest service key: cloud resource names are `<project>-<key>` and the tightest limit (AWS target
/// groups, Azure container apps) is 32 characters, with at most 16 for the project.
const MAX_KEY_LEN: usize = 15;
const MAX_PROJECT_LEN: usize = 16;
/// Service names that usually take the requests for the site's own host name.
const FRONT_DOOR_NAMES: [&str; 6] = ["web", "frontend", "app", "site", "www", "gateway"];

/// The Terraform files for `context.cloud` and the deploy workflow; nothing when there is no service.
pub fn artifacts(context: &Context) -> Result<Vec<Artifact>, GenerateError> {
    if context.services.is_empty() {
        return Ok(Vec::new());
    }
    let plan = DeployPlan::new(context);
    let extra = [(
        "deploy",
        serde_json::to_value(&plan).expect("deploy plan serializes"),
    )];
    let facts = context.summary();
    let cloud = context.cloud.as_str();
    let prefix = format!("terraform/{cloud}/");
    let mut out = Vec::new();
    for (name, _) in templates::TEMPLATES {
        let Some(file) = name.strip_prefix(&prefix) else {
            continue;
        };
        let body = templates::render(name, context, &extra)?;
        // A template renders to nothing when the services do not need it (no load balancer for workers).
        if body.trim().is_empty() {
            continue;
        }
        let contents = if file.ends_with(".md") {
            // Markdown has no line comment: the same header as an HTML comment.
            let line = with_header("", &facts, String::new());
            format!("<!--{} -->\n{body}", line.trim_end())
        } else {
            with_header("#", &facts, body)
        };
        out.push(Artifact {
            path: format!("{TERRAFORM_DIR}/{file}"),
            contents,
            reason: format!("{cloud} infrastructure: {}", terraform_reason(file)),
        });
    }
    let workflow = templates::render(&format!("deploy/{cloud}.yml"), context, &extra)?;
    out.push(Artifact {
        path: ".github/workflows/deploy.yml".to_string(),
        contents: with_header("#", &facts, workflow),
        reason: format!(
            "plans the {cloud} Terraform on pull requests and applies it from main through OIDC (no stored cloud keys)"
        ),
    });
    Ok(out)
}

fn terraform_reason(file: &str) -> &'static str {
    match file {
        "versions.tf" => "Terraform and provider versions, pinned to a major",
        "backend.tf" | "backend.hcl.example" => {
            "remote state with locking; fill in where the state lives"
        }
        "variables.tf" => "the inputs, with descriptions and validation",
        "services.tf" => "the detected services: ports, health paths, sizes",
        "outputs.tf" => "the values the deploy workflow and you need after an apply",
        "terraform.tfvars.example" => {
            "the inputs to fill in, with the exposure choices spelled out"
        }
        "README.md" => "how to set up the state, the identities and the workflow the first time",
        "github_oidc.tf" => {
            "optional identity for the deploy workflow, trusted only from this repository"
        }
        _ => "resources for the services",
    }
}

/// What the deploy templates see beyond the shared context, as `deploy`.
#[derive(Debug, Clone, Serialize)]
struct DeployPlan {
    /// Default resource-name prefix (the `project` variable).
    project: String,
    services: Vec<DeployService>,
    /// Whether any service listens on a port (and so needs a load balancer or ingress).
    has_web: bool,
    /// Whether any service listens on no port (a worker).
    has_workers: bool,
    /// The key of the service that gets requests for hosts not routed elsewhere.
    default_service: Option<String>,
}

/// One service as the deploy templates see it.
#[derive(Debug, Clone, Serialize)]
struct DeployService {
    /// A cloud-safe name: lower-case letters, digits and dashes, starting with a letter, unique.
    key: String,
    /// The service's name as detected.
    name: String,
    port: Option<u16>,
    /// The detected health path, or `/` for a service with a port but no evident one.
    health_path: Option<String>,
    health_path_detected: bool,
    /// Fargate task size (CPU units, MiB); the other clouds derive theirs from it.
    cpu: u32,
    memory: u32,
    /// `512Mi`, `1Gi`, `2Gi`: the same memory as Cloud Run writes it.
    gcp_memory: String,
    /// `0.25`, `0.5`, `1` vCPU and `0.5Gi`, `1Gi`, `2Gi`: Azure Container Apps sizes of the same ratio.
    azure_cpu: String,
    azure_memory: String,
    desired_count: u32,
    /// Upper bound for auto scaling (and Cloud Run / Container Apps instances).
    max_count: u32,
    /// False for frameworks known to write inside the application folder at run time.
    read_only_root_filesystem: bool,
    dockerfile: String,
    context: String,
}

impl DeployPlan {
    fn new(context: &Context) -> Self {
        let mut services: Vec<DeployService> = Vec::new();
        for s in &context.services {
            let mut key = cloud_name(&s.service.name, MAX_KEY_LEN, "svc");
            let base = key.clone();
            let mut n = 2;
            while services.iter().any(|d| d.key == key) {
                let suffix = format!("-{n}");
                let keep = base.len().min(MAX_KEY_LEN - suffix.len());
                key = format!("{}{suffix}", base[..keep].trim_end_matches('-'));
                n += 1;
            }
            services.push(DeployService::new(key, s));
        }
        // The root service, else one named like a front door, else the first that listens.
        let default_service = services
            .iter()
            .zip(&context.services)
            .filter(|(d, _)| d.port.is_some())
            .min_by_key(|(d, s)| {
                (
                    s.service.path != ".",
                    !FRONT_DOOR_NAMES.contains(&d.key.as_str()),
                )
            })
            .map(|(d, _)| d.key.clone());
        let project = match context.services.as_slice() {
            [only] => cloud_name(&only.service.name, MAX_PROJECT_LEN, "app"),
            _ => "app".to_string(),
        };
        DeployPlan {
            project,
            has_web: default_service.is_some(),
            has_workers: services.iter().any(|s| s.port.is_none()),
            default_service,
            services,
        }
    }
}

impl DeployService {
    fn new(key: String, view: &ServiceView) -> Self {
        let s = &view.service;
        let (cpu, memory) = match s.ecosystem {
            Ecosystem::Java => (1024, 2048),
            Ecosystem::Dotnet | Ecosystem::Ruby | Ecosystem::Elixir | Ecosystem::Python => {
                (512, 1024)
            }
            _ => (256, 512),
        };
        let writes_app_dir = matches!(s.ecosystem, Ecosystem::Ruby | Ecosystem::Php)
            || matches!(s.framework.as_deref(), Some("next" | "nuxt" | "astro"));
        let health_path = match (&s.port, &s.health_path) {
            (Some(_), Some(p)) if is_plain_path(p) => Some(p.clone()),
            (Some(_), _) => Some("/".to_string()),
            (None, _) => None,
        };
        DeployService {
            health_path_detected: s.port.is_some()
                && s.health_path.as_deref().is_some_and(is_plain_path),
            key,
            name: s.name.clone(),
            port: s.port,
            health_path,
            cpu,
            memory,
            azure_cpu: match cpu {
                256 => "0.25",
                512 => "0.5",
                _ => "1",
            }
            .to_string(),
            gcp_memory: match memory {
                512 => "512Mi",
                1024 => "1Gi",
                _ => "2Gi",
            }
            .to_string(),
            azure_memory: match memory {
                512 => "0.5Gi",
                1024 => "1Gi",
                _ => "2Gi",
            }
            .to_string(),
            desired_count: if s.port.is_some() { 2 } else { 1 },
            max_count: if s.port.is_some() { 10 } else { 4 },
            read_only_root_filesystem: !writes_app_dir,
            dockerfile: view.dockerfile.clone(),
            context: view.context.clone(),
        }
    }
}

/// A URL path safe to write into HCL and YAML strings as is (no interpolation or quoting characters).
fn is_plain_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() <= 200
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c))
}

/// Lower-case letters, digits and single dashes, starting with a letter, at most `max` long:
/// `@acme/Web_App` becomes `acme-web-app`.
fn cloud_name(name: &str, max: usize, fallback: &str) -> String {
    let out = crate::profile::slug(name);
    let out = out.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    let mut out: String = out.chars().take(max).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.len() < 2 {
        fallback.to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{DeployPlan, cloud_name};
    use crate::generate::{Context, GenerateSettings};
    use crate::profile::{Ecosystem, PackageManager, RepoProfile, Service};

    fn plan(services: &[(&str, &str, Option<u16>)]) -> DeployPlan {
        let services = services
            .iter()
            .map(|(name, path, port)| {
                let mut s = Service::new(*name, *path, Ecosystem::Node, PackageManager::Npm);
                s.port = *port;
                s
            })
            .collect();
        let profile = RepoProfile {
            services,
            ..Default::default()
        };
        DeployPlan::new(&Context::new(&profile, &GenerateSettings::default()))
    }

    #[test]
    fn service_keys_stay_unique_after_cleaning() {
        let plan = plan(&[
            ("@a/api", "a", Some(1)),
            ("a-api", "b", Some(2)),
            ("A_API", "c", None),
        ]);
        let keys: Vec<&str> = plan.services.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["a-api", "a-api-2", "a-api-3"]);
        assert!(plan.has_web && plan.has_workers);
    }

    #[test]
    fn the_default_route_prefers_the_root_then_a_front_door_name() {
        let root = plan(&[("api", "api", Some(1)), ("shop", ".", Some(2))]);
        assert_eq!(root.default_service.as_deref(), Some("shop"));
        let named = plan(&[("api", "api", Some(1)), ("web", "web", Some(2))]);
        assert_eq!(named.default_service.as_deref(), Some("web"));
        let workers = plan(&[("jobs", "jobs", None)]);
        assert_eq!(workers.default_service, None);
        assert!(!workers.has_web);
        assert_eq!(workers.services[0].health_path, None);
        assert_eq!(workers.project, "jobs");
    }

    #[test]
    fn cloud_names_are_safe_for_every_provider() {
        assert_eq!(cloud_name("@acme/Web_App", 15, "svc"), "acme-web-app");
        assert_eq!(cloud_name("2fa-service", 15, "svc"), "fa-service");
        assert_eq!(
            cloud_name("a-very-long-service-name", 15, "svc"),
            "a-very-long-ser"
        );
        assert_eq!(cloud_name("name-with-dash-", 15, "svc"), "name-with-dash");
        assert_eq!(cloud_name("é", 15, "svc"), "svc");
    }
}
