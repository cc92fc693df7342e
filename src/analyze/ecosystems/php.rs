//! The php ecosystem: Composer projects (`composer.json`, `composer.lock`) and plain PHP sites, served by
//! Apache with mod_php; Laravel and Symfony recognised.
//!
//! Facts set besides the common ones (see the facts contract): `default_runtime_version`,
//! `document_root` (relative to the service, `""` for the service folder itself), `front_controller`
//! (bool: unknown paths go to `index.php`), `php_extensions` (to compile with
//! `docker-php-ext-install`), `php_extensions_unsupported` (PECL or unknown ones the template only
//! mentions), `apt_build_packages` / `apt_runtime_packages`, `writable_dirs`, `node_assets` (bool),
//! `node_version`, `js_package_manager`, `js_manifests`, `health_command`, `runtime_env` (the
//! framework secret to set at run time), `asset_mapper` (bool: Symfony AssetMapper compiles assets).

use super::version::tool_version;
use super::{Detection, Detector, dir_name, service_path};
use crate::analyze::tree::{RepoTree, join};
use crate::profile::{Ecosystem, PackageManager, Service};
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::LazyLock;

pub struct Php;

/// PHP used when the repository declares none: current in late 2026.
pub const DEFAULT_PHP: &str = "8.4";
/// The port Apache listens on in the image (unprivileged, so it runs as www-data).
const PORT: u16 = 8080;

/// Extensions compiled into the official `php` images (plus opcache, which the template enables).
const BUNDLED_EXTENSIONS: &[&str] = &[
    "core",
    "ctype",
    "curl",
    "date",
    "dom",
    "fileinfo",
    "filter",
    "hash",
    "iconv",
    "json",
    "libxml",
    "mbstring",
    "mysqlnd",
    "openssl",
    "pcre",
    "pdo",
    "pdo_sqlite",
    "phar",
    "posix",
    "random",
    "readline",
    "reflection",
    "session",
    "simplexml",
    "sodium",
    "spl",
    "sqlite3",
    "standard",
    "tokenizer",
    "xml",
    "xmlreader",
    "xmlwriter",
    "zlib",
    "opcache",
];

/// Extensions `docker-php-ext-install` builds, with the Debian packages needed to compile them and the
/// libraries they load at run time.
const INSTALLABLE_EXTENSIONS: &[(&str, &[&str], &[&str])] = &[
    ("bcmath", &[], &[]),
    ("calendar", &[], &[]),
    ("exif", &[], &[]),
    ("gettext", &[], &[]),
    ("mysqli", &[], &[]),
    ("pcntl", &[], &[]),
    ("pdo_mysql", &[], &[]),
    ("shmop", &[], &[]),
    ("sockets", &[], &[]),
    ("sysvmsg", &[], &[]),
    ("sysvsem", &[], &[]),
    ("sysvshm", &[], &[]),
    ("pdo_pgsql", &["libpq-dev"], &["libpq5"]),
    ("pgsql", &["libpq-dev"], &["libpq5"]),
    ("intl", &["libicu-dev"], &["libicu72"]),
    ("zip", &["libzip-dev"], &["libzip4"]),
    (
        "gd",
        &["libfreetype6-dev", "libjpeg62-turbo-dev", "libpng-dev"],
        &["libfreetype6", "libjpeg62-turbo", "libpng16-16"],
    ),
    ("gmp", &["libgmp-dev"], &["libgmp10"]),
    ("xsl", &["libxslt1-dev"], &["libxslt1.1"]),
    ("soap", &["libxml2-dev"], &[]),
    ("bz2", &["libbz2-dev"], &[]),
];

