//! The monitoring artifacts under `deploy/monitoring/`: the generated trees pass promtool (rules, rule
//! unit tests, configuration) and amtool, and the files have the properties operators rely on.

mod support;

use opsmith::generate::{Artifact, Context, GenerateSettings, Generation, generate, monitoring};
use opsmith::profile::{Ecosystem, PackageManager, RepoProfile, Service};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::{run, tool, validate_tree, write_tree};

const DIR: &str = "deploy/monitoring";

fn service(
    name: &str,
    path: &str,
    ecosystem: Ecosystem,
    pm: PackageManager,
    framework: Option<&str>,
    port: Option<u16>,
) -> Service {
    let mut s = Service::new(name, path, ecosystem, pm);
    s.framework = framework.map(str::to_string);
    s.port = port;
    s
}

fn one_service() -> RepoProfile {
    RepoProfile {
        root: "one-service".into(),
        services: vec![service(
            "api",
            ".",
            Ecosystem::Node,
            PackageManager::Npm,
            Some("express"),
            Some(3000),
        )],
        ..Default::default()
    }
}

/// A monorepo: a Next.js front end, a Spring Boot API and a Python worker without a port.
fn three_services() -> RepoProfile {
    RepoProfile {
        root: "three-services".into(),
        services: vec![
            service(
                "web-frontend",
                "apps/web-frontend",
                Ecosystem::Node,
                PackageManager::Pnpm,
                Some("next"),
                Some(3000),
            ),
            service(
                "billing-api",
                "services/billing-api",
                Ecosystem::Java,
                PackageManager::Maven,
                Some("spring-boot"),
                Some(8080),
            ),
            service(
                "queue-worker",
                "workers/queue-worker",
                Ecosystem::Python,
                PackageManager::Poetry,
                None,
                None,
            ),
        ],
        ..Default::default()
    }
}

/// The monitoring artifacts alone: the profiles here carry none of the ecosystem facts the other
/// artifact families need.
fn generation(profile: &RepoProfile) -> Generation {
    let context = Context::new(profile, &GenerateSettings::default());
    Generation {
        artifacts: monitoring::artifacts(&context).expect("monitoring generates"),
        kept: Vec::new(),
    }
}

fn artifact<'a>(generation: &'a Generation, path: &str) -> &'a Artifact {
    let full = format!("{DIR}/{path}");
    generation
        .artifacts
        .iter()
        .find(|a| a.path == full)
        .unwrap_or_else(|| panic!("{full} is not generated"))
}

fn yaml(generation: &Generation, path: &str) -> Value {
    let text = &artifact(generation, path).contents;
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{path} is not YAML ({e}):\n{text}"))
}

/// Writes the generated tree and runs every validator over it, plus `promtool check config`.
fn assert_valid(generation: &Generation) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    write_tree(generation, out.path());
    let mut problems = validate_tree(out.path());
    let config = out.path().join(DIR).join("prometheus/prometheus.yml");
    let (ok, text) = run(Command::new(tool("promtool"))
        .args(["check", "config"])
        .arg(&config));
    if !ok {
        problems.push(format!("promtool check config: {text}"));
    }
    assert!(
        problems.is_empty(),
        "the monitoring files do not pass:\n{}",
        problems.join("\n")
    );
    out
}

/// Alert name → the `service` label of every rule with that name, from the rules file.
fn alerts_by_service(generation: &Generation) -> Vec<(String, String)> {
    let rules = yaml(generation, "prometheus/alerts.rules.yml");
    let mut out = Vec::new();
    for group in rules["groups"].as_array().expect("groups") {
        for rule in group["rules"].as_array().expect("rules") {
            if let Some(alert) = rule["alert"].as_str() {
                let service = rule["labels"]["service"].as_str().expect("service label");
                out.push((service.to_string(), alert.to_string()));
            }
        }
    }
    out
}

const HTTP_ALERTS: [&str; 3] = [
    "HTTPErrorRateHigh",
    "HTTPLatencyP95High",
    "HTTPLatencyP99High",
];
const EVERY_SERVICE_ALERTS: [&str; 4] = [
    "ServiceDown",
    "ContainerRestarting",
    "ContainerMemoryNearLimit",
    "ContainerCPUThrottled",
];

