//! opsmith's git effects against a real smart-HTTP server (`git http-backend` behind the GitHub
//! stand-in), authenticated with installation tokens the stand-in minted.

#[path = "support/git_server.rs"]
mod git_server;
#[path = "support/github.rs"]
mod github;
#[path = "support/openapi.rs"]
mod openapi;

use github::StandIn;
use opsmith::git::{self, Author, CloneLimits, GitError, Lease};
use std::process::Command;
use std::time::{Duration, Instant};

const INSTALLATION: u64 = 7;

/// acme/shop cloned through the stand-in with a valid token: where every push test starts. Returns the
/// stand-in, the clone URL, the token, the clone's folder (kept alive) and the clone.
fn cloned_shop() -> (StandIn, String, String, tempfile::TempDir, git::ClonedRepo) {
    let stand_in = stand_in_with_repo();
    let url = stand_in.clone_url("acme", "shop");
    let token = stand_in.mint_token(INSTALLATION, Duration::from_secs(3600));
    let dest = tempfile::tempdir().unwrap();
    let clone =
        git::clone_default_branch(&url, &token, dest.path(), &CloneLimits::default()).unwrap();
    (stand_in, url, token, dest, clone)
}

fn stand_in_with_repo() -> StandIn {
    let stand_in = StandIn::start();
    stand_in.install(INSTALLATION, "acme");
    stand_in.add_repo(
        INSTALLATION,
        "acme",
        "shop",
        &[
            ("README.md", b"# shop\n"),
            (
                "package.json",
                br#"{"name":"shop","scripts":{"start":"node index.js"}}"#,
            ),
        ],
    );
    stand_in
}

fn author() -> Author {
    Author {
        name: "opsmith[bot]".into(),
        email: "opsmith[bot]@users.noreply.github.com".into(),
    }
}

fn git_log(stand_in: &StandIn, branch: &str) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(stand_in.git.git_dir("acme", "shop"))
        .args(["log", "--format=%s%n%b", branch])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn clones_the_default_branch_shallowly_with_a_valid_token() {
    let stand_in = stand_in_with_repo();
    let token = stand_in.mint_token(INSTALLATION, Duration::from_secs(3600));
    let dest = tempfile::tempdir().unwrap();
    let clone = git::clone_default_branch(
        &stand_in.clone_url("acme", "shop"),
        &token,
        dest.path(),
        &CloneLimits::default(),
    )
    .unwrap();
    assert_eq!(clone.branch, "main");
    assert_eq!(
        Some(clone.head),
        stand_in.git.branch_head("acme", "shop", "main")
    );
    assert_eq!(
        std::fs::read_to_string(dest.path().join("README.md")).unwrap(),
        "# shop\n"
    );
    assert!(clone.repo.is_shallow(), "depth-1 clone");
    let fetched = stand_in
        .world()
        .calls("GET", "/git/acme/shop.git/info/refs")
        .len();
    assert!(fetched >= 1);
}

#[test]
fn a_bad_or_expired_token_fails_fast_without_leaking_it() {
    let stand_in = stand_in_with_repo();
    let expired = stand_in.mint_token(INSTALLATION, Duration::ZERO);
    for token in ["ghs_not_a_token_the_stand_in_minted", expired.as_str()] {
        let dest = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let err = git::clone_default_branch(
            &stand_in.clone_url("acme", "shop"),
            token,
            dest.path(),
            &CloneLimits::default(),
        )
        .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "bounded retries"
        );
        assert!(matches!(err, GitError::AuthRejected { .. }), "{err:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains(token), "token leaked: {text}");

        let started = Instant::now();
        let err = git::remote_branch_head(&stand_in.clone_url("acme", "shop"), token, "main")
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(matches!(err, GitError::AuthRejected { .. }), "{err:?}");
        assert!(!format!("{err} {err:?}").contains(token));
    }
    let unauthorized = stand_in
        .world()
        .requests
        .iter()
        .filter(|r| r.path.starts_with("/git/") && r.status == 401)
        .count();
    assert!(
        (4..=12).contains(&unauthorized),
        "{unauthorized} 401s for two clones and two ls-remotes"
    );
}

#[test]
fn a_token_for_another_repository_is_refused() {
    let stand_in = stand_in_with_repo();
    stand_in.add_repo(INSTALLATION, "acme", "other", &[("a", b"a")]);
    let token = stand_in.mint_token(INSTALLATION, Duration::from_secs(60));
    stand_in
        .world()
        .tokens
        .get_mut(&token)
        .unwrap()
        .repos
        .retain(|r| r == "acme/other");
    let dest = tempfile::tempdir().unwrap();
    let err = git::clone_default_branch(
        &stand_in.clone_url("acme", "shop"),
        &token,
        dest.path(),
        &CloneLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, GitError::AuthRejected { .. }), "{err:?}");
}

