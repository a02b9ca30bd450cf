//! What `wrangler deploy` (and `workers-ci version` with `deploy: true`) applies beyond the
//! upload (docs/cloudflare-api.md §T): zones and their routes, a script's routes, custom
//! domains, cron schedules, queues and their consumers, and the script settings that are not
//! versioned (observability, logpush, tail consumers, tags).
//!
//! Reads answer what the writes left, so a client that reconciles (read, compare, write what
//! differs) can be checked to make no write on a re-run. Where Cloudflare documents no answer
//! the choice is marked `INFERRED` and listed in docs/api-assumptions.md.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::Request;
use crate::config::SimConfig;
use crate::envelope::{self, Reply};
use crate::state::State;
use crate::{random, time};

/// A zone of the account.
#[derive(Clone, Debug)]
pub struct Zone {
    pub id: String,
    pub name: String,
}

/// A zone route (§T.2): a pattern in a zone, running a script or none.
#[derive(Clone, Debug)]
pub struct RouteRec {
    pub id: String,
    pub zone_id: String,
    pub pattern: String,
    pub script: Option<String>,
}

/// A custom domain (§T.3).
#[derive(Clone, Debug)]
pub struct DomainRec {
    pub id: String,
    pub hostname: String,
    pub service: String,
    pub zone_id: String,
    pub zone_name: String,
}

/// A queue and its consumers (§T.5), consumers as the API shows them.
#[derive(Clone, Debug)]
pub struct Queue {
    pub id: String,
    pub name: String,
    pub created_on: String,
    pub consumers: Vec<Value>,
}

/// Everything above, for the account.
#[derive(Clone, Debug, Default)]
pub struct TriggerStore {
    pub zones: Vec<Zone>,
    pub routes: Vec<RouteRec>,
    pub domains: Vec<DomainRec>,
    /// Hostnames with a DNS record no custom domain manages.
    pub dns_records: Vec<String>,
    pub queues: Vec<Queue>,
    /// Workflows, as `PUT /workflows/{name}` answers them (§T.10).
    pub workflows: Vec<Value>,
}

/// A zone's id when the config gives none: derived from its name, so two simulators seeded
/// alike answer alike (the oracle test compares them).
fn zone_id(name: &str) -> String {
    blake3::hash(name.as_bytes()).to_hex()[..32].to_owned()
}

impl TriggerStore {
    pub fn seeded(config: &SimConfig) -> TriggerStore {
        let mut t = TriggerStore::default();
        for z in &config.zones {
            let id = z.id.clone().unwrap_or_else(|| zone_id(&z.name));
            for r in &z.routes {
                t.routes.push(RouteRec {
                    id: random::hex(16),
                    zone_id: id.clone(),
                    pattern: r.pattern.clone(),
                    script: r.script.clone(),
                });
            }
            t.zones.push(Zone { id, name: z.name.clone() });
        }
        for d in &config.custom_domains {
            if let Some(z) = t.zone_of_host(&d.hostname).cloned() {
                t.domains.push(DomainRec {
                    id: random::hex(16),
                    hostname: d.hostname.clone(),
                    service: d.service.clone(),
                    zone_id: z.id,
                    zone_name: z.name,
                });
            }
        }
        t.dns_records.clone_from(&config.dns_records);
        for q in &config.queues {
            t.queues.push(new_queue(q));
        }
        t
    }

    /// The zone a hostname is in: the zone of that name, else of a parent domain (the most
    /// specific one).
    fn zone_of_host(&self, host: &str) -> Option<&Zone> {
        self.zones
            .iter()
            .filter(|z| host == z.name || host.ends_with(&format!(".{}", z.name)))
            .max_by_key(|z| z.name.len())
    }
}

fn new_queue(name: &str) -> Queue {
    Queue { id: random::hex(16), name: name.to_owned(), created_on: time::now(), consumers: Vec::new() }
}

