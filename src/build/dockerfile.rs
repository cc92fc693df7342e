//! Base image redirection: rewrites the image references of a Dockerfile's FROM and `COPY --from` lines.

use std::collections::BTreeMap;

/// Rewrites FROM references (and `COPY`/`ADD --from=IMAGE`) per `images` (NAME → REF). A key matches a
/// reference exactly; a key without tag or digest also matches that repository with any tag, whose tag
/// is kept when the value has none (`python=mirror/python` turns `python:3.12-slim` into
/// `mirror/python:3.12-slim`). Stage names are never rewritten; everything else is kept byte for byte.
pub fn redirect_images(dockerfile: &str, images: &BTreeMap<String, String>) -> String {
    if images.is_empty() {
        return dockerfile.to_string();
    }
    let mut stages: Vec<String> = Vec::new();
    let mut out = String::with_capacity(dockerfile.len());
    for line in dockerfile.split_inclusive('\n') {
        out.push_str(&redirect_line(line, images, &mut stages));
    }
    out
}

fn redirect_line(
    line: &str,
    images: &BTreeMap<String, String>,
    stages: &mut Vec<String>,
) -> String {
    let words = words(line);
    let Some(&(start, end)) = words.first() else {
        return line.to_string();
    };
    let instruction = line[start..end].to_ascii_uppercase();
    match instruction.as_str() {
        "FROM" => {
            // FROM [--platform=…] IMAGE [AS NAME]
            let args = &words[1..];
            let Some(&(s, e)) = args.iter().find(|&&(s, e)| !line[s..e].starts_with("--")) else {
                return line.to_string();
            };
            let image = &line[s..e];
            let names_a_stage = stages.contains(&image.to_ascii_lowercase());
            if let Some(pos) = args
                .iter()
                .position(|&(s, e)| line[s..e].eq_ignore_ascii_case("as"))
                && let Some(&(ns, ne)) = args.get(pos + 1)
            {
                stages.push(line[ns..ne].to_ascii_lowercase());
            }
            if names_a_stage {
                return line.to_string();
            }
            match redirect(image, images) {
                Some(new) => format!("{}{}{}", &line[..s], new, &line[e..]),
                None => line.to_string(),
            }
        }
        "COPY" | "ADD" => {
            for &(s, e) in &words[1..] {
                let word = &line[s..e];
                if !word.starts_with("--") {
                    break;
                }
                if let Some(value) = word.strip_prefix("--from=") {
                    if stages.contains(&value.to_ascii_lowercase())
                        || value.chars().all(|c| c.is_ascii_digit())
                    {
                        return line.to_string();
                    }
                    if let Some(new) = redirect(value, images) {
                        return format!("{}--from={}{}", &line[..s], new, &line[e..]);
                    }
                }
            }
            line.to_string()
        }
        _ => line.to_string(),
    }
}

/// Byte ranges of the whitespace-separated words of a line.
fn words(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, line.len()));
    }
    out
}

fn redirect(image: &str, images: &BTreeMap<String, String>) -> Option<String> {
    if let Some(new) = images.get(image) {
        return Some(new.clone());
    }
    let (repository, suffix) = split_reference(image);
    let new = images.get(repository)?;
    if split_reference(new).1.is_empty() {
        Some(format!("{new}{suffix}"))
    } else {
        Some(new.clone())
    }
}

/// `repo[:tag][@digest]` into the repository and the rest (`:tag`, `@digest`, or empty). A colon in the
/// registry host (`host:5000/x`) is part of the repository.
fn split_reference(image: &str) -> (&str, &str) {
    if let Some(at) = image.find('@') {
        let (name, _) = image.split_at(at);
        let (repo, _) = split_reference(name);
        return (repo, &image[repo.len()..]);
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].find(':') {
        Some(colon) => image.split_at(last_slash + colon),
        None => (image, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn exact_references_are_replaced_and_the_rest_is_kept() {
        let dockerfile = "# FROM python:3.12-slim in a comment\nFROM python:3.12-slim AS build\nRUN echo FROM python:3.12-slim\nfrom   python:3.12-slim\nCMD [\"python\"]\n";
        let images = map(&[("python:3.12-slim", "registry.internal/python:3.12-slim")]);
        assert_eq!(
            redirect_images(dockerfile, &images),
            "# FROM python:3.12-slim in a comment\nFROM registry.internal/python:3.12-slim AS build\nRUN echo FROM python:3.12-slim\nfrom   registry.internal/python:3.12-slim\nCMD [\"python\"]\n"
        );
    }

    #[test]
    fn a_repository_key_keeps_the_tag_or_digest() {
        let images = map(&[("node", "mirror.local:5000/library/node")]);
        assert_eq!(
            redirect_images("FROM node:22-bookworm-slim AS build\n", &images),
            "FROM mirror.local:5000/library/node:22-bookworm-slim AS build\n"
        );
        assert_eq!(
            redirect_images("FROM node@sha256:abc\n", &images),
            "FROM mirror.local:5000/library/node@sha256:abc\n"
        );
        let pinned = map(&[("node", "mirror/node:22")]);
        assert_eq!(
            redirect_images("FROM node:20\n", &pinned),
            "FROM mirror/node:22\n"
        );
        // A key names a repository, not a prefix of one.
        assert_eq!(
            redirect_images("FROM nodejs:20\n", &images),
            "FROM nodejs:20\n"
        );
    }

    #[test]
    fn platform_flags_copy_from_images_and_stage_names() {
        let images = map(&[
            ("golang:1.25-bookworm", "m/golang:1.25"),
            ("nginx:1.27", "m/nginx:1.27"),
            ("build", "m/not-a-stage"),
        ]);
        let dockerfile = "FROM --platform=$BUILDPLATFORM golang:1.25-bookworm AS build\nFROM build AS test\nCOPY --from=build /out /out\nCOPY --chown=1:1 --from=nginx:1.27 /etc/nginx /etc/nginx\nCOPY --from=0 /a /a\n";
        assert_eq!(
            redirect_images(dockerfile, &images),
            "FROM --platform=$BUILDPLATFORM m/golang:1.25 AS build\nFROM build AS test\nCOPY --from=build /out /out\nCOPY --chown=1:1 --from=m/nginx:1.27 /etc/nginx /etc/nginx\nCOPY --from=0 /a /a\n"
        );
    }

    #[test]
    fn no_redirections_leave_the_text_unchanged() {
        let text = "FROM a\r\nRUN b\n\n";
        assert_eq!(redirect_images(text, &BTreeMap::new()), text);
        assert_eq!(redirect_images(text, &map(&[("c", "d")])), text);
    }
}
