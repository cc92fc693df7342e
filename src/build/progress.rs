//! Build progress: BuildKit's vertex events turned into log lines, per-step log tails and the failing step.

use std::collections::{BTreeMap, HashMap, VecDeque};

/// How many log lines a failure report keeps.
pub const TAIL_LINES: usize = 50;

/// How many lines a step keeps in arrival order: stdout and stderr reach the engine's stream in
/// batches of their own, so the last lines by time are picked from more than the last arrived.
const STEP_LINES: usize = 4 * TAIL_LINES;

/// What the build has said so far, step by step.
#[derive(Debug, Default)]
pub struct Progress {
    steps: Vec<Step>,
    by_digest: HashMap<String, usize>,
    /// The last lines of the whole output, for failures no step owns.
    tail: VecDeque<String>,
    /// Classic-builder output not yet ended by a newline.
    partial: String,
}

#[derive(Debug, Default)]
struct Step {
    name: String,
    announced: bool,
    finished: bool,
    error: String,
    /// Output not yet ended by a newline, per stream (stdout and stderr arrive interleaved).
    partial: BTreeMap<i64, (i64, String)>,
    /// The step's last lines with the time BuildKit read them (nanoseconds since the epoch).
    lines: VecDeque<(i64, String)>,
    last_time: i64,
}

/// One BuildKit vertex update, as the engine's status stream reports it.
#[derive(Debug, Clone, Default)]
pub struct VertexUpdate<'a> {
    pub digest: &'a str,
    pub name: &'a str,
    pub started: bool,
    pub cached: bool,
    /// Seconds from start to completion, when completed.
    pub completed_after: Option<f64>,
    pub error: &'a str,
}

fn push_capped(tail: &mut VecDeque<String>, line: String) {
    if tail.len() == TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(line);
}

impl Progress {
    fn step(&mut self, digest: &str) -> usize {
        if let Some(&i) = self.by_digest.get(digest) {
            return i;
        }
        self.steps.push(Step::default());
        self.by_digest
            .insert(digest.to_string(), self.steps.len() - 1);
        self.steps.len() - 1
    }

    fn emit(&mut self, line: String, log: &mut dyn FnMut(&str)) {
        log(&line);
        push_capped(&mut self.tail, line);
    }

    /// A vertex appeared, started, finished or failed.
    pub fn vertex(&mut self, update: &VertexUpdate<'_>, log: &mut dyn FnMut(&str)) {
        let i = self.step(update.digest);
        let n = i + 1;
        if !update.name.is_empty() {
            self.steps[i].name = update.name.to_string();
        }
        if !self.steps[i].announced
            && (update.started || update.cached || update.completed_after.is_some())
        {
            self.steps[i].announced = true;
            let name = self.steps[i].name.clone();
            self.emit(format!("#{n} {name}"), log);
        }
        if self.steps[i].finished {
            return;
        }
        if !update.error.is_empty() {
            self.flush_step(i, log);
            self.steps[i].finished = true;
            self.steps[i].error = update.error.to_string();
            let line = format!("ERROR: {}", update.error);
            self.steps[i].lines.push_back((i64::MAX, line.clone()));
            self.emit(format!("#{n} {line}"), log);
        } else if update.cached {
            self.steps[i].finished = true;
            self.emit(format!("#{n} CACHED"), log);
        } else if let Some(seconds) = update.completed_after {
            self.flush_step(i, log);
            self.steps[i].finished = true;
            self.emit(format!("#{n} DONE {seconds:.1}s"), log);
        }
    }

    /// Output of a vertex on one stream (1 stdout, 2 stderr), in arbitrary chunks, with the time
    /// BuildKit read it when known (nanoseconds since the epoch).
    pub fn vertex_log(
        &mut self,
        digest: &str,
        stream: i64,
        time: Option<i64>,
        bytes: &[u8],
        log: &mut dyn FnMut(&str),
    ) {
        let i = self.step(digest);
        let time = time.unwrap_or(self.steps[i].last_time);
        self.steps[i].last_time = time;
        let (_, mut buffered) = self.steps[i].partial.remove(&stream).unwrap_or_default();
        buffered.push_str(&String::from_utf8_lossy(bytes));
        let mut rest = buffered.as_str();
        while let Some(end) = rest.find('\n') {
            let line = rest[..end].trim_end_matches('\r').to_string();
            rest = &rest[end + 1..];
            self.step_line(i, time, line, log);
        }
        if !rest.is_empty() {
            self.steps[i]
                .partial
                .insert(stream, (time, rest.to_string()));
        }
    }

    fn step_line(&mut self, i: usize, time: i64, line: String, log: &mut dyn FnMut(&str)) {
        let step = &mut self.steps[i];
        if step.lines.len() == STEP_LINES {
            step.lines.pop_front();
        }
        step.lines.push_back((time, line.clone()));
        self.emit(format!("#{} {line}", i + 1), log);
    }

    fn flush_step(&mut self, i: usize, log: &mut dyn FnMut(&str)) {
        for (_, (time, partial)) in std::mem::take(&mut self.steps[i].partial) {
            self.step_line(i, time, partial, log);
        }
    }

    /// Plain text output (the classic builder's `stream`).
    pub fn text(&mut self, text: &str, log: &mut dyn FnMut(&str)) {
        self.partial.push_str(text);
        while let Some(end) = self.partial.find('\n') {
            let line = self.partial[..end].trim_end_matches('\r').to_string();
            self.partial.drain(..=end);
            self.emit(line, log);
        }
    }