/// The host of a route pattern (`*.example.com/api/*` → `example.com` with its wildcard label
/// dropped, `https://a.example.com/*` → `a.example.com`): what decides its zone (§T.2).
fn pattern_host(pattern: &str) -> String {
    let rest = pattern.split_once("://").map_or(pattern, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or_default();
    host.trim_start_matches("*.").trim_start_matches('*').to_ascii_lowercase()
}

/// Requests under `/zones` (not account-scoped).
pub fn zone_route(state: &mut State, req: &Request) -> Option<Reply> {
    let t = &mut state.triggers;
    let reply = match (req.method, req.segs.as_slice()) {
        // §T.1: `name` is an exact match; `account.id` narrows to this account (the only one).
        ("GET", ["zones"]) => {
            if req.query.get("account.id").is_some_and(|a| *a != state.config.account_id) {
                return Some(page(Vec::new(), 1, 20, 0));
            }
            let items: Vec<Value> = t
                .zones
                .iter()
                .filter(|z| req.query.get("name").is_none_or(|n| *n == z.name))
                .map(|z| zone_json(z, &state.config.account_id))
                .collect();
            let n = items.len();
            page(items, 1, 20, n)
        }
        ("GET", ["zones", zone, "workers", "routes"]) => match t.zones.iter().find(|z| z.id == *zone) {
            Some(_) => {
                let routes: Vec<Value> = t.routes.iter().filter(|r| r.zone_id == *zone).map(route_json).collect();
                envelope::reply(Value::Array(routes))
            }
            None => zone_not_found(),
        },
        ("POST", ["zones", zone, "workers", "routes"]) => {
            let zone = (*zone).to_owned();
            return Some(create_zone_route(state, &zone, req.body));
        }
        ("GET" | "PUT" | "DELETE", ["zones", zone, "workers", "routes", id]) => {
            if !t.zones.iter().any(|z| z.id == *zone) {
                return Some(zone_not_found());
            }
            let Some(i) = t.routes.iter().position(|r| r.zone_id == *zone && r.id == *id) else {
                return Some(envelope::fail(404, 10020, "Route not found"));
            };
            match req.method {
                "GET" => envelope::reply(route_json(&t.routes[i])),
                "DELETE" => {
                    let r = t.routes.remove(i);
                    envelope::reply(json!({ "id": r.id }))
                }
                _ => {
                    let Ok(body) = serde_json::from_slice::<Value>(req.body) else {
                        return Some(envelope::bad_request("Request body is not valid JSON"));
                    };
                    let Some(pattern) = body.get("pattern").and_then(Value::as_str) else {
                        return Some(envelope::bad_request("pattern is required"));
                    };
                    let script = body.get("script").and_then(Value::as_str).map(str::to_owned);
                    if let Some(s) = &script
                        && !state.workers.iter().any(|w| w.name == *s)
                    {
                        return Some(envelope::fail(400, 10019, "Worker not found for route"));
                    }
                    let t = &mut state.triggers;
                    if t.routes.iter().any(|r| r.zone_id == *zone && r.pattern == pattern && r.id != *id) {
                        return Some(envelope::fail(409, 10020, "A route with this pattern already exists"));
                    }
                    pattern.clone_into(&mut t.routes[i].pattern);
                    t.routes[i].script = script;
                    envelope::reply(route_json(&t.routes[i]))
                }
            }
        }
        _ => return None,
    };
    Some(reply)
}

fn page(items: Vec<Value>, page: usize, per_page: usize, total: usize) -> Reply {
    let info = json!({
        "page": page, "per_page": per_page, "count": items.len(), "total_count": total,
        "total_pages": total.div_ceil(per_page.max(1)).max(1),
    });
    (200, envelope::ok_page(items, info))
}

/// A zone with every field the spec requires (§T.1), values of a plain active zone.
fn zone_json(z: &Zone, account: &str) -> Value {
    json!({
        "id": z.id, "name": z.name, "status": "active", "paused": false, "type": "full",
        "development_mode": 0,
        "account": { "id": account, "name": "Simulated account" },
        "owner": { "id": account, "name": "Simulated account", "type": "organization" },
        "meta": { "cdn_only": false, "dns_only": false, "foundation_dns": false, "page_rule_quota": 3, "phishing_detected": false, "custom_certificate_quota": 0 },
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": null, "original_registrar": null, "original_dnshost": null,
        "created_on": "2026-01-01T00:00:00Z", "modified_on": "2026-01-01T00:00:00Z", "activated_on": "2026-01-01T00:00:00Z",
        "plan": { "id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website", "price": 0, "currency": "USD", "frequency": "", "is_subscribed": false, "can_subscribe": false, "legacy_id": "free", "legacy_discount": false, "externally_managed": false },
    })
}

/// INFERRED: the zone API's "not found" (code 7003 is the generic "no route" of v4).
fn zone_not_found() -> Reply {
    envelope::fail(404, 7003, "Could not route to /zones/..., perhaps your object identifier is invalid?")
}

fn route_json(r: &RouteRec) -> Value {
    let mut v = json!({ "id": r.id, "pattern": r.pattern });
    if let Some(s) = &r.script {
        v["script"] = json!(s);
    }
    v
}

/// `POST /zones/{zone}/workers/routes` (§T.2): a pattern once per zone; its host in the zone
/// (10022); the script must exist (10019).
fn create_zone_route(state: &mut State, zone: &str, body: &[u8]) -> Reply {
    let Some(z) = state.triggers.zones.iter().find(|z| z.id == zone).cloned() else {
        return zone_not_found();
    };
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return envelope::bad_request("Request body is not valid JSON");
    };
    let Some(pattern) = body.get("pattern").and_then(Value::as_str) else {
        return envelope::bad_request("pattern is required");
    };
    let script = body.get("script").and_then(Value::as_str).map(str::to_owned);
    if let Some(s) = &script
        && !state.workers.iter().any(|w| w.name == *s)
    {
        return envelope::fail(400, 10019, "Worker not found for route");
    }
    let host = pattern_host(pattern);
    if !(host == z.name || host.ends_with(&format!(".{}", z.name))) {
        return envelope::fail(400, 10022, "Route pattern must include zone name");
    }
    let t = &mut state.triggers;
    if let Some(r) = t.routes.iter().find(|r| r.zone_id == zone && r.pattern == pattern) {
        let owner = r.script.clone().unwrap_or_default();
        return envelope::fail(409, 10020, &format!("A route with the same pattern already exists ({owner})"));
    }
    let r = RouteRec { id: random::hex(16), zone_id: zone.to_owned(), pattern: pattern.to_owned(), script };
    t.routes.push(r.clone());
    envelope::reply(route_json(&r))
}