#[test]
fn one_service_passes_promtool_and_amtool() {
    assert_valid(&generation(&one_service()));
}

#[test]
fn three_services_pass_promtool_and_amtool() {
    assert_valid(&generation(&three_services()));
}

#[test]
fn no_service_means_no_monitoring() {
    let g = generate(&RepoProfile::default(), &GenerateSettings::default()).unwrap();
    assert!(
        g.artifacts.iter().all(|a| !a.path.starts_with(DIR)),
        "{:?}",
        g.artifacts.iter().map(|a| &a.path).collect::<Vec<_>>()
    );
}

#[test]
fn every_service_has_its_alerts_and_the_worker_no_http_ones() {
    let g = generation(&three_services());
    let alerts = alerts_by_service(&g);
    let has = |service: &str, alert: &str| {
        alerts
            .iter()
            .filter(|(s, a)| s == service && a == alert)
            .count()
    };
    for service in ["web-frontend", "billing-api", "queue-worker"] {
        for alert in EVERY_SERVICE_ALERTS {
            assert_eq!(has(service, alert), 1, "{service} {alert}");
        }
    }
    for service in ["web-frontend", "billing-api"] {
        for alert in HTTP_ALERTS {
            assert_eq!(has(service, alert), 1, "{service} {alert}");
        }
    }
    for alert in HTTP_ALERTS {
        assert_eq!(has("queue-worker", alert), 0, "queue-worker {alert}");
    }
    let rules = &artifact(&g, "prometheus/alerts.rules.yml").contents;
    assert!(!rules.contains(r#"job="queue-worker""#), "{rules}");
}

#[test]
fn every_alert_has_severity_and_annotations() {
    let g = generation(&three_services());
    let rules = yaml(&g, "prometheus/alerts.rules.yml");
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            if rule["alert"].is_null() {
                continue;
            }
            let severity = rule["labels"]["severity"].as_str().unwrap();
            assert!(matches!(severity, "critical" | "warning"), "{rule}");
            for key in ["summary", "description", "runbook_url"] {
                assert!(rule["annotations"][key].is_string(), "{key} in {rule}");
            }
            assert!(rule["for"].is_string(), "for: in {rule}");
        }
    }
}

/// Every alert of every service appears in the promtool tests with an alert it expects to fire, and
/// the tests also check that healthy series fire nothing.
#[test]
fn static_sites_get_only_the_container_alerts() {
    let mut spa = service(
        "spa",
        "apps/spa",
        Ecosystem::Node,
        PackageManager::Npm,
        Some("vite"),
        Some(8080),
    );
    spa.fact("serve", "static");
    let site = service(
        "site",
        "site",
        Ecosystem::Static,
        PackageManager::None,
        None,
        Some(8080),
    );
    let profile = RepoProfile {
        services: vec![spa, site],
        ..Default::default()
    };
    let g = generation(&profile);
    assert_valid(&g);
    let alerts = alerts_by_service(&g);
    for service in ["spa", "site"] {
        for alert in HTTP_ALERTS {
            assert!(
                !alerts.contains(&(service.into(), alert.into())),
                "{service} {alert}"
            );
        }
        assert!(alerts.contains(&(service.into(), "ServiceDown".into())));
    }
    let config = yaml(&g, "prometheus/prometheus.yml");
    let jobs: Vec<&str> = config["scrape_configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_name"].as_str().unwrap())
        .collect();
    assert_eq!(jobs, ["prometheus", "cadvisor"]);
}

#[test]
fn the_rule_tests_cover_every_alert() {
    let g = generation(&three_services());
    let tests = yaml(&g, "prometheus/alerts.rules.test.yml");
    assert_eq!(tests["rule_files"][0], "alerts.rules.yml");
    let mut fired: Vec<(String, String)> = Vec::new();
    let mut quiet = 0;
    for case in tests["tests"].as_array().unwrap() {
        for t in case["alert_rule_test"].as_array().into_iter().flatten() {
            let alert = t["alertname"].as_str().unwrap();
            let expected = t["exp_alerts"].as_array().unwrap();
            if expected.is_empty() {
                quiet += 1;
            }
            for e in expected {
                let service = e["exp_labels"]["service"].as_str().unwrap();
                fired.push((service.to_string(), alert.to_string()));
            }
        }
    }
    let mut defined = alerts_by_service(&g);
    defined.sort();
    fired.sort();
    fired.dedup();
    assert_eq!(fired, defined);
    assert!(
        quiet >= defined.len() / 3,
        "only {quiet} must-not-fire checks"
    );
}

