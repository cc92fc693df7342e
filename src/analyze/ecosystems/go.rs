//! The go ecosystem: modules (`go.mod`), workspaces (`go.work`) and their main packages, one service
//! per program, with the web framework, port and health route the code shows.
//!
//! A module whose only program is at its root or in a single `cmd/<name>` folder is one service at
//! the module folder. A module with several programs (`cmd/api`, `cmd/worker`) gives one service per
//! program, each at its package folder, all built from the module (or workspace) root as context.
//!
//! Facts set besides the common ones: `module` (module path), `module_dir` (the module folder
//! relative to the build context, `""` or with a trailing `/`), `main_package` (the package to build,
//! relative to the module: `.` or `./cmd/api`), `binary` (the executable's name), `cgo` (whether the
//! program needs cgo, which rules out the static distroless image), `programs` (every main package of
//! the module, relative to it).

use super::version::tool_version;
use super::{Detection, Detector, dir_name, service_path};
use crate::analyze::tree::{RepoTree, join, relative_to};
use crate::profile::{Ecosystem, PackageManager, Service};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

pub struct Go;

/// The Go release used when the repository declares none; the Dockerfile template states the same.
pub const DEFAULT_GO: &str = "1.26";
/// At most this many `.go` files are read per module.
const MAX_SOURCES: usize = 2000;

impl Detector for Go {
    fn detect(&self, tree: &RepoTree, dir: &str) -> Option<Detection> {
        if let Some(text) = tree.read_text(&join(dir, "go.work")) {
            let work = GoWork::parse(&text);
            let mut detection = Detection::default();
            let modules: Vec<String> = work
                .uses
                .iter()
                .map(|u| normalise(&join(dir, u)))
                .filter(|m| tree.exists(&join(m, "go.mod")))
                .collect();
            let mut manifests = vec!["go.work".to_string()];
            if tree.exists(&join(dir, "go.work.sum")) {
                manifests.push("go.work.sum".to_string());
            }
            for m in &modules {
                let rel = relative_to(m, dir);
                for f in ["go.mod", "go.sum"] {
                    if tree.exists(&join(m, f)) {
                        manifests.push(join(&rel, f));
                    }
                }
            }
            let workspace = Workspace {
                dir: dir.to_string(),
                manifests,
                go_version: work.go,
            };
            for m in &modules {
                if m != dir {
                    detection.claimed.push(m.clone());
                }
                detection
                    .services
                    .extend(module_services(tree, m, Some(&workspace)));
            }
            return Some(detection);
        }
        if tree.exists(&join(dir, "go.mod")) {
            return Some(Detection {
                services: module_services(tree, dir, None),
                claimed: Vec::new(),
            });
        }
        None
    }
}

/// The `go.work` file of a workspace the module belongs to.
struct Workspace {
    dir: String,
    /// Relative to the workspace folder.
    manifests: Vec<String>,
    go_version: Option<String>,
}

/// What `go.work` declares.
#[derive(Debug, Default, PartialEq)]
pub struct GoWork {
    pub go: Option<String>,
    pub uses: Vec<String>,
}

impl GoWork {
    pub fn parse(text: &str) -> GoWork {
        let mut work = GoWork::default();
        for (directive, args) in directives(text) {
            match directive.as_str() {
                "go" => work.go = args.first().cloned(),
                "use" => work.uses.extend(args.first().cloned()),
                _ => {}
            }
        }
        work
    }
}

/// What `go.mod` declares.
#[derive(Debug, Default, PartialEq)]
pub struct GoMod {
    pub module: Option<String>,
    pub go: Option<String>,
    pub toolchain: Option<String>,
    pub requires: Vec<String>,
}

impl GoMod {
    pub fn parse(text: &str) -> GoMod {
        let mut m = GoMod::default();
        for (directive, args) in directives(text) {
            match directive.as_str() {
                "module" => m.module = args.first().map(|s| s.trim_matches('"').to_string()),
                "go" => m.go = args.first().cloned(),
                "toolchain" => m.toolchain = args.first().cloned(),
                "require" => m.requires.extend(args.first().cloned()),
                _ => {}
            }
        }
        m
    }
}

