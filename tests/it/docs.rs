//! README, `--help` and action.yml describe the same inputs, outputs and exit codes as the code.

use workers_ci::commands::{Command, OUTPUTS};
use workers_ci::exit::Exit;
use workers_ci::testing::INPUTS;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

fn md(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The README's input table, as the code defines it.
fn inputs_table() -> String {
    let mut t = String::from("| input | commands | default | meaning |\n| --- | --- | --- | --- |\n");
    for s in INPUTS {
        let commands: Vec<&str> = s.commands.iter().map(|c| c.name()).collect();
        // Literal defaults are code; descriptive ones ("the only .js at the top of `dir`") prose.
        let default = if s.default.is_empty() || s.default.contains(' ') {
            s.default.to_owned()
        } else {
            format!("`{}`", s.default)
        };
        let fallback =
            if s.fallback.is_empty() { String::new() } else { format!(" Fallback: `{}`.", s.fallback.join("`, `")) };
        t.push_str(&format!(
            "| `{}` | {} | {} | {}{} |\n",
            s.name,
            commands.join(", "),
            md(&default),
            md(s.help),
            fallback
        ));
    }
    t
}

/// Which commands write an output comes from the commands' facts.
fn outputs_table() -> String {
    let mut t = String::from("| output | commands | meaning |\n| --- | --- | --- |\n");
    for o in OUTPUTS {
        let commands: Vec<&str> = o.key.commands().into_iter().map(Command::name).collect();
        t.push_str(&format!("| `{}` | {} | {} |\n", o.name, commands.join(", "), md(o.help)));
    }
    t
}

/// The codes each command can end with, from its facts (as `workers-ci help <command>` lists).
fn exits_by_command_table() -> String {
    let mut t = String::from("| command | exit codes |\n| --- | --- |\n");
    for c in Command::ALL {
        let codes: Vec<String> = c.exits().iter().map(|e| e.code().to_string()).collect();
        t.push_str(&format!("| `{}` | {} |\n", c.name(), codes.join(", ")));
    }
    t
}

fn exit_table() -> String {
    let mut t = String::from("| code | meaning |\n| --- | --- |\n");
    for e in Exit::ALL {
        t.push_str(&format!("| {} | {} |\n", e.code(), md(e.meaning())));
    }
    t
}

#[test]
fn readme_tables_match_the_code() {
    let readme = readme();
    let tables = [
        ("inputs", inputs_table()),
        ("outputs", outputs_table()),
        ("exit codes", exit_table()),
        ("exit codes by command", exits_by_command_table()),
    ];
    if std::env::var_os("PRINT_README_TABLES").is_some() {
        for (_, table) in &tables {
            println!("{table}");
        }
    }
    for (what, table) in tables {
        assert!(readme.contains(&table), "README's {what} table is out of date; it should read:\n{table}");
    }
}

#[test]
fn action_yml_declares_and_maps_every_input_and_output() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml");
    let Ok(action) = std::fs::read_to_string(path) else {
        panic!("action.yml is missing");
    };
    for s in INPUTS {
        assert!(action.contains(&format!("\n  {}:\n", s.name)), "action.yml does not declare input `{}`", s.name);
        let env = format!("INPUT_{}: ${{{{ inputs.{} }}}}", s.name.to_uppercase(), s.name);
        assert!(action.contains(&env), "action.yml does not map `{}` into the run step's env as `{env}`", s.name);
    }
    for name in OUTPUTS.iter().map(|o| o.name) {
        assert!(action.contains(&format!("\n  {name}:\n")), "action.yml does not declare output `{name}`");
        assert!(action.contains(&format!("steps.run.outputs.{name} }}}}")), "action.yml does not map output `{name}`");
    }
    assert!(!action.contains("run: ${{"), "no expressions inside run scripts");
}

/// The section ids (`B.9`, `8-5`, `G-9`) and corrections (`Correction 1`) a Markdown file has as
/// headings.
fn headings(doc: &str) -> std::collections::BTreeSet<String> {
    let heading = regex::Regex::new(r"(?m)^#{1,6} (?:§([A-Z0-9][A-Z0-9.\-]*)|(Correction \d+))").unwrap();
    let text = std::fs::read_to_string(format!("{}/{doc}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{doc} cannot be read: {e}"));
    heading.captures_iter(&text).map(|c| c.get(1).or_else(|| c.get(2)).unwrap().as_str().to_owned()).collect()
}

