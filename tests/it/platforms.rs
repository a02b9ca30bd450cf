//! The wrappers other CI systems install: the GitLab CI/CD components (`templates/*.yml`), the
//! Buildkite plugin (`plugin.yml`, the key list in `hooks/command`) and action.yml's inputs,
//! all generated here from the one input table (`src/inputs/mod.rs`), so none of them can
//! offer an input the binary does not read, miss one it does, or describe one differently.
//!
//! `UPDATE_PLATFORM_FILES=1 cargo test --test it platforms::` writes them;
//! `PRINT_PLATFORM_FILES=1` prints them. Without either, a file that differs fails the test.
//!
//! What the wrappers leave out of the table, and why (README "GitLab CI/CD", "Buildkite"):
//! secret inputs (`api_token`, `secrets`, `set_secret`): inputs are written into the
//! pipeline's configuration, which everyone who can read the pipeline reads, so secrets come
//! from masked variables (`CLOUDFLARE_API_TOKEN`, `INPUT_<NAME>`) only; the `github_*` inputs
//! (GitHub only); `output_file` and `summary_file` where the wrapper uses them itself; and in
//! GitLab's one-command templates, `command`.

use workers_ci::commands::{Command, OUTPUTS};
use workers_ci::testing::{INPUTS, InputSpec, Kind};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Where a wrapper's inputs are described.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Platform {
    Action,
    GitLab,
    Buildkite,
}

/// A value as a YAML double-quoted scalar (JSON's string syntax is YAML's).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A default a wrapper can pass as it is: a literal (`30m`, `true`), not prose
/// ("the only .js/.mjs at the top of `dir`") and not one an environment variable stands in
/// for (then the binary must see the input unset to read the variable).
fn literal_default(s: &InputSpec) -> Option<&'static str> {
    (!s.default.is_empty() && !s.default.contains([' ', '$', '`']) && s.fallback.is_empty()).then_some(s.default)
}

/// The platform's own default for an input the binary otherwise takes from GitHub's variables.
fn platform_default(p: Platform, name: &str) -> Option<(&'static str, &'static str)> {
    match (p, name) {
        (Platform::GitLab, "branch") => Some(("$CI_COMMIT_REF_NAME", "the pipeline's branch, `$CI_COMMIT_REF_NAME`")),
        (Platform::GitLab, "commit") => Some(("$CI_COMMIT_SHA", "the pipeline's commit, `$CI_COMMIT_SHA`")),
        (Platform::Buildkite, "branch") => Some(("", "the build's branch, `$BUILDKITE_BRANCH`")),
        (Platform::Buildkite, "commit") => {
            Some(("", "the build's commit, `$BUILDKITE_COMMIT` (when it is a full commit hash)"))
        }
        _ => None,
    }
}

fn description(p: Platform, s: &InputSpec, with_commands: bool) -> String {
    let mut d = s.help.to_owned();
    if let Some((_, said)) = platform_default(p, s.name) {
        d.push_str(&format!(" Default: {said}."));
    } else if literal_default(s).is_none() && !s.default.is_empty() {
        d.push_str(&format!(" Default: {}.", s.default));
    }
    if !s.fallback.is_empty() {
        let vars = s.fallback.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
        d.push_str(&format!(" Falls back to the {vars} environment variable."));
    }
    if with_commands {
        let commands = if s.commands.len() == Command::ALL.len() {
            "all commands".to_owned()
        } else {
            s.commands.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
        };
        d.push_str(&format!(" Used by: {commands}."));
    }
    d
}

/// Inputs no wrapper outside GitHub offers (see the module comment).
fn offered_outside_github(s: &InputSpec) -> bool {
    !s.secret && !s.name.starts_with("github_") && s.name != "output_file"
}

/// The two inputs that say how the wrapper gets the binary; the same on every platform.
fn install_inputs(p: Platform) -> [(&'static str, &'static str, String); 2] {
    let pinned = match p {
        Platform::GitLab => {
            "the component's commit (`dist-manifest.json` fetched from the component project at `component.sha`)"
        }
        _ => "the plugin's version (its `dist-manifest.json`)",
    };
    [
        (
            "install",
            "auto",
            format!(
                "How to get the binary: `auto` (the release binary for this machine listed in {pinned}, verified by SHA-256; falls back to `source` with a notice when there is none), `release` (that binary or fail), `source` (`cargo build --release --locked` of the wrapper's own source; needs Rust)."
            ),
        ),
        (
            "binary_path",
            "",
            "Path of an existing workers-ci binary to run instead of installing one (air-gapped runners, and these wrappers' own tests). Overrides `install`.".to_owned(),
        ),
    ]
}

