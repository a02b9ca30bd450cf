//! The job summary (`$GITHUB_STEP_SUMMARY`): Markdown built in memory and written once.
//!
//! The runner refuses (and drops) a summary over 1 MiB per step, so ours is capped well below
//! that, cutting log excerpts first.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

/// The runner's limit is 1 MiB; stay clear of it, leaving room for other writers of the file.
pub(crate) const CAP_BYTES: usize = 900 * 1024;

#[derive(Debug, Default)]
pub(crate) struct Summary {
    title: String,
    rows: Vec<(String, String)>,
    sections: Vec<(String, Section)>,
}

#[derive(Debug)]
enum Section {
    Text(String),
    Code(Vec<String>),
}

impl Summary {
    pub(crate) fn new(title: &str) -> Self {
        Summary { title: title.to_owned(), ..Summary::default() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.sections.is_empty()
    }

    pub(crate) fn row(&mut self, key: &str, value: &str) {
        self.rows.push((key.to_owned(), value.to_owned()));
    }

    pub(crate) fn text(&mut self, heading: &str, markdown: &str) {
        self.sections.push((heading.to_owned(), Section::Text(markdown.to_owned())));
    }

    /// A table under a heading, each cell escaped (a Worker name or a URL cannot break it).
    pub(crate) fn table(&mut self, heading: &str, header: &[&str], rows: &[Vec<String>]) {
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut md = line(header.iter().map(|h| cell(h)).collect());
        md.push_str(&line(header.iter().map(|_| "---".to_owned()).collect()));
        for r in rows {
            md.push_str(&line(r.iter().map(|c| cell(c)).collect()));
        }
        self.text(heading, md.trim_end());
    }

    /// A block of verbatim lines (log excerpts); these are what the cap cuts.
    pub(crate) fn code(&mut self, heading: &str, lines: Vec<String>) {
        self.sections.push((heading.to_owned(), Section::Code(lines)));
    }

    pub(crate) fn render(&self) -> String {
        let mut md = format!("### {}\n\n", cell(&self.title));
        if !self.rows.is_empty() {
            md.push_str("| | |\n| --- | --- |\n");
            for (k, v) in &self.rows {
                md.push_str(&format!("| {} | {} |\n", cell(k), cell(v)));
            }
            md.push('\n');
        }
        // Headings, fences and text sections are small and always kept; code blocks share
        // what is left of the cap.
        let fixed: usize =
            self.sections.iter().map(|(h, s)| h.len() + 64 + if let Section::Text(t) = s { t.len() } else { 0 }).sum();
        let mut budget = CAP_BYTES.saturating_sub(md.len() + fixed);
        for (heading, section) in &self.sections {
            md.push_str(&format!("#### {}\n\n", cell(heading)));
            match section {
                Section::Text(t) => {
                    md.push_str(t);
                    md.push_str("\n\n");
                }
                Section::Code(lines) => {
                    // Keep the *last* lines: a failure's cause is at the end of its log.
                    let mut kept: Vec<&str> = Vec::new();
                    let mut used = 0;
                    for l in lines.iter().rev() {
                        if used + l.len() + 1 > budget {
                            break;
                        }
                        used += l.len() + 1;
                        kept.push(l);
                    }
                    budget -= used;
                    kept.reverse();
                    let body = kept.join("\n");
                    let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
                    if kept.len() < lines.len() {
                        md.push_str(&format!(
                            "_…{} truncated_\n\n",
                            super::plural(lines.len() - kept.len(), "earlier line", "earlier lines")
                        ));
                    }
                    md.push_str(&format!("{fence}text\n{body}\n{fence}\n\n"));
                }
            }
        }
        md
    }

    /// Appends to the step's summary file (it may hold other steps' or tools' content).
    pub(crate) fn append_to(&self, path: &Path) -> io::Result<()> {
        let mut f = OpenOptions::new().append(true).create(true).open(path)?;
        f.write_all(self.render().as_bytes())?;
        f.flush()
    }

    /// `summary_file`: the summary alone, replacing the file through a rename so a reader (the
    /// step after ours) never sees half of it. Written even when empty, so the file existing
    /// says the run got as far as reporting.
    pub(crate) fn write_whole(&self, path: &Path) -> io::Result<()> {
        let body = if self.is_empty() { String::new() } else { self.render() };
        let tmp = path.with_extension(format!("tmp-{}", crate::random::hex(4)));
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

/// A table cell: one line, no column breaks, no raw HTML. Markdown links (`[text](url)`) pass.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace('<', "&lt;").replace(['\r', '\n'], " ")
}

fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        cur = if c == '`' { cur + 1 } else { 0 };
        best = best.max(cur);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_table_and_fenced_log() {
        let mut s = Summary::new("Build");
        s.row("Outcome", "fail | <b>");
        s.code("Last log lines", vec!["```".into(), "error: x".into()]);
        let md = s.render();
        assert!(md.contains("| Outcome | fail \\| &lt;b> |"), "{md}");
        assert!(md.contains("````text\n```\nerror: x\n````"), "{md}");
    }

    #[test]
    fn huge_logs_are_cut_under_the_cap_keeping_the_end() {
        let lines: Vec<String> = (0..200_000).map(|i| format!("line {i:06} {}", "x".repeat(20))).collect();
        let mut s = Summary::new("Build");
        s.row("Build", "abc");
        s.code("Log", lines);
        let md = s.render();
        assert!(md.len() <= CAP_BYTES, "{}", md.len());
        assert!(md.contains("line 199999"));
        assert!(!md.contains("line 000000"));
        assert!(md.contains("earlier lines truncated"));
    }
}
