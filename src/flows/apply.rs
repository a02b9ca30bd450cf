//! A deploy that applies what the wrangler configuration says beyond the version: routes,
//! custom domains, cron triggers, queue consumers and the Worker settings that are not
//! versioned (docs/cloudflare-api.md §T). Everything is read and compared first, and the plan
//! shown, before the upload: a conflict stops the step before any write. Only what differs is
//! written, after the deploy, so a re-run with nothing changed writes nothing.
//!
//! Where wrangler surprises its users, this is explicit instead: a key the configuration omits
//! leaves the live setting alone (wrangler turns observability off); routes, custom domains and
//! consumers the configuration no longer lists are removed only with `prune` (wrangler never
//! removes them); a route, hostname or queue another Worker holds is taken only with
//! `takeover` (wrangler's CI mode forces custom domains over silently).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::changes::{Action, Change};
use super::dry_run::Call;
use super::{Area, Ctx, api_failure};
use crate::cloudflare::triggers::{Consumer, Domain, DomainBody, Queue, RouteBody, Zone, ZoneRoute};
use crate::cloudflare::{ApiError, WorkerName};
use crate::error::{Error, Result};
use crate::inputs::upload::Apply;
use crate::inputs::wrangler::map::deploy::{ConsumerSpec, DeploySpec, RouteSpec, WorkflowSpec};
use crate::inputs::{InputError, Key, hint};

/// What the comparison found: the rows to show, and the writes that make the Worker match.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub rows: Vec<Change>,
    writes: Writes,
    /// What another Worker (or no Worker) holds, without `takeover`: stops the step.
    conflicts: Vec<String>,
}

#[derive(Debug, Default)]
struct Writes {
    /// Zone routes to give this Worker before the routes are set (takeovers).
    take_routes: Vec<(String, ZoneRoute)>,
    /// The script's routes, whole, when they change and some remain.
    routes: Option<Vec<RouteBody>>,
    /// Zone routes to delete when `prune` leaves none (the routes PUT takes no empty list,
    /// docs/api-assumptions.md row 82).
    delete_routes: Vec<(String, String)>,
    /// Custom domains to attach, in their zone, and whether to take them over.
    domains: Vec<(RouteSpec, Zone, bool)>,
    delete_domains: Vec<Domain>,
    schedules: Option<Vec<String>>,
    consumers: Vec<ConsumerWrite>,
    settings: Option<Value>,
    /// Workflows to create or update: name and body.
    workflows: Vec<(String, Value)>,
}

#[derive(Debug)]
enum ConsumerWrite {
    Create { queue_id: String, queue: String, body: Value },
    Update { queue_id: String, queue: String, consumer_id: String, body: Value },
    Delete { queue_id: String, queue: String, consumer_id: String },
}

impl Plan {
    /// How many writes it makes.
    pub(crate) fn changes(&self) -> usize {
        self.rows.iter().filter(|c| c.action.writes()).count()
    }
}

/// Reads what the Worker has of what `spec` names, and compares. No write.
pub(crate) async fn plan(ctx: &Ctx, name: &WorkerName, args: &Apply) -> Result<Plan> {
    let spec = &args.spec;
    let settings_named = spec.observability.is_some()
        || spec.logpush.is_some()
        || spec.tail_consumers.is_some()
        || spec.environment_tags.is_some();
    let (scripts, domains, schedules, settings, queues) = tokio::join!(
        async { if spec.routes.is_some() { Some(ctx.client.list_scripts().await) } else { None } },
        async { if spec.domains.as_ref().is_some() { Some(ctx.client.list_domains().await) } else { None } },
        async { if spec.crons.is_some() { Some(missing_as_default(ctx.client.schedules(name).await)) } else { None } },
        async { if settings_named { Some(missing_as_default(ctx.client.script_settings(name).await)) } else { None } },
        async { if spec.consumers.is_some() { Some(all_queues(ctx).await) } else { None } },
    );
    let read = |what: &'static str| move |e: ApiError| api_failure(e, what, Area::Workers);
    let mut plan = Plan::default();
    let mut zones = Zones::default();
    if let (Some(wanted), Some(scripts)) = (&spec.routes, scripts) {
        let scripts = scripts.map_err(read("list the Workers (for their routes)"))?;
        let live = scripts.into_iter().find(|s| s.id == *name).and_then(|s| s.routes).unwrap_or_default();
        plan_routes(ctx, name, wanted, &live, args, &mut zones, &mut plan).await?;
    }
    if let (Some(wanted), Some(domains)) = (&spec.domains, domains) {
        let all = domains.map_err(read("list the account's custom domains"))?;
        plan_domains(ctx, name, wanted, &all, args, &mut zones, &mut plan).await?;
    }
    if let (Some(wanted), Some(live)) = (&spec.crons, schedules) {
        plan_crons(wanted, &live.map_err(read("read the Worker's cron triggers"))?, &mut plan);
    }
    if let Some(live) = settings {
        plan_settings(spec, &live.map_err(read("read the Worker's settings"))?, &mut plan);
    }
    if let (Some(wanted), Some(queues)) = (&spec.consumers, queues) {
        plan_consumers(name, wanted, &queues?, args, &mut plan)?;
    }
    if let Some(wanted) = spec.workflows.as_ref().filter(|w| !w.is_empty()) {
        plan_workflows(ctx, name, wanted, args, &mut plan).await?;
    }
    Ok(plan)
}

