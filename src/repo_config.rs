//! A repository's own opsmith settings, `.github/opsmith.yml`: parsing, defaults and validation, with
//! one error message naming the field at fault.
//!
//! ```yaml
//! cloud: gcp                    # aws | gcp | azure
//! skip_services: [legacy-batch] # service names opsmith leaves alone
//! registry: ghcr.io/acme        # where images are pushed (host/path, no scheme)
//! severity_threshold: high      # critical | high | medium | low (default critical)
//! paths: ["services/*"]         # globs of folders to analyze; empty or absent = all
//! images:                       # base image redirections
//!   "python:3.12-slim": registry.internal/python:3.12-slim
//! command_users: [alice, bob]   # only they may run comment commands (they still need write access)
//! ```

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::profile::Cloud;

/// Where the settings live in a repository.
pub const PATH: &str = ".github/opsmith.yml";
/// Larger files are refused rather than parsed.
pub const MAX_BYTES: usize = 64 * 1024;

/// Severity at or above which a scan finding fails the run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    #[default]
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a scanner's or a user's severity name, case-insensitively.
    pub fn parse(value: &str) -> Option<Severity> {
        match value.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// The validated settings; `Default` is what an absent or empty file means.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoSettings {
    pub cloud: Option<Cloud>,
    pub skip_services: Vec<String>,
    pub registry: Option<String>,
    pub severity_threshold: Severity,
    /// Globs of folders to analyze, relative to the repository root; empty means all.
    pub paths: Vec<String>,
    /// Base image redirections: image as the templates write it → image to use instead.
    pub images: BTreeMap<String, String>,
    /// Logins allowed to run comment commands (on top of write permission); empty means all.
    pub command_users: Vec<String>,
}

/// Why a settings file was rejected; `Display` is the one line to show the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{PATH}: {message}")]
pub struct SettingsError {
    /// The field at fault, when the problem is in one field.
    pub field: Option<String>,
    pub message: String,
}

impl SettingsError {
    fn file(message: impl Into<String>) -> Self {
        SettingsError {
            field: None,
            message: message.into(),
        }
    }

    fn field(field: &str, problem: impl std::fmt::Display) -> Self {
        SettingsError {
            field: Some(field.to_string()),
            message: format!("{field}: {problem}"),
        }
    }
}

/// The file's shape as written. Fields stay untyped here so that a wrong type is reported with the
/// field's name, which serde's own messages do not carry.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    cloud: Option<Value>,
    skip_services: Option<Value>,
    registry: Option<Value>,
    severity_threshold: Option<Value>,
    paths: Option<Value>,
    images: Option<Value>,
    command_users: Option<Value>,
}

const FIELDS: [&str; 7] = [
    "cloud",
    "skip_services",
    "registry",
    "severity_threshold",
    "paths",
    "images",
    "command_users",
];