#[test]
fn a_wrong_expectation_makes_promtool_fail() {
    let out = assert_valid(&generation(&one_service()));
    let dir = out.path().join(DIR).join("prometheus");
    let test_file = dir.join("alerts.rules.test.yml");
    let good = std::fs::read_to_string(&test_file).unwrap();
    let promtool_passes = |body: &str| {
        std::fs::write(dir.join("broken.rules.test.yml"), body).unwrap();
        run(Command::new(tool("promtool"))
            .args(["test", "rules", "broken.rules.test.yml"])
            .current_dir(&dir))
    };
    assert!(promtool_passes(&good).0, "the unchanged copy must pass");
    // A wrong value in an expected annotation.
    assert!(good.contains("9.091%"));
    let (ok, text) = promtool_passes(&good.replace("9.091%", "9.1%"));
    assert!(!ok, "promtool accepted a wrong annotation:\n{text}");
    // A healthy service expected to fire.
    let (ok, text) = promtool_passes(&good.replacen(
        "exp_alerts: []",
        "exp_alerts: [{exp_labels: {severity: critical, service: api}}]",
        1,
    ));
    assert!(!ok, "promtool accepted an alert that cannot fire:\n{text}");
    // A wrong label.
    let (ok, text) = promtool_passes(&good.replacen("severity: critical", "severity: warning", 1));
    assert!(!ok, "promtool accepted a wrong severity:\n{text}");
}