/// The directives of a `go.mod`/`go.work` file as (verb, arguments), with `verb ( … )` blocks
/// expanded to one entry per line and `//` comments removed.
fn directives(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(verb) = &block {
            if line == ")" {
                block = None;
            } else {
                out.push((verb.clone(), words(line)));
            }
            continue;
        }
        let mut parts = words(line);
        if parts.is_empty() {
            continue;
        }
        let verb = parts.remove(0);
        if parts.first().map(String::as_str) == Some("(") {
            block = Some(verb);
        } else {
            out.push((verb, parts));
        }
    }
    out
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|w| w.trim_matches('"').to_string())
        .collect()
}

/// `1.22`, `1.22.3`, `go1.23.4` → `1.22` / `1.23`: the minor release an image tag names.
pub fn go_minor(version: &str) -> Option<String> {
    let v = version.trim().trim_start_matches("go");
    let mut parts = v.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts
        .next()?
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .ok()?;
    (major == 1).then(|| format!("{major}.{minor}"))
}

/// One Go source file's package, imports and text.
struct SourceFile {
    dir: String,
    package: String,
    imports: Vec<String>,
    text: String,
}

static PACKAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^package\s+(\w+)").expect("valid regex"));
static IMPORT_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)\bimport\s*\((.*?)\)").expect("valid regex"));
static IMPORT_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?m)^import\s+(?:[\w.]+\s+)?"([^"]+)""#).expect("valid regex"));
static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#""([^"]+)""#).expect("valid regex"));
static FUNC_MAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^func\s+main\s*\(\s*\)").expect("valid regex"));
static IGNORED_BUILD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^//go:build\s+ignore\b").expect("valid regex"));

fn parse_source(dir: String, text: String) -> Option<SourceFile> {
    if IGNORED_BUILD.is_match(&text) {
        return None;
    }
    let package = PACKAGE.captures(&text)?[1].to_string();
    let mut imports = Vec::new();
    for block in IMPORT_BLOCK.captures_iter(&text) {
        imports.extend(QUOTED.captures_iter(&block[1]).map(|c| c[1].to_string()));
    }
    imports.extend(IMPORT_LINE.captures_iter(&text).map(|c| c[1].to_string()));
    Some(SourceFile {
        dir,
        package,
        imports,
        text,
    })
}

/// The non-test Go files of a module, excluding nested modules, vendored code and test data.
fn module_sources(tree: &RepoTree, module_dir: &str) -> Vec<SourceFile> {
    let prefix = if module_dir.is_empty() {
        0
    } else {
        module_dir.len() + 1
    };
    let nested: Vec<String> = tree
        .files_under(module_dir)
        .filter(|f| f.path.ends_with("/go.mod") && f.path.len() > prefix + 6)
        .map(|f| f.path[prefix..f.path.len() - "/go.mod".len()].to_string())
        .filter(|d| !d.is_empty())
        .collect();
    tree.files_under(module_dir)
        .filter(|f| f.path.ends_with(".go") && !f.path.ends_with("_test.go"))
        .filter_map(|f| {
            let rel = &f.path[prefix..];
            let dir = rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            let skipped = dir.split('/').any(|p| {
                matches!(p, "vendor" | "testdata") || p.starts_with('.') || p.starts_with('_')
            }) || nested
                .iter()
                .any(|n| dir == n || dir.starts_with(&format!("{n}/")));
            (!skipped).then(|| (f.path.clone(), dir.to_string()))
        })
        .take(MAX_SOURCES)
        .filter_map(|(path, dir)| parse_source(dir, tree.read_text(&path)?))
        .collect()
}

/// Web frameworks by import path prefix.
const FRAMEWORKS: &[(&str, &str)] = &[
    ("github.com/gin-gonic/gin", "gin"),
    ("github.com/labstack/echo", "echo"),
    ("github.com/gofiber/fiber", "fiber"),
    ("github.com/go-chi/chi", "chi"),
    ("github.com/gorilla/mux", "gorilla-mux"),
];

/// A main package and the code it reaches inside its module.
struct Program {
    /// Relative to the module, `""` for the module root.
    dir: String,
    imports: BTreeSet<String>,
    /// The text of every file of the packages it reaches in the module.
    texts: Vec<String>,
}