/// Requests under `/accounts/{id}`.
pub fn route(state: &mut State, req: &Request) -> Option<Reply> {
    let exists = |state: &State, name: &str| state.workers.iter().position(|w| w.name == name);
    let reply = match (req.method, req.segs.as_slice()) {
        ("GET", ["workers", "scripts", name, "routes"]) => match exists(state, name) {
            Some(_) => envelope::reply(Value::Array(script_routes(state, name))),
            None => not_found(),
        },
        ("PUT", ["workers", "scripts", name, "routes"]) => match exists(state, name) {
            Some(_) => {
                let name = (*name).to_owned();
                put_script_routes(state, &name, req.body)
            }
            None => not_found(),
        },
        ("GET", ["workers", "domains"]) => {
            let keep = |d: &&DomainRec| {
                [
                    ("service", &d.service),
                    ("hostname", &d.hostname),
                    ("zone_id", &d.zone_id),
                    ("zone_name", &d.zone_name),
                ]
                .iter()
                .all(|(k, v)| req.query.get(*k).is_none_or(|q| q == *v))
            };
            let items: Vec<Value> = state.triggers.domains.iter().filter(keep).map(domain_json).collect();
            envelope::reply(Value::Array(items))
        }
        ("GET" | "DELETE", ["workers", "domains", id]) => {
            match state.triggers.domains.iter().position(|d| d.id == *id) {
                Some(i) if req.method == "GET" => envelope::reply(domain_json(&state.triggers.domains[i])),
                Some(i) => {
                    state.triggers.domains.remove(i);
                    envelope::reply(Value::Null)
                }
                None => envelope::fail(404, 100_114, "Domain not found"),
            }
        }
        ("PUT", ["workers", "domains"]) => put_domain(state, req.body),
        ("PUT", ["workers", "scripts", name, "domains", "records"]) => match exists(state, name) {
            Some(_) => {
                let name = (*name).to_owned();
                put_domain_records(state, &name, req.body)
            }
            None => not_found(),
        },
        ("GET", ["workers", "scripts", name, "schedules"]) => match exists(state, name) {
            Some(i) => envelope::reply(json!({ "schedules": state.workers[i].schedules })),
            None => not_found(),
        },
        ("PUT", ["workers", "scripts", name, "schedules"]) => match exists(state, name) {
            Some(i) => put_schedules(&mut state.workers[i].schedules, req.body),
            None => not_found(),
        },
        ("GET", ["workers", "scripts", name, "script-settings"]) => match exists(state, name) {
            Some(i) => envelope::reply(state.workers[i].settings.clone()),
            None => not_found(),
        },
        ("PATCH", ["workers", "scripts", name, "script-settings"]) => match exists(state, name) {
            Some(i) => match serde_json::from_slice::<Value>(req.body) {
                Ok(Value::Object(patch)) => match patch_settings(&mut state.workers[i].settings, &patch) {
                    Ok(()) => envelope::reply(state.workers[i].settings.clone()),
                    Err(r) => r,
                },
                _ => envelope::bad_request("Request body must be a JSON object"),
            },
            None => not_found(),
        },
        ("GET", ["workflows", name]) => match state.triggers.workflows.iter().find(|w| w["name"] == *name) {
            Some(w) => envelope::reply(w.clone()),
            // The code wrangler reads as "no such Workflow" (§T.10); the status is INFERRED.
            None => envelope::fail(404, 10_200, "Workflow not found"),
        },
        ("PUT", ["workflows", name]) => {
            let name = (*name).to_owned();
            put_workflow(state, &name, req.body)
        }
        _ => return queue_route(state, req),
    };
    Some(reply)
}

/// Queues and their consumers (§T.5).
fn queue_route(state: &mut State, req: &Request) -> Option<Reply> {
    let reply = match (req.method, req.segs.as_slice()) {
        ("GET", ["queues"]) => list_queues(state, req),
        ("POST", ["queues"]) => create_queue(state, req.body),
        ("GET", ["queues", q]) => match state.triggers.queues.iter().find(|x| x.id == *q) {
            Some(q) => envelope::reply(queue_json(q)),
            None => queue_not_found(),
        },
        ("GET", ["queues", q, "consumers"]) => match state.triggers.queues.iter().find(|x| x.id == *q) {
            Some(q) => envelope::reply(Value::Array(q.consumers.clone())),
            None => queue_not_found(),
        },
        ("POST", ["queues", q, "consumers"]) => {
            let q = (*q).to_owned();
            put_consumer(state, &q, None, req.body)
        }
        ("PUT" | "DELETE", ["queues", q, "consumers", c]) => {
            let (q, c) = ((*q).to_owned(), (*c).to_owned());
            if req.method == "DELETE" {
                let Some(queue) = state.triggers.queues.iter_mut().find(|x| x.id == q) else {
                    return Some(queue_not_found());
                };
                let before = queue.consumers.len();
                queue.consumers.retain(|x| x["consumer_id"] != c.as_str());
                if queue.consumers.len() == before {
                    return Some(envelope::fail(404, 11_005, "Consumer not found"));
                }
                envelope::reply(Value::Null)
            } else {
                put_consumer(state, &q, Some(&c), req.body)
            }
        }
        _ => return None,
    };
    Some(reply)
}

fn not_found() -> Reply {
    envelope::not_found("This Worker does not exist on your account.")
}

/// The script's routes across zones, as the scripts list shows them (`{id, pattern, script}`,
/// docs/cloudflare-api.md §T.2).
pub fn script_routes(state: &State, name: &str) -> Vec<Value> {
    state.triggers.routes.iter().filter(|r| r.script.as_deref() == Some(name)).map(route_json).collect()
}

