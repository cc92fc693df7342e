//! The `opsmith` binary as a user runs it: output shapes, and bad input that must give a clear error
//! (exit 2) or a warning and a correct result, never a panic.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output};

fn opsmith(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsmith"))
        .args(args)
        .output()
        .expect("opsmith runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

/// `opsmith analyze --json --per-file DIR`.
fn analyze_per_file(dir: &Path) -> Output {
    opsmith(&["analyze", "--json", "--per-file", dir.to_str().unwrap()])
}

/// Every `path` of a `--per-file` listing.
fn listed_paths(v: &serde_json::Value) -> Vec<&str> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect()
}

/// Exit 0 without a panic.
fn succeeded(o: &Output) {
    no_panic(o);
    assert!(o.status.success(), "{}", stderr(o));
}

fn no_panic(o: &Output) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "opsmith panicked: {err}");
}

/// A one-line error on stderr and exit code 2.
fn assert_user_error(o: &Output, needle: &str) {
    no_panic(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {}", stderr(o));
    let err = stderr(o);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
}

fn write(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// A small tree with one Python file and one Go file.
fn small_tree(dir: &Path) {
    write(&dir.join("app.py"), "import os\n\nprint(os.getcwd())\n");
    write(&dir.join("main.go"), "package main\n\nfunc main() {}\n");
}

#[test]
fn analyze_json_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    small_tree(dir.path());
    let out = opsmith(&["analyze", "--json", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["languages", "root", "services"]);
    assert_eq!(v["root"], dir.path().to_str().unwrap());
    for lang in v["languages"].as_array().unwrap() {
        let mut keys: Vec<&str> = lang
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["bytes", "name", "percent"]);
    }
}

#[test]
fn per_file_lists_every_file_with_slash_paths() {
    let dir = tempfile::tempdir().unwrap();
    small_tree(dir.path());
    write(&dir.path().join("nested/deeper/notes.txt"), "hello\n");
    let out = analyze_per_file(dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let files = json(&out)["files"].as_array().unwrap().clone();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["app.py", "main.go", "nested/deeper/notes.txt"]);
    assert!(
        files
            .iter()
            .all(|f| f.as_object().unwrap().contains_key("language"))
    );
}

#[test]
fn service_json_has_every_documented_field() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures).unwrap().flatten() {
        let out = opsmith(&["analyze", "--json", entry.path().to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}: {}",
            entry.path().display(),
            stderr(&out)
        );
        for s in json(&out)["services"].as_array().unwrap() {
            let mut keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "build_command",
                    "ecosystem",
                    "framework",
                    "health_path",
                    "name",
                    "package_manager",
                    "path",
                    "port",
                    "runtime_version",
                    "runtime_version_source",
                    "start_command"
                ]
            );
            seen += 1;
        }
    }
    assert!(seen > 0, "no fixture produced a service");
}

#[test]
fn missing_dir_is_a_one_line_error() {
    let o = opsmith(&["analyze", "/nonexistent/opsmith-test-dir"]);
    assert_user_error(&o, "no such directory");
    let o = opsmith(&["generate", "/nonexistent/opsmith-test-dir"]);
    assert_user_error(&o, "no such directory");
}

#[test]
fn a_file_instead_of_a_directory_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain.txt");
    write(&file, "x");
    let o = opsmith(&["analyze", file.to_str().unwrap()]);
    assert_user_error(&o, "is a file, not a directory");
}

/// Root reads everything, so the unreadable directory is tried as `nobody` (util-linux `setpriv`).
#[test]
fn an_unreadable_dir_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("opsmith");
    std::fs::copy(env!("CARGO_BIN_EXE_opsmith"), &bin).unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    write(&locked.join("a.py"), "print(1)\n");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(args)
            .output()
            .expect("setpriv runs")
    };
    let o = as_nobody(&["analyze", locked.to_str().unwrap()]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_user_error(&o, "cannot read directory");

    // Below the root, an unreadable folder is a warning and the rest is still analyzed.
    let inner = locked.join("secret");
    std::fs::create_dir(&inner).unwrap();
    write(&inner.join("b.py"), "print(2)\n");
    std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o000)).unwrap();
    let o = as_nobody(&["analyze", "--json", "--per-file", locked.to_str().unwrap()]);
    std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o755)).unwrap();
    succeeded(&o);
    assert!(stderr(&o).contains("warning"), "{}", stderr(&o));
    let v = json(&o);
    let paths = listed_paths(&v);
    assert_eq!(paths, ["a.py"]);
}