/// Shows the plan (log table, job summary, `plan` and `changes` outputs), then refuses a
/// conflict: before the upload, so nothing is written.
pub(crate) fn show(ctx: &Ctx, plan: &Plan) -> Result<()> {
    if !plan.rows.is_empty() {
        super::changes::show(ctx, &plan.rows);
    }
    ctx.output(crate::commands::Output::Plan, &serde_json::to_string(&plan.rows).unwrap_or_else(|_| "[]".into()));
    ctx.output(crate::commands::Output::Changes, &plan.changes().to_string());
    if plan.conflicts.is_empty() {
        return Ok(());
    }
    Err(Error::Input(InputError::new(
        Key::Takeover,
        format!(
            "is off, and the configuration asks for what this Worker does not hold: {}. Nothing was written. Set {} to give them to this Worker, or remove them from the configuration",
            plan.conflicts.join("; "),
            hint::set(Key::Takeover, "true")
        ),
    )))
}

/// Makes the writes of `plan`, each kind beside the others (as wrangler does, §T); a failure of
/// one kind does not stop the others, and the first is reported with what was not applied.
pub(crate) async fn apply(ctx: &Ctx, worker: &WorkerName, plan: Plan) -> Result<()> {
    let w = plan.writes;
    let (routes, domains, crons, consumers, settings, workflows) = tokio::join!(
        apply_routes(ctx, worker, w.take_routes, w.routes, w.delete_routes),
        apply_domains(ctx, worker, w.domains, w.delete_domains),
        async {
            match &w.schedules {
                Some(c) => ctx
                    .client
                    .put_schedules(worker, c)
                    .await
                    .map_err(|e| api_failure(e, "set the Worker's cron triggers", Area::Workers)),
                None => Ok(()),
            }
        },
        apply_consumers(ctx, worker, w.consumers),
        async {
            match &w.settings {
                Some(s) => ctx
                    .client
                    .patch_script_settings(worker, s)
                    .await
                    .map_err(|e| api_failure(e, "set the Worker's settings", Area::Workers)),
                None => Ok(()),
            }
        },
        async {
            for (name, body) in &w.workflows {
                ctx.client
                    .put_workflow(name, body)
                    .await
                    .map_err(|e| api_failure(e, &format!("create or update Workflow `{name}`"), Area::Workers))?;
            }
            Ok::<(), Error>(())
        },
    );
    let mut failed: Vec<(&str, Error)> = [
        ("routes", routes),
        ("custom domains", domains),
        ("cron triggers", crons),
        ("queue consumers", consumers),
        ("settings", settings),
        ("workflows", workflows),
    ]
    .into_iter()
    .filter_map(|(k, r)| r.err().map(|e| (k, e)))
    .collect();
    if failed.is_empty() {
        return Ok(());
    }
    let kinds: Vec<&str> = failed.iter().map(|(k, _)| *k).collect();
    ctx.console.warning(&format!(
        "the deployment is live, but not all of the configuration was applied: {} failed (the rest was applied); fix and re-run, which applies only what still differs",
        kinds.join(", ")
    ));
    let (_, first) = failed.remove(0);
    for (kind, e) in failed {
        ctx.console.error(&format!("{kind} not applied"), &e.to_string());
    }
    Err(first)
}

/// A Worker that does not exist yet has no schedules and default settings.
fn missing_as_default<T: Default>(r: std::result::Result<T, ApiError>) -> std::result::Result<T, ApiError> {
    match r {
        Err(e) if e.is_not_found() || e.has_code(10007) => Ok(T::default()),
        other => other,
    }
}

async fn all_queues(ctx: &Ctx) -> Result<Vec<Queue>> {
    list_queues(ctx).await.map_err(|e| api_failure(e, "list the account's queues", Area::Workers))
}

/// Every page of the account's queues (§T.5).
async fn list_queues(ctx: &Ctx) -> std::result::Result<Vec<Queue>, ApiError> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let (mut q, pages) = ctx.client.queues_page(page).await?;
        let empty = q.is_empty();
        out.append(&mut q);
        if empty || page >= pages {
            return Ok(out);
        }
        page += 1;
    }
}

/// Zones found by name, cached for the run (§T.1).
#[derive(Default)]
struct Zones {
    by_name: HashMap<String, Option<Zone>>,
    routes: HashMap<String, Vec<ZoneRoute>>,
}