// ---------------------------------------------------------------------------------- GitLab

/// The job a component's template defines, and where its stage defaults.
fn gitlab_stage(c: Command) -> &'static str {
    match c {
        Command::Build | Command::Wait | Command::Redeploy => "build",
        _ => "deploy",
    }
}

/// The job script, inlined: scripts/gitlab-job.sh without its leading comment block.
fn gitlab_script() -> String {
    let text = std::fs::read_to_string(format!("{ROOT}/scripts/gitlab-job.sh")).unwrap();
    assert!(!text.contains("$[["), "scripts/gitlab-job.sh must not contain `$[[`: GitLab would interpolate it");
    text.lines().skip_while(|l| l.starts_with('#')).map(|l| format!("      {l}\n").replace("       \n", "\n")).collect()
}

fn spec_input(out: &mut String, name: &str, default: &str, options: &[&str], description: &str) {
    out.push_str(&format!("    {name}:\n      default: {}\n", q(default)));
    if !options.is_empty() {
        let o: Vec<String> = options.iter().map(|o| q(o)).collect();
        out.push_str(&format!("      options: [{}]\n", o.join(", ")));
    }
    out.push_str(&format!("      description: {}\n", q(description)));
}

/// Inputs a GitLab template offers for `c`: the table's, minus those it sets itself.
fn gitlab_inputs(c: Command) -> Vec<&'static InputSpec> {
    INPUTS
        .iter()
        .filter(|s| s.commands.contains(&c) && offered_outside_github(s))
        .filter(|s| s.name != "command" && !(c == Command::Preview && s.name == "preview_action"))
        .collect()
}

