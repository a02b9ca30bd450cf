//! What a new version's bindings will be, next to the latest version's: a Version is a whole
//! set (a binding not sent is gone, secrets included), so whatever the inputs do not declare
//! is either inherited by name or removed, and the user is told which, by name and type only.

use serde_json::{Value, json};

use crate::ci::summary::Summary;
use crate::cloudflare::workers::Version;
use crate::inputs::bindings::{Keep, is_secret_kind};
use crate::inputs::{Key, hint};

use super::Ctx;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Added,
    Changed,
    /// Carried over from the latest version by an `inherit` binding.
    Kept,
    Removed,
}

#[derive(Debug, PartialEq)]
pub(crate) struct Entry {
    pub name: String,
    pub kind: String,
    pub change: Change,
}

#[derive(Debug)]
pub(crate) struct Plan {
    /// The bindings to upload: the declared ones, then one `inherit` per binding kept.
    pub send: Vec<Value>,
    /// Differences from the latest version, declared order then the latest's order. A declared
    /// binding identical to the latest's is not listed.
    pub entries: Vec<Entry>,
}

impl Plan {
    fn names(&self, change: Change) -> Vec<String> {
        self.entries.iter().filter(|e| e.change == change).map(|e| format!("`{}` ({})", e.name, e.kind)).collect()
    }
}

fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// `declared`: the inputs' bindings; `previous`: the latest version's (secret values absent).
///
/// `auto` inherits everything when nothing is declared (new code, same configuration) and
/// otherwise the undeclared secrets, as wrangler does; `secrets` always only those; `all`
/// every undeclared binding; `none` nothing. `keep_vars` (the configuration's) also keeps the
/// undeclared vars (`plain_text`, `json`), as wrangler's `keep_bindings` does (docs/cloudflare-api.md
/// §C.6).
pub(crate) fn bindings(declared: &[Value], previous: &[Value], keep: Keep, keep_vars: bool) -> Plan {
    let inherit_all = match keep {
        Keep::Auto => declared.is_empty(),
        Keep::All => true,
        Keep::Secrets | Keep::None => false,
    };
    let inherit_secrets = keep != Keep::None;
    let mut send = declared.to_vec();
    let mut entries = Vec::new();
    let find = |name: &str| previous.iter().find(|p| text(p, "name") == name);
    for d in declared {
        let (name, kind) = (text(d, "name"), text(d, "type"));
        let change = if kind == "inherit" {
            let from = d.get("old_name").and_then(Value::as_str).unwrap_or(&name);
            let kind = find(from).map_or_else(|| "inherit".to_owned(), |p| text(p, "type"));
            entries.push(Entry { name, kind, change: Change::Kept });
            continue;
        } else {
            match find(&name) {
                None => Change::Added,
                // A secret's value is never returned, so a declared secret always counts as set.
                Some(p) if is_secret_kind(&kind) || p != d => Change::Changed,
                Some(_) => continue,
            }
        };
        entries.push(Entry { name, kind, change });
    }
    // Names a declared `inherit` renames away from are not "removed" either.
    let claimed: Vec<String> = declared
        .iter()
        .filter(|d| d["type"] == "inherit")
        .filter_map(|d| d.get("old_name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    for p in previous {
        let (name, kind) = (text(p, "name"), text(p, "type"));
        if declared.iter().any(|d| text(d, "name") == name) || claimed.contains(&name) {
            continue;
        }
        let var = kind == "plain_text" || kind == "json";
        if inherit_all || (inherit_secrets && is_secret_kind(&kind)) || (keep_vars && var) {
            send.push(json!({ "type": "inherit", "name": name }));
            entries.push(Entry { name, kind, change: Change::Kept });
        } else {
            entries.push(Entry { name, kind, change: Change::Removed });
        }
    }
    Plan { send, entries }
}

/// The changes in the log; a removed secret is a warning, as its value cannot be recovered
/// from Cloudflare.
pub(crate) fn report(ctx: &Ctx, plan: &Plan, latest_number: Option<u64>) {
    let from = latest_number.map_or_else(|| "the latest version".to_owned(), |n| format!("version {n}"));
    report_against(ctx, plan, &from, "the new version");
}

/// [`report`], naming what the bindings are compared with (`from`) and what is made (`new`):
/// a Preview deployment inherits from the Preview's latest deployment, not a version.
pub(crate) fn report_against(ctx: &Ctx, plan: &Plan, from: &str, new: &str) {
    if plan.entries.is_empty() {
        return;
    }
    ctx.console.info(&format!("Bindings compared with {from}:"));
    for e in &plan.entries {
        let what = match e.change {
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Kept => "kept (inherited)",
            Change::Removed => "removed",
        };
        ctx.console.info(&format!("  {} ({}): {what}", e.name, e.kind));
        if e.change == Change::Removed && is_secret_kind(&e.kind) {
            ctx.console.warning(&format!(
                "secret {} is not in {new} and will be gone when it is deployed; declare it, or set {} (or `auto`) to keep it",
                e.name,
                hint::set(Key::KeepBindings, "secrets")
            ));
        }
    }
}

pub(crate) fn summarise(s: &mut Summary, plan: &Plan) {
    for (label, change) in [
        ("Bindings added", Change::Added),
        ("Bindings changed", Change::Changed),
        ("Bindings kept", Change::Kept),
        ("Bindings removed", Change::Removed),
    ] {
        let names = plan.names(change);
        if !names.is_empty() {
            s.row(label, &names.join(", "));
        }
    }
}

/// The versioned settings a new version sends (docs/cloudflare-api.md §4.2, Correction 11: a
/// setting not restated is gone, as a binding is), and how they compare with the latest version.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Settings {
    pub placement: Option<Value>,
    pub limits: Option<Value>,
    pub cache_options: Option<Value>,
    pub containers: Option<Value>,
    /// Carried over from the latest version: the upload does not restate them.
    pub kept: Vec<&'static str>,
    /// The latest version's, left out because the configuration has none (wrangler's rule: the
    /// file is the whole version).
    pub dropped: Vec<&'static str>,
}