#[test]
fn symlinks_are_never_followed_loops_and_escapes_included() {
    let outside = tempfile::tempdir().unwrap();
    write(
        &outside.path().join("huge_secret.py"),
        &"x = 1\n".repeat(1000),
    );
    let dir = tempfile::tempdir().unwrap();
    small_tree(dir.path());
    std::fs::create_dir(dir.path().join("loop")).unwrap();
    symlink("..", dir.path().join("loop/up")).unwrap();
    symlink(dir.path(), dir.path().join("self")).unwrap();
    symlink(outside.path(), dir.path().join("escape")).unwrap();
    symlink(
        outside.path().join("huge_secret.py"),
        dir.path().join("escape.py"),
    )
    .unwrap();
    let o = analyze_per_file(dir.path());
    succeeded(&o);
    assert!(
        stderr(&o).contains("symlink"),
        "a warning names the skipped symlinks: {}",
        stderr(&o)
    );
    let v = json(&o);
    let paths = listed_paths(&v);
    assert_eq!(paths, ["app.py", "main.go"]);
    let bytes: u64 = v["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["bytes"].as_u64().unwrap())
        .sum();
    let expected = (std::fs::metadata(dir.path().join("app.py")).unwrap().len()
        + std::fs::metadata(dir.path().join("main.go")).unwrap().len()) as f64;
    assert!(
        bytes as f64 <= expected,
        "only the two real files count: {bytes} > {expected}"
    );
}

#[test]
fn a_200_mb_file_is_counted_by_size_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    small_tree(dir.path());
    let big = dir.path().join("big.js");
    {
        let f = std::fs::File::create(&big).unwrap();
        std::io::Write::write_all(
            &mut &f,
            b"// a very large generated-looking file\nvar a = 1;\n",
        )
        .unwrap();
        f.set_len(200 * 1024 * 1024).unwrap(); // sparse: costs no disk
    }
    let o = analyze_per_file(dir.path());
    succeeded(&o);
    let v = json(&o);
    assert!(
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "big.js")
    );
}

#[test]
fn invalid_utf8_names_are_shown_lossily_with_a_warning() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    small_tree(dir.path());
    let name = std::ffi::OsStr::from_bytes(b"bad\xffname.py");
    std::fs::write(dir.path().join(name), "print('odd name')\n").unwrap();
    let o = analyze_per_file(dir.path());
    succeeded(&o);
    assert!(stderr(&o).contains("not valid UTF-8"), "{}", stderr(&o));
    let v = json(&o);
    assert!(
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "bad\u{fffd}name.py")
    );
}

#[test]
fn generate_writes_into_dot_opsmith_by_default_and_never_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    small_tree(dir.path());
    let first = opsmith(&["generate", "--json", dir.path().to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    let v = json(&first);
    assert_eq!(v["out"], dir.path().join(".opsmith/out").to_str().unwrap());
    for a in v["artifacts"].as_array().unwrap() {
        assert!(
            dir.path()
                .join(".opsmith/out")
                .join(a["path"].as_str().unwrap())
                .is_file()
        );
    }
    // A second run sees the same repository: its own output is not part of the analysis.
    let second = opsmith(&["generate", "--json", dir.path().to_str().unwrap()]);
    assert_eq!(json(&second)["artifacts"], v["artifacts"]);
    assert_eq!(json(&second)["kept"], v["kept"]);
}

#[test]
fn an_unwritable_output_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("index.html"),
        "<!doctype html><title>site</title>\n",
    );
    let blocker = dir.path().join("blocker");
    write(&blocker, "a file where a directory is needed");
    let o = opsmith(&[
        "generate",
        dir.path().to_str().unwrap(),
        "--out",
        blocker.join("out").to_str().unwrap(),
    ]);
    assert_user_error(&o, "cannot create directory");
}
