//! Comment commands (`/opsmith generate`, `@<app-slug> scan`, …): parsing a comment body, the help
//! text, and who may run them; deciding whether to run one is the caller's job.
//!
//! Where a command may stand: on a line of its own that starts with `/opsmith` or `@<app-slug>`
//! (case-insensitive, leading spaces allowed), anywhere in the comment. The first such line wins and
//! the rest of the comment is ignored, so people can explain themselves around the command. Lines in
//! quotes (`> …`), fenced code blocks (```` ``` ```` / `~~~`), indented code (4+ spaces) and lines
//! starting with a backtick never count: quoting a command must not run it again. The prefix must be
//! a whole word: `/opsmithgenerate` and `@opsmith-bot-two` are not for us.

use crate::profile::Cloud;

/// A command a user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Analyze and propose the generated files; `cloud` overrides `.github/opsmith.yml`.
    Generate { cloud: Option<Cloud> },
    /// Build and scan the images, then report.
    Scan,
    /// Reply with the usage.
    Help,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Generate { .. } => "generate",
            Command::Scan => "scan",
            Command::Help => "help",
        }
    }
}

/// What a comment body means to opsmith.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// No command in the comment: ignore it silently.
    NotForUs,
    Command(Command),
    /// Addressed to opsmith but not understood; `help` is the Markdown reply (reason, suggestion, usage).
    Invalid {
        help: String,
    },
}

const SUB_COMMANDS: [&str; 3] = ["generate", "scan", "help"];
const FLAGS: [&str; 1] = ["--cloud"];
const CLOUDS: [&str; 3] = ["aws", "gcp", "azure"];
/// Longest piece of user text echoed back in a reply (a comment can be 65,536 characters).
const ECHO_LIMIT: usize = 40;
/// Words after the prefix that are looked at; more is invalid anyway.
const MAX_WORDS: usize = 16;

/// Parses a comment body. `app_slug` is the App's slug (`opsmith-bot`), with or without `@`.
pub fn parse(body: &str, app_slug: &str) -> Parsed {
    let Some((prefix, rest)) = command_line(body, app_slug) else {
        return Parsed::NotForUs;
    };
    match parse_words(rest) {
        Ok(command) => Parsed::Command(command),
        Err(problem) => Parsed::Invalid {
            help: invalid_reply(&problem, &prefix, rest, app_slug),
        },
    }
}

/// Finds the first line addressed to opsmith; returns the prefix as the user wrote it and the
/// text after it. The intake uses it to decide which comments become jobs, so both agree.
pub fn command_line<'a>(body: &'a str, app_slug: &str) -> Option<(String, &'a str)> {
    let mention = format!("@{}", bare_slug(app_slug));
    let mut fence: Option<char> = None;
    for raw in body.lines() {
        let line = raw.trim_end_matches('\r');
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let text = line.trim_start();
        if let Some(marker) = fence {
            if text.starts_with(&marker.to_string().repeat(3)) {
                fence = None;
            }
            continue;
        }
        if text.starts_with("```") {
            fence = Some('`');
            continue;
        }
        if text.starts_with("~~~") {
            fence = Some('~');
            continue;
        }
        if indent >= 4 || line.starts_with('\t') {
            continue;
        }
        for prefix in ["/opsmith", mention.as_str()] {
            if prefix.len() < 2 {
                continue;
            }
            let Some(head) = text.get(..prefix.len()) else {
                continue;
            };
            if !head.eq_ignore_ascii_case(prefix) {
                continue;
            }
            let mut rest = &text[prefix.len()..];
            // `@opsmith-bot: generate` and `@opsmith-bot, generate` read naturally.
            if prefix.starts_with('@') {
                rest = rest.strip_prefix([':', ',']).unwrap_or(rest);
            }
            if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                return Some((head.to_string(), rest));
            }
        }
    }
    None
}