impl Detector for Php {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        let composer_path = join(dir, "composer.json");
        let has_composer = tree.exists(&composer_path);
        let front = front_controller(tree, dir);
        if !has_composer && front.is_none() {
            return None;
        }
        let composer: Value = tree
            .read_text(&composer_path)
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let lock_path = join(dir, "composer.lock");
        let lock: Value = tree
            .read_text(&lock_path)
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);

        let framework =
            if tree.exists(&join(dir, "artisan")) || requires(&composer, "laravel/framework") {
                Some("laravel")
            } else if requires(&composer, "symfony/framework-bundle")
                || requires(&composer, "symfony/runtime") && tree.exists(&join(dir, "bin/console"))
            {
                Some("symfony")
            } else if requires(&composer, "slim/slim") {
                Some("slim")
            } else {
                None
            };
        let document_root = match (framework, front.as_deref()) {
            (Some("laravel" | "symfony"), _) => "public".to_string(),
            (_, Some(root)) => root.to_string(),
            // A Composer library or command-line tool: PHP's folder, but nothing to serve.
            (_, None) => return Some(Detection::default()),
        };

        let name = composer
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !is_skeleton_name(n))
            .map(String::from)
            .unwrap_or_else(|| dir_name(tree, dir));
        let mut service = Service::new(
            name,
            service_path(dir),
            Ecosystem::Php,
            if has_composer {
                PackageManager::Composer
            } else {
                PackageManager::None
            },
        );
        service.framework = framework.map(String::from);
        service.port = Some(PORT);
        service.start_command = Some("apache2-foreground".to_string());
        service.health_path = health_path(tree, dir, framework);
        if let Some((v, source)) = php_version(tree, dir, &composer) {
            service.runtime_version = Some(v);
            service.runtime_version_source = Some(source);
        }
        let image_version = service
            .runtime_version
            .clone()
            .unwrap_or_else(|| DEFAULT_PHP.to_string());
        service.fact("default_runtime_version", DEFAULT_PHP);
        service.fact(
            "runtime_image",
            format!("php:{image_version}-apache-bookworm"),
        );
        service.fact("build_context", service.path.clone());
        service.fact("service_in_context", "");
        service.fact("document_root", document_root);
        // Framework apps route every request through index.php, with or without a `.htaccess`.
        service.fact("front_controller", framework.is_some());

        let mut manifests = Vec::new();
        if has_composer {
            manifests.push("composer.json".to_string());
            if tree.exists(&lock_path) {
                manifests.push("composer.lock".to_string());
                service.fact("lockfile", "composer.lock");
            }
            service.fact(
                "install_command",
                "composer install --no-interaction --prefer-dist",
            );
        }
        service.fact("manifests", manifests);
        if let Some(cmd) = lint_command(&composer) {
            service.fact("lint_command", cmd);
        }
        if let Some(cmd) = test_command(tree, dir, &composer, framework) {
            service.fact("test_command", cmd);
        }

        let wanted = wanted_extensions(tree, dir, &composer, &lock, framework);
        let mut install = Vec::new();
        let mut unsupported = Vec::new();
        let mut build_pkgs: BTreeSet<&str> = BTreeSet::new();
        let mut runtime_pkgs: BTreeSet<&str> = BTreeSet::new();
        for ext in &wanted {
            if BUNDLED_EXTENSIONS.contains(&ext.as_str()) {
                continue;
            }
            match INSTALLABLE_EXTENSIONS.iter().find(|(n, _, _)| n == ext) {
                Some((n, b, r)) => {
                    install.push(n.to_string());
                    build_pkgs.extend(b.iter());
                    runtime_pkgs.extend(r.iter());
                }
                None => unsupported.push(ext.clone()),
            }
        }
        service.fact("php_extensions", install);
        service.fact("php_extensions_unsupported", unsupported);
        service.fact(
            "apt_build_packages",
            build_pkgs.into_iter().collect::<Vec<_>>(),
        );
        service.fact(
            "apt_runtime_packages",
            runtime_pkgs.into_iter().collect::<Vec<_>>(),
        );
        let writable: Vec<&str> = match framework {
            // The folders Laravel writes to; `storage` itself stays read-only.
            Some("laravel") => vec![
                "bootstrap/cache",
                "storage/app/public",
                "storage/framework/cache/data",
                "storage/framework/sessions",
                "storage/framework/views",
                "storage/logs",
            ],
            Some("symfony") => vec!["var"],
            _ => Vec::new(),
        };
        service.fact("writable_dirs", writable);
        // The framework's own secret, which must not be baked into the image.
        let runtime_env: Vec<&str> = match framework {
            Some("laravel") => vec!["APP_KEY"],
            Some("symfony") => vec!["APP_SECRET"],
            _ => Vec::new(),
        };
        service.fact("runtime_env", runtime_env);
        if framework == Some("symfony") && requires(&composer, "symfony/asset-mapper") {
            service.fact("asset_mapper", true);
        }
        node_assets(tree, dir, &mut service);
        let path = service
            .health_path
            .clone()
            .unwrap_or_else(|| "/".to_string());
        service.fact(
            "health_command",
            vec![
                "php".to_string(),
                "-r".to_string(),
                format!(
                    "exit(@file_get_contents('http://127.0.0.1:{PORT}{path}') === false ? 1 : 0);"
                ),
            ],
        );
        Some(Detection {
            services: vec![service],
            claimed: Vec::new(),
        })
    }
}

