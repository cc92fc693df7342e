//! Language detection: linguist's data compiles, samples of known language are recognised, and the
//! exclusions (vendored, documentation, generated, binary, `.gitattributes`) shape the statistics.

use opsmith::analyze::linguist::{Attributes, Linguist, Strategy};
use opsmith::analyze::{AnalyzeOptions, analyze};
use std::collections::BTreeSet;
use std::path::Path;

fn language_of(path: &str, content: &str) -> Option<&'static str> {
    Linguist::get()
        .classify(path, content.as_bytes(), &Attributes::default())
        .language
}

/// Every `(path, content, language)` case is classified as that language; all mismatches are reported at once.
fn assert_languages(cases: &[(&str, &str, &str)]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(path, text, want)| language_of(path, text) != Some(*want))
        .map(|(path, text, want)| format!("{path}: want {want}, got {:?}", language_of(path, text)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_heuristics_pattern_compiles() {
    let h = &Linguist::get().heuristics;
    assert!(h.patterns.len() > 100, "heuristics.yml was not loaded");
    let failures: Vec<String> = h
        .patterns
        .iter()
        .filter_map(|p| p.compile().err().map(str::to_string))
        .collect();
    assert!(
        failures.is_empty(),
        "patterns that do not compile:\n{}",
        failures.join("\n")
    );
    assert!(
        h.unknown_languages.is_empty(),
        "heuristics name languages languages.yml lacks: {:?}",
        h.unknown_languages
    );
}

fn samples_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/languages/samples")
}

#[test]
fn every_disambiguated_extension_has_a_sample() {
    let mut names = Vec::new();
    for dir in std::fs::read_dir(samples_root()).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            names.push(file.unwrap().file_name().to_string_lossy().to_lowercase());
        }
    }
    let missing: BTreeSet<&str> = Linguist::get()
        .heuristics
        .extensions()
        .filter(|ext| !names.iter().any(|n| n.ends_with(ext)))
        .collect();
    assert!(
        missing.is_empty(),
        "extensions without a sample: {missing:?}"
    );
}

/// Samples that no heuristic rule claims, decided by the fallback on purpose (file name: why).
const DECIDED_BY_FALLBACK: &[(&str, &str)] = &[
    (
        "limits.rs",
        "no Rust rule matches `pub(crate)`: Rust over RenderScript as more widely used",
    ),
    (
        "math.hh",
        "the .hh rule only recognises Hack: C++ as more widely used",
    ),
];

#[test]
fn samples_are_recognised() {
    let root = samples_root();
    let linguist = Linguist::get();
    let mut mismatches = Vec::new();
    let mut count = 0;
    for lang_dir in std::fs::read_dir(&root).unwrap() {
        let lang_dir = lang_dir.unwrap().path();
        let expected = lang_dir.file_name().unwrap().to_string_lossy().to_string();
        for file in std::fs::read_dir(&lang_dir).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let head = std::fs::read(&file).unwrap();
            let path = format!("src/{name}");
            let (got, strategy) = linguist.explain_name(&path, &head);
            count += 1;
            if got != Some(expected.as_str()) {
                mismatches.push(format!("{expected}/{name}: got {got:?} by {strategy:?}"));
            } else if strategy == Strategy::Fallback
                && !DECIDED_BY_FALLBACK.iter().any(|(n, _)| *n == name)
            {
                // Right by luck: the heuristics should have decided.
                mismatches.push(format!("{expected}/{name}: right only by the fallback"));
            }
        }
    }
    assert!(count > 200, "only {count} samples found");
    assert!(
        mismatches.is_empty(),
        "{} of {count} samples misclassified:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn file_names() {
    let cases = [
        ("Dockerfile", "FROM alpine:3.20\n", "Dockerfile"),
        ("api/Makefile", "all:\n\tcargo build\n", "Makefile"),
        (
            "Gemfile",
            "source 'https://rubygems.org'\ngem 'rails'\n",
            "Ruby",
        ),
        ("Rakefile", "task :default do\nend\n", "Ruby"),
        (
            "CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.20)\n",
            "CMake",
        ),
        ("Cargo.lock", "version = 3\n", "TOML"),
    ];
    assert_languages(&cases);
}

