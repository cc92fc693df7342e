//! Running images built in the tests' Docker engine and asking them over HTTP: the docker.io client,
//! a container with its port published on 127.0.0.1 (removed when dropped), a raw HTTP GET.
//!
//! Test files include it with `#[path = "support/containers.rs"] mod containers;`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The docker.io client (20.10, same as the engine); the newer one in /usr/local/bin works too.
pub fn docker() -> Command {
    let bin = if Path::new("/usr/bin/docker").exists() {
        "/usr/bin/docker"
    } else {
        "docker"
    };
    Command::new(bin)
}

pub fn docker_output(args: &[&str]) -> (bool, String) {
    let out = docker()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker {args:?}: {e}"));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A running container with its port published on 127.0.0.1; removed when dropped.
pub struct Container {
    name: String,
    host_port: u16,
}

impl Container {
    pub fn run(image: &str, port: u16) -> Container {
        let name = format!(
            "opsmith-test-{}-{}",
            std::process::id(),
            image.replace(['/', ':'], "-")
        );
        let (ok, out) = docker_output(&[
            "run",
            "-d",
            "--name",
            &name,
            "-p",
            &format!("127.0.0.1::{port}"),
            image,
        ]);
        // Removed on drop from here on, even when the checks below fail.
        let mut container = Container {
            name: name.clone(),
            host_port: 0,
        };
        assert!(ok, "docker run {image}: {out}");
        let (ok, out) = docker_output(&["port", &name, &format!("{port}/tcp")]);
        assert!(ok, "docker port: {out}");
        container.host_port = out
            .lines()
            .find_map(|l| l.trim().rsplit_once(':').and_then(|(_, p)| p.parse().ok()))
            .unwrap_or_else(|| panic!("no published port in {out:?}"));
        container
    }

    /// GET `path` with HTTP/1.0, waiting (bounded) for the server to start listening.
    pub fn get(&self, path: &str) -> (u16, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match http_get(self.host_port, path) {
                Ok(answer) => return answer,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => {
                    let (_, logs) = docker_output(&["logs", &self.name]);
                    panic!(
                        "GET {path} on {}: {e}\n--- container logs ---\n{logs}",
                        self.name
                    );
                }
            }
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker().args(["rm", "-f", &self.name]).output();
    }
}

/// A raw HTTP/1.0 GET; the status and the body. A connection closed before a status line is an error
/// (the published port accepts before the server inside listens).
pub fn http_get(port: u16, path: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    Ok((status, body.to_string()))
}