/// `PUT /workers/scripts/{name}/routes` (§T.2): the script's routes become exactly these.
/// Every pattern's zone must be in the account (10022), and a pattern another script (or no
/// script) holds is refused (10013): checked for all before anything changes. An empty list
/// is refused: whether Cloudflare takes it to clear the routes is open (§T.9), INFERRED.
fn put_script_routes(state: &mut State, name: &str, body: &[u8]) -> Reply {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return envelope::bad_request("Request body must be a JSON array of routes");
    };
    if items.is_empty() {
        return envelope::bad_request("At least one route is required");
    }
    let t = &state.triggers;
    let mut wanted: Vec<(String, String)> = Vec::new();
    for item in &items {
        let Some(pattern) = item.get("pattern").and_then(Value::as_str) else {
            return envelope::bad_request("Each route needs a pattern");
        };
        let zone = match (item.get("zone_id").and_then(Value::as_str), item.get("zone_name").and_then(Value::as_str)) {
            (Some(id), _) => t.zones.iter().find(|z| z.id == id),
            (None, Some(n)) => t.zones.iter().find(|z| z.name == n),
            (None, None) => t.zone_of_host(&pattern_host(pattern)),
        };
        let host = pattern_host(pattern);
        let Some(zone) = zone.filter(|z| host == z.name || host.ends_with(&format!(".{}", z.name))) else {
            return envelope::fail(400, 10022, &format!("Route pattern must include zone name: {pattern}"));
        };
        if let Some(r) = t.routes.iter().find(|r| r.zone_id == zone.id && r.pattern == pattern)
            && r.script.as_deref() != Some(name)
        {
            let owner = r.script.as_deref().unwrap_or("(no Worker)");
            return envelope::fail(
                409,
                10013,
                &format!("The route pattern '{pattern}' is already associated with another worker: {owner}"),
            );
        }
        if !wanted.iter().any(|(z, p)| *z == zone.id && p == pattern) {
            wanted.push((zone.id.clone(), pattern.to_owned()));
        }
    }
    let t = &mut state.triggers;
    t.routes.retain(|r| {
        r.script.as_deref() != Some(name) || wanted.iter().any(|(z, p)| *z == r.zone_id && *p == r.pattern)
    });
    for (zone, pattern) in wanted {
        if !t.routes.iter().any(|r| r.zone_id == zone && r.pattern == pattern) {
            t.routes.push(RouteRec { id: random::hex(16), zone_id: zone, pattern, script: Some(name.to_owned()) });
        }
    }
    envelope::reply(Value::Array(script_routes(state, name)))
}

fn domain_json(d: &DomainRec) -> Value {
    json!({
        "id": d.id, "hostname": d.hostname, "service": d.service, "environment": "production",
        "zone_id": d.zone_id, "zone_name": d.zone_name,
        "cert_id": format!("{}-{}-4{}-8{}-{}", &d.id[0..8], &d.id[8..12], &d.id[13..16], &d.id[17..20], &d.id[20..32]),
    })
}

/// One origin to attach, checked (§T.3).
struct Origin {
    hostname: String,
    zone: Zone,
}

/// Checks one custom domain: a hostname without `*` or `/`, in a zone of the account (by
/// `zone_id`, `zone_name` or the hostname), held by no other Worker unless
/// `override_existing_origin` (100116), on no DNS record it does not manage unless
/// `override_existing_dns_record` (100117). Both refusals are 409 (§T.3; the status is
/// INFERRED from reports).
fn check_origin(t: &TriggerStore, service: &str, o: &Value, origin: bool, dns: bool) -> Result<Origin, Reply> {
    let Some(hostname) = o.get("hostname").and_then(Value::as_str).map(str::to_ascii_lowercase) else {
        return Err(envelope::bad_request("hostname is required"));
    };
    if hostname.contains('*') || hostname.contains('/') || !hostname.contains('.') {
        return Err(envelope::fail(400, 100_119, &format!("Hostname '{hostname}' is not a valid hostname")));
    }
    let zone = match (o.get("zone_id").and_then(Value::as_str), o.get("zone_name").and_then(Value::as_str)) {
        (Some(id), name) => t.zones.iter().find(|z| z.id == id && name.is_none_or(|n| n == z.name)),
        (None, Some(n)) => t.zones.iter().find(|z| z.name == n),
        (None, None) => t.zone_of_host(&hostname),
    };
    let Some(zone) = zone.filter(|z| hostname == z.name || hostname.ends_with(&format!(".{}", z.name))).cloned() else {
        // INFERRED: the code for a hostname in no zone of the account.
        return Err(envelope::bad_request(&format!("Could not find a zone for hostname '{hostname}'")));
    };
    if let Some(d) = t.domains.iter().find(|d| d.hostname == hostname)
        && d.service != service
        && !origin
    {
        return Err(envelope::fail(
            409,
            100_116,
            &format!(
                "Hostname '{hostname}' already in use by other custom domain. Use the option 'override_existing_origin' to replace it."
            ),
        ));
    }
    if t.dns_records.contains(&hostname) && !dns {
        return Err(envelope::fail(
            409,
            100_117,
            &format!(
                "Hostname '{hostname}' already has externally managed DNS records (A, CNAME, etc). Either delete them, try a different hostname, or use the option 'override_existing_dns_record' to override."
            ),
        ));
    }
    Ok(Origin { hostname, zone })
}

/// Attaches a checked origin to `service`: its DNS record and any other Worker's claim on the
/// hostname are replaced.
fn attach(t: &mut TriggerStore, service: &str, o: Origin) -> DomainRec {
    t.dns_records.retain(|h| *h != o.hostname);
    if let Some(d) = t.domains.iter_mut().find(|d| d.hostname == o.hostname) {
        service.clone_into(&mut d.service);
        d.zone_id = o.zone.id;
        d.zone_name = o.zone.name;
        return d.clone();
    }
    let d = DomainRec {
        id: random::hex(16),
        hostname: o.hostname,
        service: service.to_owned(),
        zone_id: o.zone.id,
        zone_name: o.zone.name,
    };
    t.domains.push(d.clone());
    d
}

