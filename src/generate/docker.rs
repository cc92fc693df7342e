//! Per-service container files: `Dockerfile` and `.dockerignore`, from `templates/ecosystems/<ecosystem>/`.

use super::{Artifact, Context, GenerateError, templates, with_header};

pub fn artifacts(context: &Context) -> Result<Vec<Artifact>, GenerateError> {
    let mut out = Vec::new();
    for service in &context.services {
        let eco = service.service.ecosystem.as_str();
        let extra = [(
            "service",
            serde_json::to_value(service).expect("service serializes"),
        )];
        for (template, target, reason) in [
            ("Dockerfile", &service.dockerfile, "multi-stage image build"),
            (
                "dockerignore",
                &service.dockerignore,
                "keeps the build context small and free of secrets",
            ),
        ] {
            // The repository's own Dockerfile is used as is (`generate` lists it as kept), with the
            // build context it was written for: a generated .dockerignore could drop files it copies.
            if service.dockerfile_kept && template == "dockerignore" {
                continue;
            }
            let name = format!("ecosystems/{eco}/{template}");
            if !templates::exists(&name) {
                continue;
            }
            let body = templates::render(&name, context, &extra)?;
            out.push(Artifact {
                path: target.clone(),
                contents: with_header("#", &service.summary, body),
                reason: format!("{}: {reason} ({})", service.service.name, service.summary),
            });
        }
    }
    Ok(out)
}
