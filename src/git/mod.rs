//! opsmith's git effects over HTTP(S): a bounded shallow clone of the default branch, one commit
//! holding the generated files, a push that reports rejections, and reading a remote branch head.
//!
//! The installation token travels only through libgit2's credentials callback as the Basic-auth
//! password of user `x-access-token`; it is never put in a URL, so libgit2 cannot echo it, and every
//! error message is scrubbed of it all the same.

use git2::{
    Cred, Direction, FetchOptions, FileMode, Oid, PushOptions, Remote, RemoteCallbacks, Repository,
    Signature, build::CheckoutBuilder, build::TreeUpdateBuilder,
};
use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;

/// The user name GitHub expects with an installation token.
const TOKEN_USER: &str = "x-access-token";

/// Bounds on one clone.
#[derive(Debug, Clone)]
pub struct CloneLimits {
    /// Abort once the server has sent more than this many bytes.
    pub max_bytes: u64,
    /// How many times credentials are offered before giving up (libgit2 would ask forever).
    pub max_auth_attempts: u32,
}

impl Default for CloneLimits {
    fn default() -> Self {
        CloneLimits {
            max_bytes: 512 * 1024 * 1024,
            max_auth_attempts: 1,
        }
    }
}

/// The result of a clone: the repository, its default branch and the commit checked out.
pub struct ClonedRepo {
    pub repo: Repository,
    pub branch: String,
    pub head: Oid,
}

impl std::fmt::Debug for ClonedRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClonedRepo")
            .field("path", &self.repo.path())
            .field("branch", &self.branch)
            .field("head", &self.head)
            .finish()
    }
}

/// What opsmith expects the remote branch to point at before it pushes (a lease).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// The branch must not exist yet.
    Absent,
    /// The branch must still be at this commit; it is then replaced (forced).
    At(Oid),
    /// Only a fast-forward is allowed; no expectation about the current value.
    FastForward,
}

/// Who opsmith commits as.
#[derive(Debug, Clone)]
pub struct Author {
    pub name: String,
    pub email: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("the git server refused the credentials for {url}")]
    AuthRejected { url: String },
    #[error("the git server forbids this operation on {url} (token lacks permission?)")]
    Forbidden { url: String },
    #[error("the repository is larger than the clone limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the remote has no default branch (empty repository?)")]
    NoDefaultBranch,
    #[error("the server rejected the push of {reference}: {reason}")]
    Rejected { reference: String, reason: String },
    #[error("{reference} on the remote is at {found}, expected {expected}: someone else pushed")]
    StaleLease {
        reference: String,
        expected: String,
        found: String,
    },
    #[error("invalid file path {0:?} for a commit")]
    InvalidPath(String),
    #[error("git: {0}")]
    Git(String),
}

/// Why a libgit2 operation was cancelled from one of our callbacks.
#[derive(Default)]
struct Abort {
    auth_exhausted: Cell<bool>,
    too_large: Cell<bool>,
}

struct Session<'t> {
    url: &'t str,
    token: &'t str,
    limits: CloneLimits,
    abort: Rc<Abort>,
}

impl<'t> Session<'t> {
    fn new(url: &'t str, token: &'t str, limits: CloneLimits) -> Self {
        network_timeouts();
        Session {
            url,
            token,
            limits,
            abort: Rc::new(Abort::default()),
        }
    }

    fn callbacks(&self) -> RemoteCallbacks<'t> {
        let mut callbacks = RemoteCallbacks::new();
        let abort = self.abort.clone();
        let token = self.token;
        let max_attempts = self.limits.max_auth_attempts.max(1);
        // Counted per network operation: each connection starts unauthenticated and asks once.
        let attempts = Cell::new(0u32);
        callbacks.credentials(move |_url, _user, _allowed| {
            attempts.set(attempts.get() + 1);
            if attempts.get() > max_attempts {
                abort.auth_exhausted.set(true);
                return Err(git2::Error::from_str("credentials rejected"));
            }
            Cred::userpass_plaintext(TOKEN_USER, token)
        });
        let abort = self.abort.clone();
        let max_bytes = self.limits.max_bytes;
        callbacks.transfer_progress(move |progress| {
            if progress.received_bytes() as u64 > max_bytes {
                abort.too_large.set(true);
                return false;
            }
            true
        });
        callbacks
    }

    /// Turns a libgit2 error into ours, naming why a callback aborted and never carrying the token.
    fn error(&self, e: git2::Error) -> GitError {
        if self.abort.auth_exhausted.get() || e.class() == git2::ErrorClass::Http && is_auth(&e) {
            return GitError::AuthRejected {
                url: without_userinfo(self.url),
            };
        }
        if e.message().contains("403") {
            return GitError::Forbidden {
                url: without_userinfo(self.url),
            };
        }
        if self.abort.too_large.get() {
            return GitError::TooLarge {
                limit: self.limits.max_bytes,
            };
        }
        GitError::Git(scrub(e.message(), self.token))
    }
}