fn gitlab_template(c: Command) -> String {
    let name = c.name();
    let mut t = format!(
        "# workers-ci {name}: {about}\n\
         # A GitLab CI/CD component (README \"GitLab CI/CD\"; facts in docs/gitlab-ci.md). Generated by\n\
         # tests/it/platforms.rs from the input table (src/inputs/mod.rs) and scripts/gitlab-job.sh:\n\
         # edit those, then run `UPDATE_PLATFORM_FILES=1 cargo test --test it platforms::`.\n\
         spec:\n  component: [sha]\n  inputs:\n",
        about = c.about()
    );
    spec_input(
        &mut t,
        "job_name",
        &format!("workers-ci-{name}"),
        &[],
        "The job's name. Define a job of this name in your pipeline to add `rules`, `needs` or `variables` (GitLab merges the two); give each include its own name to use the component twice.",
    );
    spec_input(&mut t, "stage", gitlab_stage(c), &[], "The stage the job runs in.");
    spec_input(
        &mut t,
        "image",
        "docker.io/library/buildpack-deps:bookworm-curl",
        &[],
        "The job's image: it needs bash, curl, tar and sha256sum (the release binary is static).",
    );
    spec_input(
        &mut t,
        "component_project",
        "workers-ci/workers-ci",
        &[],
        "The path of this component project on your GitLab instance (change it when you use a mirror): the job fetches scripts/install.sh and dist-manifest.json from it at the component's commit.",
    );
    if c == Command::Preview {
        spec_input(
            &mut t,
            "gitlab_environment",
            "review/$CI_COMMIT_REF_SLUG",
            &[],
            "The GitLab environment the Preview is deployed to: its URL is the Preview's, and stopping it (merge, close, or the Stop button) runs the job `<job_name>-stop`, which deletes the Preview.",
        );
    }
    let inputs = gitlab_inputs(c);
    for s in &inputs {
        let (default, options): (&str, &[&str]) = match (platform_default(Platform::GitLab, s.name), s.kind) {
            (Some((d, _)), _) => (d, &[]),
            (None, Kind::Switch) => match literal_default(s) {
                Some(d) => (d, &["true", "false"]),
                None => ("", &["", "true", "false"]),
            },
            (None, Kind::Value) => (literal_default(s).unwrap_or(""), &[]),
        };
        spec_input(&mut t, s.name, default, options, &description(Platform::GitLab, s, false));
    }
    let [(iname, idefault, idesc), (bname, bdefault, bdesc)] = install_inputs(Platform::GitLab);
    spec_input(&mut t, iname, idefault, &["auto", "release", "source"], &idesc);
    spec_input(&mut t, bname, bdefault, &[], &bdesc);
    t.push_str("---\n");

    let job = |t: &mut String, key: &str, action: Option<&str>| {
        t.push_str(&format!("{key}:\n  stage: $[[ inputs.stage ]]\n  image: $[[ inputs.image ]]\n"));
        t.push_str("  variables:\n");
        t.push_str(&format!("    WORKERS_CI_COMMAND: {}\n", q(name)));
        t.push_str("    WORKERS_CI_COMPONENT_PROJECT: $[[ inputs.component_project ]]\n");
        t.push_str("    WORKERS_CI_COMPONENT_SHA: $[[ component.sha ]]\n");
        t.push_str("    WORKERS_CI_INSTALL: $[[ inputs.install ]]\n");
        t.push_str("    WORKERS_CI_BINARY_PATH: $[[ inputs.binary_path ]]\n");
        for s in &inputs {
            t.push_str(&format!("    INPUT_{}: $[[ inputs.{} ]]\n", s.name.to_uppercase(), s.name));
        }
        if let Some(a) = action {
            t.push_str(&format!("    INPUT_PREVIEW_ACTION: {}\n", q(a)));
        }
    };
    let script = gitlab_script();
    if c == Command::Preview {
        job(&mut t, "\"$[[ inputs.job_name ]]\"", Some("deploy"));
        t.push_str("    INPUT_OUTPUT_FILE: \"workers-ci.env\"\n");
        t.push_str(
            "  environment:\n    name: $[[ inputs.gitlab_environment ]]\n    url: $PREVIEW_URL\n    on_stop: \"$[[ inputs.job_name ]]-stop\"\n",
        );
        t.push_str("  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n");
        t.push_str(&format!("  script:\n    - |\n{script}"));
        t.push_str("  artifacts:\n    when: always\n    reports:\n      dotenv: workers-ci.env\n\n");
        // The stop job: the same rules as the job it stops (GitLab requires it), manual, and no
        // checkout (the branch may be gone by then); deleting needs only the Worker's name.
        job(&mut t, "\"$[[ inputs.job_name ]]-stop\"", Some("delete"));
        t.push_str("    GIT_STRATEGY: none\n");
        t.push_str("  environment:\n    name: $[[ inputs.gitlab_environment ]]\n    action: stop\n");
        t.push_str("  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n      when: manual\n");
        t.push_str("  allow_failure: true\n");
        t.push_str(&format!("  script:\n    - |\n{script}"));
    } else {
        job(&mut t, "\"$[[ inputs.job_name ]]\"", None);
        t.push_str("    INPUT_OUTPUT_FILE: \"workers-ci.env\"\n");
        t.push_str(&format!("  script:\n    - |\n{script}"));
        t.push_str("  artifacts:\n    when: always\n    reports:\n      dotenv: workers-ci.env\n");
    }
    t
}

// ------------------------------------------------------------------------------- Buildkite

/// The plugin's keys: the table's (with `command`: one plugin runs every command), the install
/// pair, and the meta-data prefix. `summary_file` is the hook's own (the annotation).
fn buildkite_inputs() -> Vec<&'static InputSpec> {
    INPUTS.iter().filter(|s| offered_outside_github(s) && s.name != "summary_file").collect()
}

const META_DATA_PREFIX: (&str, &str, &str) = (
    "meta_data_prefix",
    "workers-ci:",
    "Each output is set as build meta-data `<prefix><output>` (e.g. `workers-ci:build_uuid`); empty outputs are skipped (meta-data values cannot be empty). Give steps of one build different prefixes: meta-data is the build's, the last writer wins.",
);