impl RepoSettings {
    /// Reads the file's bytes as fetched from the repository; `None` (no file) gives the defaults.
    pub fn from_bytes(bytes: Option<&[u8]>) -> Result<RepoSettings, SettingsError> {
        let Some(bytes) = bytes else {
            return Ok(RepoSettings::default());
        };
        if bytes.len() > MAX_BYTES {
            return Err(SettingsError::file(format!(
                "the file is {} bytes; the limit is {MAX_BYTES} bytes (64 KiB)",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| SettingsError::file(format!("the file is not UTF-8 ({e})")))?;
        RepoSettings::from_yaml(text)
    }

    /// Parses and validates the YAML text; an empty document (or only comments) gives the defaults.
    pub fn from_yaml(text: &str) -> Result<RepoSettings, SettingsError> {
        if text.len() > MAX_BYTES {
            return Err(SettingsError::file(format!(
                "the file is {} bytes; the limit is {MAX_BYTES} bytes (64 KiB)",
                text.len()
            )));
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if is_blank_yaml(text) {
            return Ok(RepoSettings::default());
        }
        let file: Option<SettingsFile> =
            serde_saphyr::from_str(text).map_err(|e| yaml_error(&e.to_string()))?;
        let Some(file) = file else {
            return Ok(RepoSettings::default());
        };
        let cloud = typed::<String>(file.cloud, "cloud", "one of aws, gcp, azure")?
            .map(|value| {
                cloud_named(&value).ok_or_else(|| {
                    SettingsError::field(
                        "cloud",
                        format!(
                            "unknown value {}, expected one of aws, gcp, azure",
                            quoted(&value)
                        ),
                    )
                })
            })
            .transpose()?;
        let severity_threshold = match typed::<String>(
            file.severity_threshold,
            "severity_threshold",
            "one of critical, high, medium, low",
        )? {
            None => Severity::default(),
            Some(value) => Severity::parse(&value).ok_or_else(|| {
                SettingsError::field(
                    "severity_threshold",
                    format!(
                        "unknown value {}, expected one of critical, high, medium, low",
                        quoted(&value)
                    ),
                )
            })?,
        };
        let registry = typed::<String>(file.registry, "registry", "a string")?
            .map(|value| check_registry(&value).map(|()| value))
            .transpose()?;
        let skip_services = string_list(
            file.skip_services,
            "skip_services",
            "a list of service names",
        )?;
        for (i, name) in skip_services.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(SettingsError::field(
                    &format!("skip_services[{i}]"),
                    "a service name must not be empty",
                ));
            }
        }
        let paths = string_list(file.paths, "paths", "a list of folder globs")?;
        for (i, glob) in paths.iter().enumerate() {
            check_glob(glob).map_err(|problem| {
                SettingsError::field(
                    &format!("paths[{i}]"),
                    format!("{}: {problem}", quoted(glob)),
                )
            })?;
        }
        let images = string_map(
            file.images,
            "images",
            "a mapping from an image to the image to use instead",
        )?;
        for (from, to) in &images {
            check_image(from).map_err(|problem| {
                SettingsError::field("images", format!("key {}: {problem}", quoted(from)))
            })?;
            check_image(to).map_err(|problem| {
                SettingsError::field(
                    &format!("images.{from}"),
                    format!("{}: {problem}", quoted(to)),
                )
            })?;
        }
        let command_users = string_list(
            file.command_users,
            "command_users",
            "a list of GitHub logins",
        )?;
        for (i, login) in command_users.iter().enumerate() {
            let valid = !login.is_empty()
                && login.len() <= 39
                && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !valid {
                return Err(SettingsError::field(
                    &format!("command_users[{i}]"),
                    format!("{} is not a GitHub login", quoted(login)),
                ));
            }
        }
        Ok(RepoSettings {
            command_users,
            cloud,
            skip_services,
            registry,
            severity_threshold,
            paths,
            images,
        })
    }

    /// Whether the service at `path` (`.` for the root, `/`-separated) should be analyzed: `paths` is
    /// empty, or a glob matches the folder or one of its parents (a matched folder brings its subtree).
    pub fn includes_path(&self, path: &str) -> bool {
        if self.paths.is_empty() {
            return true;
        }
        let Some(set) = self.path_globs() else {
            return true;
        };
        let path = path.trim_matches('/');
        if path.is_empty() || path == "." {
            return set.is_match(".") || set.is_match("");
        }
        let mut prefix = String::new();
        for part in path.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if set.is_match(&prefix) {
                return true;
            }
        }
        false
    }

    /// Whether `login` may run comment commands as far as `command_users` goes (an empty list
    /// leaves it to the repository permission alone). Logins compare case-insensitively.
    pub fn allows_command_user(&self, login: &str) -> bool {
        self.command_users.is_empty()
            || self
                .command_users
                .iter()
                .any(|user| user.eq_ignore_ascii_case(login))
    }

    /// Whether a service is listed in `skip_services` (names compare case-insensitively).
    pub fn skips_service(&self, name: &str) -> bool {
        self.skip_services
            .iter()
            .any(|skip| skip.trim().eq_ignore_ascii_case(name))
    }

    /// The image to use in place of `image` (exact match on the reference as written).
    pub fn image_for<'a>(&'a self, image: &'a str) -> &'a str {
        self.images.get(image).map_or(image, String::as_str)
    }

    fn path_globs(&self) -> Option<GlobSet> {
        let mut builder = GlobSetBuilder::new();
        for glob in &self.paths {
            builder.add(folder_glob(glob).ok()?);
        }
        builder.build().ok()
    }
}

/// Globs match folders as written, with a trailing `/` or leading `./` ignored.
fn folder_glob(glob: &str) -> Result<Glob, globset::Error> {
    let trimmed = glob.trim();
    let trimmed = trimmed.strip_prefix("./").unwrap_or(trimmed);
    let trimmed = trimmed.trim_end_matches('/');
    globset::GlobBuilder::new(if trimmed.is_empty() { "." } else { trimmed })
        .literal_separator(true)
        .build()
}

fn check_glob(glob: &str) -> Result<(), String> {
    let trimmed = glob.trim();
    if trimmed.is_empty() {
        return Err("a glob must not be empty".to_string());
    }
    if trimmed.starts_with('/') {
        return Err(
            "globs are relative to the repository root; remove the leading `/`".to_string(),
        );
    }
    if trimmed.split('/').any(|part| part == "..") {
        return Err("a glob must not leave the repository (`..`)".to_string());
    }
    folder_glob(trimmed)
        .map(|_| ())
        .map_err(|e| format!("not a valid glob ({})", e.kind()))
}

fn check_registry(value: &str) -> Result<(), SettingsError> {
    let fail = |problem: &str| {
        Err(SettingsError::field(
            "registry",
            format!("{}: {problem}", quoted(value)),
        ))
    };
    if value.trim().is_empty() {
        return fail("must not be empty");
    }
    if value.contains("://") {
        return fail("write the registry without a scheme, e.g. ghcr.io/acme");
    }
    if value.chars().any(char::is_whitespace) {
        return fail("must not contain spaces");
    }
    if value.ends_with('/') || value.starts_with('/') || value.contains("//") {
        return fail("must be host[:port][/path] without empty path segments");
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '/')))
    {
        return fail(&format!("character {c:?} is not allowed in a registry"));
    }
    Ok(())
}