#[test]
fn a_clone_over_the_size_limit_is_aborted() {
    let stand_in = StandIn::start();
    stand_in.install(INSTALLATION, "acme");
    // Incompressible content, so the pack is as large as the file.
    let mut noise = Vec::with_capacity(2 << 20);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while noise.len() < 2 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    stand_in.add_repo(INSTALLATION, "acme", "shop", &[("blob.bin", &noise)]);
    let token = stand_in.mint_token(INSTALLATION, Duration::from_secs(60));
    let dest = tempfile::tempdir().unwrap();
    let limits = CloneLimits {
        max_bytes: 256 * 1024,
        ..CloneLimits::default()
    };
    let err = git::clone_default_branch(
        &stand_in.clone_url("acme", "shop"),
        &token,
        dest.path(),
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(err, GitError::TooLarge { limit: 262_144 }),
        "{err:?}"
    );
}

#[test]
fn commits_and_pushes_a_branch_then_sees_its_head() {
    let (stand_in, url, token, _dest, clone) = cloned_shop();
    assert_eq!(
        git::remote_branch_head(&url, &token, "opsmith/devops").unwrap(),
        None
    );

    let files = vec![
        ("Dockerfile".to_string(), b"FROM node:22\n".to_vec()),
        (
            ".github/workflows/ci.yml".to_string(),
            b"name: ci\n".to_vec(),
        ),
    ];
    let commit = git::commit_tree(
        &clone.repo,
        "opsmith/devops",
        clone.head,
        &files,
        "Add deployment artifacts",
        &author(),
    )
    .unwrap();
    git::push(&clone.repo, &url, &token, "opsmith/devops", Lease::Absent).unwrap();

    assert_eq!(
        stand_in.git.branch_head("acme", "shop", "opsmith/devops"),
        Some(commit)
    );
    assert_eq!(
        git::remote_branch_head(&url, &token, "opsmith/devops").unwrap(),
        Some(commit)
    );
    let log = git_log(&stand_in, "opsmith/devops");
    assert!(log.starts_with("Add deployment artifacts"), "{log}");
    assert!(log.contains("Initial commit"), "{log}");
    let show = Command::new("git")
        .arg("--git-dir")
        .arg(stand_in.git.git_dir("acme", "shop"))
        .args(["show", "opsmith/devops:.github/workflows/ci.yml"])
        .output()
        .unwrap();
    assert_eq!(show.stdout, b"name: ci\n");

    // Rewriting opsmith's own commit is allowed while the branch is where opsmith left it.
    let again = git::commit_tree(
        &clone.repo,
        "opsmith/devops",
        clone.head,
        &files[..1],
        "Refresh",
        &author(),
    )
    .unwrap();
    git::push(
        &clone.repo,
        &url,
        &token,
        "opsmith/devops",
        Lease::At(commit),
    )
    .unwrap();
    assert_eq!(
        stand_in.git.branch_head("acme", "shop", "opsmith/devops"),
        Some(again)
    );
}

#[test]
fn a_branch_someone_else_moved_is_not_overwritten() {
    let (stand_in, url, token, _dest, clone) = cloned_shop();
    let files = vec![("Dockerfile".to_string(), b"FROM scratch\n".to_vec())];
    let ours = git::commit_tree(
        &clone.repo,
        "opsmith/devops",
        clone.head,
        &files,
        "ours",
        &author(),
    )
    .unwrap();
    git::push(&clone.repo, &url, &token, "opsmith/devops", Lease::Absent).unwrap();

    let theirs = stand_in
        .git
        .commit_on("acme", "shop", "opsmith/devops", "NOTES", b"mine\n");
    let _ = git::commit_tree(
        &clone.repo,
        "opsmith/devops",
        clone.head,
        &files,
        "again",
        &author(),
    )
    .unwrap();
    let err = git::push(&clone.repo, &url, &token, "opsmith/devops", Lease::At(ours)).unwrap_err();
    assert!(matches!(err, GitError::StaleLease { .. }), "{err:?}");
    assert_eq!(
        stand_in.git.branch_head("acme", "shop", "opsmith/devops"),
        Some(theirs)
    );
}

