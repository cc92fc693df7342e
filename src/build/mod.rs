//! Image builds through the Docker Engine API: the context archive, base image redirections, limits, and the outcome.
//!
//! Builds use BuildKit (the generated Dockerfiles need `RUN --mount`), with a session and never a pull:
//! base images come from the engine's store or its registry as the engine decides. BuildKit in the
//! engine ignores the per-build memory and CPU limits (they are still sent, and honoured by engines that
//! apply them); the timeout and the network switch always hold.

mod context;
mod dockerfile;
mod progress;

pub use context::{ContextEntry, IgnoreRules, MAX_CONTEXT_BYTES, context_archive, context_entries};
pub use dockerfile::redirect_images;
pub use progress::{Progress, TAIL_LINES, VertexUpdate};

use bollard::models::BuildInfoAux;
use bollard::query_parameters::{BuildImageOptions, BuilderVersion};
use bollard::{API_DEFAULT_VERSION, Docker};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::time::{Duration, Instant};

/// How long the engine has to answer the connection ping.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Limits and switches for one image build.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSettings {
    /// The build is abandoned after this long and reported failed at step `timeout`.
    pub timeout: Duration,
    /// Sent with the build (at most 2 GiB: the API field is 32-bit); Docker Engine 20.10's BuildKit
    /// ignores it (measured: a RUN step allocating 700 MiB passes a 64 MiB limit), the classic builder
    /// enforces it. To bound BuildKit steps, limit the engine's `docker/buildkit` cgroup.
    pub memory_bytes: Option<i64>,
    /// CPU quota in cores; same caveat as `memory_bytes`.
    pub cpus: Option<f64>,
    /// Whether RUN steps may reach the network (network `none` when false).
    pub network: bool,
}

impl Default for BuildSettings {
    fn default() -> Self {
        BuildSettings {
            timeout: Duration::from_secs(20 * 60),
            memory_bytes: Some(4 << 30),
            cpus: Some(2.0),
            network: true,
        }
    }
}

/// One image to build.
#[derive(Debug, Clone)]
pub struct BuildRequest<'a> {
    /// The build context directory.
    pub context: &'a Path,
    /// The Dockerfile, relative to the context.
    pub dockerfile: &'a str,
    pub tag: String,
    /// Base image redirections, NAME=REF (see [`redirect_images`]).
    pub images: &'a BTreeMap<String, String>,
}

/// What a build came to: an image, a failure naming its step, or no build at all.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildOutcome {
    Built {
        image: String,
        seconds: f64,
    },
    Failed {
        /// The failing step as the builder names it (`[build 4/6] RUN npm ci`), or `timeout`,
        /// `context`, `Dockerfile`, `engine`.
        step: String,
        /// The failing step's last 50 log lines.
        log_tail: Vec<String>,
        seconds: f64,
    },
    Skipped {
        reason: String,
    },
}

impl BuildOutcome {
    /// The outcome when [`Engine::connect`] failed with `error` ("no Docker engine at …").
    pub fn skipped(error: &str) -> BuildOutcome {
        BuildOutcome::Skipped {
            reason: format!("build skipped: {error}"),
        }
    }
}

/// A Docker engine that answered a ping.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    host: String,
}

