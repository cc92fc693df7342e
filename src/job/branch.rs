//! The blocking half of a publishing run: clone, read the settings, analyze, generate, and decide
//! what to do with `opsmith/devops` (push, leave alone, or stop because someone else pushed).

use super::{JobError, apply_settings, generation_for};
use crate::analyze::{AnalyzeOptions, analyze};
use crate::generate::Generation;
use crate::git::{self, Author, CloneLimits, ClonedRepo, Lease};
use crate::profile::{Cloud, RepoProfile};
use crate::queue::PUBLISH_BRANCH;
use crate::repo_config::{self, RepoSettings};
use git2::{ObjectType, Oid, Repository};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What to do with the branch.
#[derive(Debug)]
pub enum Action {
    /// Push `commit`, holding the remote to `lease`.
    Push { commit: Oid, lease: Lease },
    /// The branch already holds exactly what would be generated.
    Unchanged,
    /// The branch's head is not opsmith's commit: someone else pushed.
    Foreign,
    /// The generated files are all on the default branch already.
    NothingToPropose,
}

/// A clone, analyzed and generated, with the decision about the branch.
pub struct Prepared {
    pub repository: Repository,
    /// The settings the proposal was made with, and the cloud chosen.
    pub settings: RepoSettings,
    pub cloud: Cloud,
    pub profile: RepoProfile,
    pub generation: Generation,
    pub action: Action,
    /// The default branch the proposal is built on.
    pub base_branch: String,
}

/// `.github/opsmith.yml` could not be used.
pub struct InvalidSettings {
    pub message: String,
    /// The default branch's head, where the failure is reported.
    pub head: String,
}

/// What a run hands to [`prepare`].
pub struct Request {
    /// Where the clone goes (removed first if a crashed attempt left it).
    pub dir: PathBuf,
    pub url: String,
    pub token: SecretString,
    pub limits: CloneLimits,
    pub author: Author,
    /// The cloud a command asked for; else the settings', else the default.
    pub cloud: Option<Cloud>,
    /// Settings to use instead of the clone's `.github/opsmith.yml` (a pull request's preview).
    pub settings: Option<RepoSettings>,
    /// `owner/name`, shown as the profile's root.
    pub repository_name: String,
}

/// Clones the repository and prepares the proposal. The outer error fails the run; the inner one
/// is an invalid settings file, which the caller reports to the repository's people.
pub fn prepare(request: &Request) -> Result<Result<Prepared, InvalidSettings>, JobError> {
    let Request {
        dir,
        url,
        token,
        limits,
        author,
        cloud,
        settings,
        repository_name,
    } = request;
    let token = token.expose_secret();
    // A leftover from a crashed attempt is not trusted.
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| {
            JobError::Retry(format!("cannot clear the work directory: {}", e.kind()))
        })?;
    }
    let ClonedRepo { repo, branch, head } = git::clone_default_branch(url, token, dir, limits)?;
    let settings = match settings.clone().map_or_else(|| read_settings(dir), Ok) {
        Ok(settings) => settings,
        Err(message) => {
            return Ok(Err(InvalidSettings {
                message,
                head: head.to_string(),
            }));
        }
    };
    let mut profile = analyze(dir, AnalyzeOptions { per_file: false })
        .map_err(|e| JobError::Stop(format!("cannot analyze the clone: {e}")))?;
    profile.root = repository_name.clone();
    apply_settings(&mut profile, &settings);
    let cloud = cloud.or(settings.cloud).unwrap_or_default();
    let generation = generation_for(&profile, cloud).map_err(JobError::Stop)?;
    let files: Vec<(String, Vec<u8>)> = generation
        .artifacts
        .iter()
        .map(|a| (a.path.clone(), a.contents.clone().into_bytes()))
        .collect();

    let remote = git::fetch_branch(&repo, url, token, PUBLISH_BRANCH, limits)?;
    let action = decide(&repo, head, remote, &files, author, &branch)?;
    Ok(Ok(Prepared {
        repository: repo,
        settings,
        cloud,
        profile,
        generation,
        action,
        base_branch: branch,
    }))
}

/// `.github/opsmith.yml` from the clone: absent means defaults; a symlink, a huge file or an
/// invalid one is refused with a message naming the problem.
fn read_settings(dir: &Path) -> Result<RepoSettings, String> {
    let path = dir.join(repo_config::PATH);
    let bytes = match std::fs::symlink_metadata(&path) {
        Err(_) => None,
        Ok(meta) if !meta.is_file() => {
            return Err("must be a regular file (not a symlink or a folder)".into());
        }
        Ok(meta) if meta.len() > repo_config::MAX_BYTES as u64 => {
            return Err(format!("larger than {} KiB", repo_config::MAX_BYTES / 1024));
        }
        Ok(_) => Some(std::fs::read(&path).map_err(|e| format!("cannot be read: {}", e.kind()))?),
    };
    RepoSettings::from_bytes(bytes.as_deref()).map_err(|e| e.message)
}

fn decide(
    repo: &Repository,
    base: Oid,
    remote: Option<Oid>,
    files: &[(String, Vec<u8>)],
    author: &Author,
    base_branch: &str,
) -> Result<Action, JobError> {
    let git_error = |e: git2::Error| JobError::Retry(format!("git: {}", e.message()));
    if let Some(remote) = remote {
        let commit = repo.find_commit(remote).map_err(git_error)?;
        if commit.committer().email().ok() != Some(author.email.as_str()) {
            return Ok(Action::Foreign);
        }
        if same_proposal(repo, &commit, files) {
            return Ok(Action::Unchanged);
        }
    }
    let message = format!(
        "opsmith: Dockerfiles, CI/CD, Terraform and monitoring\n\n\
         Generated from {base_branch} at {base}."
    );
    let commit = git::commit_tree(repo, PUBLISH_BRANCH, base, files, &message, author)?;
    let new_tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(git_error)?;
    let base_tree = repo
        .find_commit(base)
        .and_then(|c| c.tree())
        .map_err(git_error)?;
    if new_tree.id() == base_tree.id() {
        return Ok(Action::NothingToPropose);
    }
    let lease = match remote {
        Some(remote) => Lease::At(remote),
        None => Lease::Absent,
    };
    Ok(Action::Push { commit, lease })
}

/// Whether opsmith's commit on the branch already proposes exactly `files`: the same contents at
/// the same paths, and no path it changed that is no longer generated.
fn same_proposal(
    repo: &Repository,
    commit: &git2::Commit<'_>,
    files: &[(String, Vec<u8>)],
) -> bool {
    let Ok(tree) = commit.tree() else {
        return false;
    };
    for (path, contents) in files {
        let Ok(expected) = Oid::hash_object(ObjectType::Blob, contents) else {
            return false;
        };
        match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.id() == expected => {}
            _ => return false,
        }
    }
    // What the commit changed relative to its parent (fetched with depth 2).
    let Ok(parent) = commit.parent(0).and_then(|p| p.tree()) else {
        return false;
    };
    let Ok(diff) = repo.diff_tree_to_tree(Some(&parent), Some(&tree), None) else {
        return false;
    };
    let generated: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    diff.deltas().all(|delta| {
        delta
            .new_file()
            .path()
            .or_else(|| delta.old_file().path())
            .and_then(Path::to_str)
            .is_some_and(|p| generated.contains(p))
    })
}