/// The repository's tracked files under `specs` (all of them when empty), as git lists them.
fn tracked(specs: &[&str]) -> Vec<String> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z", "--"])
        .args(specs)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git ls-files: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().split('\0').filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

/// Every `§` a comment (or a doc) cites is a heading of the document it cites, so a citation
/// always leads somewhere. A `§` names a section of `docs/cloudflare-api.md` unless
/// `docs/github-actions.md`, `docs/gitlab-ci.md` or `docs/buildkite.md` is named before it on
/// the same line (or it is in that file);
/// `Correction N` is one of `docs/cloudflare-api.md`'s corrections.
#[test]
fn every_cited_section_is_a_heading_of_the_doc_it_cites() {
    const CLOUDFLARE: &str = "docs/cloudflare-api.md";
    const GITHUB: &str = "docs/github-actions.md";
    const GITLAB: &str = "docs/gitlab-ci.md";
    const BUILDKITE: &str = "docs/buildkite.md";
    let docs = [
        (CLOUDFLARE, headings(CLOUDFLARE)),
        (GITHUB, headings(GITHUB)),
        (GITLAB, headings(GITLAB)),
        (BUILDKITE, headings(BUILDKITE)),
    ];
    assert!(docs.iter().all(|(_, h)| h.len() > 3), "the headings were not read: {docs:?}");
    let citation = regex::Regex::new(
        r"docs/(?:github-actions|cloudflare-api|gitlab-ci|buildkite)\.md|§([A-Z]|[0-9]+)((?:[.\-][0-9]+)*)|(Correction [0-9]+)",
    )
    .unwrap();
    let mut missing = Vec::new();
    let mut cited = 0;
    let files = tracked(&[
        "src",
        "crates",
        "tests",
        "scripts",
        "docs",
        "bench",
        "hooks",
        "templates",
        "plugin.yml",
        "README.md",
        "CONTRIBUTING.md",
    ]);
    for path in files {
        // Images, compiled caches and vendored schemas cite nothing.
        let Ok(text) = String::from_utf8(std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap())
        else {
            continue;
        };
        // A doc's own bare `§`s are its own sections.
        let default = docs.iter().map(|(d, _)| *d).find(|d| *d == path).unwrap_or(CLOUDFLARE);
        for (n, line) in text.lines().enumerate() {
            let mut doc = default;
            for c in citation.captures_iter(line) {
                let id = match (c.get(1), c.get(3)) {
                    (Some(section), _) => format!("{}{}", section.as_str(), &c[2]),
                    (None, Some(correction)) => correction.as_str().to_owned(),
                    (None, None) => {
                        doc = docs.iter().map(|(d, _)| *d).find(|d| *d == &c[0]).unwrap_or(CLOUDFLARE);
                        continue;
                    }
                };
                cited += 1;
                let target = if id.starts_with("Correction") { CLOUDFLARE } else { doc };
                if !docs.iter().any(|(d, h)| *d == target && h.contains(&id)) {
                    missing.push(format!("{path}:{}: {id} is not a heading of {target}", n + 1));
                }
            }
        }
    }
    assert!(cited > 100, "only {cited} citations found: the pattern no longer matches them");
    assert!(
        missing.is_empty(),
        "citations that lead nowhere (add the section to the doc, fix the citation, or spell out \
         another document's section as \"section N\"):\n{}",
        missing.join("\n")
    );
}

