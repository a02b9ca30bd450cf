//! What a release publishes, checked without GitHub: the archive names that `cargo binstall`
//! derives from Cargo.toml are the ones the release packaging produces, and the three lists
//! of release targets (release.yml's build matrix, its release job's `RELEASE_TARGETS`,
//! install.sh's platform table) agree. The packaging itself runs here, through the scripts
//! release.yml calls (scripts/package-release.sh, scripts/assemble-release.sh).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The targets release.yml builds (its matrix) and publishes (`RELEASE_TARGETS`), checked equal.
fn release_targets() -> Vec<String> {
    let doc = &yaml_rust2::YamlLoader::load_from_str(&read(".github/workflows/release.yml")).unwrap()[0];
    let matrix: Vec<String> = doc["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_vec()
        .expect("release.yml: jobs.build.strategy.matrix.include")
        .iter()
        .map(|row| row["target"].as_str().unwrap().to_owned())
        .collect();
    let published: Vec<String> = doc["jobs"]["release"]["env"]["RELEASE_TARGETS"]
        .as_str()
        .expect("release.yml: jobs.release.env.RELEASE_TARGETS")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(matrix, published, "release.yml: the build matrix and RELEASE_TARGETS differ");
    assert_eq!(matrix.len(), 5, "{matrix:?}");
    matrix
}

#[test]
fn the_release_targets_are_the_ones_install_sh_asks_for() {
    let targets: BTreeSet<String> = release_targets().into_iter().collect();
    // install.sh's `case "$os/$arch"` table: `Linux/X64) target=x86_64-unknown-linux-musl ;;`
    let row = regex::Regex::new(r"(?m)^\s+[A-Za-z]+/[A-Z0-9]+\) target=([a-z0-9_-]+)").unwrap();
    let install_sh = read("scripts/install.sh");
    let asked: BTreeSet<String> = row.captures_iter(&install_sh).map(|c| c[1].to_owned()).collect();
    assert_eq!(targets, asked, "release.yml publishes one set of targets, install.sh asks for another");
}

/// Expands a cargo-binstall template (`{ key }`), failing on a key it was not given: a typo in
/// Cargo.toml must not pass as an empty string.
fn expand(template: &str, vars: &[(&str, &str)]) -> String {
    let key = regex::Regex::new(r"\{\s*([a-z-]+)\s*\}").unwrap();
    key.replace_all(template, |c: &regex::Captures<'_>| {
        let name = &c[1];
        vars.iter().find(|(k, _)| *k == name).unwrap_or_else(|| panic!("{{ {name} }} in {template:?}")).1.to_owned()
    })
    .into_owned()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `cargo binstall` downloads `pkg-url` for the user's target and takes `bin-dir` out of it as
/// `pkg-fmt`: for every target a release publishes, that URL is the one release.yml's
/// dist-manifest.json gives (the download base plus the archive's name) and `bin-dir` is the
/// archive's one member. The archives are made here by the release's own scripts, from a
/// stand-in binary that answers `--version` as the real one does.
#[test]
fn binstall_urls_are_the_release_archives() {
    let cargo: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    let package = cargo["package"].as_table().unwrap();
    let version = package["version"].as_str().unwrap();
    let repo = package["repository"].as_str().unwrap();
    let binstall = package["metadata"]["binstall"].as_table().expect("[package.metadata.binstall] in Cargo.toml");
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("tgz"), "the archives are .tar.gz");
    let pkg_url = binstall["pkg-url"].as_str().unwrap();
    let bin_dir = binstall["bin-dir"].as_str().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let stub = dir.path().join("workers-ci");
    std::fs::write(&stub, format!("#!/bin/sh\necho 'workers-ci {version}'\n")).unwrap();
    run(Command::new("chmod").arg("755").arg(&stub));
    let dist = dir.path().join("dist");
    let targets = release_targets();
    for target in &targets {
        run(Command::new("bash")
            .arg(format!("{ROOT}/scripts/package-release.sh"))
            .arg(&stub)
            .args([target.as_str(), version])
            .arg(&dist));
    }
    // release.yml's download base: `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/releases/download/v$VERSION`.
    let base = format!("{repo}/releases/download/v{version}");
    let assets = run(Command::new("bash")
        .arg(format!("{ROOT}/scripts/assemble-release.sh"))
        .arg(&dist)
        .args([version, base.as_str()])
        .args(&targets));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("dist-manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["download_base"], base.as_str());
    let listed = manifest["targets"].as_object().unwrap();
    assert_eq!(listed.keys().collect::<Vec<_>>(), {
        let mut t: Vec<_> = targets.iter().collect();
        t.sort();
        t
    });

    for (target, entry) in listed {
        let file = entry["file"].as_str().unwrap();
        assert!(assets.lines().any(|a| a == file), "{file} is not among the assets: {assets}");
        let ext = if target.contains("windows") { ".exe" } else { "" };
        let vars = [
            ("name", "workers-ci"),
            ("version", version),
            ("repo", repo),
            ("target", target.as_str()),
            ("bin", "workers-ci"),
            ("binary-ext", ext),
        ];
        assert_eq!(expand(pkg_url, &vars), format!("{base}/{file}"), "pkg-url for {target}");
        let members = run(Command::new("tar").arg("-tzf").arg(dist.join(file)));
        assert_eq!(members.trim_end(), expand(bin_dir, &vars), "bin-dir for {target}: the archive holds {members}");
        assert!(Path::new(&dist.join(file)).is_file());
    }
}

/// The `run:` script and `env:` names of the release job's step called `name`.
fn release_step(name: &str) -> (String, Vec<String>) {
    let doc = &yaml_rust2::YamlLoader::load_from_str(&read(".github/workflows/release.yml")).unwrap()[0];
    let steps = doc["jobs"]["release"]["steps"].as_vec().unwrap();
    let step = steps.iter().find(|s| s["name"].as_str() == Some(name)).unwrap_or_else(|| panic!("no step {name:?}"));
    let env =
        step["env"].as_hash().map(|h| h.keys().map(|k| k.as_str().unwrap().to_owned()).collect()).unwrap_or_default();
    (step["run"].as_str().unwrap().to_owned(), env)
}

/// A `gh` that answers the release's API calls from files and records every call: the
/// release (`draft` from `$GH_STUB/draft`), its assets (`$GH_STUB/assets.json`), the major tag
/// (absent); ref writes succeed.
const GH_STUB: &str = r#"#!/bin/sh
printf '%s\n' "$*" >>"$GH_STUB/calls"
case "$*" in
  *"/assets?per_page=100"*) cat "$GH_STUB/assets.json" ;;
  *"releases/"*"--jq .draft"*) cat "$GH_STUB/draft" ;;
  *"git/ref/tags/"*) exit 1 ;;
  *"git/refs"*) ;;
  *) echo "gh stub: unexpected call: $*" >&2; exit 3 ;;
