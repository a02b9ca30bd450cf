//! Declarative `exports` (docs/cloudflare-api.md §H.10), read the one strict way for both
//! sources: a Build Output's `worker.config.json` (camelCase: `renamedTo`, `transferredTo`,
//! `transferFrom`) and a wrangler configuration (`snake_case`, as the API takes them). What
//! Cloudflare's schema would refuse, or what workers-ci cannot send, stops the step here with
//! the key's line; nothing is dropped.

use super::tree::{Node, Val, join};
use crate::cloudflare::workers::{
    DurableObjectExport, DurableObjectState, DurableObjectStorage, EntrypointCache, Export, Exports,
};

/// How the file spells the multi-word keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// Build Output (`cf`'s schema): `renamedTo`, `transferredTo`, `transferFrom`.
    Camel,
    /// wrangler's configuration and the API: `renamed_to`, `transferred_to`, `transfer_from`.
    Snake,
}

impl Spelling {
    fn key(self, snake: &'static str) -> &'static str {
        match (self, snake) {
            (Spelling::Camel, "renamed_to") => "renamedTo",
            (Spelling::Camel, "transferred_to") => "transferredTo",
            (Spelling::Camel, "transfer_from") => "transferFrom",
            _ => snake,
        }
    }
}

/// Why an entry is refused, and where; each caller names its file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refused {
    pub line: usize,
    pub path: String,
    pub problem: String,
}

fn refuse(line: usize, path: &str, problem: impl Into<String>) -> Refused {
    Refused { line, path: path.to_owned(), problem: problem.into() }
}

/// "At most 100 entries; class names at most 128 chars" (docs/cloudflare-api.md §H.10).
const MAX_ENTRIES: usize = 100;
const MAX_NAME: usize = 128;

/// The export types of the formats, and the ones Cloudflare's upload schema takes.
const TYPES: &[&str] = &["durable-object", "worker", "workflow"];

/// Reads `exports` (at `path`, e.g. `exports` or `env.staging.exports`).
pub(crate) fn read(n: &Node, path: &str, spelling: Spelling) -> Result<Exports, Refused> {
    let Val::Table(entries) = &n.value else {
        return Err(refuse(n.line, path, "must be an object of export name → export"));
    };
    if entries.len() > MAX_ENTRIES {
        return Err(refuse(
            n.line,
            path,
            format!("has {} entries; Cloudflare takes at most {MAX_ENTRIES}", entries.len()),
        ));
    }
    let mut out = Exports::new();
    for (name, line, e) in entries {
        let p = join(path, name);
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(refuse(*line, &p, format!("must be a class name of 1 to {MAX_NAME} characters")));
        }
        out.insert(name.clone(), entry(e, &p, name, spelling)?);
    }
    Ok(out)
}

/// The entry's fields: every key checked against `known` (the schemas are strict, and an
/// unknown key would be refused by Cloudflare or, worse, mean something workers-ci would drop).
fn fields<'n>(n: &'n Node, path: &str, known: &[&str], what: &str) -> Result<&'n [(String, usize, Node)], Refused> {
    let Val::Table(t) = &n.value else {
        return Err(refuse(n.line, path, format!("must be an object, not {}", n.value.kind())));
    };
    for (k, line, _) in t {
        if !known.contains(&k.as_str()) {
            let hint = super::rules::closest(k, known.iter().copied())
                .map_or_else(String::new, |s| format!("did you mean `{s}`? "));
            let list = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            return Err(refuse(
                *line,
                &join(path, k),
                format!("is not a key of {what} ({hint}its keys are {list}); remove it"),
            ));
        }
    }
    Ok(t)
}

fn string(n: &Node, path: &str) -> Result<String, Refused> {
    match n.as_str() {
        Some(s) if !s.is_empty() && s.chars().count() <= MAX_NAME => Ok(s.to_owned()),
        Some(_) => Err(refuse(n.line, path, format!("must be a name of 1 to {MAX_NAME} characters"))),
        None => Err(refuse(n.line, path, format!("must be a string, not {}", n.value.kind()))),
    }
}