fn flag(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(false)
}

/// `PUT /workers/domains` (§T.3): attach one hostname to a Worker.
fn put_domain(state: &mut State, body: &[u8]) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return envelope::bad_request("Request body is not valid JSON");
    };
    let Some(service) = body.get("service").and_then(Value::as_str) else {
        return envelope::bad_request("service is required");
    };
    if !state.workers.iter().any(|w| w.name == service) {
        return not_found();
    }
    // The spec requires the zone by id and name on this endpoint (§T.3), unlike wrangler's
    // records PUT.
    if !["zone_id", "zone_name"].iter().all(|k| body.get(*k).is_some_and(Value::is_string)) {
        return envelope::bad_request("zone_id and zone_name are required");
    }
    let origin = check_origin(
        &state.triggers,
        service,
        &body,
        flag(&body, "override_existing_origin"),
        flag(&body, "override_existing_dns_record"),
    );
    match origin {
        Ok(o) => envelope::reply(domain_json(&attach(&mut state.triggers, service, o))),
        Err(r) => r,
    }
}

/// wrangler's `PUT /workers/scripts/{name}/domains/records` (§T.3): every origin checked
/// before any is attached. Domains of the script absent from `origins` are kept: whether
/// `override_scope` detaches them is open (§T.9), INFERRED.
fn put_domain_records(state: &mut State, name: &str, body: &[u8]) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return envelope::bad_request("Request body is not valid JSON");
    };
    let Some(origins) = body.get("origins").and_then(Value::as_array) else {
        return envelope::bad_request("origins is required");
    };
    let (o, d) = (flag(&body, "override_existing_origin"), flag(&body, "override_existing_dns_record"));
    let mut checked = Vec::new();
    for origin in origins {
        match check_origin(&state.triggers, name, origin, o, d) {
            Ok(c) => checked.push(c),
            Err(r) => return r,
        }
    }
    let attached: Vec<Value> =
        checked.into_iter().map(|c| domain_json(&attach(&mut state.triggers, name, c))).collect();
    envelope::reply(Value::Array(attached))
}

/// A cron expression's shape: five fields of digits, names, `*`, `/`, `,`, `-`, `?`, `L`, `W`,
/// `#` (§T.4). Which errors Cloudflare answers for a bad one is open (§T.9): 10021, INFERRED.
fn cron_ok(c: &str) -> bool {
    let fields: Vec<&str> = c.split_whitespace().collect();
    fields.len() == 5 && fields.iter().all(|f| f.chars().all(|ch| ch.is_ascii_alphanumeric() || "*/,-?#".contains(ch)))
}

/// `PUT /workers/scripts/{name}/schedules` (§T.4): replaces them all; `[]` removes all. An
/// unchanged cron keeps its `created_on`.
fn put_schedules(schedules: &mut Vec<Value>, body: &[u8]) -> Reply {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return envelope::bad_request("Request body must be a JSON array of schedules");
    };
    let now = time::now();
    let mut out: Vec<Value> = Vec::new();
    for item in &items {
        let Some(cron) = item.get("cron").and_then(Value::as_str) else {
            return envelope::bad_request("Each schedule needs a cron");
        };
        if !cron_ok(cron) {
            return envelope::bad_request(&format!("Invalid cron expression: {cron}"));
        }
        if out.iter().any(|s| s["cron"] == cron) {
            continue;
        }
        let created =
            schedules.iter().find(|s| s["cron"] == cron).map_or_else(|| json!(now), |s| s["created_on"].clone());
        out.push(json!({ "cron": cron, "created_on": created, "modified_on": now }));
    }
    *schedules = out;
    envelope::reply(json!({ "schedules": schedules }))
}

/// A Worker's settings before anything set them (§T.6; the defaults a new Worker shows are
/// INFERRED).
pub fn default_settings() -> Value {
    json!({ "logpush": false, "observability": null, "tags": [], "tail_consumers": null })
}

/// `PATCH …/script-settings` (§T.6): each key given replaces the stored one; a key not given
/// stays. Types are checked; a sampling rate outside 0..1 is 100308 (§1.5).
pub fn patch_settings(settings: &mut Value, patch: &Map<String, Value>) -> Result<(), Reply> {
    for (k, v) in patch {
        let ok = match k.as_str() {
            "logpush" => v.is_boolean(),
            "observability" => v.is_null() || observability_ok(v)?,
            "tags" => v.is_null() || v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            "tail_consumers" => {
                v.is_null()
                    || v.as_array().is_some_and(|a| a.iter().all(|c| c.get("service").is_some_and(Value::is_string)))
            }
            // INFERRED: keys the settings schema lacks are refused, not dropped.
            _ => return Err(envelope::bad_request(&format!("Unknown script setting: {k}"))),
        };
        if !ok {
            return Err(envelope::bad_request(&format!("Invalid value for {k}")));
        }
    }
    for (k, v) in patch {
        settings[k] = v.clone();
    }
    Ok(())
}

fn observability_ok(v: &Value) -> Result<bool, Reply> {
    let Some(o) = v.as_object() else { return Ok(false) };
    if !o.get("enabled").is_some_and(Value::is_boolean) {
        return Ok(false);
    }
    let rates =
        [o.get("head_sampling_rate"), v.pointer("/logs/head_sampling_rate"), v.pointer("/traces/head_sampling_rate")];
    if rates.into_iter().flatten().any(|r| r.as_f64().is_none_or(|r| !(0.0..=1.0).contains(&r))) {
        return Err(envelope::fail(400, 100_308, "head_sampling_rate must be between 0 and 1"));
    }
    Ok(true)
}