fn programs(sources: &[SourceFile], module_path: &str) -> Vec<Program> {
    let mut by_dir: BTreeMap<&str, Vec<&SourceFile>> = BTreeMap::new();
    for s in sources {
        by_dir.entry(s.dir.as_str()).or_default().push(s);
    }
    let main_dirs: Vec<&str> = by_dir
        .iter()
        .filter(|(_, files)| {
            files
                .iter()
                .any(|f| f.package == "main" && FUNC_MAIN.is_match(&f.text))
        })
        .map(|(d, _)| *d)
        .collect();
    main_dirs
        .into_iter()
        .map(|main| {
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            let mut pending = vec![main];
            let mut imports = BTreeSet::new();
            let mut texts = Vec::new();
            while let Some(d) = pending.pop() {
                if !seen.insert(d) {
                    continue;
                }
                for f in by_dir.get(d).into_iter().flatten() {
                    texts.push(f.text.clone());
                    for i in &f.imports {
                        imports.insert(i.clone());
                        let local = if i == module_path {
                            Some("")
                        } else {
                            i.strip_prefix(module_path)
                                .and_then(|rest| rest.strip_prefix('/'))
                        };
                        if let Some(local) = local
                            && let Some((key, _)) = by_dir.get_key_value(local)
                        {
                            pending.push(key);
                        }
                    }
                }
            }
            Program {
                dir: main.to_string(),
                imports,
                texts,
            }
        })
        .collect()
}

/// Which programs become services: the module root's and those under `cmd/`; when there are none of
/// those, every main package outside tool folders.
fn deployable(programs: Vec<Program>) -> Vec<Program> {
    let preferred = |p: &Program| p.dir.is_empty() || p.dir.starts_with("cmd/");
    if programs.iter().any(preferred) {
        programs.into_iter().filter(preferred).collect()
    } else {
        programs
            .into_iter()
            .filter(|p| {
                !p.dir.split('/').any(|part| {
                    matches!(part, "tools" | "scripts" | "hack" | "internal" | "examples")
                })
            })
            .collect()
    }
}