impl Zones {
    async fn named(&mut self, ctx: &Ctx, name: &str) -> Result<Option<Zone>> {
        if let Some(z) = self.by_name.get(name) {
            return Ok(z.clone());
        }
        let found = ctx
            .client
            .zones_named(name)
            .await
            .map_err(|e| api_failure(e, "look up a zone by name", Area::Workers))?
            .into_iter()
            .find(|z| z.name == name);
        self.by_name.insert(name.to_owned(), found.clone());
        Ok(found)
    }

    /// The zone of a host: the zone of that name, else of each parent domain in turn, as
    /// wrangler finds it (§T.1).
    async fn of_host(&mut self, ctx: &Ctx, host: &str) -> Result<Option<Zone>> {
        let mut host = host.to_owned();
        while host.contains('.') {
            if let Some(z) = self.named(ctx, &host).await? {
                return Ok(Some(z));
            }
            host = host.split_once('.').map(|(_, rest)| rest.to_owned()).unwrap_or_default();
        }
        Ok(None)
    }

    /// The zone id of a route: its `zone_id`, its `zone_name`'s, or its host's (§T.1).
    /// `None`: the account has no such zone.
    async fn of(&mut self, ctx: &Ctx, r: &RouteSpec) -> Result<Option<String>> {
        if let Some(id) = &r.zone_id {
            return Ok(Some(id.clone()));
        }
        if let Some(n) = &r.zone_name {
            return Ok(self.named(ctx, n).await?.map(|z| z.id));
        }
        Ok(self.of_host(ctx, &host_of(&r.pattern)).await?.map(|z| z.id))
    }

    /// A custom domain's zone, by id and name as the attach takes it (§T.3): its
    /// `zone_name`'s, or its hostname's; a `zone_id` given must be that zone.
    async fn of_domain(&mut self, ctx: &Ctx, r: &RouteSpec) -> Result<Option<Zone>> {
        let z = match &r.zone_name {
            Some(n) => self.named(ctx, n).await?,
            None => self.of_host(ctx, &r.pattern.to_ascii_lowercase()).await?,
        };
        Ok(z.filter(|z| r.zone_id.as_ref().is_none_or(|id| *id == z.id)))
    }

    async fn routes(&mut self, ctx: &Ctx, zone: &str) -> Result<&[ZoneRoute]> {
        if !self.routes.contains_key(zone) {
            let r = ctx
                .client
                .zone_routes(zone)
                .await
                .map_err(|e| api_failure(e, "list a zone's Worker routes", Area::Workers))?;
            self.routes.insert(zone.to_owned(), r);
        }
        Ok(self.routes.get(zone).map_or(&[], Vec::as_slice))
    }
}