/// Nothing in the repository reads, or sends a reader to, the design notes that lived beside
/// it: what the code relies on is in `docs/` and `tests/fixtures/`.
#[test]
fn no_tracked_file_reaches_outside_the_repository() {
    // The vendoring script and its README may say where the fixture came from; this file names
    // the patterns it looks for.
    const MAY_NAME_THE_SOURCE: &[&str] =
        &["tests/it/docs.rs", "tests/fixtures/cloudflare-openapi/README.md", "scripts/vendor-openapi.py"];
    let mut offenders = Vec::new();
    for path in tracked(&[]) {
        if MAY_NAME_THE_SOURCE.contains(&path.as_str()) {
            continue;
        }
        let bytes = std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for needle in ["../shared", "shared/cloudflare"] {
            if let Some(n) = text.lines().position(|l| l.contains(needle)) {
                offenders.push(format!("{path}:{}: mentions {needle}", n + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "files that depend on something outside the repository:\n{}", offenders.join("\n"));
}

/// A citation names the documents by their place in the repository: a bare file name (or
/// "additions" before a section) named the design notes that used to live outside it. Inside
/// `docs/` the files link each other by name, so `docs/` is not checked.
#[test]
fn citations_name_the_docs_in_the_repository() {
    let outside =
        regex::Regex::new(r"(?:^|[^/\w-])(?:cloudflare-api(?:-additions)?|github-actions)\.md|\b[Aa]dditions §")
            .unwrap();
    let mut offenders = Vec::new();
    for path in
        tracked(&["src", "crates", "tests", "scripts", "bench", ".ci", ".github", "README.md", "CONTRIBUTING.md"])
    {
        let Ok(text) = String::from_utf8(std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap())
        else {
            continue;
        };
        for (n, line) in text.lines().enumerate().filter(|(_, l)| outside.is_match(l)) {
            offenders.push(format!("{path}:{}: {}", n + 1, line.trim()));
        }
    }
    assert!(
        offenders.is_empty(),
        "cite docs/cloudflare-api.md or docs/github-actions.md instead:\n{}",
        offenders.join("\n")
    );
}

/// README's cold-start minutes are BENCHMARKS.md's measured wall times ("Cold start",
/// `bench/cold-start.sh`), rounded to the half minute: a figure cannot be edited in one place
/// and not the other, nor written without a measurement behind it.
#[test]
fn readmes_cold_start_figures_are_the_measured_ones() {
    let bench = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md")).unwrap();
    let section = bench.split("\n## Cold start").nth(1).expect("BENCHMARKS.md has a \"Cold start\" section");
    let wall = |step: &str| -> f64 {
        let row = section
            .lines()
            .find(|l| l.starts_with(&format!("| {step} |")))
            .unwrap_or_else(|| panic!("no `{step}` row in BENCHMARKS.md's Cold start table"));
        let cell = row.split('|').nth(3).unwrap().trim();
        cell.strip_suffix(" s").and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("wall cell {cell:?}"))
    };
    let readme = readme();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let said = |anchor: &str| -> f64 {
        let at = readme.find(anchor).unwrap_or_else(|| panic!("README no longer says {anchor:?}"));
        let rest = readme[at + anchor.len()..].trim_start().strip_prefix("about ").expect("`about N minutes`");
        let n = rest.split(' ').next().unwrap();
        assert!(rest[n.len()..].starts_with(" minute"), "{anchor:?} is followed by {:?}", &rest[..40.min(rest.len())]);
        n.parse().unwrap_or_else(|_| panic!("{anchor:?}: {n:?} is not a number"))
    };
    let half_minutes = |seconds: f64| (seconds / 30.0).round() / 2.0;
    for (step, anchor) in [
        ("release build", "the first `cargo run --release -- demo` compiles for"),
        ("debug build", "`cargo run -- demo` (a debug build) compiles for"),
        ("test build", "the first `cargo test --locked` compiles for"),
        ("tests (built)", "then runs for"),
    ] {
        assert_eq!(
            said(anchor),
            half_minutes(wall(step)),
            "README's {step:?} figure ({anchor:?}) against BENCHMARKS.md"
        );
    }
}

/// README's install time is BENCHMARKS.md's measured cold median (in seconds, two decimals),
/// so a new measurement cannot leave the README's figure behind.
#[test]
fn readmes_install_figure_is_the_measured_one() {
    let bench = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md")).unwrap();
    let section = bench
        .split("\n## Install from a release")
        .nth(1)
        .expect("BENCHMARKS.md has an \"Install from a release\" section");
    let row = section.lines().find(|l| l.starts_with("| cold:")).expect("a `cold:` row in the install table");
    let cell = row.split('|').nth(2).unwrap().trim();
    let ms: f64 =
        cell.strip_suffix(" ms").and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("median cell {cell:?}"));
    let readme = readme().split_whitespace().collect::<Vec<_>>().join(" ");
    let said = format!("the install step took {:.2} s", ms / 1000.0);
    assert!(readme.contains(&said), "README should say {said:?} (BENCHMARKS.md's cold median, {cell})");
}