fn entry(n: &Node, path: &str, name: &str, spelling: Spelling) -> Result<Export, Refused> {
    let ty_path = join(path, "type");
    let ty = n.get("type").ok_or_else(|| refuse(n.line, &ty_path, "is required (`durable-object` or `worker`)"))?;
    let ty_node = ty;
    let ty = ty.as_str().ok_or_else(|| refuse(ty.line, &ty_path, "must be a string"))?;
    match ty {
        "worker" => {
            let t = fields(n, path, &["type", "cache"], "a `worker` export")?;
            let cache = match t.iter().find(|(k, _, _)| k == "cache") {
                None => None,
                Some((_, _, c)) => {
                    let cp = join(path, "cache");
                    let ct = fields(c, &cp, &["enabled"], "an entrypoint's `cache`")?;
                    match ct.first().map(|(_, _, v)| &v.value) {
                        Some(Val::Bool(enabled)) => Some(EntrypointCache { enabled: *enabled }),
                        Some(_) => return Err(refuse(c.line, &join(&cp, "enabled"), "must be `true` or `false`")),
                        None => return Err(refuse(c.line, &join(&cp, "enabled"), "is required")),
                    }
                }
            };
            Ok(Export::Worker { cache })
        }
        "durable-object" => durable_object(n, path, name, spelling).map(Export::DurableObject),
        "workflow" if spelling == Spelling::Camel => Err(refuse(
            ty_node.line,
            &ty_path,
            "Workflow exports: workers-ci does not deploy them yet (Cloudflare's upload schema lists `worker` and `durable-object` exports only, docs/cloudflare-api.md §H.10), and will not leave one out; deploy this output with `cf deploy --prebuilt`, or remove the export",
        )),
        other => {
            let known: &[&str] = if spelling == Spelling::Camel { TYPES } else { &TYPES[..2] };
            let hint = super::rules::closest(other, known.iter().copied())
                .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
            Err(refuse(
                ty_node.line,
                &ty_path,
                format!("`{other}` is not an export type (`durable-object` or `worker`){hint}"),
            ))
        }
    }
}

fn durable_object(n: &Node, path: &str, name: &str, spelling: Spelling) -> Result<DurableObjectExport, Refused> {
    let state_path = join(path, "state");
    let state = match n.get("state") {
        None => None,
        Some(s) => Some(match s.as_str() {
            Some("created") => None,
            Some("deleted") => Some(DurableObjectState::Deleted),
            Some("renamed") => Some(DurableObjectState::Renamed),
            Some("transferred") => Some(DurableObjectState::Transferred),
            Some("expecting-transfer") => Some(DurableObjectState::ExpectingTransfer),
            _ => {
                return Err(refuse(
                    s.line,
                    &state_path,
                    "must be one of `created`, `deleted`, `renamed`, `transferred`, `expecting-transfer`",
                ));
            }
        }),
    }
    .flatten();
    let (renamed_to, transferred_to, transfer_from) =
        (spelling.key("renamed_to"), spelling.key("transferred_to"), spelling.key("transfer_from"));
    let (keys, what): (&[&str], &str) = match state {
        None => (&["type", "state", "storage", "container"], "a live `durable-object` export (state `created`)"),
        Some(DurableObjectState::Deleted) => (&["type", "state"], "a `deleted` Durable Object export"),
        Some(DurableObjectState::Renamed) => (&["type", "state", renamed_to], "a `renamed` Durable Object export"),
        Some(DurableObjectState::Transferred) => {
            (&["type", "state", transferred_to], "a `transferred` Durable Object export")
        }
        Some(DurableObjectState::ExpectingTransfer) => {
            (&["type", "state", "storage", transfer_from, "container"], "an `expecting-transfer` Durable Object export")
        }
    };
    let t = fields(n, path, keys, what)?;
    let get = |k: &str| t.iter().find(|(key, _, _)| key == k);
    if let Some((_, line, _)) = get("container") {
        return Err(refuse(
            *line,
            &join(path, "container"),
            "attaches a Container, and workers-ci deploys no Containers (their images are built and pushed by `cf deploy`/`wrangler deploy`); remove `container`, or deploy with `cf deploy --prebuilt`/`wrangler deploy`",
        ));
    }
    let need = |k: &str| {
        get(k).map_or_else(|| Err(refuse(n.line, &join(path, k), "is required")), |(_, _, v)| string(v, &join(path, k)))
    };
    let storage = if keys.contains(&"storage") {
        let sp = join(path, "storage");
        let s = get("storage").ok_or_else(|| refuse(n.line, &sp, "is required (`sqlite` for a new class)"))?;
        Some(match s.2.as_str() {
            Some("sqlite") => DurableObjectStorage::Sqlite,
            Some("legacy-kv") => DurableObjectStorage::LegacyKv,
            _ => return Err(refuse(s.2.line, &sp, "must be `sqlite` or `legacy-kv`")),
        })
    } else {
        None
    };
    let mut out = DurableObjectExport { state, storage, renamed_to: None, transferred_to: None, transfer_from: None };
    match state {
        Some(DurableObjectState::Renamed) => {
            let to = need(renamed_to)?;
            let line = get(renamed_to).map_or(n.line, |(_, l, _)| *l);
            let identifier = to.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
                && to.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
            if !identifier {
                return Err(refuse(line, &join(path, renamed_to), "must be a JavaScript class name"));
            }
            if to == name {
                return Err(refuse(line, &join(path, renamed_to), "renames the class to itself"));
            }
            out.renamed_to = Some(to);
        }
        Some(DurableObjectState::Transferred) => out.transferred_to = Some(need(transferred_to)?),
        Some(DurableObjectState::ExpectingTransfer) => out.transfer_from = Some(need(transfer_from)?),
        _ => {}
    }
    Ok(out)
}

