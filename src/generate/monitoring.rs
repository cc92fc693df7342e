//! The monitoring artifacts under `deploy/monitoring/`: Prometheus alert rules and their unit tests, the
//! Prometheus and Alertmanager configurations, a Grafana dashboard with its provisioning, and a Fluent
//! Bit configuration that ships container logs to Elasticsearch.
//!
//! Every service is named by its compose slug (the same name [`super::ci::jobs`] gives it): that name is
//! the Prometheus `job`, the cAdvisor `container` label and the `service` label on every alert, so the
//! rules, the scrape configuration, the dashboard and the log pipeline all agree. The metric
//! conventions the rules assume are documented in `templates/monitoring/README.md`.

use super::{Artifact, Context, GenerateError, ci, templates, with_header};
use crate::profile::Ecosystem;
use serde::Serialize;
use serde_json::{Value, json};

const DIR: &str = "deploy/monitoring";

/// One service as the monitoring templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct MonitoredService {
    /// The compose slug: Prometheus job, cAdvisor `container` label and alert `service` label.
    pub name: String,
    /// Whether the service serves HTTP and is expected to expose Prometheus metrics: it is scraped and
    /// gets the HTTP alerts (error rate, latency). Other services get the container alerts only.
    pub http: bool,
    pub port: Option<u16>,
    /// Where Prometheus scrapes the service's metrics.
    pub metrics_path: String,
    /// `host:port` of the scrape target in the compose network, for HTTP services.
    pub target: Option<String>,
}

/// The services to monitor, in the context's order.
pub fn monitored_services(context: &Context) -> Vec<MonitoredService> {
    let jobs = ci::jobs(context);
    context
        .services
        .iter()
        .zip(jobs)
        .map(|(view, job)| {
            let s = &view.service;
            // A static site (or a front end built to static files, `serve: static`) is served by a
            // plain web server that exposes no Prometheus metrics: scraping it would only say "down".
            let static_files = s.ecosystem == Ecosystem::Static
                || view.facts.get("serve").and_then(|v| v.as_str()) == Some("static");
            let http = s.port.is_some() && !static_files;
            let metrics_path = view
                .facts
                .get("metrics_path")
                .and_then(|v| v.as_str())
                .filter(|p| is_url_path(p))
                .map(str::to_string)
                .unwrap_or_else(|| default_metrics_path(s.framework.as_deref()).to_string());
            MonitoredService {
                target: s.port.filter(|_| http).map(|p| format!("{}:{p}", job.slug)),
                name: job.slug,
                http,
                port: s.port,
                metrics_path,
            }
        })
        .collect()
}

/// One `promtool test rules` case: a scenario played on one service (none for the healthy case).
#[derive(Debug, Clone, Serialize)]
pub struct RuleTest {
    pub name: String,
    /// `healthy`, a fault (`down`, `errors`, `latency-p95`, `latency-p99`, `restarts`, `memory`,
    /// `cpu`, `restarts-kubernetes`), or a metric convention the recording rules must accept
    /// (`micrometer`, `histogram-only`).
    pub scenario: &'static str,
    /// The name of the service the scenario is played on, empty for the healthy case.
    pub service: String,
    pub subject: Option<MonitoredService>,
}

const HTTP_FAULTS: [&str; 7] = [
    "down",
    "errors",
    "latency-p95",
    "latency-p99",
    "restarts",
    "memory",
    "cpu",
];
const CONTAINER_FAULTS: [&str; 4] = ["down", "restarts", "memory", "cpu"];

