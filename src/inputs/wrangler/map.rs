//! The configuration in effect mapped onto the beta Version body (docs/cloudflare-api.md §D.2, last
//! column; §C.2-§C.4): bindings in the API's shape, migrations as steps, placement, limits, the
//! assets block, and the workers.dev flags. Keys that do not shape a version are reported by name.
//!
//! Bindings come out in one fixed order of kinds, each kind in file order, and every JSON
//! object with sorted keys: a `wrangler.jsonc` and the equivalent `wrangler.toml` give the same
//! bytes.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

#[path = "deploy.rs"]
pub(crate) mod deploy;

use super::env::{Entry, NOT_INHERITABLE, Selected};
use super::{Format, Problem, problem};
use crate::cloudflare::workers::Limits;
use crate::inputs::tree::{Node, Val, index, join};
use crate::inputs::upload::{AssetsSpec, Written};

/// `main` as written, resolved against the file's directory; checked by the command, which
/// knows whether `dir`/`main_module` make it irrelevant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Main {
    pub path: PathBuf,
    pub line: usize,
    pub key: String,
}

/// One entry of `migrations[]`: its tag and the step the API takes (the entry minus `tag`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Migration {
    pub tag: String,
    pub step: Value,
}

#[derive(Debug, Default)]
pub(crate) struct Mapped {
    /// The Worker's name in effect (with the environment's suffix), its line and key.
    pub name: Option<(String, usize, String)>,
    pub main: Option<Main>,
    pub compatibility_date: Option<(String, usize, String)>,
    pub compatibility_flags: Option<Vec<String>>,
    pub bindings: Vec<Value>,
    pub migrations: Vec<Migration>,
    /// `exports` (docs/cloudflare-api.md §H.10) in the API's shape, with its line and key path.
    pub exports: Option<(crate::cloudflare::workers::Exports, usize, String)>,
    pub placement: Option<Value>,
    pub limits: Option<Limits>,
    /// `cache` as the version's `cache_options` (docs/cloudflare-api.md §D.2).
    pub cache_options: Option<Value>,
    /// `keep_vars`: the latest version's vars the file does not declare are kept (§C.6).
    pub keep_vars: bool,
    pub assets: Option<AssetsSpec>,
    pub workers_dev: Option<bool>,
    pub preview_urls: Option<bool>,
    /// Whether the configuration routes the Worker (`route`, `routes`): wrangler then creates
    /// it off workers.dev (docs/cloudflare-api.md §C.7).
    pub has_routes: bool,
    /// The `previews` block: what a Preview is bound to instead of the bindings above
    /// (docs/cloudflare-api.md §B.11). `None`: the file has none.
    pub previews: Option<PreviewsBlock>,
    /// What a deploy applies beyond the version: routes, custom domains, crons, queue
    /// consumers, observability, logpush, tail consumers (docs/cloudflare-api.md §T).
    pub deploy: deploy::DeploySpec,
    /// Said once each, as warnings, before anything is sent.
    pub warnings: Vec<String>,
    /// Keys wrangler does not know that are close to one it does.
    pub misspelt: Vec<Misspelt>,
}

/// A configuration's `previews` block, mapped as the top level is: its bindings replace the
/// production ones for a Preview, and its `limits`/`placement` win over the top level's.
#[derive(Debug, Default)]
pub(crate) struct PreviewsBlock {
    /// Where it is written (`previews`, or `env.<name>.previews`).
    pub path: String,
    pub bindings: Vec<Value>,
    pub limits: Option<Limits>,
    /// Whether the block sets `placement`; `placement` is then its value (`None` for
    /// `mode = "off"`).
    pub placement_given: bool,
    pub placement: Option<Value>,
    /// Keys of the block not applied: said by `preview` only (a version never reads the block).
    pub warnings: Vec<String>,
}

/// A key wrangler does not know, where it was written, and the known key it is likely meant
/// as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misspelt {
    pub path: String,
    pub line: usize,
    pub suggestion: &'static str,
}

/// How a field of a binding entry is read.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    Strs,
    /// A table sent as it is written (`ratelimits[].simple`).
    Table,
    /// `dispatch_namespaces[].outbound {service, environment?, parameters?}`, sent as
    /// `{worker: {service, environment?}, params: [{name}]}` (docs/cloudflare-api.md §D.2).
    Outbound,
}

/// A binding kind written as an array of tables (or, for `ai` & co., one table).
struct Spec {
    /// Config key (a path for nested ones: `durable_objects.bindings`).
    key: &'static str,
    kind: &'static str,
    /// The entry's field that is the binding name.
    name: &'static str,
    /// (config field, API field, required, type).
    send: &'static [(&'static str, &'static str, bool, Ty)],
    /// Fields wrangler sends that the beta schema lacks (docs/cloudflare-api.md §D.2 note, §G-13):
    /// not sent, warned about by name.
    not_in_schema: &'static [&'static str],
    /// Fields for local development (`wrangler dev`) or provisioning: read by nobody here,
    /// not worth a warning.
    local: &'static [&'static str],
    /// How to find the required value, for the error.
    fix: &'static str,
    /// An optional field wrangler fills with the binding's name when the file leaves it out
    /// (`analytics_engine_datasets[].dataset`, docs/cloudflare-api.md §D.2).
    default_to_name: Option<&'static str>,
}

const S: Ty = Ty::Str;