fn check_image(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("an image reference must not be empty".to_string());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("an image reference must not contain whitespace".to_string());
    }
    if value.contains("://") {
        return Err("an image reference has no scheme".to_string());
    }
    Ok(())
}

fn cloud_named(value: &str) -> Option<Cloud> {
    match value.trim().to_ascii_lowercase().as_str() {
        "aws" => Some(Cloud::Aws),
        "gcp" => Some(Cloud::Gcp),
        "azure" => Some(Cloud::Azure),
        _ => None,
    }
}

/// Converts one field; YAML `null` (`cloud:` with nothing after it) means absent.
fn typed<T: DeserializeOwned>(
    value: Option<Value>,
    field: &str,
    expected: &str,
) -> Result<Option<T>, SettingsError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let got = kind_of(&value);
            serde_json::from_value(value).map(Some).map_err(|_| {
                SettingsError::field(field, format!("expected {expected}, found {got}"))
            })
        }
    }
}

/// A list of strings, naming the element at fault (`paths[2]: expected a string, found a list`).
fn string_list(
    value: Option<Value>,
    field: &str,
    expected: &str,
) -> Result<Vec<String>, SettingsError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(text) => Ok(text),
                other => Err(SettingsError::field(
                    &format!("{field}[{i}]"),
                    format!("expected a string, found {}", kind_of(&other)),
                )),
            })
            .collect(),
        Some(other) => Err(SettingsError::field(
            field,
            format!("expected {expected}, found {}", kind_of(&other)),
        )),
    }
}

/// A mapping of strings to strings, naming the entry at fault.
fn string_map(
    value: Option<Value>,
    field: &str,
    expected: &str,
) -> Result<BTreeMap<String, String>, SettingsError> {
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(entries)) => entries
            .into_iter()
            .map(|(key, item)| match item {
                Value::String(text) => Ok((key, text)),
                other => Err(SettingsError::field(
                    &format!("{field}.{key}"),
                    format!("expected a string, found {}", kind_of(&other)),
                )),
            })
            .collect(),
        Some(other) => Err(SettingsError::field(
            field,
            format!("expected {expected}, found {}", kind_of(&other)),
        )),
    }
}

