//! Embeds every file under `templates/` into the binary, so opsmith runs from any directory.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=templates");
    let mut files = Vec::new();
    collect(Path::new("templates"), &mut files);
    files.sort();
    let mut out = String::from(
        "/// Every template, by path relative to `templates/`.\npub static TEMPLATES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let rel = f
            .strip_prefix("templates")
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let abs = std::fs::canonicalize(f).unwrap();
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            rel.trim_start_matches('/'),
            abs.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").unwrap();
    std::fs::write(Path::new(&out_dir).join("templates.rs"), out).unwrap();
    fixture_tests(Path::new(&out_dir));
}

/// Writes one set of test functions per folder of `tests/fixtures/`, included by `tests/fixtures.rs`, so
/// each fixture passes or fails on its own and can be run by name.
fn fixture_tests(out_dir: &Path) {
    println!("cargo:rerun-if-changed=tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir("tests/fixtures")
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = String::new();
    for name in names {
        let id: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        for kind in ["profile", "artifacts", "validate"] {
            writeln!(out, "#[test]\nfn {kind}_{id}() {{ {kind}({name:?}); }}").unwrap();
        }
    }
    std::fs::write(out_dir.join("fixture_tests.rs"), out).unwrap();
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        println!("cargo:rerun-if-changed={}", p.display());
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}