#[test]
fn shebangs() {
    let cases = [
        ("bin/run", "#!/usr/bin/env python3.11\nprint(1)\n", "Python"),
        (
            "bin/serve",
            "#!/usr/bin/env -S python3 -u\nprint(1)\n",
            "Python",
        ),
        ("bin/build", "#!/bin/bash\nset -e\n", "Shell"),
        ("bin/tool", "#!/usr/bin/perl -w\nprint 1;\n", "Perl"),
        (
            "bin/app",
            "#!/usr/bin/env node\nconsole.log(1)\n",
            "JavaScript",
        ),
        ("bin/task", "#!/usr/bin/env ruby\nputs 1\n", "Ruby"),
        (
            "bin/wrapped",
            "#!/bin/sh\n# the next line restarts using tclsh \\\nexec tclsh \"$0\" \"$@\"\n",
            "Tcl",
        ),
        // A shebang decides even against the extension's usual language.
        (
            "scripts/check.pl",
            "#!/usr/bin/env swipl\n:- initialization(main).\n",
            "Prolog",
        ),
    ];
    assert_languages(&cases);
}

#[test]
fn modelines() {
    let cases = [
        ("conf/site", "# vim: set ft=nginx:\nserver {}\n", "Nginx"),
        (
            "build/rules",
            "# -*- mode: makefile -*-\nall:\n",
            "Makefile",
        ),
        ("lib/thing.inc", "/* -*- c++ -*- */\nint x;\n", "C++"),
        ("notes.txt", "hello\n\n vim: ft=markdown\n", "Markdown"),
        // A modeline beats the extension.
        ("src/odd.js", "// vim: syntax=ruby\nputs 1\n", "Ruby"),
    ];
    assert_languages(&cases);
}

#[test]
fn binary_and_empty_files_have_no_language() {
    assert_eq!(language_of("src/main.rs", ""), None);
    let l = Linguist::get();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    assert_eq!(
        l.classify("logo.png", png, &Attributes::default()).language,
        None
    );
    assert_eq!(
        l.classify("src/data.c", b"int x;\0\0\x01\x02", &Attributes::default())
            .language,
        None
    );
    let noise: Vec<u8> = (0..400u32).map(|i| (i % 31 + 1) as u8).collect();
    assert_eq!(
        l.classify("dump.txt", &noise, &Attributes::default())
            .language,
        None
    );
}

#[test]
fn statistics_use_the_group_and_skip_data_and_prose() {
    let l = Linguist::get();
    let none = Attributes::default();
    let tsx = l.classify("src/App.tsx", b"export const A = () => <p/>;\n", &none);
    assert_eq!(tsx.language, Some("TSX"));
    assert_eq!(tsx.stats_language, Some("TypeScript"));
    let json = l.classify("data/x.json", b"{\"a\": 1}\n", &none);
    assert_eq!((json.language, json.stats_language), (Some("JSON"), None));
    let text = l.classify("notes.txt", b"plain words\n", &none);
    assert_eq!((text.language, text.stats_language), (Some("Text"), None));
}