fn kind_of(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

/// Turns a parser error into one line; an unknown field gets the nearest known name.
fn yaml_error(raw: &str) -> SettingsError {
    if let Some(rest) = raw.split("unknown field `").nth(1)
        && let Some((name, _)) = rest.split_once('`')
    {
        let mut message = format!(
            "unknown field {}; known fields are {}",
            quoted(name),
            FIELDS.join(", ")
        );
        if let Some(near) = nearest_field(name) {
            message = format!("unknown field {}, did you mean `{near}`?", quoted(name));
        }
        return SettingsError {
            field: Some(name.to_string()),
            message,
        };
    }
    if raw.contains("expected mapping start")
        || (raw.contains("invalid type") && raw.contains("struct SettingsFile"))
    {
        return SettingsError::file("the file must be a mapping of settings (e.g. `cloud: aws`)");
    }
    // Parser messages can span several lines with a source snippet; the first line says it.
    let first = raw
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(raw)
        .trim();
    let first = first.strip_prefix("error:").unwrap_or(first).trim();
    if first.contains("multiple YAML documents") {
        return SettingsError::file(
            "the file must hold one YAML document (remove the extra `---`)",
        );
    }
    if first.contains("budget breached") {
        return SettingsError::file(
            "the file expands to too many values (anchors and aliases repeat too much)",
        );
    }
    let first = first
        .split_once(", set DuplicateKeyPolicy")
        .map_or(first, |(message, _)| message);
    SettingsError::file(format!("not valid YAML: {first}"))
}

fn nearest_field(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase().replace('-', "_");
    FIELDS
        .iter()
        .map(|field| (edit_distance(&name, field), *field))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, field)| field)
}