/// The slug as people mention it: callers may pass `@opsmith-bot` or the bot login `opsmith-bot[bot]`.
fn bare_slug(app_slug: &str) -> &str {
    let slug = app_slug.trim().trim_start_matches('@');
    slug.strip_suffix("[bot]").unwrap_or(slug)
}

/// Why the words after the prefix are not a command.
#[derive(Debug, PartialEq, Eq)]
enum Problem {
    UnknownSubCommand(String),
    UnknownFlag { sub: &'static str, flag: String },
    MissingValue(&'static str),
    BadCloud(String),
    Repeated(&'static str),
    Unexpected { sub: &'static str, word: String },
    TooLong,
}

fn parse_words(rest: &str) -> Result<Command, Problem> {
    let words: Vec<&str> = rest.split_whitespace().take(MAX_WORDS + 1).collect();
    if words.len() > MAX_WORDS {
        return Err(Problem::TooLong);
    }
    let Some((first, args)) = words.split_first() else {
        return Ok(Command::Help);
    };
    let sub = first.to_lowercase();
    match sub.as_str() {
        "generate" => parse_generate(args),
        "scan" | "help" => {
            let name = if sub == "scan" { "scan" } else { "help" };
            match args.first() {
                None => Ok(if name == "scan" {
                    Command::Scan
                } else {
                    Command::Help
                }),
                Some(word) if word.starts_with("--") => Err(Problem::UnknownFlag {
                    sub: name,
                    flag: flag_name(word),
                }),
                Some(word) => Err(Problem::Unexpected {
                    sub: name,
                    word: (*word).to_string(),
                }),
            }
        }
        _ => Err(Problem::UnknownSubCommand((*first).to_string())),
    }
}

fn flag_name(word: &str) -> String {
    word.split_once('=')
        .map_or(word, |(name, _)| name)
        .to_lowercase()
}

fn parse_generate(args: &[&str]) -> Result<Command, Problem> {
    let mut cloud = None;
    let mut i = 0;
    while i < args.len() {
        let word = args[i];
        if !word.starts_with("--") {
            return Err(Problem::Unexpected {
                sub: "generate",
                word: word.to_string(),
            });
        }
        let flag = flag_name(word);
        if flag != "--cloud" {
            return Err(Problem::UnknownFlag {
                sub: "generate",
                flag,
            });
        }
        let value = match word.split_once('=') {
            Some((_, value)) => value,
            None => {
                i += 1;
                match args.get(i) {
                    Some(value) if !value.starts_with("--") => value,
                    _ => return Err(Problem::MissingValue("--cloud")),
                }
            }
        };
        if cloud.is_some() {
            return Err(Problem::Repeated("--cloud"));
        }
        cloud = Some(cloud_named(value).ok_or_else(|| Problem::BadCloud(value.to_string()))?);
        i += 1;
    }
    Ok(Command::Generate { cloud })
}

fn cloud_named(value: &str) -> Option<Cloud> {
    match value.to_ascii_lowercase().as_str() {
        "aws" => Some(Cloud::Aws),
        "gcp" => Some(Cloud::Gcp),
        "azure" => Some(Cloud::Azure),
        _ => None,
    }
}

fn invalid_reply(problem: &Problem, prefix: &str, rest: &str, app_slug: &str) -> String {
    let reason = match problem {
        Problem::UnknownSubCommand(word) => {
            format!("`{}` is not an opsmith command.", echo(word))
        }
        Problem::UnknownFlag { sub, flag } => format!("`{sub}` has no option `{}`.", echo(flag)),
        Problem::MissingValue(flag) => format!("`{flag}` needs a value: one of aws, gcp, azure."),
        Problem::BadCloud(value) => format!(
            "`{}` is not a cloud opsmith knows; expected one of aws, gcp, azure.",
            echo(value)
        ),
        Problem::Repeated(flag) => format!("`{flag}` is given more than once."),
        Problem::Unexpected { sub, word } => format!("`{sub}` does not take `{}`.", echo(word)),
        Problem::TooLong => "That command has too many words.".to_string(),
    };
    let mut reply = format!("Sorry, I did not understand that. {reason}");
    if let Some(words) = corrected(rest) {
        reply.pop();
        reply.push_str(&format!("; did you mean `{prefix} {}`?", words.join(" ")));
    }
    reply.push_str("\n\n");
    reply.push_str(&help_text(app_slug));
    reply
}

/// The command with each misspelt word replaced by the known word within edit distance 2, if that
/// makes a valid command (`genrate --clodu gpc` → `generate --cloud gcp`).
fn corrected(rest: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = rest.split_whitespace().take(MAX_WORDS + 1).collect();
    if words.is_empty() || words.len() > MAX_WORDS {
        return None;
    }
    let mut fixed = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        let lower = word.to_lowercase();
        let (flag, value) = match lower.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (Some(flag), Some(value)),
            _ if lower.starts_with("--") => (Some(lower.as_str()), None),
            _ => (None, Some(lower.as_str())),
        };
        let known_flag = |flag: &str| {
            if FLAGS.contains(&flag) {
                Some(FLAGS[0])
            } else {
                closest(flag, &FLAGS)
            }
        };
        let known_value = |value: &str, among: &[&'static str]| {
            if among.contains(&value) {
                Some(value.to_string())
            } else {
                closest(value, among).map(str::to_string)
            }
        };
        let word = match (flag, value) {
            (Some(flag), Some(value)) => {
                format!("{}={}", known_flag(flag)?, known_value(value, &CLOUDS)?)
            }
            (Some(flag), None) => known_flag(flag)?.to_string(),
            (None, Some(value)) if i == 0 => known_value(value, &SUB_COMMANDS)?,
            (None, Some(value)) => known_value(value, &CLOUDS)?,
            (None, None) => return None,
        };
        fixed.push(word);
    }
    parse_words(&fixed.join(" ")).ok().map(|_| fixed)
}

/// User text as it may appear inside a Markdown code span: bounded, no backticks or line breaks.
fn echo(word: &str) -> String {
    let mut out: String = word
        .chars()
        .filter(|c| *c != '`' && !c.is_control())
        .take(ECHO_LIMIT)
        .collect();
    if word.chars().count() > ECHO_LIMIT {
        out.push('…');
    }
    out
}

/// The known word within edit distance 2 of `word` (case-insensitive), if there is exactly one best.
fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    if word.chars().count() > 32 {
        return None;
    }
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    for candidate in known {
        let distance = edit_distance(&word, candidate);
        // A distance as large as the word itself would suggest anything for anything.
        if distance > 2 || distance >= candidate.len().min(word.chars().count().max(1)) {
            continue;
        }
        match best {
            Some((d, _)) if d < distance => {}
            Some((d, _)) if d == distance => tie = true,
            _ => {
                best = Some((distance, candidate));
                tie = false;
            }
        }
    }
    if tie { None } else { best.map(|(_, c)| c) }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps
/// (`gpc` → `gcp` is one typo, not two).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

/// The usage, as Markdown.
pub fn help_text(app_slug: &str) -> String {
    let slug = bare_slug(app_slug);
    format!(
        "**opsmith commands** (on a line of their own; `@{slug} <command>` works too):\n\
         \n\
         | command | what it does |\n\
         | --- | --- |\n\
         | `/opsmith generate [--cloud aws\\|gcp\\|azure]` | analyze the repository and open or update the opsmith pull request |\n\
         | `/opsmith scan` | build the images and scan them, then report |\n\
         | `/opsmith help` | show this message |\n\
         \n\
         Only people with write, maintain or admin permission on this repository can run commands. \
         Defaults come from `.github/opsmith.yml`.\n"
    )
}

/// Whether a comment author is a bot, whose comments are never commands (opsmith's own comments
/// are authored by `<app-slug>[bot]` with type `Bot`, so they are covered).
pub fn is_bot(login: &str, user_type: &str) -> bool {
    user_type.eq_ignore_ascii_case("bot") || login.to_ascii_lowercase().ends_with("[bot]")
}

/// A user's permission on a repository, as `GET /repos/{owner}/{repo}/collaborators/{user}/permission`
/// reports it (`permission`, or the finer `role_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Admin,
    Maintain,
    Write,
    Triage,
    Read,
    None,
}

impl Permission {
    /// Unknown values (custom roles GitHub may add) map to `None`: refuse rather than guess.
    pub fn from_api(value: &str) -> Permission {
        match value.trim().to_ascii_lowercase().as_str() {
            "admin" => Permission::Admin,
            "maintain" => Permission::Maintain,
            "write" => Permission::Write,
            "triage" => Permission::Triage,
            "read" => Permission::Read,
            _ => Permission::None,
        }
    }