/// The classes `exports` keeps live (`created`, `expecting-transfer`): those a binding without
/// `script_name` may name.
pub(crate) fn live_classes(exports: &Exports) -> impl Iterator<Item = &str> {
    exports.iter().filter_map(|(name, e)| match e {
        Export::DurableObject(d) if matches!(d.state, None | Some(DurableObjectState::ExpectingTransfer)) => {
            Some(name.as_str())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::tree::{Json, parse_json};

    fn read_as(text: &str, spelling: Spelling) -> Result<serde_json::Value, Refused> {
        let n = parse_json(text, Json::Strict).unwrap();
        read(&n, "exports", spelling).map(|e| serde_json::to_value(e).unwrap())
    }

    #[test]
    fn both_spellings_give_the_apis_shape() {
        let camel = r#"{"Room":{"type":"durable-object","storage":"sqlite"},
            "Old":{"type":"durable-object","state":"renamed","renamedTo":"Room"},
            "Gone":{"type":"durable-object","state":"deleted"},
            "Out":{"type":"durable-object","state":"transferred","transferredTo":"other"},
            "In":{"type":"durable-object","state":"expecting-transfer","storage":"legacy-kv","transferFrom":"src"},
            "Api":{"type":"worker","cache":{"enabled":false}}}"#;
        let expected = serde_json::json!({
            "Room": {"type": "durable-object", "storage": "sqlite"},
            "Old": {"type": "durable-object", "state": "renamed", "renamed_to": "Room"},
            "Gone": {"type": "durable-object", "state": "deleted"},
            "Out": {"type": "durable-object", "state": "transferred", "transferred_to": "other"},
            "In": {"type": "durable-object", "state": "expecting-transfer", "storage": "legacy-kv", "transfer_from": "src"},
            "Api": {"type": "worker", "cache": {"enabled": false}},
        });
        assert_eq!(read_as(camel, Spelling::Camel).unwrap(), expected);
        let snake = camel
            .replace("renamedTo", "renamed_to")
            .replace("transferredTo", "transferred_to")
            .replace("transferFrom", "transfer_from");
        assert_eq!(read_as(&snake, Spelling::Snake).unwrap(), expected);
        let e = read_as(&snake, Spelling::Camel).unwrap_err();
        assert_eq!(e.path, "exports.Old.renamed_to", "each source its own spelling");
        assert!(e.problem.contains("did you mean `renamedTo`?"), "{}", e.problem);
    }

    #[test]
    fn what_cannot_be_sent_is_refused_by_name() {
        let e = read_as(r#"{"Room":{"type":"durable-objekt","storage":"sqlite"}}"#, Spelling::Camel).unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (1, "exports.Room.type"));
        assert!(e.problem.contains("did you mean `durable-object`?"), "{}", e.problem);
        let e = read_as(r#"{"Run":{"type":"workflow","name":"run"}}"#, Spelling::Camel).unwrap_err();
        assert!(e.problem.starts_with("Workflow exports: workers-ci does not deploy them yet"), "{}", e.problem);
        let e = read_as(r#"{"Run":{"type":"workflow","name":"run"}}"#, Spelling::Snake).unwrap_err();
        assert!(e.problem.contains("is not an export type"), "wrangler has no Workflow exports: {}", e.problem);
        let e = read_as(
            "{\"Room\":{\"type\":\"durable-object\",\n\"storage\":\"sqlite\",\n\"container\":\"c\"}}",
            Spelling::Camel,
        )
        .unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (3, "exports.Room.container"));
        let e = read_as(r#"{"Room":{"type":"durable-object","state":"deleted","storage":"sqlite"}}"#, Spelling::Snake)
            .unwrap_err();
        assert_eq!(e.path, "exports.Room.storage");
        assert!(e.problem.contains("is not a key of a `deleted` Durable Object export"), "{}", e.problem);
        let e = read_as(r#"{"Room":{"type":"durable-object"}}"#, Spelling::Snake).unwrap_err();
        assert_eq!(e.path, "exports.Room.storage");
        let e = read_as(r#"{"A":{"type":"durable-object","state":"renamed","renamed_to":"A"}}"#, Spelling::Snake)
            .unwrap_err();
        assert!(e.problem.contains("to itself"), "{}", e.problem);
        let e = read_as(r#"{"A":{"type":"worker","cache":{}}}"#, Spelling::Snake).unwrap_err();
        assert_eq!(e.path, "exports.A.cache.enabled");
    }

    #[test]
    fn live_classes_are_created_or_expecting_transfer() {
        let n = parse_json(
            r#"{"A":{"type":"durable-object","storage":"sqlite"},"B":{"type":"durable-object","state":"deleted"},
            "C":{"type":"durable-object","state":"expecting-transfer","storage":"sqlite","transfer_from":"x"},"D":{"type":"worker"}}"#,
            Json::Strict,
        )
        .unwrap();
        let e = read(&n, "exports", Spelling::Snake).unwrap();
        assert_eq!(live_classes(&e).collect::<Vec<_>>(), ["A", "C"]);
    }
}