#[test]
fn alertmanager_reads_secrets_from_files_and_inhibits_warnings() {
    let g = generation(&three_services());
    let am = yaml(&g, "alertmanager/alertmanager.yml");
    let receivers = am["receivers"].as_array().unwrap();
    let slack = receivers
        .iter()
        .flat_map(|r| r["slack_configs"].as_array().into_iter().flatten())
        .collect::<Vec<_>>();
    let pagerduty = receivers
        .iter()
        .flat_map(|r| r["pagerduty_configs"].as_array().into_iter().flatten())
        .collect::<Vec<_>>();
    assert!(!slack.is_empty() && !pagerduty.is_empty());
    for s in &slack {
        assert!(s["api_url_file"].as_str().unwrap().starts_with('/'), "{s}");
        assert!(s.get("api_url").is_none(), "{s}");
    }
    for p in &pagerduty {
        assert!(
            p["routing_key_file"].as_str().unwrap().starts_with('/'),
            "{p}"
        );
        assert!(
            p.get("routing_key").is_none() && p.get("service_key").is_none(),
            "{p}"
        );
    }
    assert!(am["global"].get("slack_api_url").is_none());
    let group_by: Vec<&str> = am["route"]["group_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(group_by, ["alertname", "service"]);
    let inhibit = &am["inhibit_rules"][0];
    assert_eq!(inhibit["source_matchers"][0], r#"severity="critical""#);
    assert_eq!(inhibit["target_matchers"][0], r#"severity="warning""#);
    assert_eq!(inhibit["equal"][0], "service");
    // Critical alerts page: the PagerDuty route matches them.
    let routes = am["route"]["routes"].as_array().unwrap();
    let pager = routes
        .iter()
        .find(|r| r["receiver"] == "pagerduty")
        .unwrap();
    assert_eq!(pager["matchers"][0], r#"severity="critical""#);
}

/// The receivers Alertmanager picks for an alert with these labels, as `amtool` computes them.
fn receivers(config: &Path, labels: &[&str]) -> String {
    let (ok, text) = run(Command::new(tool("amtool"))
        .args(["config", "routes", "test", "--config.file"])
        .arg(config)
        .args(labels));
    assert!(ok, "{text}");
    text.lines()
        .filter(|l| !l.starts_with("Warning:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn critical_alerts_page_and_warnings_go_to_slack() {
    let out = assert_valid(&generation(&three_services()));
    let config = out.path().join(DIR).join("alertmanager/alertmanager.yml");
    let route = |labels: &[&str]| receivers(&config, labels);
    assert_eq!(
        route(&[
            "alertname=ServiceDown",
            "service=billing-api",
            "severity=critical"
        ]),
        "pagerduty,slack"
    );
    assert_eq!(
        route(&[
            "alertname=ContainerCPUThrottled",
            "service=queue-worker",
            "severity=warning"
        ]),
        "slack"
    );
}

/// The notification templates in the receivers render (amtool fills them with example alerts).
#[test]
fn the_notification_templates_render() {
    let g = generation(&three_services());
    let am = yaml(&g, "alertmanager/alertmanager.yml");
    let dir = tempfile::tempdir().unwrap();
    let glob = dir.path().join("none.tmpl");
    std::fs::write(&glob, "{{ define \"none\" }}{{ end }}").unwrap();
    let render = |text: &str| {
        run(Command::new(tool("amtool"))
            .args(["template", "render", "--template.glob"])
            .arg(&glob)
            .arg(format!("--template.text={text}")))
    };
    let mut templates = Vec::new();
    for r in am["receivers"].as_array().unwrap() {
        for kind in ["slack_configs", "pagerduty_configs"] {
            for c in r[kind].as_array().into_iter().flatten() {
                for v in c.as_object().unwrap().values() {
                    if let Some(s) = v.as_str().filter(|s| s.contains("{{")) {
                        templates.push(s.to_string());
                    }
                }
            }
        }
    }
    assert!(templates.len() >= 4, "{templates:?}");
    for text in &templates {
        let (ok, out) = render(text);
        assert!(ok, "{text}: {out}");
    }
    assert!(!render(&templates[0].replacen("}}", "}", 1)).0);
}

/// Every dashboard query is valid PromQL: promtool checks them as recording rules.
#[test]
fn the_dashboard_queries_parse() {
    let g = generation(&three_services());
    let dashboard: Value =
        serde_json::from_str(&artifact(&g, "grafana/dashboards/overview.json").contents).unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let mut count = 0;
    for p in dashboard["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().unwrap();
            rules.push_str(&format!(
                "      - record: dashboard:query{count}\n        expr: {}\n",
                serde_json::to_string(expr).unwrap()
            ));
            count += 1;
        }
    }
    assert!(count > 20, "{count} queries");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard.rules.yml");
    std::fs::write(&file, &rules).unwrap();
    let (ok, text) = run(Command::new(tool("promtool"))
        .args(["check", "rules"])
        .arg(&file));
    assert!(ok, "{text}\n{rules}");
    // The check is real: a broken query fails it.
    std::fs::write(&file, rules.replacen("sum(", "sum((", 1)).unwrap();
    let (ok, _) = run(Command::new(tool("promtool"))
        .args(["check", "rules"])
        .arg(&file));
    assert!(!ok);
}

#[test]
fn prometheus_scrapes_each_http_service_at_its_metrics_path() {
    let g = generation(&three_services());
    let config = yaml(&g, "prometheus/prometheus.yml");
    let jobs = config["scrape_configs"].as_array().unwrap();
    let job = |name: &str| jobs.iter().find(|j| j["job_name"] == name);
    let web = job("web-frontend").expect("web-frontend job");
    assert_eq!(web["metrics_path"], "/metrics");
    assert_eq!(web["static_configs"][0]["targets"][0], "web-frontend:3000");
    let api = job("billing-api").expect("billing-api job");
    assert_eq!(api["metrics_path"], "/actuator/prometheus");
    assert_eq!(api["static_configs"][0]["targets"][0], "billing-api:8080");
    assert!(job("queue-worker").is_none());
    assert!(job("cadvisor").is_some());
    assert_eq!(config["rule_files"][0], "alerts.rules.yml");
    assert_eq!(
        config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0],
        "alertmanager:9093"
    );
}

#[test]
fn a_metrics_path_fact_wins_over_the_framework_default() {
    let mut profile = one_service();
    profile.services[0].fact("metrics_path", "/internal/metrics");
    let g = generation(&profile);
    assert_valid(&g);
    let config = yaml(&g, "prometheus/prometheus.yml");
    let api = config["scrape_configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job_name"] == "api")
        .unwrap();
    assert_eq!(api["metrics_path"], "/internal/metrics");
}

#[test]
fn the_dashboard_has_one_panel_set_per_service() {
    let g = generation(&three_services());
    let text = &artifact(&g, "grafana/dashboards/overview.json").contents;
    let dashboard: Value = serde_json::from_str(text).expect("dashboard is JSON");
    assert!(
        dashboard["description"]
            .as_str()
            .unwrap()
            .starts_with("Generated by opsmith from: 3 service(s)")
    );
    assert!(dashboard["schemaVersion"].as_i64().unwrap() >= 36);
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables
            .iter()
            .any(|v| v["name"] == "datasource" && v["type"] == "datasource")
    );
    let panels = dashboard["panels"].as_array().unwrap();
    let rows: Vec<&str> = panels
        .iter()
        .filter(|p| p["type"] == "row")
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            "web-frontend",
            "billing-api",
            "queue-worker (no HTTP metrics)"
        ]
    );
    let mut ids: Vec<i64> = panels.iter().map(|p| p["id"].as_i64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    // The panels between one row and the next are about that row's service.
    let mut sets: Vec<(String, Vec<&Value>)> = Vec::new();
    for p in panels {
        if p["type"] == "row" {
            let name = p["title"].as_str().unwrap().split(' ').next().unwrap();
            sets.push((name.to_string(), Vec::new()));
        } else {
            sets.last_mut().unwrap().1.push(p);
        }
    }
    for (service, set) in &sets {
        let titles: Vec<&str> = set.iter().map(|p| p["title"].as_str().unwrap()).collect();
        for p in set {
            assert_eq!(p["datasource"]["uid"], "${datasource}");
            for t in p["targets"].as_array().unwrap() {
                let expr = t["expr"].as_str().unwrap();
                assert!(
                    expr.contains(&format!("\"{service}\"")),
                    "{service}: {expr}"
                );
            }
        }
        for title in [
            "Restarts (15m)",
            "Memory",
            "CPU cores used",
            "CPU throttled",
        ] {
            assert!(titles.contains(&title), "{service}: {titles:?}");
        }
        let http = service != "queue-worker";
        for title in [
            "Request rate",
            "Error rate (5xx share)",
            "Latency",
            "Instances up",
        ] {
            assert_eq!(titles.contains(&title), http, "{service}: {titles:?}");
        }
    }
    assert_eq!(sets.len(), 3);
}

#[test]
fn grafana_provisioning_points_at_prometheus_and_the_dashboards() {
    let g = generation(&one_service());
    let ds = yaml(&g, "grafana/provisioning/datasources/prometheus.yml");
    assert_eq!(ds["datasources"][0]["type"], "prometheus");
    assert_eq!(ds["datasources"][0]["url"], "http://prometheus:9090");
    let dashboards = yaml(&g, "grafana/provisioning/dashboards/opsmith.yml");
    assert_eq!(dashboards["providers"][0]["type"], "file");
    assert!(dashboards["providers"][0]["options"]["path"].is_string());
}

#[test]
fn fluent_bit_ships_labelled_logs_over_tls_with_credentials_from_the_environment() {
    let g = generation(&three_services());
    let text = &artifact(&g, "logging/fluent-bit.yaml").contents;
    let config = yaml(&g, "logging/fluent-bit.yaml");
    let pipeline = &config["pipeline"];
    let inputs = pipeline["inputs"].as_array().unwrap();
    let paths: Vec<&str> = inputs.iter().filter_map(|i| i["path"].as_str()).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/var/lib/docker/containers/")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("/var/log/containers/")),
        "{paths:?}"
    );
    assert!(inputs.iter().all(|i| i["name"] == "tail"));
    let filters = pipeline["filters"].as_array().unwrap();
    let grep = filters
        .iter()
        .find(|f| f["name"] == "grep")
        .expect("grep filter");
    assert_eq!(
        grep["regex"],
        r"service ^(web-frontend|billing-api|queue-worker)$"
    );
    let outputs = pipeline["outputs"].as_array().unwrap();
    let es = outputs
        .iter()
        .find(|o| o["name"] == "es")
        .expect("es output");
    assert_eq!(es["tls"], true);
    assert_eq!(es["tls.verify"], true);
    for key in ["host", "http_user", "http_passwd"] {
        let v = es[key].as_str().unwrap_or_default();
        assert!(v.starts_with("${") && v.ends_with('}'), "{key}: {v:?}");
    }
    // Every parser an input names is defined.
    let parsers: Vec<&str> = config["parsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for i in inputs {
        if let Some(p) = i["parser"].as_str() {
            assert!(parsers.contains(&p), "{p} is not defined");
        }
    }
    assert!(
        text.contains("OpenSearch") && text.contains("Loki"),
        "{text}"
    );
}