/// `PUT /workflows/{name}` (§T.10): `script_name` and `class_name` required, the name as the
/// spec's pattern allows, the script deployed first ("Must be done after deploying the
/// corresponding script"; the code for one that is not is INFERRED). Creates or updates.
fn put_workflow(state: &mut State, name: &str, body: &[u8]) -> Reply {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return envelope::fail(400, 10_021, "Workflow name is invalid");
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return envelope::bad_request("Request body is not valid JSON");
    };
    let (Some(script), Some(class)) =
        (body.get("script_name").and_then(Value::as_str), body.get("class_name").and_then(Value::as_str))
    else {
        return envelope::bad_request("script_name and class_name are required");
    };
    if !state.workers.iter().any(|w| w.name == script && !w.versions.is_empty()) {
        return envelope::fail(400, 10_021, "The script must be deployed before its Workflow");
    }
    if body.pointer("/limits/steps").is_some_and(|s| s.as_u64().is_none_or(|n| n < 1)) {
        return envelope::bad_request("limits.steps must be at least 1");
    }
    let now = time::now();
    let version = random::uuid_v4();
    let t = &mut state.triggers;
    if let Some(w) = t.workflows.iter_mut().find(|w| w["name"] == name) {
        w["script_name"] = json!(script);
        w["class_name"] = json!(class);
        w["modified_on"] = json!(now);
        w["version_id"] = json!(version);
        return envelope::reply(w.clone());
    }
    let w = json!({
        "id": random::uuid_v4(), "name": name, "script_name": script, "class_name": class,
        "created_on": now, "modified_on": now, "version_id": version, "triggered_on": null,
        "is_deleted": 0, "terminator_running": 0,
    });
    t.workflows.push(w.clone());
    envelope::reply(w)
}

fn queue_not_found() -> Reply {
    envelope::fail(404, 11_000, "Queue not found")
}

fn queue_json(q: &Queue) -> Value {
    json!({
        "queue_id": q.id, "queue_name": q.name, "created_on": q.created_on, "modified_on": q.created_on,
        "producers": [], "producers_total_count": 0,
        "consumers": q.consumers, "consumers_total_count": q.consumers.len(),
        "settings": { "delivery_delay": 0, "delivery_paused": false, "message_retention_period": 345_600 },
    })
}

/// `GET /queues` (§T.5): page-paginated (`page` from 1, `per_page` 20 by default, INFERRED);
/// `name` keeps the queue of exactly that name (exact or prefix is open, §T.9: exact).
fn list_queues(state: &State, req: &Request) -> Reply {
    let all: Vec<&Queue> =
        state.triggers.queues.iter().filter(|q| req.query.get("name").is_none_or(|n| *n == q.name)).collect();
    let per_page = req.number("per_page").unwrap_or(20).clamp(1, 100);
    let p = req.number("page").unwrap_or(1).max(1);
    let items: Vec<Value> = all.iter().skip((p - 1) * per_page).take(per_page).map(|q| queue_json(q)).collect();
    page(items, p, per_page, all.len())
}

/// `POST /queues {queue_name}` (§T.5): names of lowercase letters, digits and `-`, at most 63
/// (INFERRED from the dashboard's rule); a name taken is 409 (code INFERRED).
fn create_queue(state: &mut State, body: &[u8]) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return envelope::bad_request("Request body is not valid JSON");
    };
    let Some(name) = body.get("queue_name").and_then(Value::as_str) else {
        return envelope::fail(400, 11_001, "queue_name is required");
    };
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return envelope::fail(400, 11_001, "Queue name is invalid");
    }
    if state.triggers.queues.iter().any(|q| q.name == name) {
        return envelope::fail(409, 11_009, "A queue with this name already exists");
    }
    let q = new_queue(name);
    let answer = queue_json(&q);
    state.triggers.queues.push(q);
    envelope::reply(answer)
}

