//! The pull-request comment: one per Worker and kind of report, found again by a hidden marker
//! and edited in place. Plain Markdown from a plain report; nothing here knows where the report came from.
//!
//! Everything not written here (names, URLs, log lines) is made inert: log lines sit in a
//! fence longer than any backtick run they contain (`CommonMark` closes a fence only with one at
//! least as long), and `<!--` is broken everywhere, so no text can close the block, start HTML,
//! or forge another Worker's marker.

use std::fmt::Write as _;

/// Which of a Worker's living comments: one per kind, so that a failed build on the pull
/// request does not overwrite the comment holding its Preview's URLs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `build` and `wait`.
    #[default]
    Build,
    Version,
    Preview,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Build => "build",
            Kind::Version => "version",
            Kind::Preview => "preview",
        }
    }
}

/// What the comment shows.
#[derive(Debug, Clone)]
pub(crate) struct Card<'a> {
    pub worker: &'a str,
    pub kind: Kind,
    pub ok: bool,
    /// One line: what happened ("build succeeded", "version uploaded and deployed").
    pub headline: &'a str,
    pub preview_url: Option<&'a str>,
    pub deployment_url: Option<&'a str>,
    pub commit: Option<&'a str>,
    /// `https://github.com/owner/repo`, for the commit link.
    pub repo_url: Option<&'a str>,
    /// This workflow run's page.
    pub run_url: Option<&'a str>,
    pub time: jiff::Timestamp,
    /// The last log lines of a failed build (untrusted).
    pub log_tail: &'a [String],
    /// Earlier commits and their URLs, newest first, from the comment this one replaces
    /// ([`history`]).
    pub history: &'a [(String, String)],
}

/// How many earlier commits the comment remembers.
pub(crate) const HISTORY_MAX: usize = 5;
const HISTORY_PREFIX: &str = "<!-- workers-ci:history";

/// At most this many log lines, each cut to [`LINE_MAX`] characters: the comment stays far
/// below GitHub's 65 536-character body limit.
pub(crate) const TAIL_MAX: usize = 30;
const LINE_MAX: usize = 300;

/// The hidden first line that makes the comment ours, for this Worker and kind. The name is
/// encoded so that nothing in it can end the HTML comment or collide with another Worker's key
/// (nor reach the `;` before the kind).
pub(crate) fn marker(worker: &str, kind: Kind) -> String {
    format!("<!-- workers-ci:worker={};kind={} -->", key(worker), kind.name())
}

/// The marker of the one comment per Worker that every kind shared at first (issue 25). A
/// Preview run adopts such a comment (see [`is_legacy`]) instead of leaving it stale beside a new one.
fn legacy_marker(worker: &str) -> String {
    format!("<!-- workers-ci:worker={} -->", key(worker))
}

fn key(worker: &str) -> String {
    worker
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'_' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Is this comment body the living comment of `worker` for `kind`? Only a first line exactly
/// equal to the marker counts; a marker quoted further down (or in someone's reply) does not.
pub(crate) fn is_ours(body: &str, worker: &str, kind: Kind) -> bool {
    first_line_is(body, &marker(worker, kind))
}

/// Is this the Worker's comment from before comments had kinds? Whatever wrote it last, it most
/// likely shows the Preview (the report a reviewer comes back to), so the Preview's run takes it
/// over, rewriting it with its own marker; a build or version run leaves it alone and starts its
/// own. Either way no stale comment is left that nothing updates.
pub(crate) fn is_legacy(body: &str, worker: &str) -> bool {
    first_line_is(body, &legacy_marker(worker))
}

fn first_line_is(body: &str, marker: &str) -> bool {
    body.lines().next().is_some_and(|l| l.trim_end() == marker)
}

pub(crate) fn render(c: &Card<'_>) -> String {
    let icon = if c.ok { "✅" } else { "❌" };
    let mut s = marker(c.worker, c.kind);
    let _ = write!(s, "\n### {icon} Worker {}: {}\n\n", code(c.worker), text(c.headline));
    s.push_str("| | |\n|---|---|\n");
    let _ = writeln!(s, "| Status | {icon} {} |", text(c.headline));
    if let Some(u) = c.preview_url {
        let _ = writeln!(s, "| Preview URL | {} |", link(u));
    }
    if let Some(u) = c.deployment_url {
        let _ = writeln!(s, "| Deployment URL | {} |", link(u));
    }
    if let Some(sha) = c.commit {
        let short: String = sha.chars().take(12).collect();
        let hex = sha.bytes().all(|b| b.is_ascii_hexdigit());
        let cell = match c.repo_url {
            Some(r) if hex => format!("[{}]({}/commit/{sha})", code(&short), r.trim_end_matches('/')),
            _ => code(&short),
        };
        let _ = writeln!(s, "| Commit | {cell} |");
    }
    let _ = writeln!(s, "| Updated | {} |", c.time.strftime("%Y-%m-%d %H:%M:%S UTC"));
    if let Some(r) = c.run_url {
        let _ = writeln!(s, "| Run | {} |", link(r));
    }
    let earlier = remembered(c);
    if !earlier.is_empty() {
        s.push_str(
            "
<details><summary>Earlier commits</summary>

| Commit | URL |
|---|---|
",
        );
        for (sha, url) in &earlier {
            let short: String = sha.chars().take(12).collect();
            let cell = match c.repo_url {
                Some(r) => format!("[{}]({}/commit/{sha})", code(&short), r.trim_end_matches('/')),
                None => code(&short),
            };
            let _ = writeln!(s, "| {cell} | {} |", link(url));
        }
        s.push_str(
            "
</details>
",
        );
    }
    if !c.log_tail.is_empty() {
        let start = c.log_tail.len().saturating_sub(TAIL_MAX);
        let lines: Vec<String> = c.log_tail[start..].iter().map(|l| log_line(l)).collect();
        let longest = lines.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0);
        let fence = "`".repeat((longest + 1).max(3));
        let _ = write!(s, "\n<details open><summary>Last log lines</summary>\n\n{fence}text\n");
        for l in &lines {
            s.push_str(l);
            s.push('\n');
        }
        let _ = write!(s, "{fence}\n\n</details>\n");
    }
    s.push_str("\n<sub>Edited in place by workers-ci on every run.</sub>\n");
    // The commits and URLs this comment shows, for the next run to keep ([`history`]).
    let mut kept: Vec<(String, String)> = Vec::new();
    if let (Some(sha), Some(url)) = (c.commit, c.deployment_url.or(c.preview_url)) {
        kept.push((sha.to_owned(), url.to_owned()));
    }
    kept.extend(earlier);
    kept.retain(|(sha, url)| history_entry(sha, url));
    if !kept.is_empty() {
        let entries: Vec<String> = kept.iter().map(|(sha, url)| format!("{sha}={url}")).collect();
        let _ = writeln!(s, "{HISTORY_PREFIX} {} -->", entries.join(" "));
    }
    s
}