const LISTS: &[Spec] = &[
    Spec {
        key: "kv_namespaces",
        kind: "kv_namespace",
        name: "binding",
        send: &[("id", "namespace_id", true, S)],
        not_in_schema: &[],
        local: &["preview_id", "remote"],
        fix: "the namespace id (`wrangler kv namespace list`)",
        default_to_name: None,
    },
    Spec {
        key: "durable_objects.bindings",
        kind: "durable_object_namespace",
        name: "name",
        send: &[
            ("class_name", "class_name", true, S),
            ("script_name", "script_name", false, S),
            ("environment", "environment", false, S),
        ],
        not_in_schema: &[],
        local: &[],
        fix: "the exported class name",
        default_to_name: None,
    },
    Spec {
        key: "queues.producers",
        kind: "queue",
        name: "binding",
        send: &[("queue", "queue_name", true, S)],
        not_in_schema: &["delivery_delay"],
        local: &["remote"],
        fix: "the queue's name",
        default_to_name: None,
    },
    Spec {
        key: "r2_buckets",
        kind: "r2_bucket",
        name: "binding",
        send: &[("bucket_name", "bucket_name", true, S), ("jurisdiction", "jurisdiction", false, S)],
        not_in_schema: &[],
        local: &["preview_bucket_name", "remote"],
        fix: "the bucket's name",
        default_to_name: None,
    },
    Spec {
        key: "d1_databases",
        kind: "d1",
        name: "binding",
        // Beta field name; wrangler's classic upload sends the legacy `id` (docs/cloudflare-api.md
        // §D.2).
        send: &[("database_id", "database_id", true, S)],
        not_in_schema: &[],
        local: &[
            "database_name",
            "preview_database_id",
            "migrations_dir",
            "migrations_table",
            "migrations_pattern",
            "database_internal_env",
            "remote",
        ],
        fix: "the database's uuid (`wrangler d1 list`)",
        default_to_name: None,
    },
    Spec {
        key: "services",
        kind: "service",
        name: "binding",
        send: &[
            ("service", "service", true, S),
            ("environment", "environment", false, S),
            ("entrypoint", "entrypoint", false, S),
        ],
        not_in_schema: &["props"],
        local: &["remote"],
        fix: "the name of the Worker to bind",
        default_to_name: None,
    },
    Spec {
        key: "analytics_engine_datasets",
        kind: "analytics_engine",
        name: "binding",
        send: &[("dataset", "dataset", false, S)],
        not_in_schema: &[],
        local: &[],
        fix: "",
        default_to_name: Some("dataset"),
    },
    Spec {
        key: "vectorize",
        kind: "vectorize",
        name: "binding",
        send: &[("index_name", "index_name", true, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the index's name",
        default_to_name: None,
    },
    Spec {
        key: "hyperdrive",
        kind: "hyperdrive",
        name: "binding",
        send: &[("id", "id", true, S)],
        not_in_schema: &[],
        local: &["localConnectionString"],
        fix: "the Hyperdrive configuration's id",
        default_to_name: None,
    },
    Spec {
        key: "send_email",
        kind: "send_email",
        name: "name",
        send: &[
            ("destination_address", "destination_address", false, S),
            ("allowed_destination_addresses", "allowed_destination_addresses", false, Ty::Strs),
            ("allowed_sender_addresses", "allowed_sender_addresses", false, Ty::Strs),
        ],
        not_in_schema: &[],
        local: &["remote"],
        fix: "",
        default_to_name: None,
    },
    Spec {
        key: "workflows",
        kind: "workflow",
        name: "binding",
        send: &[
            ("name", "workflow_name", true, S),
            ("class_name", "class_name", false, S),
            ("script_name", "script_name", false, S),
        ],
        // `limits` is the Workflow's, applied by a deploy (docs/cloudflare-api.md §T.10).
        not_in_schema: &[],
        local: &["remote", "limits"],
        fix: "the Workflow's name",
        default_to_name: None,
    },
    Spec {
        key: "dispatch_namespaces",
        kind: "dispatch_namespace",
        name: "binding",
        send: &[("namespace", "namespace", true, S), ("outbound", "outbound", false, Ty::Outbound)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the dispatch namespace's name",
        default_to_name: None,
    },
    Spec {
        key: "mtls_certificates",
        kind: "mtls_certificate",
        name: "binding",
        send: &[("certificate_id", "certificate_id", true, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the certificate's id (`wrangler mtls-certificate list`)",
        default_to_name: None,
    },
    Spec {
        key: "secrets_store_secrets",
        kind: "secrets_store_secret",
        name: "binding",
        send: &[("store_id", "store_id", true, S), ("secret_name", "secret_name", true, S)],
        not_in_schema: &[],
        local: &[],
        fix: "the store's id and the secret's name (`wrangler secrets-store`)",
        default_to_name: None,
    },
    Spec {
        key: "ratelimits",
        kind: "ratelimit",
        name: "name",
        send: &[("namespace_id", "namespace_id", true, S), ("simple", "simple", true, Ty::Table)],
        not_in_schema: &[],
        local: &[],
        fix: "the namespace id (a string of digits) and `simple = { limit, period }`",
        default_to_name: None,
    },
    Spec {
        key: "pipelines",
        kind: "pipelines",
        name: "binding",
        send: &[("pipeline", "pipeline", true, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the pipeline's name",
        default_to_name: None,
    },
    Spec {
        key: "ai_search",
        kind: "ai_search",
        name: "binding",
        send: &[("instance_name", "instance_name", true, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the AI Search instance's name",
        default_to_name: None,
    },
    Spec {
        key: "ai_search_namespaces",
        kind: "ai_search_namespace",
        name: "binding",
        send: &[("namespace", "namespace", true, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the AI Search namespace",
        default_to_name: None,
    },
    Spec {
        key: "artifacts",
        kind: "artifacts",
        name: "binding",
        send: &[("namespace", "namespace", true, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the artifacts namespace",
        default_to_name: None,
    },
    Spec {
        key: "flagship",
        kind: "flagship",
        name: "binding",
        send: &[("app_id", "app_id", true, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the Flagship app's id",
        default_to_name: None,
    },
    Spec {
        key: "vpc_services",
        kind: "vpc_service",
        name: "binding",
        send: &[("service_id", "service_id", true, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the VPC service's id",
        default_to_name: None,
    },
    Spec {
        key: "k2",
        kind: "k2",
        name: "binding",
        send: &[("stream", "stream", true, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "the K2 stream's id",
        default_to_name: None,
    },
    Spec {
        key: "vpc_networks",
        kind: "vpc_network",
        name: "binding",
        send: &[("tunnel_id", "tunnel_id", false, S), ("network_id", "network_id", false, S)],
        not_in_schema: &[],
        local: &["remote"],
        fix: "",
        default_to_name: None,
    },
];

/// One table each, `{binding}`.
const SINGLES: &[Spec] = &[
    Spec {
        key: "ai",
        kind: "ai",
        name: "binding",
        send: &[],
        not_in_schema: &["staging"],
        local: &["remote"],
        fix: "",
        default_to_name: None,
    },
    Spec {
        key: "browser",
        kind: "browser",
        name: "binding",
        send: &[],
        not_in_schema: &[],
        local: &["remote"],
        fix: "",
        default_to_name: None,
    },
    Spec {
        key: "version_metadata",
        kind: "version_metadata",
        name: "binding",
        send: &[],
        not_in_schema: &[],
        local: &[],
        fix: "",
        default_to_name: None,
    },
    Spec {
        key: "images",
        kind: "images",
        name: "binding",
        send: &[],
        not_in_schema: &[],
        local: &["remote"],
        fix: "",
        default_to_name: None,
    },
    Spec {
        key: "media",
        kind: "media",
        name: "binding",
        send: &[],
        not_in_schema: &[],
        local: &["remote"],
        fix: "",
        default_to_name: None,
    },
];

/// Keys read here. Everything else is warned about (see [`explain`]).
pub(super) const MAPPED: &[&str] = &[
    "name",
    "main",
    "compatibility_date",
    "compatibility_flags",
    "vars",
    "kv_namespaces",
    "durable_objects",
    "queues",
    "r2_buckets",
    "d1_databases",
    "services",
    "analytics_engine_datasets",
    "ai",
    "vectorize",
    "hyperdrive",
    "browser",
    "send_email",
    "version_metadata",
    "migrations",
    "exports",
    "assets",
    "placement",
    "limits",
    "workers_dev",
    "preview_urls",
    "workflows",
    "dispatch_namespaces",
    "mtls_certificates",
    "secrets_store_secrets",
    "ratelimits",
    "pipelines",
    "ai_search",
    "ai_search_namespaces",
    "artifacts",
    "flagship",
    "vpc_services",
    "vpc_networks",
    "k2",
    "images",
    "media",
    "cache",
    "previews",
    "route",
    "routes",
    "triggers",
    "observability",
    "logpush",
    "tail_consumers",
];

/// Keys read here that wrangler allows only at the top level, never in an environment
/// (docs/cloudflare-api.md §D.1).
const MAPPED_TOP_LEVEL: &[&str] = &["keep_vars"];

/// Why a key that would change what wrangler does is not honoured by `version`.
fn explain(key: &str) -> Option<&'static str> {
    Some(match key {
        "build" => {
            "workers-ci does not run build commands: run your build before this step and point `main` (or `dir`) at its output"
        }
        "streaming_tail_consumers" => {
            "a Worker setting only wrangler's classic upload carries (docs/cloudflare-api.md §T.9): workers-ci does not apply it yet; set it with `wrangler deploy` or in the dashboard"
        }
        "tags" => {
            "a Worker setting, not versioned (docs/cloudflare-api.md §C.5): workers-ci does not apply it yet; set it with `wrangler deploy` or in the dashboard"
        }
        "secrets" => {
            "secret values never come from the file: pass new ones in the `secrets` input; the latest version's secrets are kept by `inherit` (`keep_bindings`), so `secrets.required` is not checked"
        }
        "rules"
        | "find_additional_modules"
        | "no_bundle"
        | "minify"
        | "keep_names"
        | "base_dir"
        | "preserve_file_names"
        | "tsconfig"
        | "jsx_factory"
        | "jsx_fragment"
        | "define"
        | "alias"
        | "upload_source_maps"
        | "node_compat"
        | "wasm_modules"
        | "text_blobs"
        | "data_blobs" => {
            "a bundling option: workers-ci uploads the files under `dir` as they are, typed by extension, without bundling"
        }
        "account_id" => "the account comes from the `account_id` input (or CLOUDFLARE_ACCOUNT_ID)",
        "dev" | "send_metrics" => "local settings for wrangler; nothing to upload",
        "site" => "Workers Sites are not supported: serve the files with `assets` instead",
        "containers" | "cloudchamber" => {
            "Containers need images that wrangler builds and pushes: not supported; the latest version's `containers` are carried over as they are"
        }
        "unsafe" => "unsafe bindings and metadata are not sent",
        "legacy_env" => "removed from wrangler; each environment is its own Worker `<name>-<env>`",
        _ => return None,
    })
}

type Fields<'n> = &'n [(String, usize, Node)];

struct Mapper {
    warnings: Vec<String>,
    names: Vec<(String, usize)>,
}

fn string<'n>(n: &'n Node, path: &str) -> Result<&'n str, Problem> {
    n.as_str().ok_or_else(|| problem(n.line, path, format!("must be a string, not {}", n.value.kind())))
}

fn boolean(n: &Node, path: &str) -> Result<bool, Problem> {
    match n.value {
        Val::Bool(b) => Ok(b),
        _ => Err(problem(n.line, path, format!("must be `true` or `false`, not {}", n.value.kind()))),
    }
}

fn array<'n>(n: &'n Node, path: &str) -> Result<&'n [Node], Problem> {
    match &n.value {
        Val::Arr(a) => Ok(a),
        _ => Err(problem(n.line, path, format!("must be an array, not {}", n.value.kind()))),
    }
}

fn strings(n: &Node, path: &str) -> Result<Vec<String>, Problem> {
    array(n, path)?.iter().enumerate().map(|(i, x)| string(x, &index(path, i)).map(str::to_owned)).collect()
}

fn table<'n>(n: &'n Node, path: &str) -> Result<Fields<'n>, Problem> {
    match &n.value {
        Val::Table(t) => Ok(t),
        _ => Err(problem(n.line, path, format!("must be an object (a table in TOML), not {}", n.value.kind()))),
    }
}

fn field<'n>(t: Fields<'n>, k: &str) -> Option<&'n Node> {
    t.iter().find(|(f, _, _)| f == k).map(|(_, _, n)| n)
}

impl Mapper {
    fn warn(&mut self, s: String) {
        self.warnings.push(s);
    }

    /// Fields other than `known` are warned about by name (wrangler warns too) and dropped.
    fn unexpected(&mut self, t: Fields<'_>, path: &str, known: &[&str]) {
        for (k, line, _) in t {
            if !known.contains(&k.as_str()) {
                self.warn(format!(
                    "{} (line {line}): unexpected field, not supported by workers-ci; ignored",
                    join(path, k)
                ));
            }
        }
    }

    fn name(&mut self, n: &Node, path: &str) -> Result<String, Problem> {
        let s = string(n, path)?;
        if s.is_empty() {
            return Err(problem(n.line, path, "must not be empty: it is the name the code uses"));
        }
        if let Some((_, first)) = self.names.iter().find(|(x, _)| x == s) {
            return Err(problem(
                n.line,
                path,
                format!("binds the name `{s}` a second time (first on line {first}); rename one"),
            ));
        }
        self.names.push((s.to_owned(), n.line));
        Ok(s.to_owned())
    }

    fn binding(&mut self, spec: &Spec, n: &Node, path: &str) -> Result<Value, Problem> {
        let t = table(n, path)?;
        let mut known: Vec<&str> = vec![spec.name];
        known.extend(spec.send.iter().map(|s| s.0));
        known.extend(spec.not_in_schema);
        known.extend(spec.local);
        self.unexpected(t, path, &known);
        let name_node = field(t, spec.name).ok_or_else(|| {
            problem(n.line, path, format!("has no `{}`: set it to the name your code reads the binding by", spec.name))
        })?;
        let name = self.name(name_node, &join(path, spec.name))?;
        let mut b = Map::new();
        b.insert("type".into(), spec.kind.into());
        b.insert("name".into(), name.into());
        for &(from, to, required, ty) in spec.send {
            let p = join(path, from);
            match field(t, from) {
                None if required => {
                    return Err(problem(n.line, path, format!("has no `{from}`: set it to {}", spec.fix)));
                }
                None => {}
                Some(v) => {
                    let value = match ty {
                        Ty::Str => Value::from(string(v, &p)?),
                        Ty::Strs => Value::from(strings(v, &p)?),
                        Ty::Table => {
                            table(v, &p)?;
                            v.to_json()
                        }
                        Ty::Outbound => outbound(self, v, &p)?,
                    };
                    b.insert(to.into(), value);
                }
            }
        }
        if let Some(k) = spec.default_to_name
            && !b.contains_key(k)
        {
            b.insert(k.into(), b["name"].clone());
        }
        for k in spec.not_in_schema {
            if let Some(v) = field(t, k) {
                self.warn(format!(
                    "{} (line {}): not sent: the beta Version API has no such field (wrangler's classic upload sends it; docs/cloudflare-api.md §G-13)",
                    join(path, k),
                    v.line
                ));
            }
        }
        Ok(Value::Object(b))
    }
}

/// One binding of the wrangler configuration list (or single table) `key`, from `fields`
/// already under wrangler's names, with `name` as its binding name: the Build Output's `env`
/// converts its kinds to these keys as `cf deploy` does (docs/cloudflare-api.md §H.3), and both
/// inputs then send the same JSON from this one mapping. `None`: no such key is mapped.
pub(crate) fn configured_binding(
    key: &str,
    name: &str,
    line: usize,
    mut fields: Vec<(String, usize, Node)>,
    path: &str,
) -> Option<Result<Value, Problem>> {
    let spec = LISTS.iter().chain(SINGLES).find(|s| s.key == key)?;
    fields.insert(0, (spec.name.to_owned(), line, Node { line, value: Val::Str(name.to_owned()) }));
    let mut m = Mapper { warnings: Vec::new(), names: Vec::new() };
    Some(m.binding(spec, &Node { line, value: Val::Table(fields) }, path))
}

/// `outbound {service, environment?, parameters?}` of a dispatch namespace, in the API's shape
/// `{worker: {service, environment?}, params: [{name}]}` (docs/cloudflare-api.md §D.2).
fn outbound(m: &mut Mapper, n: &Node, path: &str) -> Result<Value, Problem> {
    let t = table(n, path)?;
    m.unexpected(t, path, &["service", "environment", "parameters"]);
    let service = field(t, "service").ok_or_else(|| {
        problem(n.line, path, "has no `service`: set it to the Worker that handles outbound requests")
    })?;
    let mut worker = Map::new();
    worker.insert("service".into(), string(service, &join(path, "service"))?.into());
    if let Some(env) = field(t, "environment") {
        worker.insert("environment".into(), string(env, &join(path, "environment"))?.into());
    }
    let mut out = Map::new();
    out.insert("worker".into(), Value::Object(worker));
    if let Some(p) = field(t, "parameters") {
        let params: Vec<Value> =
            strings(p, &join(path, "parameters"))?.into_iter().map(|name| json!({ "name": name })).collect();
        out.insert("params".into(), params.into());
    }
    Ok(Value::Object(out))
}

/// Why a compatibility date after today is refused (docs/cloudflare-api.md Correction 16).
const FUTURE_DATE: &str =
    "is in the future, which the Workers runtime refuses: set it to today's date or earlier (UTC)";

/// Maps the configuration in effect. `dir`: the file's directory; `format`: for snippets.
pub(crate) fn map(sel: &Selected<'_>, dir: &Path, format: Format) -> Result<Mapped, Problem> {
    let mut m = Mapper { warnings: sel.warnings.clone(), names: Vec::new() };
    let mut out = Mapped { name: sel.name.clone(), ..Mapped::default() };
    let get = |k: &str| sel.entries.iter().find(|e| e.key == k);
    if let Some((n, line, path)) = &out.name
        && crate::cloudflare::WorkerName::parse(n).is_err()
    {
        return Err(problem(
            *line,
            path,
            "is not a Worker name (lowercase letters, digits, `-` and `_`, at most 63 characters, with an environment's `-<env>` suffix included)",
        ));
    }
    if let Some(Entry { path, node, .. }) = get("main") {
        out.main = Some(Main { path: under(dir, string(node, path)?), line: node.line, key: path.clone() });
    }
    if let Some(Entry { path, node, .. }) = get("compatibility_date") {
        let d = string(node, path)?;
        if !crate::inputs::rules::date(d) {
            return Err(problem(node.line, path, "must be a date that exists, written YYYY-MM-DD"));
        }
        if crate::inputs::rules::date_in_future(d) {
            return Err(problem(node.line, path, FUTURE_DATE));
        }
        out.compatibility_date = Some((d.to_owned(), node.line, path.clone()));
    }
    if let Some(Entry { path, node, .. }) = get("compatibility_flags") {
        let flags = strings(node, path)?;
        if let Some(i) =
            flags.iter().position(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(problem(node.line, &index(path, i), "is not a flag (a word of letters, digits and `_`)"));
        }
        out.compatibility_flags = Some(flags);
    }
    out.has_routes = ["route", "routes"].into_iter().any(|k| get(k).is_some_and(|e| routes_given(e.node)));
    for (k, field) in [("workers_dev", &mut out.workers_dev), ("preview_urls", &mut out.preview_urls)] {
        if let Some(Entry { path, node, .. }) = get(k) {
            *field = Some(boolean(node, path)?);
        }
    }
    out.bindings = bindings(&mut m, &get)?;
    if let Some(Entry { path, node, .. }) = get("previews") {
        out.previews = Some(previews(node, path)?);
    }
    if let Some(Entry { path, node, .. }) = get("migrations") {
        out.migrations = migrations(&mut m, node, path)?;
    }
    if let Some(Entry { path, node, .. }) = get("exports") {
        out.exports = Some(exports(node, path, &out.migrations, get("migrations"))?);
    }
    if let Some(Entry { path, node, .. }) = get("placement") {
        out.placement = placement(&mut m, node, path)?;
    }
    if let Some(Entry { path, node, .. }) = get("limits") {
        out.limits = Some(limits(&mut m, node, path)?);
    }
    if let Some(Entry { path, node, .. }) = get("assets") {
        out.assets = Some(assets(&mut m, node, path, dir)?);
    }
    versioned(&mut m, &mut out, get)?;
    let worker = out.name.as_ref().map(|(n, _, _)| n.clone());
    out.deploy = deploy::read(&mut m, &get, worker.as_deref())?;
    for e in &sel.entries {
        if MAPPED.contains(&e.key) || MAPPED_TOP_LEVEL.contains(&e.key) {
            continue;
        }
        let why = match explain(e.key) {
            Some(why) => why.to_owned(),
            // A binding kind the Version schema lacks: not sending it would remove it from the
            // new version, so nothing is sent.
            None if NOT_INHERITABLE.contains(&e.key) => {
                return Err(problem(
                    e.line,
                    &e.path,
                    "is a binding kind the beta Version API does not list (docs/cloudflare-api.md §4.2), so workers-ci cannot send it and the new version would lack it: remove it from the file, or declare it in the `bindings` input (JSON) with `allow_unknown_bindings: true` if Cloudflare takes it",
                ));
            }
            None => match super::did_you_mean(e.key, e.path.starts_with("env.")) {
                Some(meant) => {
                    out.misspelt.push(Misspelt { path: e.path.clone(), line: e.line, suggestion: meant });
                    // A misspelt binding kind leaves the new version without those bindings.
                    let lost = if NOT_INHERITABLE.contains(&meant) {
                        format!(
                            " Until it is fixed, the new version has no `{meant}` bindings from this file; the latest version's are kept only with `keep_bindings: all`."
                        )
                    } else {
                        String::new()
                    };
                    format!("is not a key wrangler knows, so it is ignored; did you mean `{meant}`?{lost}")
                }
                None => "not supported by workers-ci; ignored".to_owned(),
            },
        };
        m.warn(format!("{} (line {}): {why}", e.path, e.line));
    }
    check_classes(&out, sel, format)?;
    out.warnings = m.warnings;
    Ok(out)
}

/// `exports` (docs/cloudflare-api.md §H.10) in the API's shape, with its line and path; wrangler
/// refuses Durable Object entries beside `migrations` in one file.
fn exports(
    node: &Node,
    path: &str,
    migrations: &[Migration],
    migrations_entry: Option<&Entry<'_>>,
) -> Result<(crate::cloudflare::workers::Exports, usize, String), Problem> {
    let e = crate::inputs::exports::read(node, path, crate::inputs::exports::Spelling::Snake)
        .map_err(|e| problem(e.line, &e.path, e.problem))?;
    if crate::cloudflare::workers::has_durable_objects(&e)
        && let (false, Some(Entry { path: mp, node: mn, .. })) = (migrations.is_empty(), migrations_entry)
    {
        return Err(problem(
            mn.line,
            mp,
            format!(
                "and the Durable Object entries of `{path}` (line {}) both declare the Durable Object lifecycle, which wrangler refuses (\"`migrations` and `exports` are mutually exclusive\"): keep one of them",
                node.line
            ),
        ));
    }
    Ok((e, node.line, path.to_owned()))
}

/// The bindings `get` finds, in a fixed order of kinds.
fn bindings<'e, 'a: 'e>(m: &mut Mapper, get: &dyn Fn(&str) -> Option<&'e Entry<'a>>) -> Result<Vec<Value>, Problem> {
    let mut out = Vec::new();
    if let Some(Entry { path, node, .. }) = get("vars") {
        out.extend(vars(m, node, path)?);
    }
    for spec in LISTS {
        let (top, _) = spec.key.split_once('.').unwrap_or((spec.key, ""));
        if let Some(Entry { path, node, .. }) = get(top) {
            out.extend(list(m, spec, node, path)?);
        }
    }
    for spec in SINGLES {
        if let Some(Entry { path, node, .. }) = get(spec.key) {
            out.push(m.binding(spec, node, path)?);
        }
    }
    Ok(out)
}

/// `route`/`routes` that name at least one route (an empty list routes nothing).
fn routes_given(n: &Node) -> bool {
    match &n.value {
        Val::Arr(a) => !a.is_empty(),
        Val::Null => false,
        _ => true,
    }
}

/// Keys of a `previews` block that are Preview settings, not bindings: not applied by
/// workers-ci yet (docs/cloudflare-api.md §B.11), said by name.
const PREVIEW_SETTINGS: &[&str] = &["logpush", "observability", "tail_consumers", "streaming_tail_consumers", "cache"];

/// The `previews` block (docs/cloudflare-api.md §B.11): bindings mapped as at the top level, with
/// names of their own (a Preview's `KV` is not production's), `limits` and `placement`.
fn previews(node: &Node, path: &str) -> Result<PreviewsBlock, Problem> {
    let t = table(node, path)?;
    let entries: Vec<Entry<'_>> =
        t.iter().map(|(k, line, n)| Entry { key: k.as_str(), path: join(path, k), line: *line, node: n }).collect();
    let get = |k: &str| entries.iter().find(|e| e.key == k);
    let mut own = Mapper { warnings: Vec::new(), names: Vec::new() };
    let mut block =
        PreviewsBlock { path: path.to_owned(), bindings: bindings(&mut own, &get)?, ..PreviewsBlock::default() };
    if let Some(Entry { path, node, .. }) = get("limits") {
        block.limits = Some(limits(&mut own, node, path)?);
    }
    if let Some(Entry { path, node, .. }) = get("placement") {
        block.placement = placement(&mut own, node, path)?;
        block.placement_given = true;
    }
    for e in &entries {
        let binding = MAPPED.contains(&e.key) && NOT_INHERITABLE.contains(&e.key);
        if binding || ["limits", "placement"].contains(&e.key) {
            continue;
        }
        let why = if PREVIEW_SETTINGS.contains(&e.key) {
            "a Preview setting workers-ci does not apply yet; set it with `wrangler preview`"
        } else if NOT_INHERITABLE.contains(&e.key) {
            "a binding kind workers-ci does not map yet: declare it in the `bindings` input (JSON) of the `preview` step, or the Preview does not have it"
        } else {
            "not a key of a `previews` block workers-ci reads; ignored"
        };
        own.warn(format!("{} (line {}): {why}", e.path, e.line));
    }
    block.warnings = own.warnings;
    Ok(block)
}

/// `vars`: strings as `plain_text`, other JSON values as `json`, sorted by name.
fn vars(m: &mut Mapper, node: &Node, path: &str) -> Result<Vec<Value>, Problem> {
    let mut out = Vec::new();
    // Sorted by name: the order of a table's keys is not the same in both formats' parsers.
    let mut vars: Vec<&(String, usize, Node)> = table(node, path)?.iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, line, v) in vars {
        let p = join(path, k);
        let name = m.name(&Node { line: *line, value: Val::Str(k.clone()) }, &p)?;
        out.push(match &v.value {
            Val::Str(s) => json!({ "type": "plain_text", "name": name, "text": s }),
            Val::Other(kind) => {
                return Err(problem(v.line, &p, format!("cannot be {kind}; use a string or JSON value")));
            }
            _ => json!({ "type": "json", "name": name, "json": v.to_json() }),
        });
    }
    Ok(out)
}

/// One list of bindings (`kv_namespaces`, `durable_objects.bindings`, …), each checked.
fn list(m: &mut Mapper, spec: &Spec, node: &Node, path: &str) -> Result<Vec<Value>, Problem> {
    let (top, sub) = spec.key.split_once('.').map_or((spec.key, None), |(a, b)| (a, Some(b)));
    let mut out = Vec::new();
    let (list, path) = match sub {
        None => (node, path.to_owned()),
        Some(sub) => {
            let t = table(node, path)?;
            let known: &[&str] = match top {
                "queues" => &["producers", "consumers"],
                _ => &["bindings"],
            };
            m.unexpected(t, path, known);
            match field(t, sub) {
                Some(n) => (n, join(path, sub)),
                None => return Ok(Vec::new()),
            }
        }
    };
    for (i, item) in array(list, &path)?.iter().enumerate() {
        let b = m.binding(spec, item, &index(&path, i))?;
        out.push(b);
    }
    Ok(out)
}

/// The settings a version keeps besides its bindings and code: `cache` and `keep_vars`.
fn versioned<'s>(m: &mut Mapper, out: &mut Mapped, get: impl Fn(&str) -> Option<&'s Entry<'s>>) -> Result<(), Problem> {
    if let Some(Entry { path, node, .. }) = get("cache") {
        out.cache_options = Some(cache(m, node, path)?);
    }
    if let Some(Entry { path, node, .. }) = get("keep_vars") {
        out.keep_vars = boolean(node, path)?;
    }
    Ok(())
}

/// `cache {enabled, cross_version_cache?}`, both booleans, sent as `cache_options`
/// (docs/cloudflare-api.md §D.2).
fn cache(m: &mut Mapper, node: &Node, path: &str) -> Result<Value, Problem> {
    let t = table(node, path)?;
    m.unexpected(t, path, &["enabled", "cross_version_cache"]);
    let mut out = Map::new();
    for k in ["enabled", "cross_version_cache"] {
        if let Some(v) = field(t, k) {
            out.insert(k.into(), boolean(v, &join(path, k))?.into());
        }
    }
    Ok(Value::Object(out))
}

/// `limits`: `cpu_ms` and `subrequests`, whole numbers above 0.
fn limits(m: &mut Mapper, node: &Node, path: &str) -> Result<Limits, Problem> {
    let t = table(node, path)?;
    m.unexpected(t, path, &["cpu_ms", "subrequests"]);
    let mut l = Limits::default();
    for (k, slot) in [("cpu_ms", &mut l.cpu_ms), ("subrequests", &mut l.subrequests)] {
        if let Some(v) = field(t, k) {
            match v.value {
                Val::Int(i) if i > 0 => *slot = Some(i as u64),
                _ => return Err(problem(v.line, &join(path, k), "must be a whole number above 0")),
            }
        }
    }
    Ok(l)
}

fn migrations(m: &mut Mapper, node: &Node, path: &str) -> Result<Vec<Migration>, Problem> {
    let mut out: Vec<Migration> = Vec::new();
    for (i, item) in array(node, path)?.iter().enumerate() {
        let p = index(path, i);
        let t = table(item, &p)?;
        m.unexpected(
            t,
            &p,
            &["tag", "new_classes", "new_sqlite_classes", "deleted_classes", "renamed_classes", "transferred_classes"],
        );
        let tag_node = field(t, "tag")
            .ok_or_else(|| problem(item.line, &p, "has no `tag`: give each migration a unique tag, e.g. \"v1\""))?;
        let tag = string(tag_node, &join(&p, "tag"))?.to_owned();
        if tag.is_empty() || out.iter().any(|o| o.tag == tag) {
            return Err(problem(tag_node.line, &join(&p, "tag"), "must be a tag no other migration uses"));
        }
        let mut step = Map::new();
        for k in ["new_classes", "new_sqlite_classes", "deleted_classes"] {
            if let Some(v) = field(t, k) {
                step.insert(k.into(), strings(v, &join(&p, k))?.into());
            }
        }
        for (k, keys) in
            [("renamed_classes", &["from", "to"][..]), ("transferred_classes", &["from", "from_script", "to"][..])]
        {
            let Some(v) = field(t, k) else { continue };
            let mut list = Vec::new();
            for (j, r) in array(v, &join(&p, k))?.iter().enumerate() {
                let rp = index(&join(&p, k), j);
                let rt = table(r, &rp)?;
                m.unexpected(rt, &rp, keys);
                let mut o = Map::new();
                for f in keys {
                    let n = field(rt, f).ok_or_else(|| problem(r.line, &rp, format!("has no `{f}`")))?;
                    o.insert((*f).into(), string(n, &join(&rp, f))?.into());
                }
                list.push(Value::Object(o));
            }
            step.insert(k.into(), list.into());
        }
        out.push(Migration { tag, step: Value::Object(step) });
    }
    Ok(out)
}

/// wrangler's `placement.ts`: `off` sends nothing, `smart` `{mode}`, a target `{mode:"targeted",
/// region|host|hostname}` (docs/cloudflare-api.md §C.3).
fn placement(m: &mut Mapper, node: &Node, path: &str) -> Result<Option<Value>, Problem> {
    let t = table(node, path)?;
    m.unexpected(t, path, &["mode", "hint", "region", "host", "hostname"]);
    let mode = field(t, "mode").map(|n| string(n, &join(path, "mode")).map(|s| (s, n.line))).transpose()?;
    let targets: Vec<(&str, &Node)> =
        ["region", "host", "hostname"].into_iter().filter_map(|k| field(t, k).map(|n| (k, n))).collect();
    if let Some(h) = field(t, "hint") {
        m.warn(format!(
            "{} (line {}): not sent: the beta Version API's placement has no `hint` (docs/cloudflare-api.md §C.3, §G-13)",
            join(path, "hint"),
            h.line
        ));
    }
    match (mode, targets.as_slice()) {
        (Some(("off", _)), []) => Ok(None),
        (Some(("smart", _)), []) => Ok(Some(json!({ "mode": "smart" }))),
        (Some(("targeted", _)) | None, [(k, n)]) => {
            let v = string(n, &join(path, k))?;
            Ok(Some(json!({ "mode": "targeted", *k: v })))
        }
        (Some(("targeted", _)) | None, []) => Err(problem(
            mode.map_or(node.line, |m| m.1),
            path,
            "needs a target: set exactly one of `region`, `host`, `hostname` (or `mode = \"smart\"`)",
        )),
        (Some(("off" | "smart", line)), _) => Err(problem(
            line,
            &join(path, "mode"),
            "`off` and `smart` take no `region`, `host` or `hostname`; remove them or use `targeted`",
        )),
        (Some(("targeted", _)) | None, _) => {
            Err(problem(node.line, path, "set exactly one of `region`, `host`, `hostname`, not several"))
        }
        (Some((_, line)), _) => Err(problem(line, &join(path, "mode"), "must be `off`, `smart` or `targeted`")),
    }
}

const HTML_HANDLING: &[&str] = &["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"];
const NOT_FOUND_HANDLING: &[&str] = &["none", "404-page", "single-page-application"];

/// `rel` (as written in the file) resolved against the file's directory, without the `./`
/// segments that joining `./` and `./public` would print as `././public`.
fn under(dir: &Path, rel: &str) -> PathBuf {
    dir.join(rel).components().collect()
}

fn assets(m: &mut Mapper, node: &Node, path: &str, dir: &Path) -> Result<AssetsSpec, Problem> {
    let t = table(node, path)?;
    m.unexpected(
        t,
        path,
        &["directory", "binding", "html_handling", "not_found_handling", "run_worker_first", "base_path"],
    );
    let directory = field(t, "directory").ok_or_else(|| {
        problem(node.line, path, "has no `directory`: set it to the folder of static files, relative to this file")
    })?;
    let key = join(path, "directory");
    let mut spec = AssetsSpec {
        directory: under(dir, string(directory, &key)?),
        // The file's name is filled in by `load`, which knows it.
        directory_written: Some(Written { file: String::new(), line: directory.line, key }),
        ..AssetsSpec::default()
    };
    if let Some(b) = field(t, "binding") {
        spec.binding = Some(m.name(b, &join(path, "binding"))?);
    }
    for (k, allowed, slot) in [
        ("html_handling", HTML_HANDLING, &mut spec.html_handling),
        ("not_found_handling", NOT_FOUND_HANDLING, &mut spec.not_found_handling),
    ] {
        if let Some(v) = field(t, k) {
            let s = string(v, &join(path, k))?;
            if !allowed.contains(&s) {
                return Err(problem(v.line, &join(path, k), format!("must be one of {}", allowed.join(", "))));
            }
            *slot = Some(s.to_owned());
        }
    }
    if let Some(v) = field(t, "run_worker_first") {
        let p = join(path, "run_worker_first");
        spec.run_worker_first = Some(match &v.value {
            Val::Bool(b) => Value::Bool(*b),
            Val::Arr(_) => strings(v, &p)?.into(),
            _ => return Err(problem(v.line, &p, "must be `true`, `false` or a list of route patterns")),
        });
    }
    if let Some(v) = field(t, "base_path") {
        spec.base_path = Some(string(v, &join(path, "base_path"))?.to_owned());
    }
    Ok(spec)
}

/// A binding to one of this Worker's own Durable Object classes needs a migration that
/// creates the class; Cloudflare refuses the upload otherwise (docs/cloudflare-api.md §C.2, 10123),
/// so the file is refused first, with the migration to paste.
fn check_classes(out: &Mapped, sel: &Selected<'_>, format: Format) -> Result<(), Problem> {
    let mut classes: Vec<String> = Vec::new();
    for mig in &out.migrations {
        let names = |k: &str| -> Vec<String> {
            mig.step
                .get(k)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        };
        classes.extend(names("new_classes"));
        classes.extend(names("new_sqlite_classes"));
        let deleted = names("deleted_classes");
        classes.retain(|c| !deleted.contains(c));
        for r in mig.step.get("renamed_classes").and_then(Value::as_array).into_iter().flatten() {
            classes.retain(|c| r["from"] != c.as_str());
            classes.extend(r["to"].as_str().map(str::to_owned));
        }
        for r in mig.step.get("transferred_classes").and_then(Value::as_array).into_iter().flatten() {
            classes.extend(r["to"].as_str().map(str::to_owned));
        }
    }
    // A live export declares its class as a migration would (docs/cloudflare-api.md §H.10).
    if let Some((e, _, _)) = &out.exports {
        classes.extend(crate::inputs::exports::live_classes(e).map(str::to_owned));
    }
    let own_name = out.name.as_ref().map(|n| n.0.as_str());
    let Some(entry) = sel.entries.iter().find(|e| e.key == "durable_objects") else { return Ok(()) };
    let Some(list) = entry.node.get("bindings") else { return Ok(()) };
    let Val::Arr(items) = &list.value else { return Ok(()) };
    for (i, item) in items.iter().enumerate() {
        let script = item.get("script_name").and_then(Node::as_str);
        if script.is_some_and(|s| Some(s) != own_name) {
            continue;
        }
        let Some(class) = item.get("class_name").and_then(Node::as_str) else { continue };
        if classes.iter().any(|c| c == class) {
            continue;
        }
        let path = format!("{}.bindings[{i}].class_name", entry.path);
        let line = item.get("class_name").map_or(item.line, |n| n.line);
        // A file that declares its classes by `exports` is told to add one there (a file may
        // not use both, docs/cloudflare-api.md §H.10).
        if let Some((_, _, exports_path)) = &out.exports {
            let snippet = match format {
                Format::Json => format!("\"{class}\": {{ \"type\": \"durable-object\", \"storage\": \"sqlite\" }}"),
                Format::Toml => format!("{class} = {{ type = \"durable-object\", storage = \"sqlite\" }}"),
            };
            return Err(problem(
                line,
                &path,
                format!(
                    "the class `{class}` of this Worker is bound, but `{exports_path}` declares no live export of it, so Cloudflare would refuse the upload; add one to `{exports_path}`:\n{snippet}"
                ),
            ));
        }
        let tag = format!("v{}", out.migrations.len() + 1);
        let snippet = match format {
            Format::Json => {
                format!("\"migrations\": [ {{ \"tag\": \"{tag}\", \"new_sqlite_classes\": [\"{class}\"] }} ]")
            }
            Format::Toml => format!("[[migrations]]\ntag = \"{tag}\"\nnew_sqlite_classes = [\"{class}\"]"),
        };
        return Err(problem(
            line,
            &path,
            format!(
                "the class `{class}` of this Worker is bound, but no migration in the file creates it, so Cloudflare would refuse the upload; add a migration that creates it (append to the existing `migrations` if there are some):\n{snippet}"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::env::select;
    use super::*;

    /// One table of binding kinds: what the `bindings` input checks, what a configuration maps
    /// to, and what the simulator's validation takes agree kind by kind and field by field.
    #[cfg(feature = "simulator")]
    #[test]
    fn the_input_table_the_config_mapping_and_the_simulator_agree() {
        use crate::inputs::bindings::KINDS;
        let sorted = |f: &[&str]| {
            let mut v: Vec<String> = f.iter().map(|s| (*s).to_owned()).collect();
            v.sort();
            v
        };
        let ours: Vec<(&str, Vec<String>)> = KINDS.iter().map(|(k, f)| (*k, sorted(f))).collect();
        let mut theirs: Vec<(&str, Vec<String>)> =
            workers_ci_simulator::BINDING_KINDS.iter().map(|(k, f)| (*k, sorted(f))).collect();
        let mut ours_sorted = ours.clone();
        ours_sorted.sort();
        theirs.sort();
        assert_eq!(ours_sorted, theirs, "bindings::KINDS and the simulator's BINDING_KINDS");
        for spec in LISTS.iter().chain(SINGLES) {
            let (_, required) = ours.iter().find(|(k, _)| *k == spec.kind).unwrap_or_else(|| panic!("{}", spec.kind));
            for field in required {
                let sent = spec.send.iter().any(|(_, to, req, _)| to == field && *req);
                let defaulted = spec.default_to_name == Some(field.as_str());
                assert!(sent || defaulted, "{} maps to {} without its required `{field}`", spec.key, spec.kind);
            }
            let top = spec.key.split_once('.').map_or(spec.key, |(t, _)| t);
            assert!(MAPPED.contains(&top), "{top} is mapped but not listed in MAPPED");
        }
    }
    use crate::inputs::tree::{Json, parse_json, parse_toml};

    fn mapped(text: &str, format: Format) -> Result<Mapped, Problem> {
        let root = match format {
            Format::Json => parse_json(text, Json::Jsonc).unwrap(),
            Format::Toml => parse_toml(text).unwrap(),
        };
        map(&select(&root, None).unwrap(), Path::new("/p"), format)
    }

    #[test]
    fn vars_and_bindings_take_the_api_shape() {
        let m = mapped(
            r#"{ "vars": { "S": "x", "N": 3, "O": { "k": [1] } },
                 "d1_databases": [{ "binding": "DB", "database_id": "u", "database_name": "n" }],
                 "queues": { "producers": [{ "binding": "Q", "queue": "q", "delivery_delay": 5 }] },
                 "ai": { "binding": "AI", "staging": true } }"#,
            Format::Json,
        )
        .unwrap();
        let s: Vec<String> = m.bindings.iter().map(ToString::to_string).collect();
        assert_eq!(
            s,
            [
                r#"{"json":3,"name":"N","type":"json"}"#,
                r#"{"json":{"k":[1]},"name":"O","type":"json"}"#,
                r#"{"name":"S","text":"x","type":"plain_text"}"#,
                r#"{"name":"Q","queue_name":"q","type":"queue"}"#,
                r#"{"database_id":"u","name":"DB","type":"d1"}"#,
                r#"{"name":"AI","type":"ai"}"#,
            ]
        );
        assert!(m.warnings.iter().any(|w| w.contains("delivery_delay") && w.contains("not sent")), "{:?}", m.warnings);
        assert!(m.warnings.iter().any(|w| w.contains("ai.staging")), "{:?}", m.warnings);
    }

    #[test]
    fn placement_variants() {
        let p = |t: &str| mapped(t, Format::Toml).map(|m| m.placement);
        assert_eq!(p("[placement]\nmode = \"smart\"\n").unwrap(), Some(json!({"mode":"smart"})));
        assert_eq!(p("[placement]\nmode = \"off\"\n").unwrap(), None);
        assert_eq!(
            p("[placement]\nregion = \"aws:us-east-1\"\n").unwrap(),
            Some(json!({"mode":"targeted","region":"aws:us-east-1"}))
        );
        assert!(p("[placement]\nmode = \"targeted\"\n").unwrap_err().problem.contains("exactly one"));
        assert!(p("[placement]\nmode = \"fast\"\n").unwrap_err().problem.contains("`off`, `smart` or `targeted`"));
        assert!(p("[placement]\nhost = \"a:1\"\nregion = \"r\"\n").unwrap_err().problem.contains("not several"));
    }

    #[test]
    fn a_bound_class_needs_a_migration() {
        let e = mapped(
            "name = \"w\"\n[durable_objects]\nbindings = [{ name = \"ROOM\", class_name = \"Room\" }]\n",
            Format::Toml,
        )
        .unwrap_err();
        assert_eq!(e.path, "durable_objects.bindings[0].class_name");
        assert!(e.problem.contains("[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Room\"]"), "{}", e.problem);
        let ok = mapped(
            "name = \"w\"\n[durable_objects]\nbindings = [{ name = \"ROOM\", class_name = \"Room\" }, { name = \"O\", class_name = \"X\", script_name = \"other\" }]\n[[migrations]]\ntag = \"v1\"\nnew_classes = [\"Old\"]\n[[migrations]]\ntag = \"v2\"\nrenamed_classes = [{ from = \"Old\", to = \"Room\" }]\n",
            Format::Toml,
        )
        .unwrap();
        assert_eq!(ok.migrations.len(), 2);
        assert_eq!(ok.migrations[1].step, json!({"renamed_classes":[{"from":"Old","to":"Room"}]}));
    }

    #[test]
    fn exports_are_read_strictly_and_declare_their_classes() {
        let ok = mapped(
            "name = \"w\"\n[durable_objects]\nbindings = [{ name = \"ROOM\", class_name = \"Room\" }]\n[exports]\nRoom = { type = \"durable-object\", storage = \"sqlite\" }\n",
            Format::Toml,
        )
        .unwrap();
        let (e, line, path) = ok.exports.unwrap();
        assert_eq!((line, path.as_str()), (4, "exports"));
        assert_eq!(serde_json::to_value(e).unwrap(), json!({"Room": {"type": "durable-object", "storage": "sqlite"}}));
        assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
        let e = mapped(
            "{\n\"exports\": {\"Room\": {\"type\": \"durable-object\", \"storage\": \"sqlite\",\n \"storrage\": 1}}}",
            Format::Json,
        )
        .unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (3, "exports.Room.storrage"));
        let e = mapped(
            "{\"exports\": {\"Room\": {\"type\": \"durable-object\", \"storage\": \"sqlite\"}},\n\"migrations\": [{\"tag\": \"v1\", \"new_sqlite_classes\": [\"Room\"]}]}",
            Format::Json,
        )
        .unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (2, "migrations"));
        assert!(e.problem.contains("mutually exclusive"), "{}", e.problem);
        let only_worker = mapped(
            "{\"exports\": {\"Api\": {\"type\": \"worker\"}}, \"migrations\": [{\"tag\": \"v1\", \"new_sqlite_classes\": [\"Room\"]}]}",
            Format::Json,
        );
        assert!(only_worker.is_ok(), "only Durable Object entries exclude migrations");
        let e = mapped(
            "name = \"w\"\n[durable_objects]\nbindings = [{ name = \"ROOM\", class_name = \"Room\" }]\n[exports]\nRoom = { type = \"durable-object\", state = \"deleted\" }\n",
            Format::Toml,
        )
        .unwrap_err();
        assert_eq!(e.path, "durable_objects.bindings[0].class_name");
        assert!(
            e.problem.contains("Room = { type = \"durable-object\", storage = \"sqlite\" }"),
            "a tombstone is no class: {}",
            e.problem
        );
    }

    #[test]
    fn unknown_and_unhonoured_keys_are_named() {
        let m = mapped(
            r#"{ "streaming_tail_consumers": [{ "service": "t" }], "frobnicate": 1, "build": {"command": "x"} }"#,
            Format::Json,
        )
        .unwrap();
        let all = m.warnings.join("\n");
        for needle in [
            "streaming_tail_consumers (line 1): a Worker setting only wrangler's classic upload carries",
            "frobnicate (line 1): not supported",
            "build (line 1): workers-ci does not run build",
        ] {
            assert!(all.contains(needle), "{needle}: {all}");
        }
        let e = mapped(r#"{ "worker_loaders": [{ "binding": "L" }] }"#, Format::Json).unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (1, "worker_loaders"));
        assert!(e.problem.contains("does not list"), "{}", e.problem);
    }

    #[test]
    fn what_a_deploy_applies_is_read_in_the_apis_terms() {
        let m = mapped(
            r#"{ "routes": ["a.example.com/*", { "pattern": "example.com/api/*", "zone_name": "example.com" },
                           { "pattern": "app.example.com", "custom_domain": true }],
                 "triggers": { "crons": ["*/5 * * * *"] },
                 "queues": { "consumers": [{ "queue": "jobs", "max_batch_size": 10, "max_batch_timeout": 2.5, "dead_letter_queue": "dlq" }] },
                 "observability": { "enabled": true, "head_sampling_rate": 0.5 }, "logpush": true,
                 "tail_consumers": [{ "service": "tail" }] }"#,
            Format::Json,
        )
        .unwrap();
        let d = &m.deploy;
        let patterns = |v: &Option<Vec<deploy::RouteSpec>>| -> Vec<String> {
            v.iter().flatten().map(|r| r.pattern.clone()).collect()
        };
        assert_eq!(patterns(&d.routes), ["a.example.com/*", "example.com/api/*"]);
        assert_eq!(patterns(&d.domains), ["app.example.com"]);
        assert_eq!(d.routes.as_ref().unwrap()[1].zone_name.as_deref(), Some("example.com"));
        assert_eq!(d.crons, Some(vec!["*/5 * * * *".to_owned()]));
        let c = &d.consumers.as_ref().unwrap()[0];
        assert_eq!(Value::Object(c.settings.clone()), json!({ "batch_size": 10, "max_wait_time_ms": 2500 }));
        assert_eq!(c.dead_letter_queue.as_deref(), Some("dlq"));
        assert_eq!(d.observability, Some(json!({ "enabled": true, "head_sampling_rate": 0.5 })));
        assert_eq!((d.logpush, d.tail_consumers.clone()), (Some(true), Some(vec![json!({ "service": "tail" })])));
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        // Nothing named, nothing applied: each stays `None`.
        assert!(!mapped(r#"{ "name": "w" }"#, Format::Json).unwrap().deploy.any());
        for (text, at, says) in [
            (
                r#"{ "routes": [{ "pattern": "*.example.com", "custom_domain": true }] }"#,
                "routes[0].pattern",
                "neither `*` nor `/`",
            ),
            (r#"{ "triggers": { "crons": ["*/5 * * *"] } }"#, "triggers.crons[0]", "five fields"),
            (r#"{ "route": "a.com/*", "routes": ["b.com/*"] }"#, "routes", "cannot be used with `route`"),
            (r#"{ "queues": { "consumers": [{ "max_retries": 3 }] } }"#, "queues.consumers[0]", "has no `queue`"),
        ] {
            let e = mapped(text, Format::Json).unwrap_err();
            assert_eq!(e.path, at, "{text}");
            assert!(e.problem.contains(says), "{}", e.problem);
        }
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = mapped(
            "{\n\"kv_namespaces\": [{\"binding\": \"A\", \"id\": \"x\"},\n {\"binding\": \"B\"}]}",
            Format::Json,
        )
        .unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (3, "kv_namespaces[1]"));
        assert!(e.problem.contains("has no `id`"));
        let e = mapped(
            "{\"vars\": {\"A\": \"1\"}, \"kv_namespaces\": [{\"binding\": \"A\", \"id\": \"x\"}]}",
            Format::Json,
        )
        .unwrap_err();
        assert!(e.problem.contains("second time"), "{e:?}");
        let e = mapped("[limits]\ncpu_ms = -1\n", Format::Toml).unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (2, "limits.cpu_ms"));
        let e = mapped("[assets]\ndirectory = \"public\"\nhtml_handling = \"sometimes\"\n", Format::Toml).unwrap_err();
        assert_eq!(e.path, "assets.html_handling");
    }
}