/// A server that stops answering fails the operation instead of hanging a job forever.
fn network_timeouts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: libgit2 global options are set once, through `Once`, before this module starts
        // any network operation; nothing else in opsmith sets them.
        unsafe {
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(15_000);
            let _ = git2::opts::set_server_timeout_in_milliseconds(120_000);
        }
    });
}

fn is_auth(e: &git2::Error) -> bool {
    e.code() == git2::ErrorCode::Auth || e.message().contains("401")
}

/// The URL without any `user:password@` a caller may have put in it.
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find('/').unwrap_or(rest.len());
            match rest[..host_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

fn scrub(message: &str, token: &str) -> String {
    if token.is_empty() {
        message.to_string()
    } else {
        message.replace(token, "***")
    }
}

/// Shallow-clones (depth 1) only the remote's default branch into `dest` (created if missing).
/// Submodules are not fetched.
pub fn clone_default_branch(
    url: &str,
    token: &str,
    dest: &Path,
    limits: &CloneLimits,
) -> Result<ClonedRepo, GitError> {
    let session = Session::new(url, token, limits.clone());
    let repo = Repository::init(dest).map_err(|e| session.error(e))?;
    let mut remote = repo.remote("origin", url).map_err(|e| session.error(e))?;

    let default_ref = {
        let connection = remote
            .connect_auth(Direction::Fetch, Some(session.callbacks()), None)
            .map_err(|e| session.error(e))?;
        connection
            .default_branch()
            .ok()
            .and_then(|b| b.as_str().ok().map(str::to_string))
            .ok_or(GitError::NoDefaultBranch)?
    };
    let branch = default_ref
        .strip_prefix("refs/heads/")
        .ok_or(GitError::NoDefaultBranch)?
        .to_string();

    let tracking = format!("refs/remotes/origin/{branch}");
    let refspec = format!("+{default_ref}:{tracking}");
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(session.callbacks())
        .depth(1)
        .download_tags(git2::AutotagOption::None);
    remote
        .fetch(&[refspec.as_str()], Some(&mut options), None)
        .map_err(|e| session.error(e))?;

    let head = repo
        .refname_to_id(&tracking)
        .map_err(|e| session.error(e))?;
    {
        let commit = repo.find_commit(head).map_err(|e| session.error(e))?;
        repo.branch(&branch, &commit, true)
            .map_err(|e| session.error(e))?;
    }
    repo.set_head(&format!("refs/heads/{branch}"))
        .map_err(|e| session.error(e))?;
    repo.checkout_head(Some(CheckoutBuilder::new().force()))
        .map_err(|e| session.error(e))?;
    drop(remote);
    Ok(ClonedRepo { repo, branch, head })
}

/// Writes one commit on `branch` whose parent is `parent` and whose tree is the parent's tree with
/// `files` added or replaced. Returns the new commit; `refs/heads/<branch>` is set to it.
pub fn commit_tree(
    repo: &Repository,
    branch: &str,
    parent: Oid,
    files: &[(String, Vec<u8>)],
    message: &str,
    author: &Author,
) -> Result<Oid, GitError> {
    let git = |e: git2::Error| GitError::Git(e.message().to_string());
    let parent = repo.find_commit(parent).map_err(git)?;
    let base = parent.tree().map_err(git)?;
    let mut update = TreeUpdateBuilder::new();
    for (path, contents) in files {
        if !is_safe_path(path) {
            return Err(GitError::InvalidPath(path.clone()));
        }
        let blob = repo.blob(contents).map_err(git)?;
        update.upsert(path.as_str(), blob, FileMode::Blob);
    }
    let tree_id = update.create_updated(repo, &base).map_err(git)?;
    let tree = repo.find_tree(tree_id).map_err(git)?;
    let signature = Signature::now(&author.name, &author.email).map_err(git)?;
    let commit = repo
        .commit(None, &signature, &signature, message, &tree, &[&parent])
        .map_err(git)?;
    repo.reference(
        &format!("refs/heads/{branch}"),
        commit,
        true,
        "opsmith commit",
    )
    .map_err(git)?;
    Ok(commit)
}

/// Relative, `/`-separated, no empty, `.` or `..` components, and nothing inside `.git`.
fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && c != ".git" && !c.contains('\0'))
}

