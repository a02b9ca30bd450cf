//! What the configuration says a deploy applies beyond the version (docs/cloudflare-api.md §T):
//! routes, custom domains, cron triggers, queue consumers and the Worker settings that are not
//! versioned. Each is `None` when the file does not name it: a deploy then leaves it as it is
//! (wrangler turns observability off when the key is missing; workers-ci does not).

use serde_json::{Map, Value, json};

use super::super::env::Entry;
use super::{Mapper, Problem, array, boolean, field, problem, string, strings, table};
use crate::inputs::tree::{Node, Val, index, join};

/// A route or custom domain, with where it is written (for errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RouteSpec {
    /// The pattern (a route) or the hostname (a custom domain).
    pub pattern: String,
    pub zone_id: Option<String>,
    pub zone_name: Option<String>,
    pub at: String,
}

/// A queue consumer as the API takes it (§T.5): the queue, and the body's `settings` and
/// `dead_letter_queue`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ConsumerSpec {
    pub queue: String,
    pub settings: Map<String, Value>,
    pub dead_letter_queue: Option<String>,
    pub at: String,
}

/// A Workflow this Worker runs (`workflows[]` without another `script_name`), as the
/// Workflows PUT takes it (§T.10).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WorkflowSpec {
    pub name: String,
    pub class_name: String,
    pub limits: Option<Value>,
    pub at: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DeploySpec {
    /// `route`/`routes` that are routes; `None` when the file has neither key.
    pub routes: Option<Vec<RouteSpec>>,
    /// Those with `custom_domain: true`; `None` when the file has neither key.
    pub domains: Option<Vec<RouteSpec>>,
    /// `triggers.crons`.
    pub crons: Option<Vec<String>>,
    /// `queues.consumers`.
    pub consumers: Option<Vec<ConsumerSpec>>,
    /// `observability`, `logpush`, `tail_consumers` as the script-settings PATCH takes them.
    pub observability: Option<Value>,
    pub logpush: Option<bool>,
    pub tail_consumers: Option<Vec<Value>>,
    /// wrangler's environment tags (`cf:service=…`, `cf:environment=…`), when the file declares
    /// environments: the Worker's tags of those two kinds become these, its other tags stay.
    pub environment_tags: Option<Vec<String>>,
    /// `workflows[]` this Worker runs.
    pub workflows: Option<Vec<WorkflowSpec>>,
}

impl DeploySpec {
    /// Whether the file names anything a deploy applies.
    pub(crate) fn any(&self) -> bool {
        self.routes.is_some()
            || self.domains.is_some()
            || self.crons.is_some()
            || self.consumers.is_some()
            || self.observability.is_some()
            || self.logpush.is_some()
            || self.tail_consumers.is_some()
            || self.environment_tags.is_some()
            || self.workflows.as_ref().is_some_and(|w| !w.is_empty())
    }
}

/// Reads the keys of [`DeploySpec`] from the configuration in effect.
pub(super) fn read<'e, 'a: 'e>(
    m: &mut Mapper,
    get: &dyn Fn(&str) -> Option<&'e Entry<'a>>,
    worker: Option<&str>,
) -> Result<DeploySpec, Problem> {
    let mut out = DeploySpec::default();
    if let Some(Entry { path, node, .. }) = get("workflows") {
        out.workflows = Some(workflows(node, path, worker)?);
    }
    match (get("route"), get("routes")) {
        (Some(a), Some(b)) => {
            return Err(problem(
                b.node.line,
                &b.path,
                format!(
                    "cannot be used with `{}` (line {}): keep one of them, as wrangler requires",
                    a.path, a.node.line
                ),
            ));
        }
        (Some(Entry { path, node, .. }), None) => {
            let r = route(m, node, path)?;
            let (routes, domains) = if r.1 { (vec![], vec![r.0]) } else { (vec![r.0], vec![]) };
            out.routes = Some(routes);
            out.domains = Some(domains);
        }
        (None, Some(Entry { path, node, .. })) => {
            let (mut routes, mut domains) = (Vec::new(), Vec::new());
            for (i, item) in array(node, path)?.iter().enumerate() {
                let (r, custom) = route(m, item, &index(path, i))?;
                if custom { domains.push(r) } else { routes.push(r) }
            }
            out.routes = Some(routes);
            out.domains = Some(domains);
        }
        (None, None) => {}
    }
    if let Some(Entry { path, node, .. }) = get("triggers") {
        let t = table(node, path)?;
        m.unexpected(t, path, &["crons"]);
        if let Some(c) = field(t, "crons") {
            let at = join(path, "crons");
            let crons = strings(c, &at)?;
            for (i, cron) in crons.iter().enumerate() {
                if !cron_shape(cron) {
                    return Err(problem(
                        c.line,
                        &index(&at, i),
                        "is not a cron expression of five fields (minute hour day-of-month month day-of-week), e.g. `*/30 * * * *`",
                    ));
                }
            }
            out.crons = Some(crons);
        }
    }
    if let Some(Entry { path, node, .. }) = get("queues")
        && let Val::Table(t) = &node.value
        && let Some(c) = field(t, "consumers")
    {
        let at = join(path, "consumers");
        out.consumers = Some(
            array(c, &at)?.iter().enumerate().map(|(i, n)| consumer(m, n, &index(&at, i))).collect::<Result<_, _>>()?,
        );
    }
    if let Some(Entry { path, node, .. }) = get("observability") {
        observability(node, path)?;
        out.observability = Some(node.to_json());
    }
    if let Some(Entry { path, node, .. }) = get("logpush") {
        out.logpush = Some(boolean(node, path)?);
    }
    if let Some(Entry { path, node, .. }) = get("tail_consumers") {
        let mut list = Vec::new();
        for (i, item) in array(node, path)?.iter().enumerate() {
            let at = index(path, i);
            let t = table(item, &at)?;
            m.unexpected(t, &at, &["service", "environment"]);
            let Some(service) = field(t, "service") else {
                return Err(problem(
                    item.line,
                    &at,
                    "has no `service`: name the Worker that receives this Worker's events",
                ));
            };
            let mut c = Map::new();
            c.insert("service".into(), string(service, &join(&at, "service"))?.into());
            if let Some(e) = field(t, "environment") {
                c.insert("environment".into(), string(e, &join(&at, "environment"))?.into());
            }
            list.push(Value::Object(c));
        }
        out.tail_consumers = Some(list);
    }
    Ok(out)
}