fn module_services(
    tree: &RepoTree,
    module_dir: &str,
    workspace: Option<&Workspace>,
) -> Vec<Service> {
    let Some(text) = tree.read_text(&join(module_dir, "go.mod")) else {
        return Vec::new();
    };
    let gomod = GoMod::parse(&text);
    let module_path = gomod.module.clone().unwrap_or_default();
    let sources = module_sources(tree, module_dir);
    let all_programs = programs(&sources, &module_path);
    let program_dirs: Vec<String> = all_programs
        .iter()
        .map(|p| {
            if p.dir.is_empty() {
                ".".to_string()
            } else {
                format!("./{}", p.dir)
            }
        })
        .collect();
    let chosen = deployable(all_programs);
    let several = chosen.len() > 1;

    let declared = declared_version(tree, module_dir, &gomod, workspace);

    let context_dir = workspace.map(|w| w.dir.as_str()).unwrap_or(module_dir);
    let module_in_context = {
        let rel = relative_to(module_dir, context_dir);
        if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        }
    };
    let manifests: Vec<String> = match workspace {
        Some(w) => w.manifests.clone(),
        None => ["go.mod", "go.sum"]
            .iter()
            .filter(|f| tree.exists(&join(module_dir, f)))
            .map(|f| f.to_string())
            .collect(),
    };
    let lockfile = match workspace {
        Some(_) if tree.exists(&join(module_dir, "go.sum")) => {
            Some(format!("{module_in_context}go.sum"))
        }
        Some(w) if tree.exists(&join(&w.dir, "go.work.sum")) => Some("go.work.sum".to_string()),
        None if tree.exists(&join(module_dir, "go.sum")) => Some("go.sum".to_string()),
        _ => None,
    };
    let has_tests = tree
        .files_under(module_dir)
        .any(|f| f.path.ends_with("_test.go"));
    let golangci = [
        ".golangci.yml",
        ".golangci.yaml",
        ".golangci.toml",
        ".golangci.json",
    ]
    .iter()
    .any(|f| tree.exists(&join(module_dir, f)) || tree.exists(&join(context_dir, f)));
    let module_name = module_path
        .rsplit('/')
        .find(|s| {
            !(s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit()) && s.len() > 1)
        })
        .map(String::from)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| dir_name(tree, module_dir));

    let mut services = Vec::new();
    for program in chosen {
        let binary = program
            .dir
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(String::from)
            .unwrap_or_else(|| module_name.clone());
        let service_dir = if several {
            join(module_dir, &program.dir)
        } else {
            module_dir.to_string()
        };
        let name = if several || !program.dir.is_empty() {
            binary.clone()
        } else {
            module_name.clone()
        };
        let mut service = Service::new(
            name,
            service_path(&service_dir),
            Ecosystem::Go,
            PackageManager::Go,
        );
        if let Some((v, source)) = &declared {
            service.runtime_version = Some(v.clone());
            service.runtime_version_source = Some(source.clone());
        }
        service.framework = FRAMEWORKS
            .iter()
            .find(|(prefix, _)| program.imports.iter().any(|i| i.starts_with(prefix)))
            .map(|(_, name)| name.to_string());
        let serves_http = service.framework.is_some()
            || program.texts.iter().any(|t| {
                t.contains("ListenAndServe")
                    || t.contains("http.Server{")
                    || t.contains("net.Listen(")
            });
        if serves_http {
            let code_port = program.texts.iter().find_map(|t| port_in_go(t));
            let framework_default = match service.framework.as_deref() {
                Some("gin") => 8080,
                Some("fiber") => 3000,
                Some("echo") => 1323,
                _ => 8080,
            };
            service.port = Some(code_port.unwrap_or(framework_default));
            service.health_path = program.texts.iter().find_map(|t| health_in_go(t));
        }
        let cgo = program.imports.contains("C")
            || program
                .imports
                .iter()
                .any(|i| i.starts_with("github.com/mattn/go-sqlite3"));
        let main_package = if program.dir.is_empty() {
            ".".to_string()
        } else {
            format!("./{}", program.dir)
        };
        service.build_command = Some(format!(
            "{}go build -trimpath -ldflags=\"-s -w\" -o bin/{binary} {main_package}",
            if cgo { "" } else { "CGO_ENABLED=0 " }
        ));
        service.start_command = Some(format!("bin/{binary}"));
        let version = declared
            .as_ref()
            .map(|(v, _)| v.clone())
            .unwrap_or_else(|| DEFAULT_GO.to_string());
        service.fact("build_image", format!("golang:{version}-bookworm"));
        service.fact(
            "runtime_image",
            if cgo {
                "gcr.io/distroless/base-debian12:nonroot"
            } else {
                "gcr.io/distroless/static-debian12:nonroot"
            },
        );
        service.fact("cgo", cgo);
        service.fact("module", module_path.clone());
        service.fact("module_dir", module_in_context.clone());
        service.fact("main_package", main_package);
        service.fact("binary", binary);
        service.fact("programs", program_dirs.clone());
        service.fact("build_context", service_path(context_dir));
        let service_rel = relative_to(&service_dir, context_dir);
        service.fact(
            "service_in_context",
            if service_rel.is_empty() {
                String::new()
            } else {
                format!("{service_rel}/")
            },
        );
        service.fact("manifests", manifests.clone());
        if let Some(lock) = &lockfile {
            service.fact("lockfile", lock.clone());
        }
        service.fact("install_command", "go mod download");
        service.fact(
            "lint_command",
            if golangci {
                "golangci-lint run"
            } else {
                "go vet ./..."
            },
        );
        if has_tests {
            service.fact("test_command", "go test ./...");
        }
        services.push(service);
    }
    services
}