/// The folder (relative to the service) holding the site's `index.php`: `public` or the service itself.
fn front_controller(tree: &RepoTree, dir: &str) -> Option<String> {
    for (root, file) in [
        ("public", "public/index.php"),
        ("web", "web/index.php"),
        ("", "index.php"),
    ] {
        if tree.exists(&join(dir, file)) {
            return Some(root.to_string());
        }
    }
    None
}

/// Project skeleton names that say nothing about the project (`laravel/laravel`).
fn is_skeleton_name(name: &str) -> bool {
    matches!(
        name,
        "laravel/laravel" | "symfony/skeleton" | "symfony/website-skeleton" | "slim/slim-skeleton"
    )
}

fn requires(composer: &Value, package: &str) -> bool {
    ["require", "require-dev"]
        .iter()
        .any(|k| composer.get(k).and_then(|r| r.get(package)).is_some())
}

/// The PHP version: `config.platform.php` (the platform Composer resolves for), `.php-version`,
/// `.tool-versions`/`mise.toml`, then the lowest version `require.php` allows.
fn php_version(tree: &RepoTree, dir: &str, composer: &Value) -> Option<(String, String)> {
    let composer_path = join(dir, "composer.json");
    if let Some(v) = composer
        .pointer("/config/platform/php")
        .and_then(Value::as_str)
        .and_then(php_constraint_version)
    {
        return Some((v, composer_path));
    }
    let php_version_file = join(dir, ".php-version");
    if let Some(v) = tree
        .read_text(&php_version_file)
        .and_then(|t| php_constraint_version(t.lines().next().unwrap_or("")))
    {
        return Some((v, php_version_file));
    }
    if let Some(d) = tool_version(tree, dir, &["php"])
        && let Some(v) = php_constraint_version(&d.version)
    {
        return Some((v, d.source));
    }
    composer
        .pointer("/require/php")
        .and_then(Value::as_str)
        .and_then(php_constraint_version)
        .map(|v| (v, composer_path))
}

/// The `major.minor` a Composer constraint starts from: `^8.2` → `8.2`, `>=8.1 <8.4` → `8.1`,
/// `~8.3.0` → `8.3`, `8.2.*` → `8.2`, `8.3.4` → `8.3`; with alternatives (`^8.1 || ^8.2`) the newest
/// one. None when there is no usable version (`*`, `^7` is `7.0`, garbage → None).
pub fn php_constraint_version(constraint: &str) -> Option<String> {
    static VERSION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\d+)(?:\.(\d+|\*))?").unwrap());
    let mut best: Option<(u32, u32)> = None;
    // `|` and `||` both mean "or".
    for alternative in constraint.split('|') {
        let alternative = alternative.trim();
        // A lower bound is the first comparison that is not an upper bound.
        let lower = alternative
            .split([' ', ','])
            .map(str::trim)
            .find(|part| !part.is_empty() && !part.starts_with('<') && !part.starts_with("!="));
        let Some(lower) = lower else { continue };
        let Some(c) = VERSION.captures(lower) else {
            continue;
        };
        let Ok(major) = c[1].parse::<u32>() else {
            continue;
        };
        if !(5..=9).contains(&major) {
            continue;
        }
        let minor = c
            .get(2)
            .and_then(|m| m.as_str().parse::<u32>().ok())
            .unwrap_or(0);
        if best.is_none_or(|b| (major, minor) > b) {
            best = Some((major, minor));
        }
    }
    best.map(|(ma, mi)| format!("{ma}.{mi}"))
}

/// Extensions the project needs (`ext-*` in composer.json and in the locked packages' requirements),
/// plus the database driver a Laravel/Symfony app is configured for, plus opcache; lower-case.
fn wanted_extensions(
    tree: &RepoTree,
    dir: &str,
    composer: &Value,
    lock: &Value,
    framework: Option<&str>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut collect = |requires: Option<&Value>| {
        if let Some(map) = requires.and_then(Value::as_object) {
            for key in map.keys() {
                if let Some(ext) = key.strip_prefix("ext-") {
                    out.insert(ext.to_ascii_lowercase().replace('-', "_"));
                }
            }
        }
    };
    collect(composer.get("require"));
    if let Some(packages) = lock.get("packages").and_then(Value::as_array) {
        for p in packages {
            collect(p.get("require"));
        }
    }
    if framework.is_some() {
        let env = [".env.example", ".env.dist", ".env"]
            .into_iter()
            .find_map(|n| tree.read_text(&join(dir, n)))
            .unwrap_or_default();
        for line in env.lines() {
            let line = line.trim();
            let value = line
                .strip_prefix("DB_CONNECTION=")
                .or_else(|| line.strip_prefix("DATABASE_URL="))
                .map(|v| v.trim_matches(|c| c == '"' || c == '\''));
            match value {
                Some(v) if v.starts_with("mysql") || v.starts_with("mariadb") => {
                    out.insert("pdo_mysql".to_string());
                }
                Some(v) if v.starts_with("pgsql") || v.starts_with("postgres") => {
                    out.insert("pdo_pgsql".to_string());
                }
                _ => {}
            }
        }
    }
    out
}

