//! Every output a command can write, as a typed name: a misspelt output does not compile.

/// One output: its name (in `$GITHUB_OUTPUT`, the output file and `action.yml`) and its help.
/// Which commands write it is in each command's [`super::Facts::outputs`].
#[derive(Debug)]
pub struct OutputSpec {
    pub key: Output,
    pub name: &'static str,
    pub help: &'static str,
}

/// Declares [`Output`] and [`OUTPUTS`] from one list, as `inputs!` does for inputs.
macro_rules! outputs {
    ($($key:ident => $name:literal: $help:literal),* $(,)?) => {
        /// One variant per output, in [`OUTPUTS`] order. Flows name outputs only through it, so an
        /// output that is not in the table does not compile:
        ///
        /// ```compile_fail
        /// let _ = workers_ci::commands::Output::BuildUuidd;
        /// ```
        ///
        /// while one that is does:
        ///
        /// ```
        /// assert_eq!(workers_ci::commands::Output::BuildUuid.name(), "build_uuid");
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Output { $($key),* }

        /// Every output. README, `--help` and `action.yml` are checked against it by tests.
        pub const OUTPUTS: &[OutputSpec] = &[$(OutputSpec { key: Output::$key, name: $name, help: $help }),*];
    };
}

#[rustfmt::skip]
outputs! {
    Builds => "builds": "JSON by Worker: worker, tag, build_uuid, status, outcome, trigger_uuid, deployed…",
    BuildUuid => "build_uuid": "the build's uuid (one Worker)",
    BuildStatus => "build_status": "last status seen: queued, initializing, running, stopped (`not_found` for `wait`)",
    BuildOutcome => "build_outcome": "success, fail, skipped, cancelled or terminated (empty while not stopped)",
    WorkerTag => "worker_tag": "the Worker's 32-hex tag",
    TriggerUuid => "trigger_uuid": "the trigger that built it (`env`, `purge-cache`: the trigger changed)",
    Branch => "branch": "the branch built",
    Commit => "commit": "the commit built",
    PreviewUrl => "preview_url": "the preview URL when Cloudflare gives one (`preview`: the Preview's stable URL)",
    WorkerId => "worker_id": "`version`/`deploy`/`preview`: the Worker's id",
    VersionId => "version_id": "`version`: the uploaded version; `deploy`: the version given most traffic",
    VersionNumber => "version_number": "`version`, `deploy` of a Build Output: the version's number",
    VersionUrl => "version_url": "`version`/`deploy`: its preview URL, only when Cloudflare returns one",
    DeploymentId => "deployment_id": "created by `version`/`deploy`/`preview`; `build`/`wait`: the active deployment",
    Deployed => "deployed": "`build`/`wait`: version live? `true`/`partial`/`false` (several: all/some/none)",
    DeployedVersionId => "deployed_version_id": "the build's version in the active deployment (empty when not deployed)",
    TrafficPercent => "traffic_percent": "`build`/`wait`: the share of traffic the build's version serves, 0 to 100",
    Stages => "stages": "`stages`: JSON per stage: percent, started, ended, requests, errors, verdict",
    WorkersDevUrl => "workers_dev_url": "`version`/`deploy`: the workers.dev URL, only when the Worker is on workers.dev",
    RedeployedVersionId => "redeployed_version_id": "`redeploy`: the active deployment's version whose build was repeated",
    TriggerUuids => "trigger_uuids": "`setup`: JSON object, trigger name → uuid, of the file's triggers that exist",
    Changes => "changes": "`setup`, `version`/`deploy` (with a configuration): how many writes the plan has",
    Plan => "plan": "JSON: `setup`'s or a deploy's plan, a `dry_run`'s planned API calls; no secrets",
    PreviewId => "preview_id": "`preview`: the Preview's id",
    PreviewName => "preview_name": "`preview`: the Preview's name (from the branch unless `preview_name` is set)",
    PreviewSlug => "preview_slug": "`preview`: the Preview's slug, as Cloudflare computed it",
    DeploymentUrl => "deployment_url": "`preview`: this deployment's own URL, only when Cloudflare returns one",
    Migrations => "migrations": "`migrate`: JSON list of pending D1 migrations {database, file, status}",
    Verdict => "verdict": "`verify`: the worst verdict: deployed, split, behind, other or none",
    Workers => "workers": "`verify`: JSON per Worker: worker, verdict, version_id, traffic_percent, commit…",
    DryRun => "dry_run": "`true` when `dry_run` planned the calls and sent none",
}

impl Output {
    pub fn spec(self) -> &'static OutputSpec {
        &OUTPUTS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The commands that write it, from their facts.
    pub fn commands(self) -> Vec<super::Command> {
        super::Command::ALL.into_iter().filter(|c| c.writes(self)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_index_the_table() {
        for (i, o) in OUTPUTS.iter().enumerate() {
            assert_eq!(o.key as usize, i, "{}", o.name);
        }
    }
}