/// The test cases of `alerts.rules.test.yml`: everything healthy, then every alert of every service,
/// then the Kubernetes restart count on the first service and the alternative metric names on the
/// first HTTP service.
fn rule_tests(services: &[MonitoredService]) -> Vec<RuleTest> {
    let case = |scenario: &'static str, s: Option<&MonitoredService>| RuleTest {
        name: match s {
            Some(s) => format!("{}: {scenario}", s.name),
            None => "every service healthy: no alert".to_string(),
        },
        scenario,
        service: s.map(|s| s.name.clone()).unwrap_or_default(),
        subject: s.cloned(),
    };
    let mut cases = vec![case("healthy", None)];
    for s in services {
        let faults: &[&'static str] = if s.http {
            &HTTP_FAULTS
        } else {
            &CONTAINER_FAULTS
        };
        cases.extend(faults.iter().map(|f| case(f, Some(s))));
    }
    if let Some(s) = services.first() {
        cases.push(case("restarts-kubernetes", Some(s)));
    }
    if let Some(s) = services.iter().find(|s| s.http) {
        cases.push(case("micrometer", Some(s)));
        cases.push(case("histogram-only", Some(s)));
    }
    cases
}

/// Every alert name the rules define, in a stable order.
fn alert_names(services: &[MonitoredService]) -> Vec<&'static str> {
    let mut names = vec!["ServiceDown"];
    if services.iter().any(|s| s.http) {
        names.extend([
            "HTTPErrorRateHigh",
            "HTTPLatencyP95High",
            "HTTPLatencyP99High",
        ]);
    }
    names.extend([
        "ContainerRestarting",
        "ContainerMemoryNearLimit",
        "ContainerCPUThrottled",
    ]);
    names
}

/// A plain absolute URL path, safe to put in YAML and PromQL strings unquoted by the templates.
fn is_url_path(path: &str) -> bool {
    path.starts_with('/')
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c))
}

/// Where the framework's usual Prometheus integration serves metrics.
fn default_metrics_path(framework: Option<&str>) -> &'static str {
    match framework {
        // Micrometer's Prometheus registry behind Spring Boot Actuator.
        Some("spring-boot") => "/actuator/prometheus",
        _ => "/metrics",
    }
}

pub fn artifacts(context: &Context) -> Result<Vec<Artifact>, GenerateError> {
    if context.services.is_empty() {
        return Ok(Vec::new());
    }
    let services = monitored_services(context);
    let facts = context.summary();
    let extra = [
        (
            "monitored",
            serde_json::to_value(&services).expect("services serialize"),
        ),
        (
            "rule_tests",
            serde_json::to_value(rule_tests(&services)).expect("test cases serialize"),
        ),
        ("alert_names", json!(alert_names(&services))),
        ("log_filter", Value::String(service_pattern(&services))),
        ("any_http", Value::Bool(services.iter().any(|s| s.http))),
    ];
    let render =
        |template: &str| templates::render(&format!("monitoring/{template}"), context, &extra);
    let mut out = Vec::new();
    let mut push = |path: &str, contents: String, reason: &str| {
        out.push(Artifact {
            path: format!("{DIR}/{path}"),
            contents,
            reason: reason.to_string(),
        });
    };
    for (template, path, reason) in [
        (
            "alerts.rules.yml",
            "prometheus/alerts.rules.yml",
            "Prometheus alerts per service: down, error rate, latency, restarts, saturation",
        ),
        (
            "alerts.rules.test.yml",
            "prometheus/alerts.rules.test.yml",
            "promtool unit tests that make every alert fire (and stay quiet on a healthy service)",
        ),
        (
            "prometheus.yml",
            "prometheus/prometheus.yml",
            "Prometheus scrape configuration for the services, cAdvisor and the alert rules",
        ),
        (
            "alertmanager.yml",
            "alertmanager/alertmanager.yml",
            "Alertmanager routing: critical to PagerDuty and Slack, warnings to Slack, secrets read from files",
        ),
        (
            "grafana-datasource.yml",
            "grafana/provisioning/datasources/prometheus.yml",
            "Grafana data source provisioning for the bundled Prometheus",
        ),
        (
            "grafana-dashboards.yml",
            "grafana/provisioning/dashboards/opsmith.yml",
            "Grafana dashboard provisioning for the generated dashboards",
        ),
        (
            "fluent-bit.yaml",
            "logging/fluent-bit.yaml",
            "Fluent Bit pipeline shipping container logs, labelled by service, to Elasticsearch over TLS",
        ),
    ] {
        push(path, with_header("#", &facts, render(template)?), reason);
    }
    push(
        "grafana/dashboards/overview.json",
        dashboard_json(&services, &facts),
        "Grafana dashboard: traffic, errors, latency, restarts and resources per service",
    );
    push(
        "README.md",
        markdown_header(&facts, render("README.md")?),
        "how the monitoring stack is wired and which metric conventions the alerts assume",
    );
    Ok(out)
}

