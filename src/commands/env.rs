//! `env`: set or unset one trigger's build variables and secrets, leaving the others alone.

use std::collections::BTreeMap;

use super::{Env, Facts, Output, Prepared};
use crate::cloudflare::builds_config::EnvVarValue;
use crate::error::Result;
use crate::exit::Exit;
use crate::flows::builds::{delete_var, named_trigger};
use crate::flows::{self, Area, Ctx, api_failure};
use crate::inputs::args::worker_or_tag;
use crate::inputs::{InputError, Inputs, Key, builds_config, hint};

pub(crate) const FACTS: Facts = Facts {
    name: "env",
    about: "set or unset a trigger's build variables and secrets",
    exits: &[Exit::Success, Exit::BadInput, Exit::Api, Exit::TimedOut, Exit::Internal, Exit::Interrupted],
    reports_to_github: false,
    outputs: &[Output::TriggerUuid],
};

pub(super) fn prepare(i: &Inputs, env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = EnvArgs::from_inputs(i, env)?;
    let secrets = args.secrets().map(str::to_owned).collect();
    Ok(Prepared::new(secrets, move |ctx| {
        Box::pin(flows::interruptible(ctx, "the trigger's build variables", run(ctx, args)))
    }))
}

/// `env`: one trigger's build variables to write and to delete.
#[derive(Debug)]
pub(crate) struct EnvArgs {
    pub worker: String,
    pub trigger: String,
    pub set: BTreeMap<String, String>,
    pub set_secret: BTreeMap<String, String>,
    pub unset: Vec<String>,
}

impl EnvArgs {
    fn from_inputs(i: &Inputs, env: &Env<'_>) -> Result<EnvArgs, InputError> {
        let worker = worker_or_tag(i)?;
        let trigger =
            i.require(Key::Trigger, "name the trigger whose build variables to change (its name or uuid)")?.to_owned();
        let set = build_vars(i, Key::Set)?;
        let mut set_secret = build_vars(i, Key::SetSecret)?;
        for (k, v) in secrets_from_env(i, env)? {
            if set_secret.insert(k.clone(), v).is_some() {
                return Err(InputError::new(
                    Key::SetSecretFromEnv,
                    format!("the variable {k} is also in `set_secret`: name each once"),
                ));
            }
        }
        let mut unset = Vec::new();
        for (n, line) in i.get(Key::Unset).unwrap_or("").lines().enumerate() {
            let k = line.trim();
            if k.is_empty() || k.starts_with('#') {
                continue;
            }
            if !builds_config::variable_name(k) {
                return Err(InputError::new(Key::Unset, format!("line {}: {}", n + 1, BUILD_VAR_NAME)));
            }
            unset.push(k.to_owned());
        }
        for k in set.keys().chain(set_secret.keys()).chain(&unset) {
            let times = usize::from(set.contains_key(k))
                + usize::from(set_secret.contains_key(k))
                + unset.iter().filter(|u| *u == k).count();
            if times > 1 {
                let key = if unset.contains(k) { Key::Unset } else { Key::SetSecret };
                return Err(InputError::new(
                    key,
                    format!(
                        "the variable {k} is named more than once across `set`, `set_secret` and `unset`: name each once"
                    ),
                ));
            }
        }
        if set.is_empty() && set_secret.is_empty() && unset.is_empty() {
            return Err(InputError::new(
                Key::Set,
                format!(
                    "`env` has nothing to do: give {}, {}, {} or {}",
                    hint::input(Key::Set),
                    hint::input(Key::SetSecret),
                    hint::input(Key::SetSecretFromEnv),
                    hint::input(Key::Unset)
                ),
            ));
        }
        Ok(EnvArgs { worker, trigger, set, set_secret, unset })
    }

    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        self.set_secret.values().map(String::as_str)
    }
}

const BUILD_VAR_NAME: &str =
    "the key is not a valid build variable name (a letter or `_`, then letters, digits and `_`: Cloudflare's rule)";

/// `KEY=VALUE` lines for build variables (docs/cloudflare-api.md §E.2: names, and values of at most
/// 5000 characters). Messages name the line, never its content.
fn build_vars(i: &Inputs, key: Key) -> Result<BTreeMap<String, String>, InputError> {
    let mut out = BTreeMap::new();
    for (n, raw) in i.get(key).unwrap_or("").lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (k, v) =
            line.split_once('=').ok_or_else(|| InputError::new(key, format!("line {} is not KEY=VALUE", n + 1)))?;
        let k = k.trim();
        if !builds_config::variable_name(k) {
            return Err(InputError::new(key, format!("line {}: {BUILD_VAR_NAME}", n + 1)));
        }
        if v.chars().count() > VALUE_MAX {
            return Err(InputError::new(
                key,
                format!("line {}: the value is longer than {VALUE_MAX} characters, Cloudflare's limit", n + 1),
            ));
        }
        if out.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(InputError::new(key, format!("line {}: the variable {k} is set twice", n + 1)));
        }
    }
    Ok(out)
}