/// A route pattern's host: scheme dropped, the path dropped, wildcards removed (§T.1).
fn host_of(pattern: &str) -> String {
    let rest = pattern.split_once("://").map_or(pattern, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or_default();
    host.replace("*.", "").replace('*', "").to_ascii_lowercase()
}

async fn plan_routes(
    ctx: &Ctx,
    name: &WorkerName,
    wanted: &[RouteSpec],
    live: &[ZoneRoute],
    args: &Apply,
    zones: &mut Zones,
    plan: &mut Plan,
) -> Result<()> {
    let mut changed = false;
    for r in wanted {
        if live.iter().any(|l| l.pattern == r.pattern) {
            plan.rows.push(Change::new("route", &r.pattern, Action::Unchanged));
            continue;
        }
        let Some(zone) = zones.of(ctx, r).await? else {
            return Err(Error::Input(InputError::new(
                Key::Config,
                format!(
                    "`{}`: the account has no zone for route `{}` (looked up by its host and each parent domain); add the zone to the account, or set the route's `zone_name`",
                    r.at, r.pattern
                ),
            )));
        };
        changed = true;
        let held = zones.routes(ctx, &zone).await?.iter().find(|z| z.pattern == r.pattern).cloned();
        match held {
            Some(h) => {
                let owner = h
                    .script
                    .clone()
                    .map_or_else(|| "no Worker (a route that runs none)".to_owned(), |s| format!("Worker `{s}`"));
                if args.takeover {
                    plan.rows.push(Change::new("route", &r.pattern, Action::TakeOver).field(
                        "held by",
                        Some(owner),
                        Some(name.to_string()),
                    ));
                    plan.writes
                        .take_routes
                        .push((zone, ZoneRoute { id: h.id, pattern: h.pattern, script: Some(name.to_string()) }));
                } else {
                    plan.rows.push(Change::new("route", &r.pattern, Action::Conflict).field(
                        "held by",
                        Some(owner.clone()),
                        None,
                    ));
                    plan.conflicts.push(format!("route `{}` is held by {owner}", r.pattern));
                }
            }
            None => plan.rows.push(Change::new("route", &r.pattern, Action::Create)),
        }
    }
    let mut body: Vec<RouteBody> = wanted
        .iter()
        .map(|r| RouteBody { pattern: r.pattern.clone(), zone_id: r.zone_id.clone(), zone_name: r.zone_name.clone() })
        .collect();
    for l in live.iter().filter(|l| !wanted.iter().any(|r| r.pattern == l.pattern)) {
        if args.prune {
            changed = true;
            plan.rows.push(Change::new("route", &l.pattern, Action::Delete));
        } else {
            plan.rows.push(Change::new("route", &l.pattern, Action::LeftAlone));
            body.push(RouteBody { pattern: l.pattern.clone(), zone_id: None, zone_name: None });
        }
    }
    if !changed {
        return Ok(());
    }
    if body.is_empty() {
        for l in live {
            let spec = RouteSpec { pattern: l.pattern.clone(), zone_id: None, zone_name: None, at: String::new() };
            if let Some(zone) = zones.of(ctx, &spec).await? {
                plan.writes.delete_routes.push((zone, l.id.clone()));
            }
        }
    } else {
        plan.writes.routes = Some(body);
    }
    Ok(())
}

async fn plan_domains(
    ctx: &Ctx,
    name: &WorkerName,
    wanted: &[RouteSpec],
    all: &[Domain],
    args: &Apply,
    zones: &mut Zones,
    plan: &mut Plan,
) -> Result<()> {
    let ours = |d: &&Domain| d.service == name.as_str();
    for r in wanted {
        let held = all.iter().find(|d| d.hostname.eq_ignore_ascii_case(&r.pattern));
        let action = match held {
            Some(d) if ours(&d) => {
                plan.rows.push(Change::new("custom_domain", &r.pattern, Action::Unchanged));
                continue;
            }
            Some(d) if !args.takeover => {
                plan.rows.push(Change::new("custom_domain", &r.pattern, Action::Conflict).field(
                    "held by",
                    Some(format!("Worker `{}`", d.service)),
                    None,
                ));
                plan.conflicts.push(format!("custom domain `{}` is held by Worker `{}`", r.pattern, d.service));
                continue;
            }
            Some(d) => Change::new("custom_domain", &r.pattern, Action::TakeOver).field(
                "held by",
                Some(format!("Worker `{}`", d.service)),
                Some(name.to_string()),
            ),
            None => Change::new("custom_domain", &r.pattern, Action::Create),
        };
        let Some(zone) = zones.of_domain(ctx, r).await? else {
            return Err(Error::Input(InputError::new(
                Key::Config,
                format!(
                    "`{}`: the account has no zone for custom domain `{}` (looked up by the hostname and each parent domain, or the `zone_name`/`zone_id` given); add the zone to the account",
                    r.at, r.pattern
                ),
            )));
        };
        plan.rows.push(action);
        // A DNS record on the hostname shows only in Cloudflare's refusal (§T.3): with
        // `takeover`, the attach replaces it.
        plan.writes.domains.push((r.clone(), zone, args.takeover));
    }
    for d in all.iter().filter(ours).filter(|d| !wanted.iter().any(|r| r.pattern.eq_ignore_ascii_case(&d.hostname))) {
        if args.prune {
            plan.rows.push(Change::new("custom_domain", &d.hostname, Action::Delete));
            plan.writes.delete_domains.push(d.clone());
        } else {
            plan.rows.push(Change::new("custom_domain", &d.hostname, Action::LeftAlone));
        }
    }
    Ok(())
}

/// `triggers.crons` is the whole list, as wrangler takes it (§T.4): crons not in it are removed.
fn plan_crons(wanted: &[String], live: &[String], plan: &mut Plan) {
    let mut changed = false;
    for c in wanted {
        let action = if live.contains(c) { Action::Unchanged } else { Action::Create };
        changed |= action != Action::Unchanged;
        plan.rows.push(Change::new("cron", c, action));
    }
    for c in live.iter().filter(|c| !wanted.contains(c)) {
        changed = true;
        plan.rows.push(Change::new("cron", c, Action::Delete));
    }
    if changed {
        plan.writes.schedules = Some(wanted.to_vec());
    }
}

/// Each setting the configuration names, compared with the live one; one PATCH with those
/// that differ (§T.6).
fn plan_settings(spec: &DeploySpec, live: &Value, plan: &mut Plan) {
    let mut patch = serde_json::Map::new();
    let wanted = [
        ("observability", spec.observability.clone()),
        ("logpush", spec.logpush.map(Value::Bool)),
        ("tail_consumers", spec.tail_consumers.clone().map(Value::Array)),
    ];
    for (key, want) in wanted {
        let Some(want) = want else { continue };
        let have = live.get(key).cloned().unwrap_or(Value::Null);
        let same = match key {
            "tail_consumers" => sorted(&want) == sorted(&have),
            _ => contains(&have, &want),
        };
        if same {
            plan.rows.push(Change::new("setting", key, Action::Unchanged));
        } else {
            plan.rows.push(Change::new("setting", key, Action::Update).field(
                key,
                Some(have.to_string()),
                Some(want.to_string()),
            ));
            patch.insert(key.to_owned(), want);
        }
    }
    if let Some(env_tags) = &spec.environment_tags {
        let have: Vec<String> = live
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let mut want: Vec<String> = have
            .iter()
            .filter(|t| !t.starts_with("cf:service=") && !t.starts_with("cf:environment="))
            .cloned()
            .collect();
        want.extend(env_tags.iter().cloned());
        let (mut a, mut b) = (have.clone(), want.clone());
        a.sort();
        b.sort();
        if a == b {
            plan.rows.push(Change::new("setting", "tags", Action::Unchanged));
        } else {
            plan.rows.push(Change::new("setting", "tags", Action::Update).field(
                "tags",
                Some(json!(have).to_string()),
                Some(json!(want).to_string()),
            ));
            patch.insert("tags".to_owned(), json!(want));
        }
    }
    if !patch.is_empty() {
        plan.writes.settings = Some(Value::Object(patch));
    }
}

/// Whether `have` holds everything `want` says: Cloudflare fills in defaults the configuration
/// leaves out (`head_sampling_rate`, …), which is no difference.
fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w.iter().all(|(k, v)| h.get(k).is_some_and(|hv| contains(hv, v))),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => have == want,
    }
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v.as_array().map(|a| a.iter().map(Value::to_string).collect()).unwrap_or_default();
    out.sort();
    out
}

