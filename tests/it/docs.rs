//! README, `--help` and action.yml describe the same inputs, outputs and exit codes as the code.

use workers_ci::exit::Exit;
use workers_ci::inputs::{INPUTS, OUTPUTS};

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

fn outputs_table() -> String {
    let mut t = String::from("| output | meaning |\n| --- | --- |\n");
    for o in OUTPUTS {
        t.push_str(&format!("| `{}` | {} |\n", o.name, md(o.help)));
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
    let tables = [("inputs", inputs_table()), ("outputs", outputs_table()), ("exit codes", exit_table())];
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
