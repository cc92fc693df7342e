//! `compose.yaml` at the repository root: every service built from its Dockerfile and run locally.

use super::ci;
use super::{Artifact, Context, GenerateError, ServiceView, templates, with_header};
use serde::Serialize;

/// Compose files the repository may already have: any of them means opsmith writes none.
const COMPOSE_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// One compose service, values ready for the template.
#[derive(Debug, Serialize)]
struct ComposeService {
    name: String,
    /// Relative to the compose file (the repository root).
    context: String,
    /// Relative to `context`, as the compose specification resolves it.
    dockerfile: String,
    port: Option<u16>,
    /// The published port on the host: the container port, moved up when another service took it.
    host_port: Option<u16>,
    healthcheck: Option<Healthcheck>,
    /// A read-only root filesystem (with a tmpfs `/tmp`), for runtimes known not to write elsewhere.
    read_only: bool,
}

/// A Dockerfile `HEALTHCHECK`, in compose terms.
#[derive(Debug, Serialize, PartialEq)]
struct Healthcheck {
    /// `["CMD", …]` or `["CMD-SHELL", "…"]`, with `$` escaped as `$$` for compose interpolation.
    test: Vec<String>,
    interval: Option<String>,
    timeout: Option<String>,
    start_period: Option<String>,
    retries: Option<String>,
}

/// `compose.yaml`, unless the repository has no service or a compose file of its own.
pub fn artifacts(context: &Context) -> Result<Vec<Artifact>, GenerateError> {
    if context.services.is_empty()
        || COMPOSE_FILES
            .iter()
            .any(|f| context.existing_files.iter().any(|e| e == f))
    {
        return Ok(Vec::new());
    }
    let jobs = ci::jobs(context);
    let mut taken_ports: Vec<u16> = Vec::new();
    let mut services = Vec::new();
    for (view, job) in context.services.iter().zip(&jobs) {
        let host_port = view.service.port.map(|p| {
            let mut host = p;
            while taken_ports.contains(&host) && host < u16::MAX {
                host += 1;
            }
            taken_ports.push(host);
            host
        });
        services.push(ComposeService {
            name: job.slug.clone(),
            context: if job.context == "." {
                ".".to_string()
            } else {
                format!("./{}", job.context)
            },
            dockerfile: relative_to(&job.dockerfile, &job.context),
            port: view.service.port,
            host_port,
            healthcheck: healthcheck(context, view),
            read_only: matches!(
                view.service.ecosystem.as_str(),
                "go" | "rust" | "java" | "dotnet"
            ),
        });
    }
    let body = templates::render(
        "compose/compose.yaml",
        context,
        &[(
            "compose_services",
            serde_json::to_value(&services).expect("compose services serialize"),
        )],
    )?;
    let summary = context.summary();
    Ok(vec![Artifact {
        path: "compose.yaml".to_string(),
        contents: with_header("#", &summary, ci::tidy(&body)),
        reason: format!("runs every service locally with `docker compose up --build` ({summary})"),
    }])
}

/// The healthcheck of the service's generated Dockerfile, when it has one and the runtime image can
/// run it (distroless images have no shell and usually no probe).
fn healthcheck(context: &Context, view: &ServiceView) -> Option<Healthcheck> {
    let runtime_image = view
        .facts
        .get("runtime_image")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if view.dockerfile_kept || view.service.port.is_none() || runtime_image.contains("distroless") {
        return None;
    }
    let name = format!("ecosystems/{}/Dockerfile", view.service.ecosystem.as_str());
    if !templates::exists(&name) {
        return None;
    }
    let extra = [(
        "service",
        serde_json::to_value(view).expect("service serializes"),
    )];
    // A template error is reported by the Dockerfile generator; here it only means "no healthcheck".
    templates::render(&name, context, &extra)
        .ok()
        .and_then(|dockerfile| parse_healthcheck(&dockerfile))
}