/// The `observability` block, checked for what the script settings would refuse only after
/// the deployment (docs/cloudflare-api.md §T.6): `enabled`, which Cloudflare's schema requires
/// and wrangler sends only when the file has it, and sampling rates from 0 to 1 (100308).
fn observability(node: &Node, path: &str) -> Result<(), Problem> {
    let t = table(node, path)?;
    match field(t, "enabled") {
        Some(e) => {
            boolean(e, &join(path, "enabled"))?;
        }
        None => {
            return Err(problem(
                node.line,
                path,
                "has no `enabled`: Cloudflare's script settings require it, and the deploy would be live before the settings were refused; set `enabled` to `true` (or `false`: Cloudflare then ignores `logs` and `traces`)",
            ));
        }
    }
    let rate = |n: &Node, at: &str| match n.value {
        Val::Int(i) if (0..=1).contains(&i) => Ok(()),
        Val::Float(f) if (0.0..=1.0).contains(&f) => Ok(()),
        _ => Err(problem(n.line, at, "must be a number from 0 to 1 (1 = every request)")),
    };
    if let Some(r) = field(t, "head_sampling_rate") {
        rate(r, &join(path, "head_sampling_rate"))?;
    }
    for part in ["logs", "traces"] {
        let at = join(path, part);
        if let Some(p) = field(t, part) {
            let inner = table(p, &at)?;
            if let Some(e) = field(inner, "enabled") {
                boolean(e, &join(&at, "enabled"))?;
            }
            if let Some(r) = field(inner, "head_sampling_rate") {
                rate(r, &join(&at, "head_sampling_rate"))?;
            }
        }
    }
    Ok(())
}

/// One `routes` entry: a pattern string, or `{pattern, zone_id | zone_name, custom_domain}`;
/// `true` with it for a custom domain.
fn route(m: &mut Mapper, n: &Node, at: &str) -> Result<(RouteSpec, bool), Problem> {
    if let Some(p) = n.as_str() {
        return Ok((
            RouteSpec { pattern: pattern(n, p, at)?, zone_id: None, zone_name: None, at: at.to_owned() },
            false,
        ));
    }
    let t = table(n, at)?;
    m.unexpected(t, at, &["pattern", "zone_id", "zone_name", "custom_domain"]);
    let Some(p) = field(t, "pattern") else {
        return Err(problem(
            n.line,
            at,
            "has no `pattern`: the route (`example.com/*`) or the custom domain's hostname",
        ));
    };
    let custom = match field(t, "custom_domain") {
        Some(c) => boolean(c, &join(at, "custom_domain"))?,
        None => false,
    };
    let opt = |k: &str| field(t, k).map(|v| string(v, &join(at, k)).map(str::to_owned)).transpose();
    let (zone_id, zone_name) = (opt("zone_id")?, opt("zone_name")?);
    let pat = pattern(p, string(p, &join(at, "pattern"))?, &join(at, "pattern"))?;
    // wrangler's check before any call (docs/cloudflare-api.md §T.3).
    if custom && (pat.contains('*') || pat.contains('/')) {
        return Err(problem(
            p.line,
            &join(at, "pattern"),
            "is a custom domain, which is a hostname: it may contain neither `*` nor `/` (use a route for a path or a wildcard)",
        ));
    }
    Ok((RouteSpec { pattern: pat, zone_id, zone_name, at: at.to_owned() }, custom))
}