esac
"#;

/// release.yml's gates, run as written with `gh` stubbed: the draft is published only when it
/// has every asset, and the last step moves the major tag `v0` only when the published release
/// has every asset the manifest names, uploaded and matching; with one missing, or the release
/// still a draft, it fails and writes no ref.
#[test]
fn the_major_tag_moves_only_with_every_asset_published() {
    let (check_draft, env) = release_step("Check the draft's assets");
    assert_eq!(env, ["RELEASE_ID"], "the draft check's env");
    let (script, env) = release_step("Move the major tag (only with every asset published), fast-forward main");
    assert_eq!(env, ["COMMIT", "RELEASE_ID"], "the step's env");
    let version = "0.1.0";
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::os::unix::fs::symlink(format!("{ROOT}/scripts"), work.join("scripts")).unwrap();
    let stub = work.join("stub");
    std::fs::create_dir(&stub).unwrap();
    std::fs::write(stub.join("gh"), GH_STUB).unwrap();
    run(Command::new("chmod").arg("755").arg(stub.join("gh")));
    // A release directory as the release job has it: two targets packed and assembled.
    let bin = work.join("workers-ci");
    std::fs::write(&bin, format!("#!/bin/sh\necho 'workers-ci {version}'\n")).unwrap();
    run(Command::new("chmod").arg("755").arg(&bin));
    let targets = ["x86_64-unknown-linux-musl", "x86_64-apple-darwin"];
    for t in targets {
        run(Command::new("bash")
            .arg("scripts/package-release.sh")
            .arg(&bin)
            .args([t, version, "dist"])
            .current_dir(work));
    }
    let base = format!("https://github.com/acme/workers-ci/releases/download/v{version}");
    let assets = run(Command::new("bash")
        .arg("scripts/assemble-release.sh")
        .args(["dist", version, base.as_str()])
        .args(targets)
        .current_dir(work));
    // The REST API's asset list for those files, each uploaded, with its digest.
    let listing = |skip: &str| -> String {
        let items: Vec<String> = assets
            .lines()
            .filter(|a| *a != skip)
            .map(|a| {
                let sum = run(Command::new("sha256sum").arg(work.join("dist").join(a)));
                let sha = sum.split_whitespace().next().unwrap();
                format!(r#"{{"name":"{a}","state":"uploaded","digest":"sha256:{sha}","size":1}}"#)
            })
            .collect();
        format!("[{}]", items.join(","))
    };
    let run_step = |script: &str, assets_json: &str, draft: &str| -> (bool, String) {
        std::fs::write(stub.join("assets.json"), assets_json).unwrap();
        std::fs::write(stub.join("draft"), format!("{draft}\n")).unwrap();
        let _ = std::fs::remove_file(stub.join("calls"));
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(work)
            .env("PATH", format!("{}:{}", stub.display(), std::env::var("PATH").unwrap()))
            .env("GH_STUB", &stub)
            .env("GITHUB_REPOSITORY", "acme/workers-ci")
            .env("VERSION", version)
            .env("COMMIT", "1234567890123456789012345678901234567890")
            .env("RELEASE_ID", "42")
            .output()
            .unwrap();
        let calls = std::fs::read_to_string(stub.join("calls")).unwrap_or_default();
        let log = format!(
            "{}{}\ncalls:\n{calls}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), log)
    };
    let step = |assets_json: &str, draft: &str| run_step(&script, assets_json, draft);
    let writes_major = |log: &str| log.lines().any(|l| l.contains("git/refs") && l.contains("tags/v0"));

    let (ok, log) = step(&listing(""), "false");
    assert!(ok && writes_major(&log), "every asset published: v0 moves\n{log}");
    assert!(log.contains("heads/main"), "and main is fast-forwarded\n{log}");

    for missing in ["workers-ci-x86_64-apple-darwin.tar.gz", "SHA256SUMS", "dist-manifest.json"] {
        let (ok, log) = step(&listing(missing), "false");
        assert!(!ok && !writes_major(&log) && !log.contains("heads/main"), "{missing} missing: nothing moves\n{log}");
        assert!(log.contains(&format!("release asset {missing}: missing from the release")), "{log}");
        assert!(log.contains("v0 stays where it is"), "{log}");
    }
    let (ok, log) = step(&listing(""), "true");
    assert!(!ok && !writes_major(&log), "still a draft: nothing moves\n{log}");

    // Before publishing: the draft's check passes on the whole release, fails on a gap.
    let (ok, log) = run_step(&check_draft, &listing(""), "true");
    assert!(ok, "the whole draft passes\n{log}");
    let (ok, log) = run_step(&check_draft, &listing("workers-ci-x86_64-unknown-linux-musl.tar.gz"), "true");
    assert!(!ok && log.contains("missing from the release"), "a draft with an archive missing is not published\n{log}");
}