/// The longest build variable value Cloudflare takes (docs/cloudflare-api.md §E.2).
const VALUE_MAX: usize = 5000;

/// `set_secret_from_env`: `KEY` or `KEY=VARIABLE` lines, each value read whole from the step's
/// environment. `KEY=VALUE` lines cannot hold a value of several lines, and a PEM key has many;
/// an environment variable carries it exactly (on GitHub, `env: KEY: ${{ secrets.KEY }}`), and
/// nothing here ever prints it. Messages name the line and the variable, never the value.
fn secrets_from_env(i: &Inputs, env: &Env<'_>) -> Result<Vec<(String, String)>, InputError> {
    let key = Key::SetSecretFromEnv;
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, raw) in i.get(key).unwrap_or("").lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, var) = match line.split_once('=') {
            Some((k, var)) => (k.trim(), var.trim()),
            None => (line, line),
        };
        if !builds_config::variable_name(k) {
            return Err(InputError::new(key, format!("line {}: {BUILD_VAR_NAME}", n + 1)));
        }
        if !builds_config::variable_name(var) {
            return Err(InputError::new(
                key,
                format!("line {}: `{var}` is not an environment variable name (letters, digits and `_`)", n + 1),
            ));
        }
        let Some(value) = env(var).filter(|v| !v.is_empty()) else {
            return Err(InputError::new(
                key,
                format!(
                    "line {}: the environment variable {var} is unset or empty; pass it to the step \
                     (`env: {var}: ${{{{ secrets.{var} }}}}`)",
                    n + 1
                ),
            ));
        };
        if value.chars().count() > VALUE_MAX {
            return Err(InputError::new(
                key,
                format!("line {}: {var} is longer than {VALUE_MAX} characters, Cloudflare's limit", n + 1),
            ));
        }
        if out.iter().any(|(o, _)| o == k) {
            return Err(InputError::new(key, format!("line {}: the variable {k} is set twice", n + 1)));
        }
        out.push((k.to_owned(), value));
    }
    Ok(out)
}

/// `env`: one upsert for everything set (others are kept, §E.2), then a delete per `unset`.
async fn run(ctx: &Ctx, args: EnvArgs) -> Result<()> {
    let (_, t) = named_trigger(ctx, &args.worker, Some(&args.trigger), None).await?;
    let name = t.name().to_owned();
    let mut body = BTreeMap::new();
    for (k, v) in &args.set {
        body.insert(k.clone(), EnvVarValue { is_secret: false, value: v.clone() });
    }
    for (k, v) in &args.set_secret {
        body.insert(k.clone(), EnvVarValue { is_secret: true, value: v.clone() });
    }
    if !body.is_empty() {
        ctx.client
            .set_env_vars(&t.trigger_uuid, &body)
            .await
            .map_err(|e| api_failure(e, &format!("set the build variables of trigger `{name}`"), Area::Builds))?;
    }
    let mut gone = Vec::new();
    for k in &args.unset {
        match ctx.client.delete_env_var(&t.trigger_uuid, k).await {
            Ok(()) => gone.push(k.as_str()),
            // Already absent is what `unset` asks for; but a 404 is believed only when the
            // variables list agrees (otherwise the delete is sent once more).
            Err(e) if e.is_not_found() => {
                let still = ctx.client.env_vars(&t.trigger_uuid).await.map_err(|e| {
                    api_failure(e, &format!("read the build variables of trigger `{name}`"), Area::Builds)
                })?;
                if still.contains_key(k) {
                    delete_var(ctx, &t.trigger_uuid, k, &name).await?;
                }
                gone.push(k.as_str());
            }
            Err(e) if e.may_have_applied() || e.is_retryable() => {
                delete_var(ctx, &t.trigger_uuid, k, &name).await?;
                gone.push(k.as_str());
            }
            Err(e) => {
                return Err(api_failure(e, &format!("delete build variable {k} of trigger `{name}`"), Area::Builds));
            }
        }
    }
    let list = |keys: Vec<&str>| if keys.is_empty() { "none".to_owned() } else { keys.join(", ") };
    let set = list(args.set.keys().map(String::as_str).collect());
    let secrets = list(args.set_secret.keys().map(String::as_str).collect());
    ctx.console.info(&format!("trigger `{name}`: set {set}; secrets set {secrets}; unset {}", list(gone.clone())));
    ctx.output(Output::TriggerUuid, t.trigger_uuid.as_str());
    ctx.summary(|s| {
        s.row("Trigger", &name);
        s.row("Set", &set);
        s.row("Secrets set", &secrets);
        s.row("Unset", &list(gone));
    });
    Ok(())
}
