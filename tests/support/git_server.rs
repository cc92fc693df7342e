//! A real git smart-HTTP server for tests: bare repositories in a temporary directory served by
//! `git http-backend` (the CGI program shipped with git); authentication is the caller's job.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode};
use git2::{Repository, Signature};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

const HTTP_BACKEND: &str = "/usr/lib/git-core/git-http-backend";

/// The bare repositories the server exports, `<root>/<owner>/<name>.git`.
pub struct GitRepos {
    root: tempfile::TempDir,
}

impl Default for GitRepos {
    fn default() -> Self {
        GitRepos {
            root: tempfile::tempdir().expect("temporary directory for bare repositories"),
        }
    }
}

impl GitRepos {
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn git_dir(&self, owner: &str, name: &str) -> PathBuf {
        self.root.path().join(owner).join(format!("{name}.git"))
    }

    /// Creates a bare repository whose `default_branch` holds one commit with `files`, and which
    /// accepts pushes over HTTP.
    pub fn create(&self, owner: &str, name: &str, default_branch: &str, files: &[(&str, &[u8])]) {
        let dir = self.git_dir(owner, name);
        let repo = Repository::init_bare(&dir).expect("bare repository");
        repo.config()
            .and_then(|mut c| c.set_bool("http.receivepack", true))
            .expect("enable receive-pack");
        let mut tree = git2::build::TreeUpdateBuilder::new();
        for (path, contents) in files {
            let blob = repo.blob(contents).expect("blob");
            tree.upsert(*path, blob, git2::FileMode::Blob);
        }
        let empty = repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        let tree_id = tree.create_updated(&repo, &empty).expect("tree");
        let tree = repo.find_tree(tree_id).unwrap();
        let who = Signature::now("Octo Cat", "octocat@example.com").unwrap();
        let reference = format!("refs/heads/{default_branch}");
        repo.commit(Some(&reference), &who, &who, "Initial commit", &tree, &[])
            .expect("initial commit");
        repo.set_head(&reference).expect("HEAD");
    }

    /// Adds a commit on top of `branch` (as someone else pushing), returning its id.
    pub fn commit_on(
        &self,
        owner: &str,
        name: &str,
        branch: &str,
        path: &str,
        contents: &[u8],
    ) -> git2::Oid {
        let repo = Repository::open_bare(self.git_dir(owner, name)).unwrap();
        let reference = format!("refs/heads/{branch}");
        let parent = repo
            .find_reference(&reference)
            .unwrap()
            .peel_to_commit()
            .unwrap();
        let blob = repo.blob(contents).unwrap();
        let mut tree = git2::build::TreeUpdateBuilder::new();
        tree.upsert(path, blob, git2::FileMode::Blob);
        let tree_id = tree.create_updated(&repo, &parent.tree().unwrap()).unwrap();
        let tree = repo.find_tree(tree_id).unwrap();
        let who = Signature::now("Someone Else", "else@example.com").unwrap();
        repo.commit(
            Some(&reference),
            &who,
            &who,
            "A human commit",
            &tree,
            &[&parent],
        )
        .unwrap()
    }

    /// A file's bytes at `reference` (a branch name or a commit id), if both exist.
    pub fn file_at(&self, owner: &str, name: &str, reference: &str, path: &str) -> Option<Vec<u8>> {
        let repo = Repository::open_bare(self.git_dir(owner, name)).ok()?;
        let commit = repo
            .find_reference(&format!("refs/heads/{reference}"))
            .ok()
            .and_then(|r| r.peel_to_commit().ok())
            .or_else(|| {
                git2::Oid::from_str(reference)
                    .ok()
                    .and_then(|id| repo.find_commit(id).ok())
            })?;
        let entry = commit
            .tree()
            .ok()?
            .get_path(std::path::Path::new(path))
            .ok()?;
        let blob = repo.find_blob(entry.id()).ok()?;
        Some(blob.content().to_vec())
    }

    /// The commit a branch points at, if the branch exists.
    pub fn branch_head(&self, owner: &str, name: &str, branch: &str) -> Option<git2::Oid> {
        let repo = Repository::open_bare(self.git_dir(owner, name)).ok()?;
        repo.refname_to_id(&format!("refs/heads/{branch}")).ok()
    }

    /// Refuses every push to `branch` from a pre-receive hook, as branch protection does.
    pub fn protect_branch(&self, owner: &str, name: &str, branch: &str) {
        use std::os::unix::fs::PermissionsExt;
        let hook = self.git_dir(owner, name).join("hooks/pre-receive");
        std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
        let script = format!(
            "#!/bin/sh\nwhile read old new ref; do\n  if [ \"$ref\" = \"refs/heads/{branch}\" ]; then\n    echo \"{branch} is a protected branch\" >&2\n    exit 1\n  fi\ndone\n"
        );
        std::fs::write(&hook, script).unwrap();
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Refuses non-fast-forward updates on the server, whatever the client asks.
    pub fn deny_non_fast_forwards(&self, owner: &str, name: &str) {
        let repo = Repository::open_bare(self.git_dir(owner, name)).unwrap();
        repo.config()
            .and_then(|mut c| c.set_bool("receive.denyNonFastForwards", true))
            .unwrap();
    }
}

/// Whether a smart-HTTP request writes (receive-pack) rather than reads.
pub fn is_push(path_info: &str, query: &str) -> bool {
    path_info.ends_with("/git-receive-pack") || query.contains("service=git-receive-pack")
}

/// Runs `git http-backend` for one request and turns its CGI answer into an HTTP response.
pub async fn serve(
    root: &Path,
    method: &str,
    path_info: &str,
    query: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Response<Body> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut command = tokio::process::Command::new(HTTP_BACKEND);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path_info)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{HTTP_BACKEND}: {e}"),
            );
        }
    };
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let output = match child.wait_with_output().await {
        Ok(output) => output,
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let _ = writer.await;
    cgi_response(&output.stdout).unwrap_or_else(|| {
        plain(
            StatusCode::BAD_GATEWAY,
            String::from_utf8_lossy(&output.stderr).into(),
        )
    })
}

fn cgi_response(stdout: &[u8]) -> Option<Response<Body>> {
    let (head, body) = match find(stdout, b"\r\n\r\n") {
        Some(i) => (&stdout[..i], &stdout[i + 4..]),
        None => {
            let i = find(stdout, b"\n\n")?;
            (&stdout[..i], &stdout[i + 2..])
        }
    };
    let mut response = Response::builder().status(StatusCode::OK);
    for line in String::from_utf8_lossy(head).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code: u16 = value.split_whitespace().next()?.parse().ok()?;
            response = response.status(code);
        } else {
            response = response.header(name.trim(), value);
        }
    }
    response.body(Body::from(body.to_vec())).ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn plain(status: StatusCode, message: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(message))
        .unwrap()
}
