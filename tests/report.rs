//! The report: pull request body, check run summary and status comment, on a real fixture and on
//! hostile or huge inputs.

mod support;

use opsmith::generate::{Artifact, GenerateSettings, Generation, generate};
use opsmith::profile::{Cloud, Ecosystem, LanguageShare, PackageManager, RepoProfile, Service};
use opsmith::report::{
    BODY_LIMIT, CommandState, SCAN_END, SCAN_PLACEHOLDER, SCAN_START, STATUS_MARKER, SUMMARY_LIMIT,
    check_run_summary, pull_request_body, replace_scan_section, status_comment,
};
use support::{generation_of, profile_of};

fn monorepo() -> (RepoProfile, Generation) {
    (
        profile_of("monorepo-three"),
        generation_of("monorepo-three", Cloud::Aws),
    )
}

/// Under GitHub's limit however it is counted: UTF-8 bytes, characters, UTF-16 units.
fn assert_under(text: &str, limit: usize) {
    assert!(text.len() < limit, "{} bytes", text.len());
    assert!(text.chars().count() < limit);
    assert!(text.encode_utf16().count() < limit);
}

fn assert_one_scan_section(body: &str) {
    assert_eq!(body.matches(SCAN_START).count(), 1, "one start marker");
    assert_eq!(body.matches(SCAN_END).count(), 1, "one end marker");
    assert!(body.find(SCAN_START) < body.find(SCAN_END));
}

/// A scan report of about `bytes` bytes, shaped like one: tables and folded details.
fn scan_report(bytes: usize) -> String {
    let mut out = String::from(
        "**Vulnerabilities:** 3 critical, 40 high\n\n<details><summary>All findings</summary>\n\n| ID | Package | Severity |\n|---|---|---|\n",
    );
    let mut i = 0;
    while out.len() < bytes {
        out.push_str(&format!("| CVE-2024-{i:05} | libfoo{i} | HIGH |\n"));
        i += 1;
    }
    out.push_str("\n</details>\n");
    out
}

fn huge_generation(n: usize) -> Generation {
    let families = [
        "Dockerfile",
        "",
        "deploy/terraform/x.tf",
        "deploy/monitoring/x.yml",
        "misc/x.txt",
    ];
    Generation {
        artifacts: (0..n)
            .map(|i| Artifact {
                path: match i % families.len() {
                    1 => format!(".github/workflows/w{i:05}.yml"),
                    f => format!("svc-{i:05}/{}", families[f]),
                },
                contents: "x".repeat(100),
                reason: format!("service {i}: {}", "a long reason ".repeat(40)),
            })
            .collect(),
        kept: (0..n).map(|i| format!("kept-{i:05}/Dockerfile")).collect(),
    }
}

fn huge_profile(services: usize) -> RepoProfile {
    let mut profile = RepoProfile {
        root: "huge".to_string(),
        languages: (0..50)
            .map(|i| LanguageShare {
                name: format!("Lang{i}"),
                bytes: 100,
                percent: 2.0,
            })
            .collect(),
        warnings: (0..5_000)
            .map(|i| format!("could not read file {i}: {}", "too big ".repeat(50)))
            .collect(),
        ..RepoProfile::default()
    };
    for i in 0..services {
        let mut s = Service::new(
            format!("service-{i}-{}", "n".repeat(500)),
            format!("apps/service-{i}"),
            Ecosystem::Node,
            PackageManager::Npm,
        );
        s.runtime_version = Some("20".into());
        s.runtime_version_source = Some(format!("apps/service-{i}/.nvmrc"));
        s.port = Some(3000);
        s.health_path = Some("/healthz".into());
        profile.services.push(s);
    }
    profile
}

#[test]
fn pull_request_body_monorepo_three() {
    let (profile, generation) = monorepo();
    let body = pull_request_body(&profile, &generation, None);
    assert_under(&body, BODY_LIMIT);
    assert_one_scan_section(&body);
    assert!(body.contains(SCAN_PLACEHOLDER));
    for a in &generation.artifacts {
        assert!(body.contains(&format!("`{}`", a.path)), "{} listed", a.path);
    }
    insta::assert_snapshot!(body);
}

#[test]
fn pull_request_body_with_kept_files() {
    let profile = profile_of("existing-files");
    let generation = generation_of("existing-files", Cloud::Aws);
    assert!(!generation.kept.is_empty(), "the fixture keeps files");
    let body = pull_request_body(&profile, &generation, Some("No finding."));
    for kept in &generation.kept {
        assert!(body.contains(&format!(
            "- `{kept}`: kept: the repository's own file is used as is"
        )));
    }
    insta::assert_snapshot!(body);
}

#[test]
fn check_run_summary_monorepo_three() {
    let (profile, generation) = monorepo();
    let (title, summary) = check_run_summary(&profile, &generation);
    assert_under(&summary, SUMMARY_LIMIT);
    insta::assert_snapshot!(format!("title: {title}\n\n{summary}"));
}