/// Laravel 11's `health: '/up'` (bootstrap/app.php), or an evident health route in the routes files or
/// the front controller (`Route::get('/health', …)`, `$path === '/healthz'`).
fn health_path(tree: &RepoTree, dir: &str, framework: Option<&str>) -> Option<String> {
    static LARAVEL_HEALTH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"health\s*:\s*['"](/[^'"]*)['"]"#).unwrap());
    static ROUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?:(?:Route::get|->get|\$app->get|\$router->get|#\[Route)\s*\(|===?|\bcase)\s*['"](/?[A-Za-z0-9_/-]*)['"]"#,
        )
        .unwrap()
    });
    if framework == Some("laravel")
        && let Some(c) = tree
            .read_text(&join(dir, "bootstrap/app.php"))
            .as_deref()
            .and_then(|t| LARAVEL_HEALTH.captures(t))
    {
        return Some(c[1].to_string());
    }
    let candidates = [
        "routes/web.php",
        "routes/api.php",
        "public/index.php",
        "index.php",
        "app/routes.php",
    ];
    // Symfony controllers declare routes as attributes (`#[Route('/healthz')]`).
    let controllers: Vec<String> = tree
        .files_under(&join(dir, "src/Controller"))
        .filter(|f| f.path.ends_with(".php"))
        .take(100)
        .map(|f| f.path[if dir.is_empty() { 0 } else { dir.len() + 1 }..].to_string())
        .collect();
    for rel in candidates
        .iter()
        .copied()
        .chain(controllers.iter().map(String::as_str))
    {
        let Some(text) = tree.read_text(&join(dir, rel)) else {
            continue;
        };
        for c in ROUTE.captures_iter(&text) {
            let path = format!("/{}", c[1].trim_start_matches('/'));
            let path = if rel == "routes/api.php" {
                format!("/api{path}")
            } else {
                path
            };
            if matches!(
                path.rsplit('/').next(),
                Some("up" | "health" | "healthz" | "healthcheck" | "ping" | "livez")
            ) {
                return Some(path);
            }
        }
    }
    None
}

fn script(composer: &Value, name: &str) -> bool {
    composer.pointer(&format!("/scripts/{name}")).is_some()
}

fn lint_command(composer: &Value) -> Option<String> {
    if script(composer, "lint") {
        return Some("composer lint".to_string());
    }
    if requires(composer, "phpstan/phpstan") || requires(composer, "larastan/larastan") {
        return Some("vendor/bin/phpstan analyse --no-progress".to_string());
    }
    if requires(composer, "laravel/pint") {
        return Some("vendor/bin/pint --test".to_string());
    }
    if requires(composer, "friendsofphp/php-cs-fixer") {
        return Some("vendor/bin/php-cs-fixer fix --dry-run --diff".to_string());
    }
    if requires(composer, "squizlabs/php_codesniffer") {
        return Some("vendor/bin/phpcs".to_string());
    }
    None
}

fn test_command(
    tree: &RepoTree,
    dir: &str,
    composer: &Value,
    framework: Option<&str>,
) -> Option<String> {
    if script(composer, "test") {
        return Some("composer test".to_string());
    }
    let has_tests = tree.is_dir(&join(dir, "tests"));
    if !has_tests {
        return None;
    }
    if framework == Some("laravel") {
        return Some("php artisan test".to_string());
    }
    if requires(composer, "pestphp/pest") {
        return Some("vendor/bin/pest".to_string());
    }
    if requires(composer, "phpunit/phpunit")
        || tree.exists(&join(dir, "phpunit.xml"))
        || tree.exists(&join(dir, "phpunit.xml.dist"))
    {
        return Some("vendor/bin/phpunit".to_string());
    }
    None
}