/// The header line as an HTML comment, which Markdown allows.
fn markdown_header(facts: &str, body: String) -> String {
    let text = with_header("", facts, String::new());
    format!("<!--{} -->\n{body}", text.trim_end())
}

/// A regular expression matching exactly the services' names, for the log pipeline's filter.
fn service_pattern(services: &[MonitoredService]) -> String {
    // Escapes the metacharacters Onigmo (Fluent Bit's engine) and Rust's regex share; slugs have none.
    let literal = |name: &str| {
        name.chars().fold(String::new(), |mut out, c| {
            if r"\.+*?()|[]{}^$".contains(c) {
                out.push('\\');
            }
            out.push(c);
            out
        })
    };
    let names: Vec<String> = services.iter().map(|s| literal(&s.name)).collect();
    format!("^({})$", names.join("|"))
}

/// The Grafana dashboard: a `datasource` variable and one row of panels per service. JSON allows no
/// comments, so the generated-by note is the dashboard's description.
pub fn dashboard_json(services: &[MonitoredService], facts: &str) -> String {
    let mut panels = Vec::new();
    let mut id = 0;
    let mut y = 0;
    for s in services {
        id += 1;
        panels.push(json!({
            "id": id,
            "type": "row",
            "title": format!("{}{}", s.name, if s.http { "" } else { " (no HTTP metrics)" }),
            "collapsed": false,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
            "panels": [],
        }));
        y += 1;
        let mut cells = Vec::new();
        let job = promql_string(&s.name);
        if s.http {
            cells.push(panel(
                "Request rate",
                "reqps",
                &[(
                    &format!("sum(job:http_requests:rate5m{{job={job}}})"),
                    "requests/s",
                )],
            ));
            cells.push(panel(
                "Error rate (5xx share)",
                "percentunit",
                &[(
                    &format!(
                        "sum(job:http_request_errors:rate5m{{job={job}}}) / sum(job:http_requests:rate5m{{job={job}}})"
                    ),
                    "5xx",
                )],
            ));
            let quantile = |q: &str| {
                format!(
                    "histogram_quantile({q}, sum by (le) (job_le:http_request_duration_seconds_bucket:rate5m{{job={job}}}))"
                )
            };
            cells.push(panel(
                "Latency",
                "s",
                &[
                    (&quantile("0.5"), "p50"),
                    (&quantile("0.95"), "p95"),
                    (&quantile("0.99"), "p99"),
                ],
            ));
            cells.push(stat_panel("Instances up", &format!("sum(up{{job={job}}})")));
        } else {
            cells.push(stat_panel(
                "Containers running",
                &format!("count(container_start_time_seconds{{container={job}}})"),
            ));
        }
        cells.push(panel(
            "Restarts (15m)",
            "short",
            &[
                (
                    &format!(
                        "sum(changes(container_start_time_seconds{{container={job}}}[15m]))"
                    ),
                    "cAdvisor",
                ),
                (
                    &format!(
                        "sum(increase(kube_pod_container_status_restarts_total{{container={job}}}[15m]))"
                    ),
                    "Kubernetes",
                ),
            ],
        ));
        cells.push(panel(
            "Memory",
            "bytes",
            &[
                (
                    &format!("max(container_memory_working_set_bytes{{container={job}}})"),
                    "working set",
                ),
                (
                    &format!("max(container_spec_memory_limit_bytes{{container={job}}} > 0)"),
                    "limit",
                ),
            ],
        ));
        cells.push(panel(
            "CPU cores used",
            "short",
            &[(
                &format!("sum(rate(container_cpu_usage_seconds_total{{container={job}}}[5m]))"),
                "cores",
            )],
        ));
        cells.push(panel(
            "CPU throttled",
            "percentunit",
            &[(
                &format!(
                    "sum(rate(container_cpu_cfs_throttled_periods_total{{container={job}}}[5m])) / sum(rate(container_cpu_cfs_periods_total{{container={job}}}[5m]))"
                ),
                "throttled periods",
            )],
        ));
        // Four panels to a line, each 6 wide and 8 high.
        let lines = cells.len().div_ceil(4) as i64;
        for (i, mut cell) in cells.into_iter().enumerate() {
            id += 1;
            cell["id"] = json!(id);
            cell["gridPos"] =
                json!({"h": 8, "w": 6, "x": (i % 4) * 6, "y": y + (i / 4) as i64 * 8});
            panels.push(cell);
        }
        y += lines * 8;
    }
    let dashboard = json!({
        "uid": "opsmith-overview",
        "title": "Services overview",
        "description": format!("Generated by opsmith from: {facts}. Review before merging; edit freely."),
        "tags": ["opsmith"],
        "schemaVersion": 39,
        "version": 1,
        "editable": true,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": [{
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "refresh": 1,
            "includeAll": false,
            "multi": false,
            "options": [],
            "regex": "",
        }]},
        "panels": panels,
    });
    let mut text = serde_json::to_string_pretty(&dashboard).expect("dashboard serializes");
    text.push('\n');
    text
}

