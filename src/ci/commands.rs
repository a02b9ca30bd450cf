//! GitHub workflow-command encoding, and the neutralising of untrusted text.
//!
//! The runner treats a stdout/stderr line as a command when, after leading whitespace, it
//! starts with `::`, or when it contains the legacy `##[` anywhere. Text we did not write
//! (build logs, API messages) must never reach the runner in either shape outside a
//! `::stop-commands::` block.

/// Encodes a command's message part (toolkit `escapeData`): `%` first, then CR and LF.
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Encodes a command property value (toolkit `escapeProperty`).
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A zero-width space: invisible in the log, but it breaks the runner's `##[` and leading-`::`
/// matches. .NET's `TrimStart` does not strip it (it is a format character, not white space).
const BREAK: char = '\u{200B}';

/// Makes one line of untrusted text unable to issue a workflow command on its own.
///
/// Used both inside stop-commands blocks (defence in depth, and because the log viewer is
/// said to interpret `##[` markers in plain text) and for our own lines that embed API text.
pub(crate) fn inert_line(line: &str) -> String {
    let mut out = line.replace("##[", "##\u{200B}[");
    let trimmed = out.trim_start();
    if trimmed.starts_with("::") {
        let indent = out.len() - trimmed.len();
        out.insert(indent, BREAK);
    }
    out
}

/// `inert_line` applied to every line of a possibly multi-line text. A lone CR counts as a
/// line break, as it does for the runner's line reader.
pub fn inert(text: &str) -> String {
    if !text.contains("::") && !text.contains("##[") {
        return text.to_owned();
    }
    physical_lines(text).map(inert_line).collect::<Vec<_>>().join("\n")
}

/// Splits where the runner's reader would: at LF, CRLF or a lone CR.
pub fn physical_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'))
}

/// Would the runner read this line as a command? The runner's own test, for our tests and
/// assertions.
pub fn looks_like_command(line: &str) -> bool {
    line.trim_start().starts_with("::") || line.contains("##[")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_the_toolkit() {
        assert_eq!(escape_data("100%\r\nok"), "100%25%0D%0Aok");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn hostile_lines_become_inert() {
        for l in [
            "::set-output name=x::y",
            "   ::add-mask::secret",
            "\t::error::fake",
            "echo ##[set-output name=x]evil",
            "##[group]x",
            "::stop-commands::abc",
        ] {
            let safe = inert_line(l);
            assert!(!looks_like_command(&safe), "{l:?} -> {safe:?}");
            assert_eq!(safe.replace(BREAK, ""), l, "only invisible characters are added");
        }
        assert_eq!(inert_line("plain text: a::b"), "plain text: a::b");
    }

    #[test]
    fn carriage_returns_split_lines_like_the_runner() {
        assert_eq!(physical_lines("a\r\nb\rc\nd").collect::<Vec<_>>(), ["a", "b", "c", "d"]);
        let t = inert("progress 50%\r::set-output name=x::y");
        assert!(t.lines().all(|l| !looks_like_command(l)), "{t:?}");
    }

    #[test]
    fn multi_line_text_is_made_inert_line_by_line() {
        let t = inert("ok\n::error::x\n  ##[warning]y");
        assert!(t.lines().all(|l| !looks_like_command(l)));
        assert_eq!(t.lines().count(), 3);
    }
}
