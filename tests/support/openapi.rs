//! GitHub's REST contract (its published OpenAPI description): which operations exist and which
//! request-body fields they require, so a test fails on any request GitHub would not understand.

#![allow(dead_code)]

use serde_json::{Map, Value};
use std::sync::OnceLock;

const SPEC_PATH: &str = "/work/shared/github/openapi/api.github.com.json";

/// GitHub's `operationId`, e.g. `pulls/create`.
pub type OperationId = String;

/// The parsed description, loaded once per test process (the file is 13 MB).
pub struct Contract {
    doc: Value,
    routes: Vec<Route>,
}

struct Route {
    template: String,
    segments: Vec<Segment>,
    /// (lower-case method, operation object pointer).
    methods: Vec<(String, String)>,
}

enum Segment {
    Literal(String),
    /// A parameter; `{ref}` and `{path}` may span several segments (`heads/main`, `a/b.txt`).
    Param {
        spans_slashes: bool,
    },
}

pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let path = std::env::var("OPSMITH_GITHUB_OPENAPI").unwrap_or_else(|_| SPEC_PATH.into());
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("GitHub OpenAPI description {path}: {e}"));
        Contract::from_document(serde_json::from_str(&text).expect("OpenAPI JSON parses"))
    })
}

/// Checks one request against GitHub's contract.
pub fn check(method: &str, path: &str, body: Option<&Value>) -> Result<OperationId, String> {
    contract().check(method, path, body)
}