#[test]
fn status_comments() {
    let states = [
        CommandState::Received,
        CommandState::Running {
            stage: "generating".into(),
        },
        CommandState::Succeeded {
            pr_url: "https://github.com/acme/shop/pull/7".into(),
        },
        CommandState::Failed {
            reason: "clone failed: repository larger than 1 GiB\ncaused by: size limit".into(),
        },
        CommandState::Refused {
            reason: "@octocat needs write access to run opsmith commands.".into(),
        },
    ];
    let mut all = String::new();
    for state in states {
        let comment = status_comment(state);
        assert!(comment.starts_with(STATUS_MARKER));
        all.push_str(&comment);
        all.push_str("\n----\n");
    }
    insta::assert_snapshot!(all);
}

#[test]
fn status_comment_defuses_hostile_reason_and_url() {
    let comment = status_comment(CommandState::Failed {
        reason: format!(
            "<img src=x onerror=alert(1)> @everyone\n{}",
            "x\n".repeat(10_000)
        ),
    });
    assert!(!comment.contains("<img"));
    assert!(!comment.contains("@everyone"));
    assert_under(&comment, 10_000);
    let comment = status_comment(CommandState::Succeeded {
        pr_url: "javascript:alert(1)".into(),
    });
    assert!(!comment.contains("javascript:"));
    let comment = status_comment(CommandState::Succeeded {
        pr_url: "https://x.test/a) [b](https://evil.test".into(),
    });
    assert!(comment.contains("(https://x.test/a%29%20%5Bb%5D%28https://evil.test)"));
}

#[test]
fn body_stays_under_the_limit_for_huge_inputs() {
    let profile = huge_profile(2_000);
    let generation = huge_generation(10_000);
    let big_scan = scan_report(100_000);
    for scan in [None, Some(""), Some("tiny"), Some(big_scan.as_str())] {
        let body = pull_request_body(&profile, &generation, scan);
        assert_under(&body, BODY_LIMIT);
        assert_one_scan_section(&body);
        assert!(body.contains("more files, see the branch."), "files notice");
        assert!(body.contains("more services not shown."), "services notice");
        assert_eq!(
            body.matches("<details").count(),
            body.matches("</details>").count(),
            "every folded block is closed"
        );
    }
    let body = pull_request_body(&profile, &generation, Some(&big_scan));
    assert!(body.contains("…scan report truncated to stay under GitHub's limit"));
    // The truncation notice sits inside the section, after the closed table.
    let section = &body[body.find(SCAN_START).unwrap()..body.find(SCAN_END).unwrap()];
    assert!(section.contains("</details>\n\n…scan report truncated"));

    let (title, summary) = check_run_summary(&profile, &generation);
    assert_under(&summary, SUMMARY_LIMIT);
    assert!(summary.contains("more files, see the branch."));
    assert_eq!(title, "10000 files proposed for 2000 services, 10000 kept");
}

#[test]
fn a_huge_scan_fits_a_small_body_and_every_size_in_between() {
    let (profile, generation) = monorepo();
    for bytes in [0, 1_000, 24_000, 40_000, 64_000, 65_536, 100_000, 1_000_000] {
        let scan = scan_report(bytes);
        for generation in [
            &generation,
            &huge_generation(10_000),
            &Generation::default(),
        ] {
            let body = pull_request_body(&profile, generation, Some(&scan));
            assert_under(&body, BODY_LIMIT);
            assert_one_scan_section(&body);
        }
    }
    // A small repository leaves the scan report more room than the reserve.
    let scan = scan_report(40_000);
    let body = pull_request_body(&profile, &generation, Some(&scan));
    assert!(
        !body.contains("truncated"),
        "a 40 KB report fits beside three services"
    );
}

#[test]
fn scan_text_is_cut_on_a_character_boundary() {
    let (profile, generation) = monorepo();
    let scan = "é🦀".repeat(40_000);
    let body = pull_request_body(&profile, &generation, Some(&scan));
    assert_under(&body, BODY_LIMIT);
    assert_one_scan_section(&body);
}

#[test]
fn replace_scan_section_is_idempotent_and_matches_a_fresh_body() {
    let (profile, generation) = monorepo();
    let empty = pull_request_body(&profile, &generation, None);
    for scan in ["one finding", &scan_report(5_000), &scan_report(200_000)] {
        let once = replace_scan_section(&empty, scan);
        assert_eq!(replace_scan_section(&once, scan), once, "idempotent");
        assert_eq!(once, pull_request_body(&profile, &generation, Some(scan)));
        assert_under(&once, BODY_LIMIT);
        assert_one_scan_section(&once);
        // Replacing by another report and back gives the same body again.
        let other = replace_scan_section(&once, "another report");
        assert!(other.contains("another report") && !other.contains("one finding"));
        assert_eq!(replace_scan_section(&other, scan), once);
    }
}

