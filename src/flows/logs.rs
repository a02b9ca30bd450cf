//! Following a build's log by cursor without losing or repeating a line.
//!
//! Whether the API returns a fresh cursor on the last page, and whether a cursor can be
//! re-read while the build still runs, is not documented. [`LogCursor`] works either way:
//! it remembers the cursor it last read from and how many lines past it it has printed, so a
//! re-read of the same cursor skips what was already shown.

use std::collections::VecDeque;

use crate::cloudflare::builds::LogPage;

#[derive(Debug, Default)]
pub struct LogCursor {
    cursor: Option<String>,
    seen_since_cursor: usize,
}

impl LogCursor {
    /// The cursor to request next.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Takes a page read from [`LogCursor::cursor`] and returns the lines not seen before.
    pub fn take(&mut self, page: &LogPage) -> Vec<String> {
        let lines = page.lines();
        let fresh: Vec<String> = lines.into_iter().skip(self.seen_since_cursor).map(|l| l.message).collect();
        match page.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(next) if Some(next) != self.cursor.as_deref() => {
                self.cursor = Some(next.to_owned());
                self.seen_since_cursor = 0;
            }
            _ => self.seen_since_cursor += fresh.len(),
        }
        fresh
    }
}

/// The last lines printed, for the job summary of a failed build.
#[derive(Debug, Default)]
pub struct Tail {
    lines: VecDeque<String>,
}

impl Tail {
    const KEEP: usize = 200;

    pub fn push(&mut self, line: &str) {
        if self.lines.len() == Self::KEEP {
            self.lines.pop_front();
        }
        self.lines.push_back(line.to_owned());
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(cursor: Option<&str>, lines: &[&str], truncated: bool) -> LogPage {
        LogPage {
            cursor: cursor.map(String::from),
            lines: lines.iter().map(|l| vec![json!(1), json!(l)]).collect(),
            truncated,
        }
    }

    #[test]
    fn fresh_cursor_per_page() {
        let mut c = LogCursor::default();
        assert_eq!(c.take(&page(Some("c1"), &["a", "b"], true)), ["a", "b"]);
        assert_eq!(c.cursor(), Some("c1"));
        assert_eq!(c.take(&page(Some("c2"), &["c"], false)), ["c"]);
        assert_eq!(c.take(&page(Some("c2"), &[], false)), Vec::<String>::new());
    }

    #[test]
    fn no_cursor_on_last_page_rereads_without_repeats() {
        let mut c = LogCursor::default();
        assert_eq!(c.take(&page(Some("c1"), &["a", "b"], true)), ["a", "b"]);
        // Last page: no cursor. The next read uses c1 again and gets c, d again plus e.
        assert_eq!(c.take(&page(None, &["c", "d"], false)), ["c", "d"]);
        assert_eq!(c.cursor(), Some("c1"));
        assert_eq!(c.take(&page(None, &["c", "d", "e"], false)), ["e"]);
        // Then the server hands out a cursor again: it points after what it returned.
        assert_eq!(c.take(&page(Some("c3"), &["c", "d", "e", "f"], false)), ["f"]);
        assert_eq!(c.take(&page(Some("c4"), &["g"], false)), ["g"]);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let mut t = Tail::default();
        for i in 0..250 {
            t.push(&i.to_string());
        }
        let l = t.lines();
        assert_eq!(l.len(), 200);
        assert_eq!(l[0], "50");
        assert_eq!(l[199], "249");
    }
}