/// `given`: each setting as the inputs or the configuration give it; `latest`: the latest
/// version. Without a configuration file an upload restates nothing, so everything the latest
/// version had is carried; with one, the file speaks for the settings it can hold (as wrangler's
/// uploads do) and what it leaves out is reported, never dropped unsaid. `containers` cannot be
/// written by workers-ci, so they are always carried.
pub(crate) fn settings(given: [Option<Value>; 3], latest: Option<&Version>, from_file: bool) -> Settings {
    let [placement, limits, cache_options] = given;
    let mut out = Settings::default();
    let before = |f: fn(&Version) -> &Option<Value>| latest.and_then(|v| f(v).clone()).filter(|v| !v.is_null());
    for (name, given, old, carry, slot) in [
        ("placement", placement, before(|v| &v.placement), !from_file, &mut out.placement),
        ("limits", limits, before(|v| &v.limits), !from_file, &mut out.limits),
        ("cache_options", cache_options, before(|v| &v.cache_options), !from_file, &mut out.cache_options),
        ("containers", None, before(|v| &v.containers), true, &mut out.containers),
    ] {
        *slot = match (given, old) {
            (Some(v), _) => Some(v),
            (None, Some(old)) if carry => {
                out.kept.push(name);
                Some(old)
            }
            (None, Some(_)) => {
                out.dropped.push(name);
                None
            }
            (None, None) => None,
        };
    }
    out
}

/// The settings carried over and left out, in the log and the job summary.
pub(crate) fn report_settings(ctx: &Ctx, s: &Settings, latest_number: Option<u64>) {
    let from = latest_number.map_or_else(|| "the latest version".to_owned(), |n| format!("version {n}"));
    if !s.kept.is_empty() {
        ctx.console.info(&format!("Kept from {from} (not restated by the inputs): {}", s.kept.join(", ")));
    }
    if !s.dropped.is_empty() {
        ctx.console.warning(&format!(
            "{from} has {} and the wrangler configuration does not: the new version has none, as with wrangler; add {} to the configuration to keep {}",
            s.dropped.join(", "),
            if s.dropped.len() == 1 { "it" } else { "them" },
            if s.dropped.len() == 1 { "it" } else { "them" },
        ));
    }
}