impl Engine {
    /// Connects to `DOCKER_HOST` (default `unix:///var/run/docker.sock`) and pings it.
    pub async fn connect() -> Result<Engine, String> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        Engine::connect_to(&host).await
    }

    /// Connects to the engine at `host` (`unix://PATH`, `tcp://HOST:PORT` or `http://…`) and pings it.
    pub async fn connect_to(host: &str) -> Result<Engine, String> {
        let unreachable = |why: String| format!("no Docker engine at {host}: {why}");
        // The client timeout bounds waiting for a response's headers, not a build's stream.
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, 120, API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            Docker::connect_with_http(host, 120, API_DEFAULT_VERSION)
        } else {
            return Err(unreachable(
                "unsupported address (use unix://PATH or tcp://HOST:PORT)".into(),
            ));
        }
        .map_err(|e| unreachable(e.to_string()))?;
        match tokio::time::timeout(PING_TIMEOUT, docker.ping()).await {
            Ok(Ok(_)) => Ok(Engine {
                docker,
                host: host.to_string(),
            }),
            Ok(Err(e)) => Err(unreachable(e.to_string())),
            Err(_) => Err(unreachable(format!(
                "no answer within {} s",
                PING_TIMEOUT.as_secs()
            ))),
        }
    }

    /// The engine's address, as connected to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The bollard client, for callers that inspect or run what was built.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Builds one image, streaming its output line by line to `log`. A failed build is an outcome,
    /// never an error or a panic.
    pub async fn build(
        &self,
        request: &BuildRequest<'_>,
        settings: &BuildSettings,
        log: &mut (dyn FnMut(&str) + Send),
    ) -> BuildOutcome {
        let started = Instant::now();
        let failed = |step: &str, log_tail: Vec<String>| BuildOutcome::Failed {
            step: step.to_string(),
            log_tail,
            seconds: started.elapsed().as_secs_f64(),
        };

        let Some(dockerfile) = context_relative(request.dockerfile) else {
            return failed(
                "Dockerfile",
                vec![format!(
                    "the Dockerfile path {:?} is not inside the build context",
                    request.dockerfile
                )],
            );
        };
        let context = request.context.to_path_buf();
        let images = request.images.clone();
        let dockerfile_in_tar = dockerfile.clone();
        let archive = tokio::task::spawn_blocking(move || {
            prepare_context(&context, &dockerfile_in_tar, &images)
        })
        .await;
        let archive = match archive {
            Ok(Ok(archive)) => archive,
            Ok(Err((step, message))) => return failed(step, vec![message]),
            Err(e) => {
                return failed(
                    "context",
                    vec![format!("preparing the context failed: {e}")],
                );
            }
        };

        let mut options = BuildImageOptions {
            dockerfile,
            t: Some(request.tag.clone()),
            rm: true,
            forcerm: true,
            version: BuilderVersion::BuilderBuildKit,
            session: Some(session_id()),
            networkmode: (!settings.network).then(|| "none".to_string()),
            ..Default::default()
        };
        if let Some(bytes) = settings.memory_bytes {
            let bytes = i32::try_from(bytes.max(6 << 20)).unwrap_or(i32::MAX);
            options.memory = Some(bytes);
            options.memswap = Some(bytes);
        }
        if let Some(cpus) = settings.cpus.filter(|c| *c > 0.0) {
            options.cpuperiod = Some(100_000);
            options.cpuquota =
                Some((cpus * 100_000.0).round().clamp(1_000.0, i32::MAX as f64) as i32);
        }

        let mut progress = Progress::default();
        let stream_result = {
            let progress = &mut progress;
            let log = &mut *log;
            let run = async move {
                let mut stream = self.docker.build_image(
                    options,
                    None,
                    Some(bollard::body_full(archive.into())),
                );
                // The build's error message may come before the last status messages: read on to the end.
                let mut build_error = None;
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(info) => {
                            if let Some(text) = &info.stream {
                                progress.text(text, log);
                            }
                            if let Some(BuildInfoAux::BuildKit(status)) = &info.aux {
                                record_status(progress, status, log);
                            }
                        }
                        Err(e @ bollard::errors::Error::DockerStreamError { .. }) => {
                            build_error.get_or_insert(e);
                        }
                        Err(e) => return Err(build_error.unwrap_or(e)),
                    }
                }
                match build_error {
                    Some(e) => Err(e),
                    None => Ok(()),
                }
            };
            // The timeout counts from the start, context archiving included.
            tokio::time::timeout(settings.timeout.saturating_sub(started.elapsed()), run).await
        };
        match stream_result {
            Ok(Ok(())) => BuildOutcome::Built {
                image: request.tag.clone(),
                seconds: started.elapsed().as_secs_f64(),
            },
            Ok(Err(error)) => {
                let message = match error {
                    bollard::errors::Error::DockerStreamError { error } => error,
                    other => other.to_string(),
                };
                log(&format!("ERROR: {message}"));
                match progress.failed_step() {
                    Some((step, tail)) => failed(&step, tail),
                    None => {
                        let mut tail = progress.tail();
                        tail.push(format!("ERROR: {message}"));
                        let keep = tail.len().saturating_sub(TAIL_LINES);
                        let step = if message.contains("dockerfile parse error")
                            || message.contains("failed to create LLB definition")
                        {
                            "Dockerfile"
                        } else {
                            "engine"
                        };
                        failed(step, tail.split_off(keep))
                    }
                }
            }
            Err(_) => {
                let line = format!(
                    "the build did not finish within {} s and was abandoned",
                    settings.timeout.as_secs()
                );
                log(&format!("ERROR: {line}"));
                let mut tail = progress.tail();
                tail.push(line);
                let keep = tail.len().saturating_sub(TAIL_LINES);
                failed("timeout", tail.split_off(keep))
            }
        }
    }
}

