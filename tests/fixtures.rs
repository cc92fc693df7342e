//! Every fixture under `tests/fixtures/`: its profile and each generated file are snapshots, and the
//! generated tree passes the real validators (hadolint, trivy config, actionlint, promtool, amtool,
//! terraform fmt, HCL parsing).

mod support;

use opsmith::profile::Cloud;
use serde_json::json;
use support::*;

/// The profile with the template facts, and the list of generated and kept files.
fn profile(name: &str) {
    let profile = profile_of(name);
    let generation = generation_of(name, Cloud::Aws);
    let services: Vec<serde_json::Value> = profile
        .services
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(s).unwrap();
            v["facts"] = json!(s.facts);
            v
        })
        .collect();
    let view = json!({
        "languages": profile.languages,
        "services": services,
        "existing_files": profile.existing_files,
        "warnings": profile.warnings,
        "artifacts": generation.artifacts.iter().map(|a| &a.path).collect::<Vec<_>>(),
        "kept": generation.kept,
    });
    insta::with_settings!({snapshot_path => "snapshots/profiles", prepend_module_to_snapshot => false}, {
        insta::assert_yaml_snapshot!(name, view);
    });
}

/// Each generated file (AWS by default; the other clouds' Terraform is covered in `clouds.rs`).
fn artifacts(name: &str) {
    let generation = generation_of(name, Cloud::Aws);
    for a in &generation.artifacts {
        let snap = format!("{name}@{}", a.path.replace('/', "__"));
        insta::with_settings!({snapshot_path => "snapshots/artifacts", prepend_module_to_snapshot => false, description => a.reason.clone()}, {
            insta::assert_snapshot!(snap, a.contents);
        });
    }
}

fn validate(name: &str) {
    let out = tempfile::tempdir().unwrap();
    write_tree(&generation_of(name, Cloud::Aws), out.path());
    let problems = validate_tree(out.path());
    assert!(
        problems.is_empty(),
        "{name}: the generated files do not pass:\n{}",
        problems.join("\n")
    );
}

include!(concat!(env!("OUT_DIR"), "/fixture_tests.rs"));