#[test]
fn replace_scan_section_adds_missing_markers_and_mends_a_lone_start() {
    let added = replace_scan_section("Someone rewrote the body.\n", "report");
    assert_one_scan_section(&added);
    assert!(added.starts_with("Someone rewrote the body.\n\n"));
    assert!(added.contains(&format!("{SCAN_START}\nreport\n{SCAN_END}")));
    assert_eq!(replace_scan_section(&added, "report"), added);

    let from_nothing = replace_scan_section("", "report");
    assert_one_scan_section(&from_nothing);

    let lone = format!("intro\n{SCAN_START}\nold report without an end");
    let mended = replace_scan_section(&lone, "new");
    assert_one_scan_section(&mended);
    assert!(!mended.contains("old report"));

    // A body someone filled to the brim still leaves the report room, and stays under the limit.
    let brim = format!(
        "{}\n{SCAN_START}\nold\n{SCAN_END}\n",
        "filler line\n".repeat(10_000)
    );
    let replaced = replace_scan_section(&brim, &scan_report(30_000));
    assert_under(&replaced, BODY_LIMIT);
    assert_one_scan_section(&replaced);
    assert!(replaced.contains("description truncated"));
    assert_eq!(
        replace_scan_section(&replaced, &scan_report(30_000)),
        replaced
    );
}

#[test]
fn markers_inside_a_scan_report_are_defused() {
    let (profile, generation) = monorepo();
    let scan = format!("before {SCAN_END} middle {SCAN_START} after");
    let body = pull_request_body(&profile, &generation, Some(&scan));
    assert_one_scan_section(&body);
    assert!(body.contains("before") && body.contains("after"));
    assert_eq!(replace_scan_section(&body, &scan), body);
}

fn hostile_profile() -> (RepoProfile, Generation) {
    let name = "a|b<script>alert(1)</script>\n| injected | row |\n`code` @everyone [x](javascript:alert(1)) <!-- opsmith:scan:end -->";
    let mut s = Service::new(
        name,
        "apps/a|b`c`<x>",
        Ecosystem::Python,
        PackageManager::Pip,
    );
    s.framework = Some("flask|<b>bold</b>".into());
    s.runtime_version = Some("3.12\n| x |".into());
    s.runtime_version_source = Some("apps/a|b/.python-version".into());
    s.health_path = Some("/health|`<img src=x>`".into());
    let profile = RepoProfile {
        root: "hostile".into(),
        languages: vec![LanguageShare {
            name: "Py<thon>|".into(),
            bytes: 1,
            percent: 100.0,
        }],
        services: vec![s],
        warnings: vec!["could not read <script>x</script>".into()],
        ..RepoProfile::default()
    };
    let generation = Generation {
        artifacts: vec![Artifact {
            path: "apps/<!-- opsmith:scan:start -->/Dockerfile".into(),
            contents: String::new(),
            reason: format!("{name}: multi-stage image build"),
        }],
        kept: vec!["apps/x`y/Dockerfile".into()],
    };
    (profile, generation)
}

/// Pipes that split cells: not preceded by a backslash.
fn cell_separators(row: &str) -> usize {
    let bytes = row.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
        .count()
}

#[test]
fn repository_text_is_escaped() {
    let (profile, generation) = hostile_profile();
    let body = pull_request_body(&profile, &generation, None);
    let (_, summary) = check_run_summary(&profile, &generation);
    for text in [&body, &summary] {
        assert!(!text.contains("<script"), "no raw HTML from the repository");
        assert!(!text.contains("<b>") && !text.contains("<img") && !text.contains("<x>"));
        assert!(!text.contains("@everyone"), "no mention");
        assert!(!text.contains("[x](javascript:"), "no link");
        // Every row has as many cell separators as its table's header: nothing split or added a cell.
        let mut header = None;
        for line in text.lines() {
            if !line.starts_with('|') {
                header = None;
                continue;
            }
            let expected = *header.get_or_insert(cell_separators(line));
            assert_eq!(cell_separators(line), expected, "row {line:?}");
        }
        assert!(!text.contains("| injected | row |"));
    }
    assert_one_scan_section(&body);
    assert_eq!(
        replace_scan_section(&body, "r"),
        pull_request_body(&profile, &generation, Some("r"))
    );
    insta::assert_snapshot!(body);
}

#[test]
fn no_secret_like_values_reach_the_report() {
    let (mut profile, mut generation) = monorepo();
    let secrets = [
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
        "hunter2-db-password",
    ];
    let service = &mut profile.services[0];
    service.start_command = Some(format!(
        "AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} gunicorn app:app",
        secrets[0], secrets[1]
    ));
    service.build_command = Some(format!("GITHUB_TOKEN={} make", secrets[2]));
    service.fact(
        "start_env",
        vec![format!("DATABASE_PASSWORD={}", secrets[3])],
    );
    generation.artifacts[0]
        .contents
        .push_str(&format!("\nENV SECRET_KEY={}\n", secrets[3]));
    let body = pull_request_body(&profile, &generation, None);
    let (title, summary) = check_run_summary(&profile, &generation);
    for text in [&body, &title, &summary] {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} leaked");
        }
        assert!(!text.contains("PASSWORD") && !text.contains("SECRET_ACCESS_KEY"));
    }
}

#[test]
fn regenerating_gives_the_same_body() {
    let (profile, generation) = monorepo();
    let again = generate(&profile, &GenerateSettings::default()).expect("generates");
    assert_eq!(
        pull_request_body(&profile, &generation, None),
        pull_request_body(&profile, &again, None)
    );
}