pub(crate) fn summarise_settings(sum: &mut Summary, s: &Settings) {
    if !s.kept.is_empty() {
        sum.row("Settings kept", &s.kept.join(", "));
    }
    if !s.dropped.is_empty() {
        sum.row("Settings removed", &s.dropped.join(", "));
    }
}

/// Whether a lenient API dropped an `inherit` it could not resolve (docs/cloudflare-api.md §G-2:
/// strict or silent is an open question): checked against the bindings the answer lists.
pub(crate) fn verify(ctx: &Ctx, plan: &Plan, version: &Version) {
    let Some(got) = &version.bindings else { return };
    for e in plan.entries.iter().filter(|e| e.change == Change::Kept) {
        if !got.iter().any(|b| text(b, "name") == e.name) {
            ctx.console.warning(&format!(
                "Cloudflare's answer does not list the inherited binding {} ({}): it may not have been kept",
                e.name, e.kind
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prev() -> Vec<Value> {
        vec![
            json!({ "type": "secret_text", "name": "A" }),
            json!({ "type": "secret_text", "name": "B" }),
            json!({ "type": "kv_namespace", "name": "KV", "namespace_id": "abc" }),
            json!({ "type": "plain_text", "name": "P", "text": "1" }),
        ]
    }

    fn of(plan: &Plan) -> Vec<(&str, Change)> {
        plan.entries.iter().map(|e| (e.name.as_str(), e.change)).collect()
    }

    fn inherited(plan: &Plan) -> Vec<&str> {
        plan.send.iter().filter(|b| b["type"] == "inherit").filter_map(|b| b["name"].as_str()).collect()
    }

    #[test]
    fn auto_with_nothing_declared_keeps_everything() {
        let p = bindings(&[], &prev(), Keep::Auto, false);
        assert_eq!(inherited(&p), ["A", "B", "KV", "P"]);
        assert!(p.entries.iter().all(|e| e.change == Change::Kept));
    }

    #[test]
    fn auto_with_declarations_keeps_undeclared_secrets_only() {
        let declared = [
            json!({ "type": "plain_text", "name": "P", "text": "1" }),
            json!({ "type": "secret_text", "name": "B", "text": "new" }),
            json!({ "type": "r2_bucket", "name": "R", "bucket_name": "b" }),
        ];
        let p = bindings(&declared, &prev(), Keep::Auto, false);
        assert_eq!(inherited(&p), ["A"]);
        assert_eq!(
            of(&p),
            [("B", Change::Changed), ("R", Change::Added), ("A", Change::Kept), ("KV", Change::Removed)],
            "P is identical: not listed"
        );
        assert_eq!(p.send.len(), 4);
    }

    #[test]
    fn secrets_all_and_none() {
        let declared = [json!({ "type": "plain_text", "name": "P", "text": "2" })];
        assert_eq!(inherited(&bindings(&[], &prev(), Keep::Secrets, false)), ["A", "B"]);
        assert_eq!(inherited(&bindings(&declared, &prev(), Keep::All, false)), ["A", "B", "KV"]);
        let none = bindings(&[], &prev(), Keep::None, false);
        assert!(none.send.is_empty());
        assert!(none.entries.iter().all(|e| e.change == Change::Removed));
    }

    #[test]
    fn a_declared_inherit_is_kept_and_its_old_name_not_removed() {
        let declared = [json!({ "type": "inherit", "name": "C", "old_name": "A" })];
        let p = bindings(&declared, &prev(), Keep::None, false);
        assert_eq!(of(&p)[0], ("C", Change::Kept));
        assert_eq!(p.entries[0].kind, "secret_text");
        assert!(!of(&p).contains(&("A", Change::Removed)));
    }
}