/// Pushes local `refs/heads/<branch>` to the same branch at `url`, holding the remote to `lease`.
/// A server-side refusal (hook, protection, non-fast-forward) is an error, not a silent success.
pub fn push(
    repo: &Repository,
    url: &str,
    token: &str,
    branch: &str,
    lease: Lease,
) -> Result<(), GitError> {
    let session = Session::new(url, token, CloneLimits::default());
    let reference = format!("refs/heads/{branch}");
    let forced = matches!(lease, Lease::At(_));
    let refspec = format!("{}{reference}:{reference}", if forced { "+" } else { "" });

    let stale: Rc<Cell<Option<Oid>>> = Rc::new(Cell::new(None));
    let rejection: Rc<std::cell::RefCell<Option<(String, String)>>> = Rc::default();
    let mut callbacks = session.callbacks();
    {
        let stale = stale.clone();
        let reference = reference.clone();
        callbacks.push_negotiation(move |updates| {
            for update in updates {
                if update.dst_refname() != Ok(reference.as_str()) {
                    continue;
                }
                // `src` is what the server advertised in this session; it is sent back as the
                // old value, so the server refuses the update if the branch moved since.
                let current = update.src();
                let held = match lease {
                    Lease::Absent => current.is_zero(),
                    Lease::At(expected) => current == expected,
                    Lease::FastForward => true,
                };
                if !held {
                    stale.set(Some(current));
                    return Err(git2::Error::from_str("lease not held"));
                }
            }
            Ok(())
        });
    }
    {
        let rejection = rejection.clone();
        callbacks.push_update_reference(move |name, status| {
            if let Some(reason) = status {
                *rejection.borrow_mut() = Some((name.to_string(), reason.to_string()));
            }
            Ok(())
        });
    }
    let mut remote = repo.remote_anonymous(url).map_err(|e| session.error(e))?;
    let mut options = PushOptions::new();
    options.remote_callbacks(callbacks);
    let result = remote.push(&[refspec.as_str()], Some(&mut options));

    if let Some(found) = stale.get() {
        return Err(GitError::StaleLease {
            reference,
            expected: match lease {
                Lease::At(oid) => oid.to_string(),
                _ => "no branch".to_string(),
            },
            found: found.to_string(),
        });
    }
    if let Err(e) = result {
        if e.code() == git2::ErrorCode::NotFastForward {
            return Err(GitError::Rejected {
                reference,
                reason: "non-fast-forward".to_string(),
            });
        }
        return Err(session.error(e));
    }
    if let Some((reference, reason)) = rejection.borrow_mut().take() {
        return Err(GitError::Rejected {
            reference,
            reason: scrub(&reason, token),
        });
    }
    Ok(())
}

/// The commit `refs/heads/<branch>` points at on the remote, or None when there is no such branch
/// (`git ls-remote`).
pub fn remote_branch_head(url: &str, token: &str, branch: &str) -> Result<Option<Oid>, GitError> {
    let session = Session::new(url, token, CloneLimits::default());
    let mut remote = Remote::create_detached(url).map_err(|e| session.error(e))?;
    let connection = remote
        .connect_auth(Direction::Fetch, Some(session.callbacks()), None)
        .map_err(|e| session.error(e))?;
    let wanted = format!("refs/heads/{branch}");
    let head = connection
        .list()
        .map_err(|e| session.error(e))?
        .iter()
        .find(|h| h.name() == wanted)
        .map(|h| h.oid());
    Ok(head)
}

/// Fetches the remote's `refs/heads/<branch>` into `refs/remotes/origin/<branch>` of `repo`, its
/// head commit and that commit's parent (depth 2: enough to see what the head commit changed).
/// None when the remote has no such branch.
pub fn fetch_branch(
    repo: &Repository,
    url: &str,
    token: &str,
    branch: &str,
    limits: &CloneLimits,
) -> Result<Option<Oid>, GitError> {
    let session = Session::new(url, token, limits.clone());
    let mut remote = repo.remote_anonymous(url).map_err(|e| session.error(e))?;
    let wanted = format!("refs/heads/{branch}");
    let exists = {
        let connection = remote
            .connect_auth(Direction::Fetch, Some(session.callbacks()), None)
            .map_err(|e| session.error(e))?;
        connection
            .list()
            .map_err(|e| session.error(e))?
            .iter()
            .any(|h| h.name() == wanted)
    };
    if !exists {
        return Ok(None);
    }
    let tracking = format!("refs/remotes/origin/{branch}");
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(session.callbacks())
        .depth(2)
        .download_tags(git2::AutotagOption::None);
    remote
        .fetch(
            &[format!("+{wanted}:{tracking}").as_str()],
            Some(&mut options),
            None,
        )
        .map_err(|e| session.error(e))?;
    repo.refname_to_id(&tracking)
        .map(Some)
        .map_err(|e| session.error(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_paths_stay_inside_the_tree() {
        assert!(is_safe_path("Dockerfile"));
        assert!(is_safe_path(".github/workflows/ci.yml"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a//b",
            "a/./b",
            ".git/config",
            "a/",
        ] {
            assert!(!is_safe_path(bad), "{bad}");
        }
    }

    #[test]
    fn errors_never_carry_the_token() {
        assert_eq!(scrub("bad ghs_secret here", "ghs_secret"), "bad *** here");
        assert_eq!(
            without_userinfo("https://x-access-token:ghs_1@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            without_userinfo("http://127.0.0.1:80/git/o/r.git"),
            "http://127.0.0.1:80/git/o/r.git"
        );
    }
}