fn plugin_yml() -> String {
    let mut t = String::from(
        "# The Buildkite plugin (README \"Buildkite\"; facts in docs/buildkite.md). Generated by\n\
         # tests/it/platforms.rs from the input table (src/inputs/mod.rs): edit that, then run\n\
         # `UPDATE_PLATFORM_FILES=1 cargo test --test it platforms::`.\n\
         name: workers-ci\n\
         description: Start or follow Cloudflare Workers builds, stream their logs, upload and deploy Worker versions and per-branch Worker Previews; outputs as build meta-data, the summary as an annotation.\n\
         author: https://github.com/workers-ci\n\
         requirements:\n  - bash\n  - curl\n  - tar\n\
         configuration:\n  properties:\n",
    );
    let prop = |t: &mut String, name: &str, ty: &str, extra: &str, desc: &str| {
        t.push_str(&format!("    {name}:\n      type: {ty}\n{extra}      description: {}\n", q(desc)));
    };
    for s in buildkite_inputs() {
        let d = description(Platform::Buildkite, s, true);
        if s.name == "command" {
            let names: Vec<String> = Command::ALL.iter().map(|c| q(c.name())).collect();
            prop(&mut t, s.name, "string", &format!("      enum: [{}]\n", names.join(", ")), &d);
        } else if s.kind == Kind::Switch {
            prop(&mut t, s.name, "boolean", "", &d);
        } else {
            prop(&mut t, s.name, "string", "", &d);
        }
    }
    for (name, _, desc) in install_inputs(Platform::Buildkite) {
        let extra = if name == "install" { "      enum: [\"auto\", \"release\", \"source\"]\n" } else { "" };
        prop(&mut t, name, "string", extra, &desc);
    }
    let (name, default, desc) = META_DATA_PREFIX;
    prop(&mut t, name, "string", "", &format!("{desc} Default: `{default}`."));
    t.push_str("  additionalProperties: false\n");
    t
}

/// The line of hooks/command that lists the keys it accepts (any other is refused).
fn hook_keys_line() -> String {
    let mut keys: Vec<&str> = buildkite_inputs().iter().map(|s| s.name).collect();
    keys.extend(install_inputs(Platform::Buildkite).iter().map(|(n, _, _)| *n));
    keys.push(META_DATA_PREFIX.0);
    format!("WORKERS_CI_KEYS=({})\n", keys.join(" "))
}

// ---------------------------------------------------------------------------------- GitHub

/// action.yml's table inputs (declarations, then the run step's env lines), between the
/// markers the file keeps around them.
fn action_inputs() -> String {
    let mut t = String::new();
    for s in INPUTS {
        t.push_str(&format!(
            "  {}:\n    description: {}\n    required: false\n",
            s.name,
            q(&description(Platform::Action, s, true))
        ));
        if let Some(d) = literal_default(s) {
            t.push_str(&format!("    default: {}\n", q(d)));
        }
    }
    t
}

/// action.yml's outputs, each mapped from the run step, with the table's description: a renamed
/// or reworded output cannot drift from the code.
fn action_outputs() -> String {
    OUTPUTS
        .iter()
        .map(|o| {
            format!(
                "  {}:\n    description: {}\n    value: ${{{{ steps.run.outputs.{} }}}}\n",
                o.name,
                q(o.help),
                o.name
            )
        })
        .collect()
}

fn action_env() -> String {
    INPUTS.iter().map(|s| format!("        INPUT_{}: ${{{{ inputs.{} }}}}\n", s.name.to_uppercase(), s.name)).collect()
}

/// `text` with the part between the line `start` and the line `end` (both kept) replaced.
fn splice(text: &str, start: &str, end: &str, body: &str, file: &str) -> String {
    let a = text.find(start).unwrap_or_else(|| panic!("{file} has no line {start:?}")) + start.len();
    let b = a + text[a..].find(end).unwrap_or_else(|| panic!("{file} has no line {end:?} after {start:?}"));
    format!("{}{body}{}", &text[..a], &text[b..])
}