/// The Go release a module asks for, and the file that says so. A pinned toolchain (go.mod's
/// `toolchain` line, `.go-version`, `.tool-versions`, `mise.toml`) wins over the `go` directive, which
/// is only a minimum, unless the pin is older than that minimum (it could not build the module).
fn declared_version(
    tree: &RepoTree,
    module_dir: &str,
    gomod: &GoMod,
    workspace: Option<&Workspace>,
) -> Option<(String, String)> {
    let go_mod = join(module_dir, "go.mod");
    let minimum = gomod
        .go
        .as_deref()
        .and_then(go_minor)
        .map(|v| (v, go_mod.clone()))
        .or_else(|| {
            let ws = workspace?;
            ws.go_version
                .as_deref()
                .and_then(go_minor)
                .map(|v| (v, join(&ws.dir, "go.work")))
        });
    let pinned = gomod
        .toolchain
        .as_deref()
        .and_then(go_minor)
        .map(|v| (v, go_mod.clone()))
        .or_else(|| {
            let path = join(module_dir, ".go-version");
            tree.read_text(&path)
                .and_then(|t| go_minor(&t))
                .map(|v| (v, path))
        })
        .or_else(|| {
            tool_version(tree, module_dir, &["golang", "go"])
                .and_then(|d| go_minor(&d.version).map(|v| (v, d.source)))
        });
    match (pinned, minimum) {
        (Some(p), Some(m)) if minor_key(&p.0) < minor_key(&m.0) => Some(m),
        (Some(p), _) => Some(p),
        (None, m) => m,
    }
}

fn minor_key(v: &str) -> (u32, u32) {
    let mut parts = v.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

static LISTEN_ADDR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:ListenAndServe(?:TLS)?|\.Run|\.Listen|\.Start|Addr:|Addr\s*=)\s*\(?\s*(?:"tcp[46]?"\s*,\s*)?"(?:0\.0\.0\.0|\[::\])?:(\d{2,5})""#,
    )
    .expect("valid regex")
});
static PORT_FALLBACK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)Getenv\("(?:PORT|HTTP_PORT|APP_PORT)"\).{0,120}?=\s*":?(\d{2,5})""#)
        .expect("valid regex")
});
static PORT_HELPER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\(\s*"(?:PORT|HTTP_PORT|APP_PORT|ADDR|LISTEN_ADDR)"\s*,\s*":?(\d{2,5})"\s*\)"#)
        .expect("valid regex")
});
static PORT_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"flag\.(?:String|Int)(?:Var)?\([^)]*?"(?:port|addr|listen|http)[\w-]*"\s*,\s*"?:?(\d{2,5})"#)
        .expect("valid regex")
});
static PORT_CONST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:default)?(?:port|addr|listenaddr|address)\w*\s*(?::=|=)\s*"(?:0\.0\.0\.0)?:?(\d{2,5})""#)
        .expect("valid regex")
});

/// The port a Go program listens on, from its code.
pub fn port_in_go(text: &str) -> Option<u16> {
    [
        &*LISTEN_ADDR,
        &*PORT_FALLBACK,
        &*PORT_HELPER,
        &*PORT_FLAG,
        &*PORT_CONST,
    ]
    .iter()
    .find_map(|re| re.captures(text).and_then(|c| c[1].parse().ok()))
}

static HEALTH_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"\.(?:GET|Get|HandleFunc|Handle|Any|HEAD|Head)\(\s*"(?:GET |HEAD )?(/(?:health|healthz|healthcheck|ping|livez|readyz|status|up)/?)""#,
    )
    .expect("valid regex")
});

/// A health route the Go code registers.
pub fn health_in_go(text: &str) -> Option<String> {
    HEALTH_ROUTE.captures(text).map(|c| c[1].to_string())
}