fn consumer_body(name: &WorkerName, c: &ConsumerSpec) -> Value {
    let mut body = json!({ "type": "worker", "script_name": name.as_str(), "settings": c.settings });
    if let Some(d) = &c.dead_letter_queue {
        body["dead_letter_queue"] = json!(d);
    }
    body
}

fn plan_consumers(
    name: &WorkerName,
    wanted: &[ConsumerSpec],
    queues: &[Queue],
    args: &Apply,
    plan: &mut Plan,
) -> Result<()> {
    let is_ours = |c: &Consumer| c.kind == "worker" && c.worker() == Some(name.as_str());
    let missing = |what: &str, q: &str, at: &str| {
        Error::Input(InputError::new(
            Key::Config,
            format!(
                "`{at}`: {what} `{q}` does not exist in the account (wrangler stops here too); create it first (`wrangler queues create {q}`), or fix the name"
            ),
        ))
    };
    for c in wanted {
        let Some(q) = queues.iter().find(|q| q.queue_name == c.queue) else {
            return Err(missing("queue", &c.queue, &c.at));
        };
        if let Some(d) = &c.dead_letter_queue
            && !queues.iter().any(|q| q.queue_name == *d)
        {
            return Err(missing("dead-letter queue", d, &format!("{}.dead_letter_queue", c.at)));
        }
        let body = consumer_body(name, c);
        match q.consumers.iter().find(|x| is_ours(x)) {
            Some(mine) => {
                let dlq_same =
                    c.dead_letter_queue.as_deref().unwrap_or("") == mine.dead_letter_queue.as_deref().unwrap_or("");
                if dlq_same && contains(&Value::Object(mine.settings.clone()), &Value::Object(c.settings.clone())) {
                    plan.rows.push(Change::new("queue_consumer", &c.queue, Action::Unchanged));
                } else {
                    plan.rows.push(Change::new("queue_consumer", &c.queue, Action::Update).field(
                        "settings",
                        Some(Value::Object(mine.settings.clone()).to_string()),
                        Some(Value::Object(c.settings.clone()).to_string()),
                    ));
                    plan.writes.consumers.push(ConsumerWrite::Update {
                        queue_id: q.queue_id.clone(),
                        queue: q.queue_name.clone(),
                        consumer_id: mine.consumer_id.clone(),
                        body,
                    });
                }
            }
            None => match q.consumers.iter().find(|x| x.kind == "worker") {
                Some(other) if args.takeover => {
                    let owner = other.worker().unwrap_or("?").to_owned();
                    plan.rows.push(Change::new("queue_consumer", &c.queue, Action::TakeOver).field(
                        "consumed by",
                        Some(format!("Worker `{owner}`")),
                        Some(name.to_string()),
                    ));
                    plan.writes.consumers.push(ConsumerWrite::Delete {
                        queue_id: q.queue_id.clone(),
                        queue: q.queue_name.clone(),
                        consumer_id: other.consumer_id.clone(),
                    });
                    plan.writes.consumers.push(ConsumerWrite::Create {
                        queue_id: q.queue_id.clone(),
                        queue: q.queue_name.clone(),
                        body,
                    });
                }
                Some(other) => {
                    let owner = other.worker().unwrap_or("?").to_owned();
                    plan.rows.push(Change::new("queue_consumer", &c.queue, Action::Conflict).field(
                        "consumed by",
                        Some(format!("Worker `{owner}`")),
                        None,
                    ));
                    plan.conflicts.push(format!(
                        "queue `{}` is consumed by Worker `{owner}` (a queue has one Worker consumer)",
                        c.queue
                    ));
                }
                None => {
                    plan.rows.push(Change::new("queue_consumer", &c.queue, Action::Create));
                    plan.writes.consumers.push(ConsumerWrite::Create {
                        queue_id: q.queue_id.clone(),
                        queue: q.queue_name.clone(),
                        body,
                    });
                }
            },
        }
    }
    for q in queues.iter().filter(|q| !wanted.iter().any(|c| c.queue == q.queue_name)) {
        for mine in q.consumers.iter().filter(|x| is_ours(x)) {
            if args.prune {
                plan.rows.push(Change::new("queue_consumer", &q.queue_name, Action::Delete));
                plan.writes.consumers.push(ConsumerWrite::Delete {
                    queue_id: q.queue_id.clone(),
                    queue: q.queue_name.clone(),
                    consumer_id: mine.consumer_id.clone(),
                });
            } else {
                plan.rows.push(Change::new("queue_consumer", &q.queue_name, Action::LeftAlone));
            }
        }
    }
    Ok(())
}