/// Every generated file: (path, what it should hold).
fn expected() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> =
        Command::ALL.iter().map(|c| (format!("templates/{}.yml", c.name()), gitlab_template(*c))).collect();
    files.push(("plugin.yml".into(), plugin_yml()));
    let read = |p: &str| std::fs::read_to_string(format!("{ROOT}/{p}")).unwrap_or_default();
    let hook = read("hooks/command");
    let keys = regex::Regex::new(r"(?m)^WORKERS_CI_KEYS=\(.*\)\n").unwrap();
    assert!(keys.is_match(&hook), "hooks/command has no WORKERS_CI_KEYS=(…) line");
    files.push(("hooks/command".into(), keys.replace(&hook, regex::NoExpand(&hook_keys_line())).into_owned()));
    let action = read("action.yml");
    let action = splice(&action, "\ninputs:\n", "  install:\n", &action_inputs(), "action.yml");
    let action = splice(&action, "\noutputs:\n", "\nruns:\n", &action_outputs(), "action.yml");
    let action = splice(
        &action,
        "        WORKERS_CI_BIN: ${{ steps.install.outputs.path }}\n",
        "      # exec",
        &action_env(),
        "action.yml",
    );
    files.push(("action.yml".into(), action));
    files
}

#[test]
fn wrappers_are_generated_from_the_input_table() {
    let print = std::env::var_os("PRINT_PLATFORM_FILES").is_some();
    let update = std::env::var_os("UPDATE_PLATFORM_FILES").is_some();
    let mut stale = Vec::new();
    for (path, want) in expected() {
        let full = format!("{ROOT}/{path}");
        if print {
            println!("==> {path}\n{want}");
        }
        if std::fs::read_to_string(&full).ok().as_deref() == Some(want.as_str()) {
            continue;
        }
        if update {
            std::fs::create_dir_all(std::path::Path::new(&full).parent().unwrap()).unwrap();
            std::fs::write(&full, &want).unwrap();
        } else {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "out of date with the input table: {}; run `UPDATE_PLATFORM_FILES=1 cargo test --test it platforms::`",
        stale.join(", ")
    );
}

/// The generated files say what the table says, read back as YAML: every offered input is a
/// `spec:inputs` entry (GitLab) or a schema property (Buildkite) with the table's help, and
/// no secret input is offered anywhere (a secret in a pipeline's configuration is public).
#[test]
fn wrappers_offer_every_input_and_no_secret() {
    use yaml_rust2::YamlLoader;
    for c in Command::ALL {
        let text = gitlab_template(c);
        let docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("templates/{}.yml: {e}", c.name()));
        assert_eq!(docs.len(), 2, "header and body, split by ---");
        let inputs = docs[0]["spec"]["inputs"].as_hash().unwrap();
        for s in INPUTS.iter().filter(|s| s.commands.contains(&c)) {
            let offered = inputs.get(&yaml_rust2::Yaml::String(s.name.into()));
            let expect = offered_outside_github(s) && s.name != "command" && s.name != "preview_action";
            assert_eq!(offered.is_some(), expect, "templates/{}.yml, input {}", c.name(), s.name);
            if let Some(i) = offered {
                assert!(i["description"].as_str().unwrap().starts_with(s.help), "{}", s.name);
            }
        }
        for secret in INPUTS.iter().filter(|s| s.secret) {
            assert!(!text.contains(&format!("inputs.{} ", secret.name)), "{} offered in {}", secret.name, c.name());
        }
        let body = docs[1].as_hash().unwrap();
        let job = body.values().next().unwrap();
        assert_eq!(job["artifacts"]["reports"]["dotenv"].as_str(), Some("workers-ci.env"), "{}", c.name());
    }
    let plugin = &YamlLoader::load_from_str(&plugin_yml()).unwrap()[0];
    let props = plugin["configuration"]["properties"].as_hash().unwrap();
    for s in INPUTS {
        let offered = props.get(&yaml_rust2::Yaml::String(s.name.into())).is_some();
        assert_eq!(offered, offered_outside_github(s) && s.name != "summary_file", "plugin.yml, {}", s.name);
    }
    assert_eq!(plugin["configuration"]["additionalProperties"].as_bool(), Some(false));
}

/// README's GitLab section names every template there is: a command added later gets its
/// template generated, and this keeps the sentence that lists them from going stale.
#[test]
fn readmes_gitlab_section_names_every_template() {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let start = readme.find("## GitLab CI/CD").expect("README has a GitLab CI/CD section");
    let intro = &readme[start..start + readme[start..].find("```").expect("a code block follows")];
    for c in Command::ALL {
        assert!(intro.contains(&format!("`{}`", c.name())), "README's GitLab section does not name `{}`", c.name());
    }
}
