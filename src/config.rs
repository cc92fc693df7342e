//! The App's settings: read once at start-up from the environment and an optional env file.
//!
//! Every failure names the one setting at fault and never repeats a secret's value.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const APP_ID: &str = "OPSMITH_APP_ID";
pub const PRIVATE_KEY_PATH: &str = "OPSMITH_PRIVATE_KEY_PATH";
pub const PRIVATE_KEY: &str = "OPSMITH_PRIVATE_KEY";
pub const WEBHOOK_SECRET: &str = "OPSMITH_WEBHOOK_SECRET";
pub const GITHUB_API_URL: &str = "OPSMITH_GITHUB_API_URL";
pub const DATABASE_URL: &str = "OPSMITH_DATABASE_URL";
pub const LISTEN: &str = "OPSMITH_LISTEN";
pub const WORK_DIR: &str = "OPSMITH_WORK_DIR";
pub const APP_SLUG: &str = "OPSMITH_APP_SLUG";
pub const WORKERS: &str = "OPSMITH_WORKERS";
pub const JOB_LEASE_SECONDS: &str = "OPSMITH_JOB_LEASE_SECONDS";
pub const BUILD_NETWORK: &str = "OPSMITH_BUILD_NETWORK";
pub const BUILD_TIMEOUT_SECONDS: &str = "OPSMITH_BUILD_TIMEOUT_SECONDS";
pub const BUILD_MEMORY_MB: &str = "OPSMITH_BUILD_MEMORY_MB";
pub const BUILD_CPUS: &str = "OPSMITH_BUILD_CPUS";

const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
const DEFAULT_DATABASE_URL: &str = "sqlite://opsmith.db";
const DEFAULT_LISTEN: &str = "0.0.0.0:3000";
const DEFAULT_APP_SLUG: &str = "opsmith";

/// What `opsmith serve` runs with.
pub struct Settings {
    /// The App's numeric id (the JWT `iss`).
    pub app_id: u64,
    /// The App's private key, an RSA key in PEM form (checked by signing a JWT at load time).
    pub private_key: SecretString,
    /// The webhook secret shared with GitHub (HMAC-SHA256 key).
    pub webhook_secret: SecretString,
    /// REST API base, without a trailing `/`.
    pub github_api_url: String,
    /// `sqlite://…` or `postgres://…`; secret because it may carry a password.
    pub database_url: SecretString,
    pub listen: SocketAddr,
    /// Where clones and generated trees live while a job runs.
    pub work_dir: PathBuf,
    /// The App's slug (`@<slug>` mentions, the bot's login `<slug>[bot]`).
    pub app_slug: String,
    /// Whether `OPSMITH_APP_SLUG` was set; if not, `serve` asks GitHub for the slug at start.
    pub app_slug_set: bool,
    /// Jobs run at the same time by this process (0: intake only, another process runs them).
    pub workers: usize,
    /// How long a claimed job stays this process's without a renewal; after a crash, its jobs
    /// are taken again once this has passed.
    pub job_lease: std::time::Duration,
    /// Limits of the image builds a run makes before scanning.
    pub build: crate::build::BuildSettings,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self
            .database_url
            .expose_secret()
            .split(':')
            .next()
            .unwrap_or_default();
        f.debug_struct("Settings")
            .field("app_id", &self.app_id)
            .field("private_key", &"[redacted]")
            .field("webhook_secret", &"[redacted]")
            .field("github_api_url", &self.github_api_url)
            .field("database_url", &format_args!("{scheme}:[redacted]"))
            .field("listen", &self.listen)
            .field("work_dir", &self.work_dir)
            .field("app_slug", &self.app_slug)
            .field("workers", &self.workers)
            .field("job_lease", &self.job_lease)
            .field("build", &self.build)
            .finish()
    }
}

/// A setting that stops start-up; `Display` is the one line shown to the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn missing(name: &str) -> ConfigError {
    ConfigError(format!("{name} is not set"))
}