/// Each Workflow this Worker runs: created, updated when its class or limits differ, taken from
/// another Worker only with `takeover` (wrangler reassigns it with a warning, §T.10).
async fn plan_workflows(
    ctx: &Ctx,
    name: &WorkerName,
    wanted: &[WorkflowSpec],
    args: &Apply,
    plan: &mut Plan,
) -> Result<()> {
    let reads = futures_util::future::join_all(wanted.iter().map(|w| ctx.client.workflow(&w.name))).await;
    for (w, live) in wanted.iter().zip(reads) {
        let live = live.map_err(|e| api_failure(e, &format!("read Workflow `{}`", w.name), Area::Workers))?;
        let mut body = json!({ "script_name": name.as_str(), "class_name": w.class_name });
        if let Some(l) = &w.limits {
            body["limits"] = l.clone();
        }
        let row = match live {
            None => Change::new("workflow", &w.name, Action::Create),
            Some(l) if l.script_name == name.as_str() => {
                // The answer does not show `limits` (§T.10): a Workflow with limits is written
                // on every deploy, as wrangler does.
                if l.class_name == w.class_name && w.limits.is_none() {
                    plan.rows.push(Change::new("workflow", &w.name, Action::Unchanged));
                    continue;
                }
                Change::new("workflow", &w.name, Action::Update).field(
                    "class_name",
                    Some(l.class_name),
                    Some(w.class_name.clone()),
                )
            }
            Some(l) if args.takeover => Change::new("workflow", &w.name, Action::TakeOver).field(
                "run by",
                Some(format!("Worker `{}`", l.script_name)),
                Some(name.to_string()),
            ),
            Some(l) => {
                plan.rows.push(Change::new("workflow", &w.name, Action::Conflict).field(
                    "run by",
                    Some(format!("Worker `{}`", l.script_name)),
                    None,
                ));
                plan.conflicts.push(format!("Workflow `{}` is run by Worker `{}`", w.name, l.script_name));
                continue;
            }
        };
        plan.rows.push(row);
        plan.writes.workflows.push((w.name.clone(), body));
    }
    Ok(())
}

async fn apply_routes(
    ctx: &Ctx,
    worker: &WorkerName,
    take: Vec<(String, ZoneRoute)>,
    routes: Option<Vec<RouteBody>>,
    delete: Vec<(String, String)>,
) -> Result<()> {
    for (zone, r) in &take {
        ctx.client
            .assign_zone_route(zone, r)
            .await
            .map_err(|e| api_failure(e, &format!("take over route `{}`", r.pattern), Area::Workers))?;
    }
    if let Some(body) = &routes {
        ctx.client
            .put_script_routes(worker, body)
            .await
            .map_err(|e| api_failure(e, "set the Worker's routes", Area::Workers))?;
    }
    for (zone, id) in &delete {
        ctx.client.delete_zone_route(zone, id).await.map_err(|e| api_failure(e, "delete a route", Area::Workers))?;
    }
    Ok(())
}

async fn apply_domains(
    ctx: &Ctx,
    worker: &WorkerName,
    add: Vec<(RouteSpec, Zone, bool)>,
    delete: Vec<Domain>,
) -> Result<()> {
    for (r, zone, take) in &add {
        let body = DomainBody {
            hostname: &r.pattern,
            service: worker.as_str(),
            zone_id: &zone.id,
            zone_name: &zone.name,
            override_existing_origin: *take,
            override_existing_dns_record: *take,
        };
        match ctx.client.put_domain(&body).await {
            Ok(_) => {}
            // A DNS record cannot be seen before: Cloudflare's refusal names it (§T.3).
            Err(e) if e.has_code(100_117) => {
                return Err(Error::Input(InputError::new(
                    Key::Takeover,
                    format!(
                        "is off, and hostname `{}` already has a DNS record that no custom domain manages: the custom domain was not attached (the version is deployed). Set {} to replace the record, or delete it",
                        r.pattern,
                        hint::set(Key::Takeover, "true")
                    ),
                )));
            }
            Err(e) => return Err(api_failure(e, &format!("attach custom domain `{}`", r.pattern), Area::Workers)),
        }
    }
    for d in &delete {
        ctx.client
            .delete_domain(&d.id)
            .await
            .map_err(|e| api_failure(e, &format!("detach custom domain `{}`", d.hostname), Area::Workers))?;
    }
    Ok(())
}