fn pattern(n: &Node, p: &str, at: &str) -> Result<String, Problem> {
    if p.trim().is_empty() || p.chars().any(char::is_whitespace) {
        return Err(problem(n.line, at, "must be a route pattern such as `example.com/*`, without spaces"));
    }
    Ok(p.to_owned())
}

/// `queues.consumers[]` in the API's terms (§T.5): `max_batch_size` → `batch_size`,
/// `max_batch_timeout` seconds → `max_wait_time_ms`, the others as they are.
fn consumer(m: &mut Mapper, n: &Node, at: &str) -> Result<ConsumerSpec, Problem> {
    let t = table(n, at)?;
    m.unexpected(
        t,
        at,
        &[
            "queue",
            "max_batch_size",
            "max_batch_timeout",
            "max_retries",
            "dead_letter_queue",
            "max_concurrency",
            "retry_delay",
            "type",
            "visibility_timeout_ms",
        ],
    );
    let Some(q) = field(t, "queue") else {
        return Err(problem(n.line, at, "has no `queue`: the name of the queue this Worker consumes"));
    };
    if let Some(k) = field(t, "type") {
        let kind = string(k, &join(at, "type"))?;
        if kind != "worker" {
            return Err(problem(
                k.line,
                &join(at, "type"),
                "only `worker` consumers are applied by workers-ci; configure pull consumers with `wrangler queues consumer http add`",
            ));
        }
    }
    let number = |k: &str| -> Result<Option<u64>, Problem> {
        match field(t, k) {
            None => Ok(None),
            Some(v) => match v.value {
                Val::Int(i) if i >= 0 => Ok(Some(i as u64)),
                _ => Err(problem(v.line, &join(at, k), "must be a whole number, 0 or more")),
            },
        }
    };
    let mut settings = Map::new();
    for (from, to) in [("max_batch_size", "batch_size"), ("max_retries", "max_retries"), ("retry_delay", "retry_delay")]
    {
        if let Some(v) = number(from)? {
            settings.insert(to.into(), v.into());
        }
    }
    if let Some(v) = field(t, "max_batch_timeout") {
        let secs = match v.value {
            Val::Int(i) if i >= 0 => i as f64,
            Val::Float(f) if f >= 0.0 => f,
            _ => return Err(problem(v.line, &join(at, "max_batch_timeout"), "must be a number of seconds, 0 or more")),
        };
        settings.insert("max_wait_time_ms".into(), json!((secs * 1000.0).round() as u64));
    }
    if let Some(v) = field(t, "max_concurrency") {
        let value = match v.value {
            Val::Null => Value::Null,
            Val::Int(i) if i > 0 => json!(i),
            _ => return Err(problem(v.line, &join(at, "max_concurrency"), "must be a whole number above 0, or null")),
        };
        settings.insert("max_concurrency".into(), value);
    }
    let dead_letter_queue = field(t, "dead_letter_queue")
        .map(|d| string(d, &join(at, "dead_letter_queue")).map(str::to_owned))
        .transpose()?;
    Ok(ConsumerSpec {
        queue: string(q, &join(at, "queue"))?.to_owned(),
        settings,
        dead_letter_queue,
        at: at.to_owned(),
    })
}

/// Five fields of the characters cron uses: a typo is caught before any request (Cloudflare's
/// own check answers only after the upload).
pub(crate) fn cron_shape(c: &str) -> bool {
    let fields: Vec<&str> = c.split_whitespace().collect();
    fields.len() == 5 && fields.iter().all(|f| f.chars().all(|ch| ch.is_ascii_alphanumeric() || "*/,-?#".contains(ch)))
}

/// The `workflows[]` entries this Worker runs: no `script_name`, or this Worker's. One that
/// names another Worker only binds to it (wrangler writes nothing for it, and refuses `limits`
/// there, §T.10).
fn workflows(node: &Node, path: &str, worker: Option<&str>) -> Result<Vec<WorkflowSpec>, Problem> {
    let mut out = Vec::new();
    for (i, item) in array(node, path)?.iter().enumerate() {
        let at = index(path, i);
        let t = table(item, &at)?;
        let text = |k: &str| field(t, k).map(|v| string(v, &join(&at, k)).map(str::to_owned)).transpose();
        let script = text("script_name")?;
        if script.as_deref().is_some_and(|s| Some(s) != worker) {
            if let Some(l) = field(t, "limits") {
                return Err(problem(
                    l.line,
                    &join(&at, "limits"),
                    "belongs to the Worker that runs the Workflow (`script_name` names another): set it in that Worker's configuration",
                ));
            }
            continue;
        }
        let (Some(name), Some(class_name)) = (text("name")?, text("class_name")?) else {
            return Err(problem(
                item.line,
                &at,
                "needs `name` and `class_name`: the Workflow and the class of this Worker that runs it",
            ));
        };
        let limits = match field(t, "limits") {
            Some(l) => {
                table(l, &join(&at, "limits"))?;
                Some(l.to_json())
            }
            None => None,
        };
        out.push(WorkflowSpec { name, class_name, limits, at });
    }
    Ok(out)
}