/// Reads `KEY=VALUE` lines (`#` comments, blank lines, an optional `export ` prefix, values
/// optionally in single or double quotes, `\n` inside double quotes becomes a newline).
/// Errors name the file and line, never the line's content: it may hold a secret.
pub fn read_env_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "--env-file {}: cannot read: {}",
            path.display(),
            e.kind()
        ))
    })?;
    parse_env_file(&text)
        .map_err(|line| ConfigError(format!("{}:{line}: expected KEY=VALUE", path.display())))
}

/// Parses env-file text; `Err(line_number)` for a line that is not `KEY=VALUE`.
pub fn parse_env_file(text: &str) -> Result<HashMap<String, String>, usize> {
    let mut values = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, value) = line.split_once('=').ok_or(index + 1)?;
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(index + 1);
        }
        let value = value.trim();
        let value = if let Some(inner) = quoted(value, '"') {
            inner.replace("\\n", "\n")
        } else if let Some(inner) = quoted(value, '\'') {
            inner.to_owned()
        } else {
            value.to_owned()
        };
        values.insert(key.to_owned(), value);
    }
    Ok(values)
}

fn quoted(value: &str, quote: char) -> Option<&str> {
    value
        .strip_prefix(quote)
        .and_then(|v| v.strip_suffix(quote))
}

impl Settings {
    /// Settings from the process environment, falling back to the env file's values
    /// (the environment wins, as with docker compose).
    pub fn from_env(env_file: Option<&Path>) -> Result<Settings, ConfigError> {
        let file = match env_file {
            Some(path) => read_env_file(path)?,
            None => HashMap::new(),
        };
        Settings::from_lookup(|name| std::env::var(name).ok().or_else(|| file.get(name).cloned()))
    }

    /// Settings from any name → value lookup; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let app_id = get(APP_ID).ok_or_else(|| missing(APP_ID))?;
        let app_id = app_id
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| {
                ConfigError(format!(
                    "{APP_ID} must be the App's numeric id (a positive integer)"
                ))
            })?;

        let private_key = match (get(PRIVATE_KEY_PATH), get(PRIVATE_KEY)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(format!(
                    "{PRIVATE_KEY_PATH} and {PRIVATE_KEY} are both set: set only one"
                )));
            }
            (Some(path), None) => {
                let pem = std::fs::read_to_string(path.trim()).map_err(|e| {
                    ConfigError(format!(
                        "{PRIVATE_KEY_PATH}: cannot read {}: {}",
                        path.trim(),
                        e.kind()
                    ))
                })?;
                check_rsa_pem(&pem, PRIVATE_KEY_PATH)?;
                pem
            }
            (None, Some(pem)) => {
                // Env files and CI secrets often carry the PEM on one line with `\n` escapes.
                let pem = if pem.contains('\n') {
                    pem
                } else {
                    pem.replace("\\n", "\n")
                };
                check_rsa_pem(&pem, PRIVATE_KEY)?;
                pem
            }
            (None, None) => {
                return Err(ConfigError(format!(
                    "{PRIVATE_KEY_PATH} (or {PRIVATE_KEY}) is not set"
                )));
            }
        };

        let webhook_secret = get(WEBHOOK_SECRET).ok_or_else(|| missing(WEBHOOK_SECRET))?;

        let github_api_url = get(GITHUB_API_URL).unwrap_or_else(|| DEFAULT_GITHUB_API_URL.into());
        let github_api_url = check_api_url(github_api_url.trim()).ok_or_else(|| {
            ConfigError(format!(
                "{GITHUB_API_URL} must be an http:// or https:// URL such as {DEFAULT_GITHUB_API_URL}"
            ))
        })?;

        let database_url = get(DATABASE_URL).unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let database_url = database_url.trim().to_owned();
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| database_url.starts_with(scheme))
        {
            return Err(ConfigError(format!(
                "{DATABASE_URL} must start with sqlite: or postgres://"
            )));
        }

        let listen = get(LISTEN).unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen.trim().parse::<SocketAddr>().map_err(|_| {
            ConfigError(format!(
                "{LISTEN} must be an address and port such as {DEFAULT_LISTEN}"
            ))
        })?;

        let work_dir = get(WORK_DIR)
            .map(|dir| PathBuf::from(dir.trim()))
            .unwrap_or_else(|| std::env::temp_dir().join("opsmith"));
        if work_dir.exists() && !work_dir.is_dir() {
            return Err(ConfigError(format!(
                "{WORK_DIR}: {} is not a directory",
                work_dir.display()
            )));
        }

        let app_slug_set = get(APP_SLUG).is_some();
        let app_slug = get(APP_SLUG).unwrap_or_else(|| DEFAULT_APP_SLUG.into());
        let app_slug = app_slug.trim().to_owned();
        if !app_slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError(format!(
                "{APP_SLUG} must be the App's slug (letters, digits, - and _)"
            )));
        }

        let number =
            |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| match get(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "{name} must be a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ))
                    }),
            };
        let workers = number(WORKERS, 2, 0..=64)? as usize;
        let job_lease = std::time::Duration::from_secs(number(JOB_LEASE_SECONDS, 300, 2..=86_400)?);
        let defaults = crate::build::BuildSettings::default();
        let network = match get(BUILD_NETWORK).map(|v| v.trim().to_ascii_lowercase()) {
            None => defaults.network,
            Some(v) if ["on", "true", "1", "yes"].contains(&v.as_str()) => true,
            Some(v) if ["off", "false", "0", "no"].contains(&v.as_str()) => false,
            Some(_) => return Err(ConfigError(format!("{BUILD_NETWORK} must be on or off"))),
        };
        let cpus = match get(BUILD_CPUS) {
            None => defaults.cpus,
            Some(v) => Some(
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|c| (0.1..=256.0).contains(c))
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "{BUILD_CPUS} must be a number of CPUs such as 2 or 0.5"
                        ))
                    })?,
            ),
        };
        let build = crate::build::BuildSettings {
            timeout: std::time::Duration::from_secs(number(
                BUILD_TIMEOUT_SECONDS,
                defaults.timeout.as_secs(),
                10..=6 * 3600,
            )?),
            memory_bytes: match get(BUILD_MEMORY_MB) {
                None => defaults.memory_bytes,
                Some(_) => Some((number(BUILD_MEMORY_MB, 0, 64..=1 << 20)? as i64) << 20),
            },
            cpus,
            network,
        };

        Ok(Settings {
            app_id,
            private_key: SecretString::from(private_key),
            webhook_secret: SecretString::from(webhook_secret),
            github_api_url,
            database_url: SecretString::from(database_url),
            listen,
            work_dir,
            app_slug,
            app_slug_set,
            workers,
            job_lease,
            build,
        })
    }
}