/// Feeds one BuildKit status message into the progress.
fn record_status(
    progress: &mut Progress,
    status: &bollard::moby::buildkit::v1::StatusResponse,
    log: &mut dyn FnMut(&str),
) {
    for v in &status.vertexes {
        let completed_after = match (&v.started, &v.completed) {
            (Some(s), Some(c)) => {
                Some(((c.seconds - s.seconds) as f64 + (c.nanos - s.nanos) as f64 / 1e9).max(0.0))
            }
            (None, Some(_)) => Some(0.0),
            _ => None,
        };
        progress.vertex(
            &VertexUpdate {
                digest: &v.digest,
                name: &v.name,
                started: v.started.is_some(),
                cached: v.cached,
                completed_after,
                error: &v.error,
            },
            log,
        );
    }
    for l in &status.logs {
        let time = l.timestamp.as_ref().map(|t| {
            t.seconds
                .saturating_mul(1_000_000_000)
                .saturating_add(i64::from(t.nanos))
        });
        progress.vertex_log(&l.vertex, l.stream, time, &l.msg, log);
    }
}

/// The Dockerfile path as the tar holds it (`a/b/Dockerfile`), or None when it leaves the context.
fn context_relative(dockerfile: &str) -> Option<String> {
    let mut parts = Vec::new();
    for c in Path::new(dockerfile).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?.to_string()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Reads the Dockerfile, redirects its images, and archives the context. The Dockerfile may be a
/// symbolic link to a file inside the context (it is archived as that file); nothing outside the
/// context is read. Errors carry the step to report and a message.
fn prepare_context(
    context: &Path,
    dockerfile: &str,
    images: &BTreeMap<String, String>,
) -> Result<Vec<u8>, (&'static str, String)> {
    let unreadable = |why: String| ("Dockerfile", format!("cannot use {dockerfile}: {why}"));
    let root = context
        .canonicalize()
        .map_err(|e| ("context", format!("cannot read the build context: {e}")))?;
    let path = root.join(dockerfile);
    let folder = path.parent().unwrap_or(&root);
    if folder
        .canonicalize()
        .map_err(|e| unreadable(e.to_string()))?
        != folder
    {
        return Err(unreadable(
            "its folder is a symbolic link; name the Dockerfile by its real path".into(),
        ));
    }
    let real = path.canonicalize().map_err(|e| unreadable(e.to_string()))?;
    if !real.starts_with(&root) {
        return Err(unreadable("it links outside the build context".into()));
    }
    if !real.is_file() {
        return Err(unreadable("it is not a file".into()));
    }
    let text = std::fs::read_to_string(&real).map_err(|e| unreadable(e.to_string()))?;
    let redirected = redirect_images(&text, images);
    let is_link = real != path;
    let replacements = if redirected == text && !is_link {
        Vec::new()
    } else {
        vec![(dockerfile.to_string(), redirected.into_bytes())]
    };
    context_archive(&root, dockerfile, &replacements)
        .map_err(|e| ("context", format!("cannot archive the build context: {e}")))
}

/// A BuildKit session id, unique enough for one engine: the process and the moment.
fn session_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("opsmith-{}-{nanos:x}", std::process::id())
}

/// `opsmith/<repo>-<service>:<commit>`, lowercased and made a valid image reference: characters a
/// repository name cannot hold become `-`, separators do not repeat or end a component, and the tag is
/// at most 128 characters (`latest` when the commit gives none).
pub fn image_tag(repository: &str, service: &str, commit: &str) -> String {
    let name = reference_component(&format!("{repository}-{service}"));
    let name = if name.is_empty() {
        "app".to_string()
    } else {
        name
    };
    // opsmith/ + name stays under the 255 characters a repository name may have.
    let name: String = name.chars().take(240).collect();
    let name = name.trim_end_matches(['-', '.', '_']).to_string();
    let tag: String = commit
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .collect::<String>()
        .to_lowercase()
        .trim_start_matches(['.', '-'])
        .chars()
        .take(128)
        .collect();
    let tag = if tag.is_empty() {
        "latest".to_string()
    } else {
        tag
    };
    format!("opsmith/{name}:{tag}")
}