async fn apply_consumers(ctx: &Ctx, worker: &WorkerName, writes: Vec<ConsumerWrite>) -> Result<()> {
    for w in writes {
        match w {
            ConsumerWrite::Update { queue_id, queue, consumer_id, body } => ctx
                .client
                .update_consumer(&queue_id, &consumer_id, &body)
                .await
                .map_err(|e| api_failure(e, &format!("update the consumer of queue `{queue}`"), Area::Workers))?,
            ConsumerWrite::Delete { queue_id, queue, consumer_id } => ctx
                .client
                .delete_consumer(&queue_id, &consumer_id)
                .await
                .map_err(|e| api_failure(e, &format!("remove a consumer of queue `{queue}`"), Area::Workers))?,
            ConsumerWrite::Create { queue_id, queue, body } => {
                // Never twice blindly: a lost answer is settled by reading the queue again.
                let send = || ctx.client.create_consumer(&queue_id, &body);
                let find = || async {
                    let found = list_queues(ctx)
                        .await?
                        .iter()
                        .find(|q| q.queue_id == queue_id)
                        .is_some_and(|q| q.consumers.iter().any(|c| c.worker() == Some(worker.as_str())));
                    Ok(found.then_some(()))
                };
                super::create::create_once(
                    ctx,
                    &format!("add this Worker as the consumer of queue `{queue}`"),
                    Area::Workers,
                    send,
                    find,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// The calls [`plan`] and [`apply`] make, for a dry run: the reads (in the order [`plan`] sends
/// them) and the writes, each said with the condition that decides it, since only the account
/// can tell what is live. Beside the real code so the two cannot drift apart (tests/it
/// `deploy_config::a_dry_run_plans_the_calls_a_real_first_deploy_sends` compares them).
#[allow(clippy::too_many_lines, reason = "the calls read top to bottom in the order plan and apply send them")]
pub(crate) fn dry_run_calls(account: &str, name: &WorkerName, args: &Apply) -> (Vec<Call>, Vec<Call>) {
    use super::dry_run::call;
    let spec = &args.spec;
    let w = name.as_str();
    let zones = |method: &'static str, rest: &str, what: String| Call { method, path: format!("/zones{rest}"), what };
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    if spec.routes.is_some() {
        reads.push(call(
            "GET",
            account,
            "workers/scripts",
            "list the Workers: the routes this Worker has (the routes PUT replaces them whole)",
        ));
    }
    if spec.domains.is_some() {
        reads.push(call(
            "GET",
            account,
            "workers/domains",
            "list the account's custom domains: who holds each hostname",
        ));
    }
    if spec.crons.is_some() {
        reads.push(call("GET", account, &format!("workers/scripts/{w}/schedules"), "read the Worker's cron triggers"));
    }
    let settings_named = spec.observability.is_some()
        || spec.logpush.is_some()
        || spec.tail_consumers.is_some()
        || spec.environment_tags.is_some();
    if settings_named {
        reads.push(call("GET", account, &format!("workers/scripts/{w}/script-settings"), "read the Worker's settings"));
    }
    if spec.consumers.is_some() {
        reads.push(call(
            "GET",
            account,
            "queues?page=1&per_page=100",
            "list the account's queues and their consumers (every page)",
        ));
    }
    // The zone lookups, by name, each name once (as [`Zones`] caches them): a route's
    // `zone_name`, else its host and each parent domain until one is a zone of the account.
    let mut looked: Vec<String> = Vec::new();
    let mut lookup = |names: Vec<String>, of: &str, reads: &mut Vec<Call>| {
        for n in names {
            if looked.contains(&n) {
                continue;
            }
            reads.push(zones(
                "GET",
                &format!("?name={n}&account.id={account}"),
                format!("find the zone `{n}` ({of}, only if the Worker does not have it yet; the first zone found ends the search)"),
            ));
            looked.push(n);
        }
    };
    let candidates = |host: &str| {
        let mut out = Vec::new();
        let mut host = host.to_owned();
        while host.contains('.') {
            out.push(host.clone());
            host = host.split_once('.').map(|(_, rest)| rest.to_owned()).unwrap_or_default();
        }
        out
    };
    if let Some(routes) = &spec.routes {
        let patterns: Vec<&str> = routes.iter().map(|r| r.pattern.as_str()).collect();
        for (n, r) in routes.iter().enumerate() {
            let names = match (&r.zone_id, &r.zone_name) {
                (Some(_), _) => Vec::new(),
                (None, Some(n)) => vec![n.clone()],
                (None, None) => candidates(&host_of(&r.pattern)),
            };
            lookup(names, &format!("route `{}`", r.pattern), &mut reads);
            // Each route's zone is read right after it is found, once per zone.
            if n == 0 {
                reads.push(zones(
                    "GET",
                    "/{zone_id}/workers/routes",
                    format!(
                        "list the zone's Worker routes (once per zone of a route the Worker does not have yet): who holds {}",
                        patterns.join(", ")
                    ),
                ));
            }
        }
    }
    if let Some(domains) = &spec.domains {
        for d in domains {
            let names = match &d.zone_name {
                Some(n) => vec![n.clone()],
                None => candidates(&d.pattern.to_ascii_lowercase()),
            };
            lookup(names, &format!("custom domain `{}`", d.pattern), &mut reads);
        }
    }
    if let Some(wanted) = spec.workflows.as_ref().filter(|w| !w.is_empty()) {
        for wf in wanted {
            reads.push(call("GET", account, &format!("workflows/{}", wf.name), format!("read Workflow `{}`", wf.name)));
        }
    }
    // The writes, in the order [`apply`] starts them (each kind beside the others).
    if let Some(routes) = &spec.routes {
        if args.takeover {
            writes.push(zones(
                "PUT",
                "/{zone_id}/workers/routes/{route_id}",
                "give this Worker a route another Worker holds (takeover), only for such a route".to_owned(),
            ));
        }
        let patterns: Vec<&str> = routes.iter().map(|r| r.pattern.as_str()).collect();
        if !routes.is_empty() {
            writes.push(call(
                "PUT",
                account,
                &format!("workers/scripts/{w}/routes"),
                format!(
                    "set the Worker's routes to {}, only if they differ ({})",
                    patterns.join(", "),
                    if args.prune {
                        "prune: the routes it has that the configuration does not list are removed"
                    } else {
                        "the routes it has that the configuration does not list are kept; prune: true removes them"
                    }
                ),
            ));
        } else if args.prune {
            writes.push(zones(
                "DELETE",
                "/{zone_id}/workers/routes/{route_id}",
                "delete each route the Worker has (prune: the configuration lists none)".to_owned(),
            ));
        }
    }
    if let Some(domains) = &spec.domains {
        for d in domains {
            writes.push(call(
                "PUT",
                account,
                "workers/domains",
                format!(
                    "attach custom domain `{}` to this Worker, only if it does not hold it{}",
                    d.pattern,
                    if args.takeover {
                        " (takeover: over another Worker's, and over a DNS record on the hostname)"
                    } else {
                        " (one another Worker holds stops the step before any write, unless takeover: true)"
                    }
                ),
            ));
        }
        if args.prune {
            writes.push(call(
                "DELETE",
                account,
                "workers/domains/{domain_id}",
                "detach each custom domain of this Worker the configuration does not list (prune)",
            ));
        }
    }
    if let Some(crons) = &spec.crons {
        writes.push(call(
            "PUT",
            account,
            &format!("workers/scripts/{w}/schedules"),
            format!("set the cron triggers, only if the live crons differ from [{}]", crons.join(", ")),
        ));
    }
    if let Some(consumers) = &spec.consumers {
        for c in consumers {
            if args.takeover {
                writes.push(call(
                    "DELETE",
                    account,
                    "queues/{queue_id}/consumers/{consumer_id}",
                    format!(
                        "remove the consumer of queue `{}`, only if another Worker consumes it (takeover)",
                        c.queue
                    ),
                ));
            }
            let mut body = Value::Object(c.settings.clone()).to_string();
            if let Some(d) = &c.dead_letter_queue {
                body.push_str(&format!(", dead-letter queue `{d}`"));
            }
            writes.push(call(
                "POST",
                account,
                "queues/{queue_id}/consumers",
                format!(
                    "add this Worker as the consumer of queue `{}` with {body}, only if it is not yet (if it is with other settings: PUT queues/{{queue_id}}/consumers/{{consumer_id}} instead)",
                    c.queue
                ),
            ));
        }
        if args.prune {
            writes.push(call(
                "DELETE",
                account,
                "queues/{queue_id}/consumers/{consumer_id}",
                "remove this Worker as the consumer of each queue the configuration does not list (prune)",
            ));
        }
    }
    if settings_named {
        let mut keys = Vec::new();
        if let Some(o) = &spec.observability {
            keys.push(format!("observability {o}"));
        }
        if let Some(l) = spec.logpush {
            keys.push(format!("logpush {l}"));
        }
        if let Some(t) = &spec.tail_consumers {
            keys.push(format!("tail_consumers {}", Value::Array(t.clone())));
        }
        if let Some(t) = &spec.environment_tags {
            keys.push(format!("tags {} (the Worker's other tags kept)", json!(t)));
        }
        writes.push(call(
            "PATCH",
            account,
            &format!("workers/scripts/{w}/script-settings"),
            format!("set, of {}, only those that differ", keys.join("; ")),
        ));
    }
    if let Some(wanted) = spec.workflows.as_ref().filter(|w| !w.is_empty()) {
        for wf in wanted {
            writes.push(call(
                "PUT",
                account,
                &format!("workflows/{}", wf.name),
                format!(
                    "create or update Workflow `{}` (class {}), only if absent, its class differs or it has limits{}",
                    wf.name,
                    wf.class_name,
                    if args.takeover { "; taken from another Worker (takeover)" } else { "" }
                ),
            ));
        }
    }
    (reads, writes)
}