#[test]
fn a_non_fast_forward_push_is_reported_as_rejected() {
    let (stand_in, url, token, _dest, clone) = cloned_shop();
    let files = vec![("x".to_string(), b"x".to_vec())];

    // Without force, libgit2 refuses locally once it knows the remote moved past us.
    let theirs = stand_in
        .git
        .commit_on("acme", "shop", "main", "human.txt", b"h\n");
    git::commit_tree(
        &clone.repo,
        "main",
        clone.head,
        &files,
        "diverged",
        &author(),
    )
    .unwrap();
    let err = git::push(&clone.repo, &url, &token, "main", Lease::FastForward).unwrap_err();
    assert!(matches!(err, GitError::Rejected { .. }), "{err:?}");
    assert_eq!(
        stand_in.git.branch_head("acme", "shop", "main"),
        Some(theirs)
    );

    // The server refuses a forced non-fast-forward: git2 says Ok, the callback says rejected.
    stand_in.git.deny_non_fast_forwards("acme", "shop");
    let err = git::push(&clone.repo, &url, &token, "main", Lease::At(theirs)).unwrap_err();
    match &err {
        GitError::Rejected { reference, reason } => {
            assert_eq!(reference, "refs/heads/main");
            assert!(!reason.is_empty());
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        stand_in.git.branch_head("acme", "shop", "main"),
        Some(theirs)
    );
}

#[test]
fn a_push_refused_by_a_server_hook_is_an_error() {
    let (stand_in, url, token, _dest, clone) = cloned_shop();
    stand_in
        .git
        .protect_branch("acme", "shop", "opsmith/devops");
    let files = vec![("Dockerfile".to_string(), b"FROM scratch\n".to_vec())];
    git::commit_tree(
        &clone.repo,
        "opsmith/devops",
        clone.head,
        &files,
        "ours",
        &author(),
    )
    .unwrap();
    let err = git::push(&clone.repo, &url, &token, "opsmith/devops", Lease::Absent).unwrap_err();
    assert!(matches!(err, GitError::Rejected { .. }), "{err:?}");
    assert_eq!(
        stand_in.git.branch_head("acme", "shop", "opsmith/devops"),
        None
    );
}

#[test]
fn a_push_with_an_expired_token_fails_fast() {
    let (stand_in, url, token, _dest, clone) = cloned_shop();
    let files = vec![("Dockerfile".to_string(), b"FROM scratch\n".to_vec())];
    git::commit_tree(
        &clone.repo,
        "opsmith/devops",
        clone.head,
        &files,
        "ours",
        &author(),
    )
    .unwrap();
    stand_in.world().tokens.get_mut(&token).unwrap().expires_at = std::time::SystemTime::now();
    let started = Instant::now();
    let err = git::push(&clone.repo, &url, &token, "opsmith/devops", Lease::Absent).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err, GitError::AuthRejected { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(&token));
    assert_eq!(
        stand_in.git.branch_head("acme", "shop", "opsmith/devops"),
        None
    );
}

#[test]
fn a_read_only_token_cannot_push() {
    let stand_in = stand_in_with_repo();
    let url = stand_in.clone_url("acme", "shop");
    let token = stand_in.mint_token(INSTALLATION, Duration::from_secs(3600));
    stand_in
        .world()
        .tokens
        .get_mut(&token)
        .unwrap()
        .permissions
        .insert("contents".into(), "read".into());
    let dest = tempfile::tempdir().unwrap();
    let clone =
        git::clone_default_branch(&url, &token, dest.path(), &CloneLimits::default()).unwrap();
    let files = vec![("Dockerfile".to_string(), b"FROM scratch\n".to_vec())];
    git::commit_tree(
        &clone.repo,
        "opsmith/devops",
        clone.head,
        &files,
        "ours",
        &author(),
    )
    .unwrap();
    let started = Instant::now();
    let err = git::push(&clone.repo, &url, &token, "opsmith/devops", Lease::Absent).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(err, GitError::Forbidden { .. }), "{err:?}");
    assert!(!format!("{err:?}").contains(&token));
}

#[test]
fn commit_paths_outside_the_tree_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let sig = git2::Signature::now("a", "a@example.com").unwrap();
    let tree = repo
        .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
        .unwrap();
    let root = repo
        .commit(Some("HEAD"), &sig, &sig, "root", &tree, &[])
        .unwrap();
    let err = git::commit_tree(
        &repo,
        "b",
        root,
        &[("../evil".into(), b"x".to_vec())],
        "m",
        &author(),
    )
    .unwrap_err();
    assert!(matches!(err, GitError::InvalidPath(_)), "{err:?}");
}