    /// The step that failed and its last log lines, in the order they were written. Steps cancelled
    /// because another failed do not count.
    pub fn failed_step(&self) -> Option<(String, Vec<String>)> {
        let failed = self
            .steps
            .iter()
            .filter(|s| !s.error.is_empty())
            .find(|s| !s.error.contains("context canceled"))
            .or_else(|| self.steps.iter().find(|s| !s.error.is_empty()))?;
        let mut lines: Vec<&(i64, String)> = failed.lines.iter().collect();
        lines.sort_by_key(|(time, _)| *time);
        let keep = lines.len().saturating_sub(TAIL_LINES);
        Some((
            failed.name.clone(),
            lines[keep..].iter().map(|(_, l)| l.clone()).collect(),
        ))
    }

    /// The last lines of the whole output.
    pub fn tail(&self) -> Vec<String> {
        self.tail.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update<'a>(digest: &'a str, name: &'a str) -> VertexUpdate<'a> {
        VertexUpdate {
            digest,
            name,
            ..VertexUpdate::default()
        }
    }

    #[test]
    fn steps_are_numbered_and_their_output_split_into_lines() {
        let mut p = Progress::default();
        let mut lines = Vec::new();
        let mut log = |l: &str| lines.push(l.to_string());
        let run = "[build 3/4] RUN pip install -r requirements.txt";
        p.vertex(&update("a", "[internal] load build definition"), &mut log);
        p.vertex(
            &VertexUpdate {
                started: true,
                ..update("a", "")
            },
            &mut log,
        );
        p.vertex(
            &VertexUpdate {
                completed_after: Some(0.04),
                ..update("a", "")
            },
            &mut log,
        );
        p.vertex(
            &VertexUpdate {
                started: true,
                ..update("b", run)
            },
            &mut log,
        );
        p.vertex_log("b", 1, None, b"Collecting fla", &mut log);
        p.vertex_log("b", 2, None, b"WARNING: slow\n", &mut log);
        p.vertex_log("b", 1, None, b"sk\r\nInstalling\n", &mut log);
        p.vertex(
            &VertexUpdate {
                cached: true,
                started: true,
                ..update("c", "[build 2/4] WORKDIR /app")
            },
            &mut log,
        );
        p.vertex(
            &VertexUpdate {
                completed_after: Some(2.0),
                ..update("b", run)
            },
            &mut log,
        );
        assert_eq!(
            lines,
            [
                "#1 [internal] load build definition",
                "#1 DONE 0.0s",
                "#2 [build 3/4] RUN pip install -r requirements.txt",
                "#2 WARNING: slow",
                "#2 Collecting flask",
                "#2 Installing",
                "#3 [build 2/4] WORKDIR /app",
                "#3 CACHED",
                "#2 DONE 2.0s",
            ]
        );
        assert_eq!(p.failed_step(), None);
    }

    #[test]
    fn the_failing_step_is_named_with_its_own_last_lines() {
        let mut p = Progress::default();
        let mut log = |_: &str| {};
        let run = "[build 4/6] RUN npm ci";
        p.vertex(
            &VertexUpdate {
                started: true,
                ..update("x", run)
            },
            &mut log,
        );
        p.vertex(
            &VertexUpdate {
                started: true,
                ..update("y", "[runtime 2/3] RUN useradd app")
            },
            &mut log,
        );
        for i in 0..80 {
            // The stderr line was written last but reaches the stream before stdout's last batch.
            if i == 20 {
                p.vertex_log("x", 2, Some(1_000), b"npm ERR! no lockfile\n", &mut log);
            }
            let line = format!("npm line {i}\n");
            p.vertex_log("x", 1, Some(i), line.as_bytes(), &mut log);
            p.vertex_log("y", 1, Some(i), format!("other {i}\n").as_bytes(), &mut log);
        }
        p.vertex(
            &VertexUpdate {
                error: "context canceled",
                ..update("y", "")
            },
            &mut log,
        );
        p.vertex(
            &VertexUpdate {
                error: "executor failed running [/bin/sh -c npm ci]: exit code: 1",
                ..update("x", "")
            },
            &mut log,
        );
        let (step, tail) = p.failed_step().unwrap();
        assert_eq!(step, run);
        assert_eq!(tail.len(), TAIL_LINES);
        assert_eq!(tail[0], "npm line 32");
        assert_eq!(tail[TAIL_LINES - 2], "npm ERR! no lockfile");
        assert_eq!(
            tail[TAIL_LINES - 1],
            "ERROR: executor failed running [/bin/sh -c npm ci]: exit code: 1"
        );
        assert!(tail.iter().all(|l| !l.starts_with("other")));
    }

    #[test]
    fn classic_builder_text_is_logged_line_by_line() {
        let mut p = Progress::default();
        let mut lines = Vec::new();
        let mut log = |l: &str| lines.push(l.to_string());
        p.text("Step 1/2 : FROM debian\n ---> 1234", &mut log);
        p.text("\nStep 2/2 : RUN false\n", &mut log);
        assert_eq!(
            lines,
            [
                "Step 1/2 : FROM debian",
                " ---> 1234",
                "Step 2/2 : RUN false"
            ]
        );
        assert_eq!(p.tail().len(), 3);
    }
}