/// One path component of a repository name: `[a-z0-9]+` joined by single `.`, `_` or `-`.
fn reference_component(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        let separator = matches!(c, '.' | '_' | '-');
        if separator && (out.is_empty() || out.ends_with(['.', '_', '-'])) {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches(['.', '_', '-']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags_are_valid_references() {
        assert_eq!(
            image_tag("acme/Shop", "web", "0123ABCdef"),
            "opsmith/acme-shop-web:0123abcdef"
        );
        assert_eq!(
            image_tag("My Repo!!", "api__v2", "feature/x"),
            "opsmith/my-repo-api_v2:featurex"
        );
        assert_eq!(image_tag("..", "--", ""), "opsmith/app:latest");
        assert_eq!(image_tag("r", "s", "-.abc"), "opsmith/r-s:abc");
        let long = image_tag(&"x".repeat(400), "svc", &"f".repeat(300));
        let (name, tag) = long.rsplit_once(':').unwrap();
        assert!(name.len() <= 255 && tag.len() == 128, "{long}");
        let reference = regex::Regex::new(
            r"^opsmith/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
        )
        .unwrap();
        for tag in [
            image_tag("acme/Shop", "web", "0123ABCdef"),
            image_tag("My Repo!!", "api__v2", "feature/x"),
            image_tag("..", "--", ""),
            image_tag("a_-b", "Ünïcode", "v1.0"),
            long,
        ] {
            assert!(reference.is_match(&tag), "{tag}");
        }
    }

    fn archived_dockerfile(archive: &[u8], name: &str) -> Option<(bool, String)> {
        let mut tar = tar::Archive::new(archive);
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().to_str() == Some(name) {
                let is_file = entry.header().entry_type().is_file();
                let mut body = String::new();
                std::io::Read::read_to_string(&mut entry, &mut body).unwrap();
                return Some((is_file, body));
            }
        }
        None
    }

    #[test]
    fn the_dockerfile_may_link_inside_the_context_but_never_outside() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("Dockerfile"), "FROM outside\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("docker")).unwrap();
        std::fs::write(root.join("docker/prod.Dockerfile"), "FROM node:22\n").unwrap();
        symlink("docker/prod.Dockerfile", root.join("Dockerfile")).unwrap();
        symlink(
            outside.path().join("Dockerfile"),
            root.join("Escape.Dockerfile"),
        )
        .unwrap();
        symlink(outside.path(), root.join("elsewhere")).unwrap();
        symlink("docker", root.join("linked")).unwrap();
        let images = BTreeMap::from([("node".to_string(), "mirror/node".to_string())]);

        let archive = prepare_context(root, "Dockerfile", &images).unwrap();
        assert_eq!(
            archived_dockerfile(&archive, "Dockerfile"),
            Some((true, "FROM mirror/node:22\n".to_string()))
        );
        let archive = prepare_context(root, "docker/prod.Dockerfile", &BTreeMap::new()).unwrap();
        assert_eq!(
            archived_dockerfile(&archive, "docker/prod.Dockerfile"),
            Some((true, "FROM node:22\n".to_string()))
        );
        for (dockerfile, why) in [
            ("Escape.Dockerfile", "links outside the build context"),
            ("elsewhere/Dockerfile", "folder is a symbolic link"),
            ("linked/prod.Dockerfile", "folder is a symbolic link"),
            ("docker", "not a file"),
            ("missing/Dockerfile", "No such file"),
        ] {
            let (step, message) = prepare_context(root, dockerfile, &images).unwrap_err();
            assert_eq!(step, "Dockerfile");
            assert!(message.contains(why), "{dockerfile}: {message}");
            assert!(!message.contains("FROM outside"));
        }
    }

    #[test]
    fn dockerfile_paths_must_stay_in_the_context() {
        assert_eq!(
            context_relative("Dockerfile").as_deref(),
            Some("Dockerfile")
        );
        assert_eq!(
            context_relative("./svc/api/Dockerfile").as_deref(),
            Some("svc/api/Dockerfile")
        );
        assert_eq!(context_relative("../Dockerfile"), None);
        assert_eq!(context_relative("/etc/passwd"), None);
        assert_eq!(context_relative(""), None);
    }

    /// Callers spawn builds on tokio tasks.
    #[allow(dead_code)]
    fn the_build_future_is_send(
        engine: &Engine,
        request: &BuildRequest<'_>,
        settings: &BuildSettings,
        log: &mut (dyn FnMut(&str) + Send),
    ) {
        fn is_send<T: Send>(_: T) {}
        is_send(engine.build(request, settings, log));
    }

    #[tokio::test]
    async fn an_unreachable_engine_is_reported_with_its_address() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let host = format!("unix://{}", socket.display());
        let error = Engine::connect_to(&host).await.err().unwrap();
        assert!(
            error.starts_with(&format!("no Docker engine at {host}: ")),
            "{error}"
        );
        let BuildOutcome::Skipped { reason } = BuildOutcome::skipped(&error) else {
            unreachable!()
        };
        assert!(reason.starts_with("build skipped: no Docker engine at unix://"));
        // A socket nobody listens on.
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        drop(_listener);
        let error = Engine::connect_to(&host).await.err().unwrap();
        assert!(error.starts_with("no Docker engine at unix://"), "{error}");
        let error = Engine::connect_to("ssh://somewhere").await.err().unwrap();
        assert!(error.contains("unsupported address"), "{error}");
    }
}