/// Reads the `HEALTHCHECK` of a Dockerfile's final stage (the last one wins, as in Docker).
fn parse_healthcheck(dockerfile: &str) -> Option<Healthcheck> {
    let mut instructions: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            instructions.push(std::mem::take(&mut current));
        }
    }
    let keyword = |i: &String, k: &str| {
        i.split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(k))
    };
    // Only the final stage makes the image.
    let last = instructions
        .iter()
        .rev()
        .take_while(|i| !keyword(i, "FROM"))
        .find(|i| keyword(i, "HEALTHCHECK"))?;
    let mut rest = last.trim_start()["HEALTHCHECK".len()..].trim_start();
    let mut check = Healthcheck {
        test: Vec::new(),
        interval: None,
        timeout: None,
        start_period: None,
        retries: None,
    };
    while let Some(option) = rest.strip_prefix("--") {
        let end = option.find(char::is_whitespace).unwrap_or(option.len());
        let (key, value) = option[..end]
            .split_once('=')
            .unwrap_or((&option[..end], ""));
        let value = Some(value.to_string()).filter(|v| !v.is_empty());
        match key {
            "interval" => check.interval = value,
            "timeout" => check.timeout = value,
            "start-period" => check.start_period = value,
            "retries" => check.retries = value,
            _ => {}
        }
        rest = option[end..].trim_start();
    }
    let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if !rest[..word_end].eq_ignore_ascii_case("CMD") {
        return None; // `HEALTHCHECK NONE` or something unreadable.
    }
    let command = rest[word_end..].trim();
    let escape = |s: &str| s.replace('$', "$$");
    check.test = match serde_json::from_str::<Vec<String>>(command) {
        Ok(argv) if !argv.is_empty() => std::iter::once("CMD".to_string())
            .chain(argv.iter().map(|a| escape(a)))
            .collect(),
        _ if command.starts_with('[') || command.is_empty() => return None,
        _ => vec!["CMD-SHELL".to_string(), escape(command)],
    };
    Some(check)
}

/// `path` relative to `dir` (both relative to the repository root, normalized; `.` for the root).
fn relative_to(path: &str, dir: &str) -> String {
    let path: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let dir: Vec<&str> = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let common = path.iter().zip(&dir).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; dir.len() - common];
    parts.extend(&path[common..]);
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_paths_are_relative_to_the_context() {
        assert_eq!(
            relative_to("apps/web/Dockerfile", "."),
            "apps/web/Dockerfile"
        );
        assert_eq!(relative_to("apps/web/Dockerfile", "apps/web"), "Dockerfile");
        assert_eq!(
            relative_to("apps/web/Dockerfile", "apps/api"),
            "../web/Dockerfile"
        );
    }

    #[test]
    fn healthcheck_exec_form_with_options() {
        let df = "FROM x\nHEALTHCHECK --interval=30s --timeout=3s \\\n  CMD [\"node\", \"-e\", \"process.exit($X)\"]\nCMD [\"node\"]\n";
        let check = parse_healthcheck(df).unwrap();
        assert_eq!(check.test, ["CMD", "node", "-e", "process.exit($$X)"]);
        assert_eq!(check.interval.as_deref(), Some("30s"));
        assert_eq!(check.timeout.as_deref(), Some("3s"));
        assert_eq!(check.retries, None);
    }

    #[test]
    fn healthcheck_shell_form_and_none() {
        let check = parse_healthcheck("HEALTHCHECK CMD wget -qO- http://127.0.0.1:8080/ || exit 1")
            .unwrap();
        assert_eq!(
            check.test,
            ["CMD-SHELL", "wget -qO- http://127.0.0.1:8080/ || exit 1"]
        );
        assert_eq!(parse_healthcheck("HEALTHCHECK NONE"), None);
        assert_eq!(parse_healthcheck("FROM x\n# HEALTHCHECK CMD true\n"), None);
        let build_stage_only = "FROM a AS build\nHEALTHCHECK CMD true\nFROM b\nCMD [\"x\"]\n";
        assert_eq!(parse_healthcheck(build_stage_only), None);
    }
}