/// The earlier commits to show: the history handed over, without this commit, at most
/// [`HISTORY_MAX`].
fn remembered(c: &Card<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (sha, url) in c.history {
        if Some(sha.as_str()) != c.commit && !out.iter().any(|(s, _)| s == sha) && history_entry(sha, url) {
            out.push((sha.clone(), url.clone()));
        }
    }
    out.truncate(HISTORY_MAX);
    out
}

/// A commit (hex) and an http(s) URL that cannot end the hidden line nor hold a separator.
fn history_entry(sha: &str, url: &str) -> bool {
    (7..=64).contains(&sha.len())
        && sha.bytes().all(|b| b.is_ascii_hexdigit())
        && (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control() || "<>|\"`\\=".contains(c))
        && !url.contains("--")
}

/// The commits and URLs an earlier comment of ours showed, newest first: its current one and its
/// own history, from the hidden line [`render`] writes. Anything malformed is left out.
pub(crate) fn history(body: &str) -> Vec<(String, String)> {
    let Some(line) = body.lines().find(|l| l.starts_with(HISTORY_PREFIX)) else { return Vec::new() };
    let inner = line.trim_start_matches(HISTORY_PREFIX).trim_end().trim_end_matches("-->");
    inner
        .split_whitespace()
        .filter_map(|e| e.split_once('='))
        .filter(|(sha, url)| history_entry(sha, url))
        .map(|(sha, url)| (sha.to_owned(), url.to_owned()))
        .take(HISTORY_MAX + 1)
        .collect()
}

/// One untrusted log line: control characters dropped, `<!--` broken, length capped.
fn log_line(l: &str) -> String {
    let clean: String = l.chars().filter(|c| !c.is_control() || *c == '\t').take(LINE_MAX).collect();
    unhtml(&clean)
}

/// `<!--` with a zero-width space inside: still readable, never an HTML comment.
fn unhtml(s: &str) -> String {
    s.replace("<!--", "<!-\u{200B}-")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        cur = if c == ch { cur + 1 } else { 0 };
        best = best.max(cur);
    }
    best
}