/// `POST /queues/{id}/consumers` and `PUT …/consumers/{consumer}` (§T.5): a Worker consumer
/// of an existing script, a dead-letter queue that exists and is not the queue itself, and one
/// Worker consumer per queue ("a queue can only have one active consumer", code INFERRED).
fn put_consumer(state: &mut State, queue: &str, consumer: Option<&str>, body: &[u8]) -> Reply {
    let Some(qi) = state.triggers.queues.iter().position(|x| x.id == queue) else {
        return queue_not_found();
    };
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return envelope::fail(400, 11_001, "Request body is not valid JSON");
    };
    if body.get("type").and_then(Value::as_str) != Some("worker") {
        return envelope::fail(400, 11_001, "type must be \"worker\"");
    }
    let Some(script) = body.get("script_name").and_then(Value::as_str) else {
        return envelope::fail(400, 11_001, "script_name is required");
    };
    if !state.workers.iter().any(|w| w.name == script) {
        return envelope::fail(404, 10_007, "Worker not found");
    }
    let qname = state.triggers.queues[qi].name.clone();
    let dlq = match body.get("dead_letter_queue") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(d)) if d.is_empty() => String::new(),
        Some(Value::String(d)) if *d != qname && state.triggers.queues.iter().any(|q| q.name == *d) => d.clone(),
        Some(_) => return envelope::fail(400, 11_001, "dead_letter_queue must name another existing queue"),
    };
    let mut settings = Map::new();
    if let Some(Value::Object(s)) = body.get("settings") {
        for (k, v) in s {
            let ok = match k.as_str() {
                "batch_size" => v.as_u64().is_some_and(|n| (1..=100).contains(&n)),
                "max_retries" => v.as_u64().is_some_and(|n| n <= 100),
                "max_wait_time_ms" => v.as_u64().is_some_and(|n| n <= 60_000),
                "max_concurrency" => v.is_null() || v.as_u64().is_some_and(|n| (1..=250).contains(&n)),
                "retry_delay" => v.as_u64().is_some_and(|n| n <= 43_200),
                _ => false,
            };
            if !ok {
                return envelope::fail(400, 11_001, &format!("Invalid consumer setting: {k}"));
            }
            settings.insert(k.clone(), v.clone());
        }
    }
    let q = &mut state.triggers.queues[qi];
    let others =
        q.consumers.iter().filter(|c| c["type"] == "worker" && consumer.is_none_or(|id| c["consumer_id"] != id));
    if others.count() > 0 {
        return envelope::fail(409, 11_004, "This queue already has a Worker consumer");
    }
    let created = match consumer {
        Some(id) => match q.consumers.iter().find(|c| c["consumer_id"] == id) {
            Some(c) => c["created_on"].clone(),
            None => return envelope::fail(404, 11_005, "Consumer not found"),
        },
        None => json!(time::rfc3339(SystemTime::now())),
    };
    let id = consumer.map_or_else(|| random::hex(16), str::to_owned);
    // `script` beside the spec's `script_name`: what wrangler matches an existing consumer by
    // (§T.5), INFERRED to be in the answer too.
    let c = json!({
        "consumer_id": id, "type": "worker", "queue_name": qname, "script_name": script, "script": script,
        "dead_letter_queue": dlq, "settings": settings, "created_on": created,
    });
    q.consumers.retain(|x| x["consumer_id"] != id.as_str());
    q.consumers.push(c.clone());
    envelope::reply(c)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::config::{DomainSeed, RouteSeed, SimConfig, WorkerSeed, ZoneSeed};
    use crate::routes::{handle, handle_zones};
    use crate::state::State;

    fn state() -> State {
        State::new(SimConfig {
            workers: vec![WorkerSeed::default(), WorkerSeed { name: "other".into(), ..WorkerSeed::default() }],
            zones: vec![ZoneSeed {
                name: "example.com".into(),
                id: None,
                routes: vec![RouteSeed { pattern: "example.com/taken/*".into(), script: Some("other".into()) }],
            }],
            custom_domains: vec![DomainSeed { hostname: "owned.example.com".into(), service: "other".into() }],
            dns_records: vec!["dns.example.com".into()],
            queues: vec!["jobs".into(), "dead".into()],
            ..SimConfig::default()
        })
    }

    fn call(st: &mut State, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        handle(st, method, path, query, body.to_string().as_bytes())
    }

    fn code(r: &(u16, Value)) -> Option<i64> {
        r.1["errors"][0]["code"].as_i64()
    }

    #[test]
    fn zones_are_found_by_exact_name_and_their_routes_listed() {
        let mut st = state();
        let r = handle_zones(&mut st, "GET", "/zones", "name=example.com", b"");
        assert_eq!(r.1["result"][0]["name"], "example.com");
        let zone = r.1["result"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(zone.len(), 32);
        let r = handle_zones(&mut st, "GET", "/zones", "name=a.example.com", b"");
        assert_eq!(r.1["result"], json!([]), "exact names only: the client walks up the labels");
        let r = handle_zones(&mut st, "GET", &format!("/zones/{zone}/workers/routes"), "", b"");
        assert_eq!(r.1["result"][0]["script"], "other");
    }

    #[test]
    fn script_routes_are_replaced_whole_and_never_taken_from_another_worker() {
        let mut st = state();
        let body =
            json!([{ "pattern": "example.com/a/*" }, { "pattern": "www.example.com/*", "zone_name": "example.com" }]);
        assert_eq!(call(&mut st, "PUT", "/workers/scripts/my-worker/routes", &body).0, 200);
        let r = call(&mut st, "GET", "/workers/scripts/my-worker/routes", &Value::Null);
        assert_eq!(r.1["result"].as_array().unwrap().len(), 2);
        let r =
            call(&mut st, "PUT", "/workers/scripts/my-worker/routes", &json!([{ "pattern": "example.com/taken/*" }]));
        assert_eq!((r.0, code(&r)), (409, Some(10013)));
        let r = call(&mut st, "PUT", "/workers/scripts/my-worker/routes", &json!([{ "pattern": "elsewhere.org/*" }]));
        assert_eq!((r.0, code(&r)), (400, Some(10022)));
        assert_eq!(
            call(&mut st, "GET", "/workers/scripts/my-worker/routes", &Value::Null).1["result"]
                .as_array()
                .unwrap()
                .len(),
            2,
            "a refused PUT changes nothing"
        );
        assert_eq!(
            call(&mut st, "PUT", "/workers/scripts/my-worker/routes", &json!([{ "pattern": "example.com/a/*" }])).0,
            200
        );
        assert_eq!(
            call(&mut st, "GET", "/workers/scripts/my-worker/routes", &Value::Null).1["result"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(call(&mut st, "PUT", "/workers/scripts/my-worker/routes", &json!([])).0, 400);
    }

    #[test]
    fn custom_domains_need_the_override_flags_to_take_a_hostname_or_a_dns_record() {
        let mut st = state();
        let put = |st: &mut State, host: &str, extra: Value| {
            let zone = handle_zones(st, "GET", "/zones", "name=example.com", b"").1["result"][0]["id"].clone();
            let mut b =
                json!({ "hostname": host, "service": "my-worker", "zone_id": zone, "zone_name": "example.com" });
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            call(st, "PUT", "/workers/domains", &b)
        };
        let r = put(&mut st, "owned.example.com", json!({}));
        assert_eq!((r.0, code(&r)), (409, Some(100_116)));
        let r = put(&mut st, "dns.example.com", json!({}));
        assert_eq!((r.0, code(&r)), (409, Some(100_117)));
        assert_eq!(put(&mut st, "owned.example.com", json!({ "override_existing_origin": true })).0, 200);
        assert_eq!(put(&mut st, "dns.example.com", json!({ "override_existing_dns_record": true })).0, 200);
        let r = put(&mut st, "new.example.com", json!({}));
        assert_eq!(r.1["result"]["zone_name"], "example.com");
        let r = call(&mut st, "GET", "/workers/domains?service=my-worker", &Value::Null);
        assert_eq!(r.1["result"].as_array().unwrap().len(), 3);
        let r = put(&mut st, "*.example.com", json!({}));
        assert_eq!(r.0, 400);
        let r =
            call(&mut st, "PUT", "/workers/domains", &json!({ "hostname": "z.example.com", "service": "my-worker" }));
        assert_eq!(r.0, 400, "the zone is required");
        // wrangler's form: all or nothing.
        let b = json!({ "override_scope": true, "override_existing_origin": false, "override_existing_dns_record": false,
                        "origins": [{ "hostname": "x.example.com" }, { "hostname": "owned.example.com" }] });
        let mut st = state();
        let r = call(&mut st, "PUT", "/workers/scripts/my-worker/domains/records", &b);
        assert_eq!(code(&r), Some(100_116));
        assert!(
            call(&mut st, "GET", "/workers/domains?service=my-worker", &Value::Null).1["result"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn schedules_are_replaced_and_read_back() {
        let mut st = state();
        let r = call(
            &mut st,
            "PUT",
            "/workers/scripts/my-worker/schedules",
            &json!([{ "cron": "*/5 * * * *" }, { "cron": "0 3 * * mon" }]),
        );
        assert_eq!(r.0, 200, "{}", r.1);
        let r = call(&mut st, "GET", "/workers/scripts/my-worker/schedules", &Value::Null);
        assert_eq!(r.1["result"]["schedules"].as_array().unwrap().len(), 2);
        assert_eq!(
            call(&mut st, "PUT", "/workers/scripts/my-worker/schedules", &json!([{ "cron": "every minute" }])).0,
            400
        );
        assert_eq!(call(&mut st, "PUT", "/workers/scripts/nobody/schedules", &json!([])).0, 404);
        assert_eq!(call(&mut st, "PUT", "/workers/scripts/my-worker/schedules", &json!([])).0, 200);
        assert_eq!(
            call(&mut st, "GET", "/workers/scripts/my-worker/schedules", &Value::Null).1["result"]["schedules"],
            json!([])
        );
    }

    #[test]
    fn script_settings_patch_only_what_they_name() {
        let mut st = state();
        let p = "/workers/scripts/my-worker/script-settings";
        assert_eq!(call(&mut st, "PATCH", p, &json!({ "logpush": true })).0, 200);
        assert_eq!(call(&mut st, "PATCH", p, &json!({ "observability": { "enabled": true } })).0, 200);
        let r = call(&mut st, "GET", p, &Value::Null);
        assert_eq!(
            (r.1["result"]["logpush"].clone(), r.1["result"]["observability"]["enabled"].clone()),
            (json!(true), json!(true))
        );
        let r = call(&mut st, "PATCH", p, &json!({ "observability": { "enabled": true, "head_sampling_rate": 2 } }));
        assert_eq!(code(&r), Some(100_308));
        assert_eq!(call(&mut st, "PATCH", p, &json!({ "frobnicate": 1 })).0, 400);
    }

    #[test]
    fn queues_take_one_worker_consumer_each() {
        let mut st = state();
        let r = call(&mut st, "GET", "/queues?name=jobs", &Value::Null);
        let q = r.1["result"][0]["queue_id"].as_str().unwrap().to_owned();
        let body = json!({ "type": "worker", "script_name": "my-worker", "dead_letter_queue": "dead", "settings": { "batch_size": 10 } });
        let r = call(&mut st, "POST", &format!("/queues/{q}/consumers"), &body);
        assert_eq!(r.0, 200, "{}", r.1);
        let c = r.1["result"]["consumer_id"].as_str().unwrap().to_owned();
        let r = call(
            &mut st,
            "POST",
            &format!("/queues/{q}/consumers"),
            &json!({ "type": "worker", "script_name": "other" }),
        );
        assert_eq!(r.0, 409);
        let r = call(
            &mut st,
            "PUT",
            &format!("/queues/{q}/consumers/{c}"),
            &json!({ "type": "worker", "script_name": "my-worker", "settings": { "batch_size": 5 } }),
        );
        assert_eq!(r.1["result"]["settings"]["batch_size"], 5);
        let r = call(&mut st, "GET", "/queues?name=jobs", &Value::Null);
        assert_eq!(r.1["result"][0]["consumers"][0]["script"], "my-worker");
        assert_eq!(call(&mut st, "POST", "/queues", &json!({ "queue_name": "jobs" })).0, 409);
        assert_eq!(call(&mut st, "POST", "/queues", &json!({ "queue_name": "more" })).0, 200);
        assert_eq!(call(&mut st, "DELETE", &format!("/queues/{q}/consumers/{c}"), &Value::Null).0, 200);
    }
}