/// Accepts the PEM only if it is an RSA private key that can actually sign an App JWT.
fn check_rsa_pem(pem: &str, name: &str) -> Result<(), ConfigError> {
    let invalid = || ConfigError(format!("{name} is not an RSA private key in PEM form"));
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| invalid())?;
    // from_rsa_pem only looks at the PEM label; signing parses the key itself.
    let probe = serde_json::json!({ "iss": "opsmith", "iat": 0, "exp": 1 });
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &probe, &key).map_err(|_| invalid())?;
    Ok(())
}

fn check_api_url(url: &str) -> Option<String> {
    let uri = url.parse::<axum::http::Uri>().ok()?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let host_ok = uri.host().is_some_and(|h| !h.is_empty());
    (scheme_ok && host_ok && uri.query().is_none()).then(|| url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A 2048-bit test key generated for these tests only.
    const TEST_KEY: &str = include_str!("../tests/keys/app-test.pem");

    fn base() -> HashMap<String, String> {
        HashMap::from([
            (APP_ID.to_owned(), "12345".to_owned()),
            (PRIVATE_KEY.to_owned(), TEST_KEY.to_owned()),
            (
                WEBHOOK_SECRET.to_owned(),
                "shh-very-secret-value".to_owned(),
            ),
        ])
    }

    fn load(vars: &HashMap<String, String>) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_apply() {
        let settings = load(&base()).unwrap();
        assert_eq!(settings.app_id, 12345);
        assert_eq!(settings.github_api_url, "https://api.github.com");
        assert_eq!(settings.database_url.expose_secret(), "sqlite://opsmith.db");
        assert_eq!(settings.listen.to_string(), "0.0.0.0:3000");
        assert_eq!(settings.app_slug, "opsmith");
        assert!(!settings.app_slug_set);
    }

    #[test]
    fn workers_lease_and_build_limits_are_read_and_checked() {
        let settings = load(&base()).unwrap();
        assert_eq!(settings.workers, 2);
        assert_eq!(settings.job_lease.as_secs(), 300);
        assert_eq!(settings.build, crate::build::BuildSettings::default());
        let mut vars = base();
        for (name, value) in [
            (WORKERS, "0"),
            (JOB_LEASE_SECONDS, "30"),
            (BUILD_NETWORK, "off"),
            (BUILD_TIMEOUT_SECONDS, "600"),
            (BUILD_MEMORY_MB, "512"),
            (BUILD_CPUS, "0.5"),
        ] {
            vars.insert(name.into(), value.into());
        }
        let settings = load(&vars).unwrap();
        assert_eq!(settings.workers, 0);
        assert_eq!(settings.job_lease.as_secs(), 30);
        assert!(!settings.build.network);
        assert_eq!(settings.build.timeout.as_secs(), 600);
        assert_eq!(settings.build.memory_bytes, Some(512 << 20));
        assert_eq!(settings.build.cpus, Some(0.5));
        for (name, bad) in [
            (WORKERS, "many"),
            (JOB_LEASE_SECONDS, "1"),
            (BUILD_NETWORK, "maybe"),
            (BUILD_TIMEOUT_SECONDS, "-5"),
            (BUILD_MEMORY_MB, "1"),
            (BUILD_CPUS, "0"),
        ] {
            let mut vars = base();
            vars.insert(name.into(), bad.into());
            let error = load(&vars)
                .err()
                .unwrap_or_else(|| panic!("{name}={bad} accepted"));
            assert!(error.0.starts_with(name), "{name}={bad}: {error}");
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut vars = base();
        vars.insert(
            DATABASE_URL.into(),
            "postgres://opsmith:db-password-123@db/opsmith".into(),
        );
        let settings = load(&vars).unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("shh-very-secret-value"), "{debug}");
        assert!(!debug.contains("db-password-123"), "{debug}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
        assert!(!debug.contains(&TEST_KEY[40..80]), "{debug}");
        assert!(
            debug.contains("12345") && debug.contains("postgres:"),
            "{debug}"
        );
    }

    #[test]
    fn one_line_key_with_escaped_newlines_is_accepted() {
        let mut vars = base();
        vars.insert(PRIVATE_KEY.into(), TEST_KEY.trim().replace('\n', "\\n"));
        assert!(load(&vars).is_ok());
    }

    #[test]
    fn pem_with_rsa_label_but_garbage_body_is_refused() {
        let mut vars = base();
        vars.insert(
            PRIVATE_KEY.into(),
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n".into(),
        );
        let error = load(&vars).unwrap_err();
        assert_eq!(
            error.0,
            "OPSMITH_PRIVATE_KEY is not an RSA private key in PEM form"
        );
    }

    #[test]
    fn api_url_loses_trailing_slash_and_must_be_http() {
        let mut vars = base();
        vars.insert(
            GITHUB_API_URL.into(),
            "http://127.0.0.1:9000/api/v3/".into(),
        );
        assert_eq!(
            load(&vars).unwrap().github_api_url,
            "http://127.0.0.1:9000/api/v3"
        );
        vars.insert(GITHUB_API_URL.into(), "ftp://example.com".into());
        assert!(load(&vars).unwrap_err().0.starts_with(GITHUB_API_URL));
    }

    #[test]
    fn env_file_syntax() {
        let text = "# comment\n\nexport A=1\nB = \"two\\nlines\"\nC='x#y'\nD=\n";
        let values = parse_env_file(text).unwrap();
        assert_eq!(values["A"], "1");
        assert_eq!(values["B"], "two\nlines");
        assert_eq!(values["C"], "x#y");
        assert_eq!(values["D"], "");
        assert_eq!(parse_env_file("A=1\njust words\n"), Err(2));
    }
}
