//! The validators the fixture tests rely on really reject bad files: each check here must fail on a
//! file that is wrong in the way the check is about, so a green fixture run means something.

mod support;

use std::path::Path;
use support::validate_tree;

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    dir
}

fn problems(files: &[(&str, &str)]) -> Vec<String> {
    let dir = tree(files);
    validate_tree(dir.path())
}

fn assert_flags(files: &[(&str, &str)], tool: &str, needle: &str) {
    let found = problems(files);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with(tool) && p.contains(needle)),
        "expected a {tool} problem mentioning {needle:?}, got {found:#?}"
    );
}

const GOOD_DOCKERFILE: &str =
    "FROM debian:bookworm-slim\nUSER 65534\nHEALTHCHECK CMD [\"true\"]\nCMD [\"true\"]\n";

#[test]
fn a_clean_tree_passes() {
    let found = problems(&[("Dockerfile", GOOD_DOCKERFILE)]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn hadolint_warnings_fail() {
    assert_flags(
        &[(
            "Dockerfile",
            "FROM debian:latest\nUSER 65534\nHEALTHCHECK CMD [\"true\"]\nCMD [\"true\"]\n",
        )],
        "hadolint",
        "DL3007",
    );
}

#[test]
fn trivy_high_findings_fail() {
    // No USER: the image runs as root.
    assert_flags(
        &[(
            "Dockerfile",
            "FROM debian:bookworm-slim\nHEALTHCHECK CMD [\"true\"]\nCMD [\"true\"]\n",
        )],
        "trivy",
        "HIGH",
    );
}

#[test]
fn trivy_low_findings_need_a_comment_naming_them() {
    let bare = "FROM debian:bookworm-slim\nUSER 65534\nCMD [\"true\"]\n";
    assert_flags(&[("Dockerfile", bare)], "trivy", "DS-0026");
    let explained = "FROM debian:bookworm-slim\n# DS026: no HEALTHCHECK, the image has no tool to run one\nUSER 65534\nCMD [\"true\"]\n";
    let found = problems(&[("Dockerfile", explained)]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn actionlint_findings_fail() {
    let wf = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n";
    assert_flags(&[(".github/workflows/ci.yml", wf)], "actionlint", "nope");
}

#[test]
fn broken_rules_and_failing_rule_tests_fail() {
    let rules = "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 1m\n";
    assert_flags(
        &[(
            "alerts.rules.yml",
            "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up ==\n",
        )],
        "promtool check rules",
        "",
    );
    let wrong_test = "rule_files: [alerts.rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'up{job=\"a\"}'\n        values: '1x10'\n    alert_rule_test:\n      - eval_time: 5m\n        alertname: Down\n        exp_alerts:\n          - exp_labels: {job: a}\n";
    assert_flags(
        &[
            ("alerts.rules.yml", rules),
            ("alerts.rules.test.yml", wrong_test),
        ],
        "promtool test rules",
        "",
    );
}

#[test]
fn a_broken_alertmanager_config_fails() {
    assert_flags(
        &[(
            "alertmanager.yml",
            "route:\n  receiver: missing\nreceivers: []\n",
        )],
        "amtool",
        "",
    );
}

#[test]
fn unformatted_or_broken_terraform_fails() {
    assert_flags(
        &[("main.tf", "resource \"a\" \"b\" {\nx=1\n}\n")],
        "terraform fmt",
        "main.tf",
    );
    assert_flags(
        &[("main.tf", "resource \"a\" \"b\" {\n  x = \n")],
        "hcl parse",
        "main.tf",
    );
}

#[test]
fn validator_tools_are_the_real_ones() {
    for t in ["hadolint", "trivy", "actionlint", "promtool", "amtool"] {
        let p = support::tool(t);
        assert!(Path::new(&p).is_file(), "{t} at {}", p.display());
    }
}