#[test]
fn vendored_documentation_and_generated_keep_language_but_not_statistics() {
    let l = Linguist::get();
    let none = Attributes::default();
    let cases: [(&str, &[u8]); 7] = [
        ("node_modules/left-pad/index.js", b"module.exports = 1;\n"),
        ("vendor/github.com/x/y/y.go", b"package y\n"),
        ("docs/conf.py", b"project = 'x'\n"),
        ("web/app.min.js", b"var a=1;\n"),
        ("api/user.pb.go", b"package api\n"),
        (
            "gen/enum.go",
            b"// Code generated by stringer; DO NOT EDIT.\n\npackage gen\n",
        ),
        (
            "src/schema.ts",
            b"/**\n * @generated by relay-compiler\n */\nexport {};\n",
        ),
    ];
    for (path, head) in cases {
        let c = l.classify(path, head, &none);
        assert!(c.language.is_some(), "{path}: lost its language");
        assert_eq!(c.stats_language, None, "{path}: counted in statistics");
    }
    assert!(l.is_vendored("node_modules/"));
    assert!(l.is_documentation("docs/"));
    assert!(!l.is_vendored("src/"));
    let plain = l.classify("src/lib.rs", b"pub fn f() {}\n", &none);
    assert_eq!(plain.stats_language, Some("Rust"));
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn languages_of(root: &Path) -> Vec<(String, u64)> {
    analyze(root, AnalyzeOptions::default())
        .unwrap()
        .languages
        .into_iter()
        .map(|l| (l.name, l.bytes))
        .collect()
}

#[test]
fn gitattributes_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let rs = "fn main() {}\n"; // 13 bytes
    write(
        dir.path(),
        &[
            (
                ".gitattributes",
                "third_party/** linguist-vendored\nnode_modules/keep/** -linguist-vendored\n*.inc linguist-language=php\n/gen/*.rs linguist-generated=true\ndocs/*.rs linguist-documentation=false\n*.json linguist-detectable\nsrc/skip.rs -linguist-detectable\n*.tmpl linguist-language=GOLANG\n",
            ),
            ("src/main.rs", rs),
            ("src/skip.rs", rs),
            ("third_party/lib.rs", rs),
            ("node_modules/keep/index.js", "module.exports = 1;\n"),
            ("lib/config.inc", "$a = 1;\n"),
            ("gen/out.rs", rs),
            ("docs/example.rs", rs),
            ("data/x.json", "{\"a\": 1}\n"),
            ("sub/.gitattributes", "*.rs linguist-language=C\n"),
            ("sub/x.rs", rs),
            ("views/page.tmpl", "package views\n"),
        ],
    );
    let langs = languages_of(dir.path());
    let get = |n: &str| langs.iter().find(|(l, _)| l == n).map(|(_, b)| *b);
    assert_eq!(
        get("Rust"),
        Some(26),
        "main.rs and docs/example.rs: {langs:?}"
    );
    assert_eq!(
        get("JavaScript"),
        Some(20),
        "un-vendored node_modules/keep: {langs:?}"
    );
    assert_eq!(get("PHP"), Some(8), "linguist-language=php: {langs:?}");
    assert_eq!(get("JSON"), Some(9), "detectable JSON: {langs:?}");
    assert_eq!(get("C"), Some(13), "nested .gitattributes: {langs:?}");
    assert_eq!(get("Go"), Some(14), "an alias, any case: {langs:?}");
}

/// `start` padded with `x` and a final newline to exactly `len` bytes.
fn sized(start: &str, len: usize) -> String {
    format!("{start}{}\n", "x".repeat(len - start.len() - 1))
}

#[test]
fn percentages_of_a_mixed_tree() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("src/main.rs", &sized("fn main() {}\n//", 600)),
            ("web/app.ts", &sized("export {};\n//", 300)),
            ("scripts/run.sh", &sized("#!/bin/sh\n#", 100)),
            ("README.md", "# Demo\n"),
            ("config.yml", "a: 1\n"),
            ("logo.png", "\u{0}\u{1}PNG"),
        ],
    );
    let profile = analyze(dir.path(), AnalyzeOptions::default()).unwrap();
    let got: Vec<(String, u64, f64)> = profile
        .languages
        .iter()
        .map(|l| (l.name.clone(), l.bytes, l.percent))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Rust".to_string(), 600, 60.0),
            ("TypeScript".to_string(), 300, 30.0),
            ("Shell".to_string(), 100, 10.0),
        ]
    );
}

#[test]
fn extensions_are_case_insensitive_and_longest_first() {
    assert_eq!(language_of("SRC/MAIN.RS", "fn main() {}\n"), Some("Rust"));
    assert_eq!(
        language_of("lib/Util.H", "#include <vector>\n"),
        Some("C++")
    );
    assert_eq!(
        language_of("views/home.blade.php", "@section('x')\n@endsection\n"),
        Some("Blade")
    );
    assert_eq!(
        language_of("app/.eslintrc.json", "{\"root\": true}\n"),
        Some("JSON with Comments")
    );
}

#[test]
fn generic_extensions_need_a_heuristic() {
    // `.msg` is generic: a mail export matching no heuristic gets no language.
    assert_eq!(
        language_of("mail/hello.msg", "From: opsmith\n> quoted text\n"),
        None
    );
    assert_eq!(
        language_of(
            "contracts/Token.sol",
            "pragma solidity ^0.8.0;\ncontract Token {}\n"
        ),
        Some("Solidity")
    );
}