impl Contract {
    pub fn from_document(doc: Value) -> Contract {
        let mut routes = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (template, item) in paths {
                let segments = template
                    .trim_start_matches('/')
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param {
                                spans_slashes: s == "{ref}" || s == "{path}",
                            }
                        } else {
                            Segment::Literal(s.to_string())
                        }
                    })
                    .collect();
                let methods = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(m, _)| {
                        matches!(
                            m.as_str(),
                            "get" | "post" | "put" | "patch" | "delete" | "head" | "options"
                        )
                    })
                    .map(|(m, _)| {
                        let pointer = format!("/paths/{}/{m}", escape_pointer(template));
                        (m.clone(), pointer)
                    })
                    .collect();
                routes.push(Route {
                    template: template.clone(),
                    segments,
                    methods,
                });
            }
        }
        Contract { doc, routes }
    }

    /// The operation GitHub serves for `method path` (query string ignored), checking the JSON body
    /// carries every field the operation requires.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<OperationId, String> {
        let path = path.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let route = self
            .routes
            .iter()
            .filter_map(|r| match_score(&r.segments, &parts).map(|score| (score, r)))
            .max_by_key(|(score, _)| *score)
            .map(|(_, r)| r)
            .ok_or_else(|| format!("{method} {path}: no such path in GitHub's REST API"))?;
        let method_lc = method.to_ascii_lowercase();
        let pointer = route
            .methods
            .iter()
            .find(|(m, _)| *m == method_lc)
            .map(|(_, p)| p)
            .ok_or_else(|| {
                let allowed: Vec<String> = route
                    .methods
                    .iter()
                    .map(|(m, _)| m.to_uppercase())
                    .collect();
                format!(
                    "{method} {path}: {} allows only {}",
                    route.template,
                    allowed.join(", ")
                )
            })?;
        let operation = self
            .doc
            .pointer(pointer)
            .expect("pointer from the same document");
        let id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or(&route.template)
            .to_string();
        if let Some(request_body) = operation.get("requestBody").map(|b| self.resolve(b)) {
            let required = request_body
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let schema = request_body.pointer("/content/application~1json/schema");
            match (body, schema) {
                (None, _) if required => {
                    return Err(format!(
                        "{method} {path} ({id}): a request body is required"
                    ));
                }
                (Some(body), Some(schema)) => self
                    .conforms(schema, body, "body", 0)
                    .map_err(|e| format!("{method} {path} ({id}): {e}"))?,
                _ => {}
            }
        }
        Ok(id)
    }

    /// An example response GitHub documents for an operation (`status` like "201"), `$ref`s resolved.
    pub fn example_response(&self, method: &str, template: &str, status: &str) -> Option<Value> {
        let pointer = format!(
            "/paths/{}/{}/responses/{status}/content/application~1json/examples",
            escape_pointer(template),
            method.to_ascii_lowercase()
        );
        let examples = self.doc.pointer(&pointer)?.as_object()?;
        let first = examples.values().next()?;
        self.resolve(first).get("value").cloned()
    }

    fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        // References chain at most a few times; the cap guards against a cycle.
        for _ in 0..16 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => match r.strip_prefix('#').and_then(|p| self.doc.pointer(p)) {
                    Some(target) => value = target,
                    None => return value,
                },
                None => return value,
            }
        }
        value
    }

    /// Required properties present (recursively into the fields that are sent), types plausible,
    /// and for `oneOf`/`anyOf` at least one alternative satisfied.
    fn conforms(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        depth: usize,
    ) -> Result<(), String> {
        if depth > 24 {
            return Ok(());
        }
        let schema = self.resolve(schema);
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.conforms(s, value, at, depth + 1)?;
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
                let mut reasons = Vec::new();
                let mut ok = false;
                for s in alternatives {
                    match self.conforms(s, value, at, depth + 1) {
                        Ok(()) => {
                            ok = true;
                            break;
                        }
                        Err(e) => reasons.push(e),
                    }
                }
                if !ok && !alternatives.is_empty() {
                    return Err(format!(
                        "{at} matches none of the {key} alternatives: {}",
                        reasons.join("; ")
                    ));
                }
            }
        }
        if !type_allows(schema, value) {
            return Err(format!(
                "{at} has the wrong type (schema says {})",
                schema.get("type").unwrap_or(&Value::Null)
            ));
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !value.is_null()
            && !allowed.contains(value)
        {
            return Err(format!(
                "{at} = {value} is not one of {}",
                Value::Array(allowed.clone())
            ));
        }
        match value {
            Value::Object(fields) => self.object_conforms(schema, fields, at, depth),
            Value::Array(items) => match schema.get("items") {
                Some(item_schema) => {
                    for (i, item) in items.iter().enumerate() {
                        self.conforms(item_schema, item, &format!("{at}[{i}]"), depth + 1)?;
                    }
                    Ok(())
                }
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn object_conforms(
        &self,
        schema: &Value,
        fields: &Map<String, Value>,
        at: &str,
        depth: usize,
    ) -> Result<(), String> {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            let missing: Vec<&str> = required
                .iter()
                .filter_map(Value::as_str)
                .filter(|name| !fields.contains_key(*name))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "{at} lacks required field(s) {}",
                    missing.join(", ")
                ));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, value) in fields {
                // An optional field sent as null is how clients say "not set"; GitHub accepts it.
                if value.is_null() {
                    continue;
                }
                if let Some(property) = properties.get(name) {
                    self.conforms(property, value, &format!("{at}.{name}"), depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

fn type_allows(schema: &Value, value: &Value) -> bool {
    let names: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return true,
    };
    if value.is_null() {
        return true;
    }
    names.iter().any(|t| match *t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    })
}

/// How many literal segments matched (more literal = more specific), or None.
fn match_score(segments: &[Segment], parts: &[&str]) -> Option<usize> {
    match (segments.first(), parts.first()) {
        (None, None) => Some(0),
        (None, Some(_)) | (Some(_), None) => None,
        (Some(Segment::Literal(lit)), Some(part)) => {
            if lit == part {
                match_score(&segments[1..], &parts[1..]).map(|s| s + 1)
            } else {
                None
            }
        }
        (Some(Segment::Param { spans_slashes }), Some(part)) => {
            if part.is_empty() {
                return None;
            }
            let widest = if *spans_slashes { parts.len() } else { 1 };
            (1..=widest)
                .filter_map(|n| match_score(&segments[1..], &parts[n..]))
                .max()
        }
    }
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn creating_a_pull_request_with_its_required_fields_passes() {
        let body = json!({"title": "t", "head": "opsmith/devops", "base": "main"});
        assert_eq!(
            check("POST", "/repos/o/r/pulls", Some(&body)).unwrap(),
            "pulls/create"
        );
    }

    #[test]
    fn a_wrong_method_or_path_fails() {
        let err = check("DELETE", "/repos/o/r/pulls", None).unwrap_err();
        assert!(err.contains("allows only"), "{err}");
        let err = check("GET", "/repos/o/r/pullz", None).unwrap_err();
        assert!(err.contains("no such path"), "{err}");
    }

    #[test]
    fn a_missing_required_field_fails() {
        let err = check(
            "POST",
            "/repos/o/r/pulls",
            Some(&json!({"title": "t", "base": "main"})),
        )
        .unwrap_err();
        assert!(err.contains("head"), "{err}");
        let err = check("POST", "/repos/o/r/pulls", None).unwrap_err();
        assert!(err.contains("body is required"), "{err}");
    }

    #[test]
    fn literal_segments_win_over_parameters_and_refs_span_slashes() {
        assert_eq!(
            check("GET", "/repos/o/r/pulls/comments", None).unwrap(),
            "pulls/list-review-comments-for-repo"
        );
        assert_eq!(
            check("GET", "/repos/o/r/pulls/7", None).unwrap(),
            "pulls/get"
        );
        assert_eq!(
            check("GET", "/repos/o/r/git/ref/heads/feature/x", None).unwrap(),
            "git/get-ref"
        );
        assert_eq!(
            check("GET", "/repos/o/r/pulls?head=o:b&state=open", None).unwrap(),
            "pulls/list"
        );
    }

    #[test]
    fn nested_required_fields_and_enums_are_checked() {
        let incomplete = json!({"name": "opsmith", "head_sha": "abc", "output": {"title": "t"}});
        let err = check("POST", "/repos/o/r/check-runs", Some(&incomplete)).unwrap_err();
        assert!(err.contains("summary"), "{err}");
        let err = check(
            "POST",
            "/repos/o/r/issues/comments/1/reactions",
            Some(&json!({"content": "thumbs"})),
        )
        .unwrap_err();
        assert!(err.contains("not one of"), "{err}");
        assert!(
            check(
                "POST",
                "/repos/o/r/issues/comments/1/reactions",
                Some(&json!({"content": "eyes"}))
            )
            .is_ok()
        );
    }

    #[test]
    fn one_alternative_of_any_of_must_hold() {
        let path = "/repos/o/r/check-runs/5";
        assert!(check("PATCH", path, Some(&json!({"status": "in_progress"}))).is_ok());
        assert!(
            check(
                "PATCH",
                path,
                Some(&json!({"status": "completed", "conclusion": "success"}))
            )
            .is_ok()
        );
        let err = check("PATCH", path, Some(&json!({"status": "completed"}))).unwrap_err();
        assert!(err.contains("anyOf"), "{err}");
    }

    #[test]
    fn examples_come_from_the_description() {
        let pr = contract()
            .example_response("post", "/repos/{owner}/{repo}/pulls", "201")
            .unwrap();
        assert!(pr.get("head").is_some() && pr.get("number").is_some());
    }
}