/// Levenshtein distance (field names are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(ca != *cb))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// A user value echoed in a message: quoted, bounded, one line.
fn quoted(value: &str) -> String {
    let short: String = value.chars().take(60).collect();
    let mut out = format!("{short:?}");
    if value.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(yaml: &str) -> RepoSettings {
        RepoSettings::from_yaml(yaml).unwrap_or_else(|e| panic!("{yaml:?}: {e}"))
    }

    fn err(yaml: &str) -> String {
        match RepoSettings::from_yaml(yaml) {
            Ok(settings) => panic!("{yaml:?} was accepted: {settings:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn absent_empty_and_comment_only_files_give_defaults() {
        assert_eq!(RepoSettings::from_bytes(None), Ok(RepoSettings::default()));
        for yaml in ["", "\n\n", "# nothing yet\n", "---\n", "~\n", "null"] {
            assert_eq!(ok(yaml), RepoSettings::default(), "{yaml:?}");
        }
        assert_eq!(
            RepoSettings::default().severity_threshold,
            Severity::Critical
        );
    }

    #[test]
    fn full_file() {
        let settings = ok(r#"
cloud: gcp
skip_services: [legacy-batch, docs-site]
registry: registry.internal:5000/team
severity_threshold: high
paths:
  - services/*
  - apps/web/
images:
  "python:3.12-slim": registry.internal/python:3.12-slim
  node:22-alpine: registry.internal/node:22-alpine
"#);
        assert_eq!(settings.cloud, Some(Cloud::Gcp));
        assert_eq!(settings.skip_services, ["legacy-batch", "docs-site"]);
        assert_eq!(
            settings.registry.as_deref(),
            Some("registry.internal:5000/team")
        );
        assert_eq!(settings.severity_threshold, Severity::High);
        assert_eq!(settings.paths, ["services/*", "apps/web/"]);
        assert_eq!(
            settings.image_for("python:3.12-slim"),
            "registry.internal/python:3.12-slim"
        );
        assert_eq!(
            settings.image_for("node:22-alpine"),
            "registry.internal/node:22-alpine"
        );
        assert_eq!(settings.image_for("golang:1.23"), "golang:1.23");
    }

    #[test]
    fn command_users_restrict_who_may_run_commands() {
        let open = ok("cloud: aws\n");
        assert!(open.allows_command_user("anyone"));
        let listed = ok("command_users: [alice, Release-Bot-2]\n");
        assert!(listed.allows_command_user("ALICE"));
        assert!(listed.allows_command_user("release-bot-2"));
        assert!(!listed.allows_command_user("mallory"));
        for (text, field) in [
            ("command_users: alice\n", "command_users"),
            ("command_users: [\"a/b\"]\n", "command_users[0]"),
            ("command_users: [ok, \"\"]\n", "command_users[1]"),
        ] {
            let error = RepoSettings::from_yaml(text).unwrap_err();
            assert_eq!(
                error.field.as_deref(),
                Some(field),
                "{text}: {}",
                error.message
            );
        }
    }

    #[test]
    fn null_fields_are_absent() {
        let settings = ok("cloud:\nregistry: ~\npaths:\n");
        assert_eq!(settings, RepoSettings::default());
    }

    #[test]
    fn unknown_cloud_names_field_and_choices() {
        assert_eq!(
            err("cloud: gpc"),
            r#".github/opsmith.yml: cloud: unknown value "gpc", expected one of aws, gcp, azure"#
        );
        assert_eq!(ok("cloud: AWS").cloud, Some(Cloud::Aws));
    }

    #[test]
    fn unknown_field_suggests_the_known_one() {
        let message = err("clouds: aws");
        assert!(message.starts_with(".github/opsmith.yml: "), "{message}");
        assert!(message.contains(r#"unknown field "clouds""#), "{message}");
        assert!(message.contains("did you mean `cloud`?"), "{message}");
        let message = err("skip-services: [a]");
        assert!(
            message.contains("did you mean `skip_services`?"),
            "{message}"
        );
        let message = err("whatever: 1");
        assert!(message.contains("known fields are cloud,"), "{message}");
        assert_eq!(
            RepoSettings::from_yaml("clouds: aws")
                .unwrap_err()
                .field
                .as_deref(),
            Some("clouds")
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        assert_eq!(
            err("paths: services/api"),
            ".github/opsmith.yml: paths: expected a list of folder globs, found a string"
        );
        assert!(
            err("cloud: [aws]").contains("cloud: expected one of aws, gcp, azure, found a list")
        );
        assert!(err("skip_services: 3").contains("skip_services: expected a list"));
        assert!(err("images: [a, b]").contains("images: expected a mapping"));
        assert!(err("images:\n  a: [b]").contains("images.a: expected a string, found a list"));
        assert!(err("paths: [ok, 3]").contains("paths[1]: expected a string, found the number 3"));
        assert!(err("registry: 42").contains("registry: expected a string, found the number 42"));
    }

    #[test]
    fn severity_values() {
        for (text, severity) in [
            ("low", Severity::Low),
            ("medium", Severity::Medium),
            ("HIGH", Severity::High),
            ("critical", Severity::Critical),
        ] {
            assert_eq!(
                ok(&format!("severity_threshold: {text}")).severity_threshold,
                severity
            );
        }
        assert!(err("severity_threshold: severe").contains(
            r#"severity_threshold: unknown value "severe", expected one of critical, high, medium, low"#
        ));
        assert!(Severity::Low < Severity::Critical);
    }

    #[test]
    fn registry_is_validated() {
        assert!(
            err("registry: https://ghcr.io/acme").contains(
                "registry: \"https://ghcr.io/acme\": write the registry without a scheme"
            )
        );
        assert!(err("registry: \"ghcr.io/ac me\"").contains("must not contain spaces"));
        assert!(err("registry: \"\"").contains("must not be empty"));
        assert!(err("registry: ghcr.io/acme/").contains("registry:"));
        assert!(err("registry: ghcr.io/ac$me").contains("not allowed"));
        assert_eq!(
            ok("registry: ghcr.io/acme").registry.as_deref(),
            Some("ghcr.io/acme")
        );
    }

    #[test]
    fn globs_are_validated() {
        assert!(
            err("paths: [\"services/[\"]").contains("paths[0]: \"services/[\": not a valid glob")
        );
        assert!(err("paths: [ok, \"\"]").contains("paths[1]"));
        assert!(err("paths: [/abs]").contains("relative to the repository root"));
        assert!(err("paths: [../other]").contains("`..`"));
    }

    #[test]
    fn paths_select_folders_and_their_subtrees() {
        let settings = ok("paths: [\"services/*\", apps/web/, ./tools]");
        assert!(settings.includes_path("services/api"));
        assert!(settings.includes_path("services/api/worker"));
        assert!(settings.includes_path("apps/web"));
        assert!(settings.includes_path("tools"));
        assert!(!settings.includes_path("services"));
        assert!(!settings.includes_path("apps/admin"));
        assert!(!settings.includes_path("."));
        assert!(ok("").includes_path("."));
        assert!(ok("paths: [\".\"]").includes_path("."));
        assert!(ok("paths: [\"**\"]").includes_path("a/b/c"));
    }

    #[test]
    fn skip_services_compare_case_insensitively() {
        let settings = ok("skip_services: [Legacy]");
        assert!(settings.skips_service("legacy"));
        assert!(!settings.skips_service("api"));
        assert!(
            err("skip_services: [\" \"]")
                .contains("skip_services[0]: a service name must not be empty")
        );
    }

    #[test]
    fn image_refs_are_validated() {
        assert!(
            err("images:\n  \"python:3.12\": \"\"")
                .contains("images.python:3.12: \"\": an image reference must not be empty")
        );
        assert!(err("images:\n  \"python 3\": x").contains("must not contain whitespace"));
        assert!(err("images:\n  a: \"b c\"").contains("must not contain whitespace"));
    }

    #[test]
    fn huge_file_is_refused() {
        let big = format!("# {}\ncloud: aws\n", "x".repeat(MAX_BYTES));
        let message = RepoSettings::from_bytes(Some(big.as_bytes()))
            .unwrap_err()
            .to_string();
        assert!(message.contains("limit is 65536 bytes"), "{message}");
        assert!(err(&big).contains("limit"));
    }

    #[test]
    fn not_utf8_is_refused() {
        let message = RepoSettings::from_bytes(Some(b"cloud: \xff\xfe"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("not UTF-8"), "{message}");
    }

    #[test]
    fn crlf_bom_and_unicode() {
        assert_eq!(
            ok("\u{feff}cloud: azure\r\nseverity_threshold: low\r\n").cloud,
            Some(Cloud::Azure)
        );
        let message = err("cloud: \"gċp\"");
        assert!(message.contains("unknown value \"gċp\""), "{message}");
    }

    #[test]
    fn not_a_mapping_or_broken_yaml_gives_one_line() {
        for yaml in [
            "- cloud\n- aws\n",
            "just a string",
            "cloud: [aws\n",
            "cloud: aws\ncloud: gcp\n",
            "a: b: c",
        ] {
            let message = err(yaml);
            assert!(message.starts_with(".github/opsmith.yml: "), "{message}");
            assert!(!message.contains("DuplicateKeyPolicy"), "{message}");
            assert!(
                !message.contains('\n'),
                "{yaml:?} gave a multi-line message: {message}"
            );
        }
    }

    #[test]
    fn parser_messages_are_plain() {
        assert_eq!(
            err("- cloud\n- aws\n"),
            ".github/opsmith.yml: the file must be a mapping of settings (e.g. `cloud: aws`)"
        );
        assert_eq!(
            err("cloud: aws\ncloud: gcp\n"),
            ".github/opsmith.yml: not valid YAML: line 2 column 1: duplicate mapping key: cloud"
        );
        assert!(err("cloud: [aws\n").contains("not valid YAML: line 1 column 8"));
        assert!(err("cloud: aws\n---\ncloud: gcp\n").contains("one YAML document"));
    }

    #[test]
    fn anchors_and_aliases_are_plain_values() {
        let settings = ok("cloud: &c aws\nskip_services: [*c]\n");
        assert_eq!(settings.skip_services, ["aws"]);
    }

    #[test]
    fn alias_bomb_is_refused() {
        // Every level repeats the previous one ten times: 10^9 strings if expanded naively.
        let mut yaml = String::from("skip_services:\n  - &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            yaml.push_str(&format!(
                "  - &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let message = err(&yaml);
        assert!(message.starts_with(".github/opsmith.yml: "), "{message}");
        assert!(message.contains("too many values"), "{message}");
    }

    #[test]
    fn odd_yaml_never_panics_and_gives_one_line() {
        for yaml in [
            "images: {1: a}",
            "? [a]\n: b\n",
            "cloud: !custom aws",
            "cloud: *undefined",
            "cloud: \"\\u0000\"",
            "paths: [[a]]",
            "\t\tcloud: aws",
            "cloud: aws\n---\ncloud: gcp\n",
        ] {
            if let Err(e) = RepoSettings::from_yaml(yaml) {
                let message = e.to_string();
                assert!(message.starts_with(".github/opsmith.yml: "), "{message}");
                assert!(!message.contains('\n'), "{yaml:?}: {message}");
            }
        }
    }

    #[test]
    fn long_values_are_bounded_in_messages() {
        let message = err(&format!("cloud: {}", "z".repeat(10_000)));
        assert!(message.len() < 200, "{message}");
    }
}