/// Untrusted text in a table cell or heading: every Markdown punctuation character escaped,
/// line breaks flattened, `|` escaped (GFM splits cells before anything else).
fn text(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars().filter(|c| !c.is_control()).take(LINE_MAX) {
        if ch.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A code span that the text cannot close: delimited by one more backtick than its longest run.
fn code(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).take(LINE_MAX).collect();
    let ticks = "`".repeat(longest_run(&s, '`') + 1);
    // Spaces keep a leading or trailing backtick off the delimiter; `|` would split the cell.
    format!("{ticks} {} {ticks}", unhtml(&s).replace('|', "\\|"))
}

/// An http(s) URL as an autolink; anything else as code.
fn link(u: &str) -> String {
    let plain = (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() <= 2000
        && !u.chars().any(|c| c.is_whitespace() || c.is_control() || "<>|\"`\\".contains(c));
    if plain { format!("<{u}>") } else { code(u) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(tail: &[String]) -> Card<'_> {
        Card {
            worker: "my-worker",
            kind: Kind::Build,
            ok: tail.is_empty(),
            headline: "build failed (outcome `fail`)",
            preview_url: Some("https://abc.my-worker.example.workers.dev"),
            deployment_url: None,
            commit: Some("0123456789abcdef0123456789abcdef01234567"),
            repo_url: Some("https://github.com/acme/site"),
            run_url: Some("https://github.com/acme/site/actions/runs/1"),
            time: jiff::Timestamp::UNIX_EPOCH,
            log_tail: tail,
            history: &[],
        }
    }

    #[test]
    fn the_comment_remembers_earlier_commits_and_their_urls() {
        let url = |n: u8| format!("https://{n}0000000-my-worker.example.workers.dev");
        let mut c = card(&[]);
        c.deployment_url = Some("https://cccccccc-my-worker.example.workers.dev");
        c.commit = Some("cccccccccccccccccccccccccccccccccccccccc");
        let old = vec![
            ("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".to_owned(), url(2)),
            ("cccccccccccccccccccccccccccccccccccccccc".to_owned(), url(3)),
            ("not-hex".to_owned(), url(4)),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned(), "https://x.example/a-->b".to_owned()),
        ];
        c.history = &old;
        let body = render(&c);
        assert!(body.contains("Earlier commits"), "{body}");
        assert!(body.contains(&format!("<{}>", url(2))), "{body}");
        assert!(!body.contains(&url(3)), "this commit is not an earlier one: {body}");
        assert!(!body.contains("not-hex") && !body.contains("a-->b"), "{body}");
        let next = history(&body);
        assert_eq!(
            next[0],
            ("cccccccccccccccccccccccccccccccccccccccc".to_owned(), c.deployment_url.unwrap().to_owned())
        );
        assert_eq!(next[1].1, url(2));
        assert_eq!(next.len(), 2);
        assert!(is_ours(&body, "my-worker", Kind::Build));
        assert!(history("no history here").is_empty());
    }

    #[test]
    fn markers_are_per_worker_and_kind_and_only_on_the_first_line() {
        assert_eq!(marker("my-worker", Kind::Build), "<!-- workers-ci:worker=my%2Dworker;kind=build -->");
        assert_ne!(marker("a-b", Kind::Build), marker("a_b", Kind::Build));
        assert_ne!(marker("w", Kind::Build), marker("w", Kind::Preview));
        assert!(!marker("x-->y", Kind::Build).contains("-->y"));
        assert!(!marker("x;kind=preview", Kind::Build).contains(";kind=preview;"));
        let body = render(&card(&[]));
        assert!(is_ours(&body, "my-worker", Kind::Build));
        assert!(!is_ours(&body, "my-worker", Kind::Preview));
        assert!(!is_ours(&body, "my-worker2", Kind::Build));
        assert!(!is_ours(&format!("> quoted\n{body}"), "my-worker", Kind::Build));
        assert!(!is_legacy(&body, "my-worker"), "a new comment is not a legacy one");
        assert!(is_legacy("<!-- workers-ci:worker=my%2Dworker -->\n### …", "my-worker"));
        assert!(!is_legacy("<!-- workers-ci:worker=my%2Dworker -->\n### …", "my-worker2"));
    }

    #[test]
    fn log_lines_cannot_close_the_fence_or_forge_a_marker() {
        let hostile: Vec<String> = vec![
            "```".into(),
            "````` still inside".into(),
            "<!-- workers-ci:worker=other -->".into(),
            "</details><script>alert(1)</script>".into(),
            "::error::fake\u{1b}[31m".into(),
        ];
        let body = render(&card(&hostile));
        // The fence is longer than any backtick run in the log.
        let fence_line = body.lines().find(|l| l.starts_with("``````")).expect("a 6-backtick fence");
        assert_eq!(fence_line, "``````text");
        let inside: Vec<&str> =
            body.lines().skip_while(|l| *l != fence_line).skip(1).take_while(|l| *l != "``````").collect();
        assert_eq!(inside.len(), hostile.len(), "every line stays inside the block: {body}");
        let html: Vec<&str> = body.lines().filter(|l| l.contains("<!--")).collect();
        assert_eq!(html.len(), 2, "only our own marker and history line: {body}");
        assert!(html[0] == marker("my-worker", Kind::Build) && html[1].starts_with(HISTORY_PREFIX), "{body}");
        assert!(!body.contains('\u{1b}'));
        assert!(!is_ours(&body, "other", Kind::Build) && !is_legacy(&body, "other"));
    }

    #[test]
    fn names_and_urls_are_inert() {
        let mut c = card(&[]);
        c.worker = "w|`x`";
        c.preview_url = Some("javascript:alert(1)");
        c.deployment_url = Some("https://ok.example/a|b");
        c.headline = "**bold** [x](y) <b>";
        let body = render(&c);
        assert!(body.contains("| Preview URL | ` javascript:alert(1) ` |"), "{body}");
        assert!(body.contains("| Deployment URL | ` https://ok.example/a\\|b ` |"), "{body}");
        assert!(body.contains("\\*\\*bold\\*\\* \\[x\\]\\(y\\) \\<b\\>"), "{body}");
        assert!(body.contains("`` w\\|`x` ``"), "{body}");
    }
}