    /// Whether someone with this permission value may run commands (write, maintain, admin).
    pub fn allows_commands(value: &str) -> bool {
        Permission::from_api(value).may_run_commands()
    }

    pub fn may_run_commands(self) -> bool {
        matches!(
            self,
            Permission::Admin | Permission::Maintain | Permission::Write
        )
    }
}

/// The polite reply to someone who may not run commands.
pub fn refusal_text(login: &str) -> String {
    let login: String = login
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(39)
        .collect();
    format!(
        "Thanks @{login}! opsmith commands can only be run by people with write, maintain or admin \
         permission on this repository, so I did not run this one. A maintainer can run it for you."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLUG: &str = "opsmith-bot";

    fn parsed(body: &str) -> Parsed {
        parse(body, SLUG)
    }

    fn command(body: &str) -> Command {
        match parsed(body) {
            Parsed::Command(command) => command,
            other => panic!("{body:?} gave {other:?}"),
        }
    }

    fn invalid(body: &str) -> String {
        match parsed(body) {
            Parsed::Invalid { help } => help,
            other => panic!("{body:?} gave {other:?}"),
        }
    }

    #[test]
    fn slash_commands() {
        assert_eq!(
            command("/opsmith generate"),
            Command::Generate { cloud: None }
        );
        assert_eq!(command("/opsmith scan"), Command::Scan);
        assert_eq!(command("/opsmith help"), Command::Help);
        assert_eq!(command("/opsmith"), Command::Help);
    }

    #[test]
    fn cloud_flag_in_both_spellings() {
        for body in [
            "/opsmith generate --cloud gcp",
            "/opsmith generate --cloud=gcp",
            "/opsmith generate   --cloud\tGCP  ",
        ] {
            assert_eq!(
                command(body),
                Command::Generate {
                    cloud: Some(Cloud::Gcp)
                },
                "{body}"
            );
        }
        assert_eq!(
            command("/opsmith generate --cloud azure"),
            Command::Generate {
                cloud: Some(Cloud::Azure)
            }
        );
    }

    #[test]
    fn mention_of_the_app_case_insensitive() {
        assert_eq!(
            command("@opsmith-bot generate --cloud gcp"),
            Command::Generate {
                cloud: Some(Cloud::Gcp)
            }
        );
        assert_eq!(command("@OpSmith-Bot scan"), Command::Scan);
        assert_eq!(command("@opsmith-bot: scan"), Command::Scan);
        assert_eq!(
            parse("@opsmith-bot scan", "@opsmith-bot"),
            Parsed::Command(Command::Scan)
        );
        assert_eq!(
            command("/OPSMITH Generate"),
            Command::Generate { cloud: None }
        );
        assert_eq!(
            parse("@opsmith-bot scan", "opsmith-bot[bot]"),
            Parsed::Command(Command::Scan)
        );
    }

    #[test]
    fn other_mentions_and_glued_words_are_not_for_us() {
        assert_eq!(parsed("@opsmith-bot-two generate"), Parsed::NotForUs);
        assert_eq!(parsed("@someone generate"), Parsed::NotForUs);
        assert_eq!(parsed("/opsmithgenerate"), Parsed::NotForUs);
        assert_eq!(parsed("/opsmiths scan"), Parsed::NotForUs);
        assert_eq!(parsed(""), Parsed::NotForUs);
        assert_eq!(parsed("LGTM, thanks!"), Parsed::NotForUs);
        // An empty slug must not turn every `@` into a mention.
        assert_eq!(parse("@ scan", ""), Parsed::NotForUs);
    }

    #[test]
    fn command_may_stand_on_any_line_and_first_wins() {
        let body = "Thanks for the PR.\n\n/opsmith scan\n/opsmith generate\nbye";
        assert_eq!(command(body), Command::Scan);
    }

    #[test]
    fn text_before_the_prefix_on_the_same_line_does_not_count() {
        assert_eq!(parsed("please run /opsmith generate"), Parsed::NotForUs);
    }

    #[test]
    fn quotes_and_code_do_not_count() {
        assert_eq!(parsed("> /opsmith generate"), Parsed::NotForUs);
        assert_eq!(parsed(">/opsmith generate"), Parsed::NotForUs);
        assert_eq!(parsed("`/opsmith generate`"), Parsed::NotForUs);
        assert_eq!(parsed("try `/opsmith scan`"), Parsed::NotForUs);
        assert_eq!(parsed("```\n/opsmith generate\n```"), Parsed::NotForUs);
        assert_eq!(parsed("~~~sh\n/opsmith generate\n~~~"), Parsed::NotForUs);
        assert_eq!(parsed("    /opsmith generate"), Parsed::NotForUs);
        assert_eq!(parsed("\t/opsmith generate"), Parsed::NotForUs);
        // After the fence closes, lines count again.
        assert_eq!(
            command("```\n/opsmith generate\n```\n/opsmith scan"),
            Command::Scan
        );
    }

    #[test]
    fn crlf_line_endings() {
        assert_eq!(
            command("hi\r\n/opsmith generate --cloud aws\r\nthanks\r\n"),
            Command::Generate {
                cloud: Some(Cloud::Aws)
            }
        );
        assert_eq!(parsed("```\r\n/opsmith scan\r\n```\r\n"), Parsed::NotForUs);
    }

    #[test]
    fn leading_spaces_are_fine() {
        assert_eq!(command("   /opsmith scan"), Command::Scan);
    }

    #[test]
    fn unknown_sub_command_suggests_the_closest() {
        let help = invalid("/opsmith genrate");
        assert!(help.contains("did you mean `/opsmith generate`?"), "{help}");
        assert!(
            help.contains("`genrate` is not an opsmith command"),
            "{help}"
        );
        assert!(help.contains("/opsmith scan"), "usage missing: {help}");
        let help = invalid("@opsmith-bot sacn");
        assert!(help.contains("did you mean `@opsmith-bot scan`?"), "{help}");
    }

    #[test]
    fn unrelated_word_gets_usage_without_suggestion() {
        let help = invalid("/opsmith deploy");
        assert!(!help.contains("did you mean"), "{help}");
        assert!(help.contains(&help_text(SLUG)), "{help}");
    }

    #[test]
    fn misspelt_flag_suggests_cloud() {
        let help = invalid("/opsmith generate --clodu gcp");
        assert!(help.contains("`--clodu`"), "{help}");
        assert!(
            help.contains("did you mean `/opsmith generate --cloud gcp`?"),
            "{help}"
        );
    }

    #[test]
    fn misspelt_cloud_suggests_value() {
        let help = invalid("/opsmith generate --cloud gpc");
        assert!(
            help.contains("did you mean `/opsmith generate --cloud gcp`?"),
            "{help}"
        );
        let help = invalid("/opsmith generate --cloud=azur");
        assert!(
            help.contains("did you mean `/opsmith generate --cloud=azure`?"),
            "{help}"
        );
        let help = invalid("/opsmith generate --cloud digitalocean");
        assert!(!help.contains("did you mean"), "{help}");
    }

    #[test]
    fn several_typos_are_corrected_together() {
        let help = invalid("/opsmith genrate --clodu gpc");
        assert!(
            help.contains("did you mean `/opsmith generate --cloud gcp`?"),
            "{help}"
        );
        let help = invalid("/opsmith sacn please");
        assert!(!help.contains("did you mean"), "{help}");
    }

    #[test]
    fn missing_and_repeated_values_are_invalid() {
        assert!(invalid("/opsmith generate --cloud").contains("needs a value"));
        assert!(invalid("/opsmith generate --cloud --cloud aws").contains("needs a value"));
        assert!(invalid("/opsmith generate --cloud aws --cloud gcp").contains("more than once"));
    }

    #[test]
    fn trailing_text_is_invalid() {
        assert!(invalid("/opsmith scan please").contains("`scan` does not take `please`"));
        assert!(invalid("/opsmith generate now").contains("does not take `now`"));
        assert!(invalid("/opsmith scan --cloud aws").contains("`scan` has no option `--cloud`"));
    }

    #[test]
    fn huge_comment_is_bounded_in_the_reply() {
        let word = "x".repeat(70_000);
        let help = invalid(&format!("/opsmith {word}"));
        assert!(help.len() < 2_000, "reply is {} bytes", help.len());
        let many = "/opsmith generate ".to_string() + &"--cloud aws ".repeat(10_000);
        assert!(invalid(&many).contains("too many words"));
        let filler = "lorem ipsum\n".repeat(10_000);
        assert_eq!(command(&format!("{filler}/opsmith scan")), Command::Scan);
    }

    #[test]
    fn unicode_does_not_panic() {
        assert_eq!(parsed("é/opsmith scan"), Parsed::NotForUs);
        assert_eq!(parsed("/opsmitħ scan"), Parsed::NotForUs);
        assert_eq!(parsed("@opsmith-böt scan"), Parsed::NotForUs);
        assert_eq!(parsed("🚀"), Parsed::NotForUs);
        let help = invalid("/opsmith générer");
        assert!(help.contains("`générer`"), "{help}");
        // Multi-byte characters right where the prefix ends must not split a char boundary.
        assert_eq!(parsed("/opsmit🚀"), Parsed::NotForUs);
        assert_eq!(command("/opsmith\u{00a0}scan"), Command::Scan);
    }

    #[test]
    fn echoed_text_cannot_break_out_of_code_spans() {
        let help = invalid("/opsmith ``x``");
        assert!(help.contains("`x` is not"), "{help}");
    }

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("gpc", "gcp"), 1);
        assert_eq!(edit_distance("genrate", "generate"), 1);
        assert_eq!(edit_distance("--clodu", "--cloud"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest("x", &SUB_COMMANDS), None);
    }

    #[test]
    fn help_text_names_every_command_and_the_slug() {
        let help = help_text("@opsmith-bot");
        for sub in SUB_COMMANDS {
            assert!(help.contains(&format!("/opsmith {sub}")), "{sub}");
        }
        assert!(help.contains("`@opsmith-bot <command>`"));
        assert!(!help.contains("@@"));
    }

    #[test]
    fn bots_are_recognised() {
        assert!(is_bot("opsmith-bot[bot]", "Bot"));
        assert!(is_bot("renovate[bot]", "User"));
        assert!(is_bot("dependabot", "bot"));
        assert!(!is_bot("octocat", "User"));
        assert!(!is_bot("robot", "User"));
    }

    #[test]
    fn permissions() {
        for allowed in ["admin", "maintain", "write", "WRITE"] {
            assert!(Permission::allows_commands(allowed), "{allowed}");
        }
        for refused in ["triage", "read", "none", "", "custom-role"] {
            assert!(!Permission::allows_commands(refused), "{refused}");
        }
        assert_eq!(Permission::from_api("maintain"), Permission::Maintain);
    }

    #[test]
    fn refusal_is_polite_and_safe() {
        let text = refusal_text("octocat");
        assert!(text.contains("@octocat"));
        assert!(text.contains("write, maintain or admin"));
        assert!(!refusal_text("evil`\n@everyone").contains('\n'));
    }
}