/// The Lua filter that names the service of a Kubernetes (CRI) log line, run by a real Lua (Fluent Bit
/// embeds LuaJIT; the string patterns used are the same in Lua 5.1 and 5.4).
#[test]
fn the_cri_log_filter_finds_the_service_in_the_file_name() {
    let g = generation(&three_services());
    let config = yaml(&g, "logging/fluent-bit.yaml");
    let lua = config["pipeline"]["filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "lua")
        .expect("lua filter");
    assert_eq!(lua["match"], "cri.*");
    let call = lua["call"].as_str().unwrap();
    let id = "0123456789abcdef".repeat(4);
    let script = format!(
        "{code}\n\
         local function show(tag)\n\
           local status, _, record = {call}(tag, 0, {{log = \"x\"}})\n\
           print(status .. \" \" .. tostring(record.service))\n\
         end\n\
         show(\"cri.var.log.containers.queue-worker-7d9f8c6b5-x2x9z_default_queue-worker-{id}.log\")\n\
         show(\"cri.var.log.containers.web-frontend-0_shop-prod_web-frontend-{id}.log\")\n\
         show(\"cri.var.log.containers.not-a-container-log.txt\")\n",
        code = lua["code"].as_str().unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("filter.lua");
    std::fs::write(&file, script).unwrap();
    let (ok, text) = run(Command::new(tool("lua5.4")).arg(&file));
    assert!(ok, "{text}");
    assert_eq!(text, "2 queue-worker\n2 web-frontend\n0 nil\n");
}

#[test]
fn every_file_opens_with_the_generated_by_line() {
    let g = generation(&three_services());
    for a in g.artifacts.iter().filter(|a| a.path.starts_with(DIR)) {
        let first = a.contents.lines().next().unwrap_or_default();
        let expected = if a.path.ends_with(".json") {
            "{"
        } else if a.path.ends_with(".md") {
            "<!-- Generated by opsmith from: 3 service(s)"
        } else {
            "# Generated by opsmith from: 3 service(s)"
        };
        assert!(first.starts_with(expected), "{}: {first}", a.path);
    }
}

#[test]
fn the_readme_explains_the_metric_conventions() {
    let g = generation(&three_services());
    let readme = &artifact(&g, "README.md").contents;
    for needle in [
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "container_start_time_seconds",
        "/actuator/prometheus",
        "docker compose",
        "promtool test rules",
    ] {
        assert!(readme.contains(needle), "README lacks {needle}");
    }
}

fn snapshot(g: &Generation, path: &str) {
    let name = format!("three_services@{}", path.replace('/', "__"));
    insta::with_settings!({snapshot_path => "snapshots/monitoring", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, artifact(g, path).contents);
    });
}

#[test]
fn snapshots_of_the_rules_and_alertmanager() {
    let g = generation(&three_services());
    snapshot(&g, "prometheus/alerts.rules.yml");
    snapshot(&g, "alertmanager/alertmanager.yml");
}

#[test]
fn the_written_tree_is_laid_out_under_deploy_monitoring() {
    let g = generation(&one_service());
    let out = tempfile::tempdir().unwrap();
    write_tree(&g, out.path());
    for path in [
        "prometheus/alerts.rules.yml",
        "prometheus/alerts.rules.test.yml",
        "prometheus/prometheus.yml",
        "alertmanager/alertmanager.yml",
        "grafana/dashboards/overview.json",
        "grafana/provisioning/datasources/prometheus.yml",
        "grafana/provisioning/dashboards/opsmith.yml",
        "logging/fluent-bit.yaml",
        "README.md",
    ] {
        assert!(
            Path::new(&out.path().join(DIR).join(path)).is_file(),
            "{path}"
        );
    }
}