/// `a/./b/../c` → `a/c`.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_mod_directives_and_blocks() {
        let m = GoMod::parse(
            "// a service\nmodule example.com/shop/v2\n\ngo 1.22.3\n\ntoolchain go1.23.4\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.10.0\n\tgolang.org/x/net v0.30.0 // indirect\n)\nrequire github.com/google/uuid v1.6.0\n",
        );
        assert_eq!(m.module.as_deref(), Some("example.com/shop/v2"));
        assert_eq!(m.go.as_deref(), Some("1.22.3"));
        assert_eq!(m.toolchain.as_deref(), Some("go1.23.4"));
        assert_eq!(
            m.requires,
            [
                "github.com/gin-gonic/gin",
                "golang.org/x/net",
                "github.com/google/uuid"
            ]
        );
        assert_eq!(GoMod::parse("\u{0}garbage ( (\n"), GoMod::default());
    }

    #[test]
    fn go_work_uses() {
        let w = GoWork::parse("go 1.23\n\nuse (\n\t./api\n\t./worker // jobs\n)\nuse ./shared\n");
        assert_eq!(w.go.as_deref(), Some("1.23"));
        assert_eq!(w.uses, ["./api", "./worker", "./shared"]);
    }

    #[test]
    fn versions_become_minor_releases() {
        assert_eq!(go_minor("1.22.3").as_deref(), Some("1.22"));
        assert_eq!(go_minor("go1.23.4").as_deref(), Some("1.23"));
        assert_eq!(go_minor("1.21").as_deref(), Some("1.21"));
        assert_eq!(go_minor("1.23rc1").as_deref(), Some("1.23"));
        assert_eq!(go_minor("latest"), None);
    }

    #[test]
    fn ports_from_code() {
        let cases = [
            (
                r#"log.Fatal(http.ListenAndServe(":8081", mux))"#,
                Some(8081),
            ),
            (r#"r.Run(":9090")"#, Some(9090)),
            (r#"lis, err := net.Listen("tcp", ":50051")"#, Some(50051)),
            (r#"app.Listen(":3001")"#, Some(3001)),
            (r#"e.Logger.Fatal(e.Start(":1324"))"#, Some(1324)),
            (
                "srv := &http.Server{\n\tAddr: \"0.0.0.0:7070\",\n}",
                Some(7070),
            ),
            (
                "port := os.Getenv(\"PORT\")\nif port == \"\" {\n\tport = \"8082\"\n}",
                Some(8082),
            ),
            (r#"addr := ":" + getEnv("PORT", "8083")"#, Some(8083)),
            (
                r#"addr := flag.String("addr", ":8084", "listen address")"#,
                Some(8084),
            ),
            (r#"const defaultPort = "8085""#, Some(8085)),
            (r#"db, _ := sql.Open("postgres", "localhost:5432")"#, None),
        ];
        for (code, want) in cases {
            assert_eq!(port_in_go(code), want, "{code}");
        }
    }

    #[test]
    fn health_routes() {
        assert_eq!(
            health_in_go(r#"r.GET("/healthz", h)"#).as_deref(),
            Some("/healthz")
        );
        assert_eq!(
            health_in_go(r#"mux.HandleFunc("GET /health", h)"#).as_deref(),
            Some("/health")
        );
        assert_eq!(health_in_go(r#"r.GET("/users", h)"#), None);
    }

    #[test]
    fn pinned_toolchains_win_over_the_minimum_unless_older() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".tool-versions"), "golang 1.23.2\n").unwrap();
        std::fs::write(dir.path().join("go.mod"), "module x\n").unwrap();
        let tree = RepoTree::scan(dir.path()).unwrap();
        let version = |go_mod: &str| {
            declared_version(&tree, "", &GoMod::parse(go_mod), None)
                .map(|(v, src)| format!("{v} {src}"))
        };
        assert_eq!(
            version("module x\ngo 1.22\n").as_deref(),
            Some("1.23 .tool-versions")
        );
        assert_eq!(
            version("module x\ngo 1.24.1\n").as_deref(),
            Some("1.24 go.mod")
        );
        assert_eq!(
            version("module x\ngo 1.22\ntoolchain go1.25.0\n").as_deref(),
            Some("1.25 go.mod")
        );
        assert_eq!(
            version("module x\n").as_deref(),
            Some("1.23 .tool-versions")
        );
    }

    #[test]
    fn paths() {
        assert_eq!(normalise("./a/../b/./c"), "b/c");
        assert_eq!(relative_to("svc/api", "svc"), "api");
        assert_eq!(relative_to("svc", "svc"), "");
        assert_eq!(relative_to("svc", ""), "svc");
    }

    #[test]
    fn the_template_states_the_same_default_release() {
        let template = include_str!("../../../templates/ecosystems/go/Dockerfile");
        let expected = format!(r#"runtime_version | default(value="{DEFAULT_GO}", boolean=true)"#);
        assert!(template.contains(&expected), "{expected}");
    }
}