fn datasource() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

/// A time series panel with one query per `(expr, legend)`.
fn panel(title: &str, unit: &str, queries: &[(&str, &str)]) -> Value {
    let targets: Vec<Value> = queries
        .iter()
        .zip('A'..)
        .map(|((expr, legend), ref_id)| {
            json!({
                "datasource": datasource(),
                "expr": expr,
                "legendFormat": legend,
                "refId": ref_id.to_string(),
            })
        })
        .collect();
    json!({
        "type": "timeseries",
        "title": title,
        "datasource": datasource(),
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": true}},
        "targets": targets,
    })
}

fn stat_panel(title: &str, expr: &str) -> Value {
    json!({
        "type": "stat",
        "title": title,
        "datasource": datasource(),
        "fieldConfig": {"defaults": {"unit": "short", "thresholds": {"mode": "absolute", "steps": [
            {"color": "red", "value": null},
            {"color": "green", "value": 1},
        ]}}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false}},
        "targets": [{"datasource": datasource(), "expr": expr, "refId": "A"}],
    })
}

/// A PromQL double-quoted string literal (PromQL strings use Go's escapes, a superset of JSON's).
fn promql_string(value: &str) -> String {
    serde_json::to_string(value).expect("a string serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_filter_matches_names_literally() {
        let s = |name: &str| MonitoredService {
            name: name.to_string(),
            http: false,
            port: None,
            metrics_path: "/metrics".into(),
            target: None,
        };
        let pattern = service_pattern(&[s("api"), s("web.v2")]);
        assert_eq!(pattern, r"^(api|web\.v2)$");
        let re = regex::Regex::new(&pattern).unwrap();
        assert!(re.is_match("web.v2") && !re.is_match("webxv2") && !re.is_match("api-2"));
    }

    #[test]
    fn only_plain_metrics_paths_are_taken_from_facts() {
        assert!(is_url_path("/metrics") && is_url_path("/-/metrics_v2.txt"));
        assert!(!is_url_path("metrics") && !is_url_path("/a b") && !is_url_path("/\"x"));
    }

    #[test]
    fn spring_boot_metrics_come_from_the_actuator() {
        assert_eq!(
            default_metrics_path(Some("spring-boot")),
            "/actuator/prometheus"
        );
        assert_eq!(default_metrics_path(Some("express")), "/metrics");
        assert_eq!(default_metrics_path(None), "/metrics");
    }
}