/// Front-end assets built with Vite/Mix (`npm run build`) in a Node stage of the image.
fn node_assets(tree: &RepoTree, dir: &str, service: &mut Service) {
    // The build writes into the document root (`public/build` for Vite and Encore); other layouts are
    // left to the user.
    if service.facts.get("document_root").and_then(Value::as_str) != Some("public") {
        return;
    }
    let Some(package) = tree
        .read_text(&join(dir, "package.json"))
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return;
    };
    if package.pointer("/scripts/build").is_none() {
        return;
    }
    service.fact("node_assets", true);
    let (pm, lock) = if tree.exists(&join(dir, "yarn.lock")) {
        ("yarn", Some("yarn.lock"))
    } else if tree.exists(&join(dir, "pnpm-lock.yaml")) {
        ("pnpm", Some("pnpm-lock.yaml"))
    } else if tree.exists(&join(dir, "package-lock.json")) {
        ("npm", Some("package-lock.json"))
    } else {
        ("npm", None)
    };
    service.fact("js_package_manager", pm);
    let mut manifests = vec!["package.json".to_string()];
    manifests.extend(lock.map(String::from));
    service.fact("js_manifests", manifests);
    let node = super::node::asset_node_version(tree, dir);
    service.fact("node_version", node);
    service.build_command = Some(format!("{pm} run build"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tree::tree_of;

    #[test]
    fn composer_constraints() {
        let v = |c: &str| php_constraint_version(c);
        assert_eq!(v("^8.2").as_deref(), Some("8.2"));
        assert_eq!(v(">=8.1").as_deref(), Some("8.1"));
        assert_eq!(v(">=8.1 <8.4").as_deref(), Some("8.1"));
        assert_eq!(v("<8.4, >=8.2").as_deref(), Some("8.2"));
        assert_eq!(v("~8.3.0").as_deref(), Some("8.3"));
        assert_eq!(v("8.2.*").as_deref(), Some("8.2"));
        assert_eq!(v("8.3.4").as_deref(), Some("8.3"));
        assert_eq!(v("^8").as_deref(), Some("8.0"));
        assert_eq!(v("^8.1 || ^8.2").as_deref(), Some("8.2"));
        assert_eq!(v("^7.4|^8.0").as_deref(), Some("8.0"));
        assert_eq!(v("*"), None);
        assert_eq!(v(""), None);
        assert_eq!(v("dev-main"), None);
        assert_eq!(v("^99999999999999999999.1"), None);
    }

    #[test]
    fn a_composer_library_is_not_a_service() {
        let (_d, tree) = tree_of(&[
            (
                "composer.json",
                r#"{"name": "acme/lib", "type": "library", "require": {"php": "^8.1"}}"#,
            ),
            (
                "src/Lib.php",
                "<?php\nnamespace Acme;\nfinal class Lib {}\n",
            ),
        ]);
        let found = Php.detect(&tree, "").expect("a php folder");
        assert!(found.services.is_empty());
    }

    #[test]
    fn plain_site_without_composer() {
        let (_d, tree) = tree_of(&[(
            "index.php",
            "<?php\nif ($_SERVER['REQUEST_URI'] === '/health') { echo 'ok'; exit; }\necho 'hi';\n",
        )]);
        let s = &Php.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.package_manager, PackageManager::None);
        assert_eq!(s.facts["document_root"], "");
        assert_eq!(s.health_path.as_deref(), Some("/health"));
        assert_eq!(s.facts["manifests"], serde_json::json!([]));
    }

    #[test]
    fn malformed_composer_json_is_unknown_not_a_panic() {
        let (_d, tree) = tree_of(&[
            ("composer.json", "{\"require\": {\"php\": "),
            ("composer.lock", "[1, 2"),
            ("public/index.php", "<?php echo 1;\n"),
        ]);
        let s = &Php.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.runtime_version, None);
        assert_eq!(s.framework, None);
        assert_eq!(s.facts["php_extensions"], serde_json::json!([]));
    }

    #[test]
    fn extensions_need_build_and_runtime_packages() {
        let (_d, tree) = tree_of(&[
            (
                "composer.json",
                r#"{"require": {"php": "^8.3", "ext-gd": "*", "ext-redis": "*", "ext-mbstring": "*"}}"#,
            ),
            ("public/index.php", "<?php echo 1;\n"),
        ]);
        let s = &Php.detect(&tree, "").unwrap().services[0];
        assert_eq!(s.facts["php_extensions"], serde_json::json!(["gd"]));
        assert_eq!(
            s.facts["php_extensions_unsupported"],
            serde_json::json!(["redis"])
        );
        assert!(
            s.facts["apt_runtime_packages"]
                .as_array()
                .unwrap()
                .contains(&"libpng16-16".into())
        );
    }
}
