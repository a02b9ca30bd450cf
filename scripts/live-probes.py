#!/usr/bin/env python3
"""Probes of the assumptions the simulator makes, against a real Cloudflare account.

Each probe settles one row of docs/api-assumptions.md and prints one line:
    PASS <probe>: <what was seen>     the simulator's assumption holds
    FAIL <probe>: <what was seen>     it does not: fix the simulator (and the client)
    SKIP <probe>: <why>               what it needs is not configured
Exit status: 1 if any probe failed, else 0.

Python standard library only. Works on a throwaway Worker named by LIVE_WORKER (created here
when absent; `--delete` removes it). Never prints the token.

Environment:
  CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID   required (a user-scoped token)
  LIVE_WORKER                                   the throwaway Worker's name
  CLOUDFLARE_API_BASE_URL                       default https://api.cloudflare.com/client/v4
  LIVE_BUILDS_TAG          optional: tag of a Worker with Workers Builds connected and >= 3 builds
  LIVE_BUILDS_TRIGGER      optional: one of its trigger uuids, with LIVE_BUILDS_SHORT_SHA (a 7-hex
                           prefix of a commit on that branch) to probe short SHAs (starts and
                           cancels one build)
  LIVE_ACCOUNT_TOKEN       optional: an account-scoped token, to see the error Builds gives it
  LIVE_ZONE                optional: a zone of the account, for the script routes probes
  LIVE_GITHUB_TOKEN, LIVE_GITHUB_REPO, LIVE_GITHUB_SHA
                           optional: a token with `statuses: write` on a scratch repository
                           (`owner/name`) and a full commit SHA of it, to probe commit statuses
                           (posts a few `success` statuses with contexts `workers-ci-probe/…`)
  LIVE_BUILDS_TAG_2        optional: a second Worker with Workers Builds, for one builds-by-version
                           read of two Workers' versions (row 81)
  LIVE_REPO_DIR            optional: a clone of LIVE_BUILDS_TAG's repository, to check that its
                           builds of one branch were created in commit order (row 80)
  LIVE_PROBE_ANALYTICS_LAG=1
                           optional: measure the analytics lag (row 91): 50 requests to the throwaway
                           Worker on workers.dev (enabled for the probe, disabled after), then the
                           GraphQL count polled every 10 s until it has them all; 3 to 15 minutes
"""

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ.get("CLOUDFLARE_API_BASE_URL", "https://api.cloudflare.com/client/v4").rstrip("/")
ACCOUNT = os.environ.get("CLOUDFLARE_ACCOUNT_ID", "")
TOKEN = os.environ.get("CLOUDFLARE_API_TOKEN", "")
WORKER = os.environ.get("LIVE_WORKER", "")
FAILED = []


def call(method, path, body=None, token=None, query="", content_type="application/json", headers=None):
    """(status, envelope, headers) of one request under the account; never raises on HTTP errors."""
    url = f"{BASE}/accounts/{ACCOUNT}{path}{('?' + query) if query else ''}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token or TOKEN}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null"), dict(r.headers)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            env = json.loads(raw)
        except ValueError:
            env = {"raw": raw[:200].decode(errors="replace")}
        return e.code, env, dict(e.headers)


def report(ok, probe, seen):
    word = "PASS" if ok else "FAIL"
    if not ok:
        FAILED.append(probe)
    print(f"{word} {probe}: {seen}", flush=True)


def skip(probe, why):
    print(f"SKIP {probe}: {why}", flush=True)


def codes(env):
    return [e.get("code") for e in (env or {}).get("errors") or []]


def header(headers, name):
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def module(text):
    return {
        "name": "index.js",
        "content_type": "application/javascript+module",
        "content_base64": base64.b64encode(text.encode()).decode(),
    }


def new_version(worker_id, bindings, deploy=False):
    body = {
        "compatibility_date": "2026-11-01",
        "main_module": "index.js",
        "modules": [module("export default { fetch() { return new Response('probe') } }\n")],
        "bindings": bindings,
    }
    return call("POST", f"/workers/workers/{worker_id}/versions", body, query=f"deploy={'true' if deploy else 'false'}")


def binding_names(worker_id, version_id):
    s, env, _ = call("GET", f"/workers/workers/{worker_id}/versions/{version_id}")
    return s, sorted(b.get("name") for b in ((env or {}).get("result") or {}).get("bindings") or [])


def build_output_subdir_main(wid):
    """Row 94: a Build Output's main module in a subdirectory, named by its full path, importing a
    sibling by a relative path; workers-ci names every module by its path under `bundle/`."""
    def part(name, text, ctype):
        return {"name": name, "content_type": ctype, "content_base64": base64.b64encode(text.encode()).decode()}
    body = {
        "compatibility_date": "2026-11-01",
        "main_module": "server/index.js",
        "modules": [
            part("server/index.js", 'import w from "./words.txt";\nexport default { fetch() { return new Response(w) } }\n',
                 "application/javascript+module"),
            part("server/words.txt", "probe words\n", "text/plain"),
        ],
        "bindings": [],
    }
    s, env, _ = call("POST", f"/workers/workers/{wid}/versions", body, query="deploy=false")
    result = (env or {}).get("result") or {}
    report(s == 200 and result.get("main_module") == "server/index.js", "build-output-subdir-main",
           f"HTTP {s} {codes(env)} main_module={result.get('main_module')!r}")


def build_output_observability_keys():
    """api-assumptions row 98: the snake_case observability keys a Build Output maps onto
    (`redact_query_string`, `issues`) are taken by the script settings. PASS: both read back."""
    body = {"observability": {"enabled": True, "redact_query_string": True, "issues": {"enabled": True}}}
    s, env, _ = call("PATCH", f"/workers/scripts/{WORKER}/script-settings", body)
    _, got, _ = call("GET", f"/workers/scripts/{WORKER}/script-settings")
    o = ((got or {}).get("result") or {}).get("observability") or {}
    report(s == 200 and o.get("redact_query_string") is True and (o.get("issues") or {}).get("enabled") is True,
           "build-output-observability-keys", f"HTTP {s} {codes(env)} observability={o}")


def binding_value_rules(wid):
    """api-assumptions row 101: a binding breaking its kind's value rule (an `r2_bucket`
    `jurisdiction` outside the schema's enum) is refused with 400 and 10021. PASS: exactly that."""
    body = {
        "compatibility_date": "2026-11-01",
        "main_module": "index.js",
        "modules": [{"name": "index.js", "content_type": "application/javascript+module",
                     "content_base64": base64.b64encode(b"export default { fetch() { return new Response('') } }\n").decode()}],
        "bindings": [{"type": "r2_bucket", "name": "B", "bucket_name": "probe-bucket", "jurisdiction": "mars"}],
    }
    s, env, _ = call("POST", f"/workers/workers/{wid}/versions", body, query="deploy=false")
    report(s == 400 and 10021 in codes(env), "binding-value-rules", f"HTTP {s} {codes(env)}")


def main():
    if not (TOKEN and ACCOUNT and WORKER):
        print("CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and LIVE_WORKER are required", file=sys.stderr)
        return 2
    if "--delete" in sys.argv:
        s, env, _ = call("DELETE", f"/workers/scripts/{WORKER}", query="force=true")
        print(f"deleted {WORKER}: HTTP {s} {codes(env)}")
        return 0

    # G-1: defaults of subdomain on create without `subdomain`. Simulator: both false (INFERRED,
    # after Terraform's client default; crates/simulator/src/routes/workers.rs).
    s, env, headers = call("POST", "/workers/workers", {"name": WORKER})
    if s != 200:
        report(False, "create-worker", f"HTTP {s} {codes(env)}")
        return 1
    worker = env["result"]
    wid = worker.get("id")
    sub = worker.get("subdomain") or {}
    report(
        sub.get("enabled") is False and sub.get("previews_enabled") is False,
        "subdomain-defaults-on-create",
        f"enabled={sub.get('enabled')} previews_enabled={sub.get('previews_enabled')}",
    )

    # Row 57, §G-31: the per-script subdomain POST with and without wrangler's date header.
    # The simulator refuses it without; a 200 both ways means the header only changes defaults.
    dated = {"Cloudflare-Workers-Script-Api-Date": "2025-08-01"}
    s1, env1, _ = call("POST", f"/workers/scripts/{WORKER}/subdomain", {"enabled": False})
    s2, env2, _ = call("POST", f"/workers/scripts/{WORKER}/subdomain", {"enabled": False}, headers=dated)
    report(s2 == 200 and s1 >= 400, "subdomain-post-api-date",
           f"without: HTTP {s1} {codes(env1)} {(env1 or {}).get('result')}; with: HTTP {s2} {(env2 or {}).get('result')}")

    # G-4 / §1.6: Ratelimit and Ratelimit-Policy on every family (Workers here, Builds below).
    rl, pol = header(headers, "ratelimit"), header(headers, "ratelimit-policy")
    report(bool(rl and "r=" in rl and "t=" in rl and pol and "q=" in pol and "w=" in pol),
           "ratelimit-headers-workers", f"Ratelimit={rl!r} Ratelimit-Policy={pol!r}")

    # Deployments of a Worker that has no version yet. The simulator can give either answer the
    # client handles (`deployments_before_first_version`: 404 [10007] by default, or 200 with an
    # empty list); the line says which one Cloudflare gives, to set that default from.
    s, env, _ = call("GET", f"/workers/scripts/{WORKER}/deployments")
    result = (env or {}).get("result")
    deployments = result.get("deployments") if isinstance(result, dict) else result
    handled = (s == 200 and not deployments) or (s == 404 and 10007 in codes(env))
    report(handled, "deployments-without-versions", f"HTTP {s} {codes(env)} result={result!r}")

    # G-20: version urls with previews disabled. Simulator: `urls` empty.
    s, env, _ = new_version(wid, [{"type": "secret_text", "name": "S", "text": "probe-secret"},
                                  {"type": "plain_text", "name": "P", "text": "p"}])
    v1 = ((env or {}).get("result") or {}).get("id")
    urls = ((env or {}).get("result") or {}).get("urls")
    report(s == 200 and not urls, "version-urls-without-previews", f"HTTP {s} urls={urls!r}")

    # G-2: a binding not sent is dropped (secrets too); {"type":"inherit"} keeps it.
    s, env, _ = new_version(wid, [])
    v2 = ((env or {}).get("result") or {}).get("id")
    _, names = binding_names(wid, v2) if v2 else (0, None)
    report(names == [], "secret-lost-without-inherit", f"bindings of a version sent without any: {names}")
    s, env, _ = new_version(wid, [{"type": "inherit", "name": "S", "version_id": v1}])
    v3 = ((env or {}).get("result") or {}).get("id")
    _, names = binding_names(wid, v3) if v3 else (0, None)
    report(names == ["S"], "inherit-keeps-a-secret", f"HTTP {s} {codes(env)} bindings={names}")

    # Version list: paging fields and order (§4.2; workers_result_info has no total_pages).
    s, env, _ = call("GET", f"/workers/workers/{wid}/versions", query="page=1&per_page=2")
    items = (env or {}).get("result") or []
    info = (env or {}).get("result_info") or {}
    stamps = [i.get("created_on") for i in items]
    newest_first = stamps == sorted(stamps, reverse=True)
    report(s == 200 and len(items) == 2 and info.get("total_count") == 3 and newest_first,
           "versions-list-paging-and-order", f"HTTP {s} result_info={info} created_on={stamps}")

    # A later version has a larger number: `version` tells the versions an ambiguous upload may
    # have made from the older ones by the latest version's number alone (docs/api-assumptions.md).
    s, env, _ = call("GET", f"/workers/workers/{wid}/versions", query="page=1&per_page=10")
    items = (env or {}).get("result") or []
    by_age = [i.get("number") for i in sorted(items, key=lambda i: i.get("created_on") or "")]
    report(s == 200 and len(by_age) == 3 and by_age == sorted(set(by_age)) and None not in by_age,
           "version-numbers-increase", f"HTTP {s} numbers oldest first={by_age}")

    # §4: the Worker's name in place of its id, as `version`, `deploy` and `preview` send it; a
    # missing Worker's latest version is 404 (10007), which `version` takes for "look it up".
    s1, env1, _ = call("GET", f"/workers/workers/{WORKER}")
    s2, env2, _ = call("GET", f"/workers/workers/{WORKER}/versions/latest")
    s3, env3, _ = call("GET", f"/workers/workers/{WORKER}-missing-probe/versions/latest")
    same = ((env1 or {}).get("result") or {}).get("id") == wid and ((env2 or {}).get("result") or {}).get("id") == v3
    report(s1 == 200 and s2 == 200 and same and s3 == 404 and 10007 in codes(env3), "worker-addressed-by-name",
           f"GET by name HTTP {s1}, latest by name HTTP {s2} (same as by id: {same}), missing Worker's latest HTTP {s3} {codes(env3)}")

    # 10220: deploying an older version after a secret changed needs force.
    call("POST", f"/workers/scripts/{WORKER}/deployments", {"strategy": "percentage", "versions": [{"version_id": v1, "percentage": 100}]})
    s, env, _ = new_version(wid, [{"type": "secret_text", "name": "S", "text": "changed"}], deploy=True)
    s, env, _ = call("POST", f"/workers/scripts/{WORKER}/deployments",
                     {"strategy": "percentage", "versions": [{"version_id": v1, "percentage": 100}]})
    report(s >= 400 and 10220 in codes(env), "rollback-after-secret-change-10220", f"HTTP {s} {codes(env)}")

    rollout_probes(wid, v1)
    versioned_settings_and_limits(wid)
    exports_probes()
    build_output_subdir_main(wid)
    build_output_observability_keys()
    binding_value_rules(wid)
    deploy_triggers()
    classic_upload_creates_worker()
    triggers_without_builds()
    previews(wid)
    assets(wid)
    builds(wid)
    commit_status_limits()
    d1()
    analytics_lag(wid)
    return 1 if FAILED else 0


def graphql(body):
    """(status, answer) of one analytics GraphQL query (outside /accounts, §K.3)."""
    req = urllib.request.Request(f"{BASE}/graphql", data=json.dumps(body).encode(), method="POST")
    req.add_header("Authorization", f"Bearer {TOKEN}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, {"raw": e.read()[:300].decode(errors="replace")}


def rollout_probes(wid, old):
    """Rows 73-76 (§K): a deployment at 0 %, and the per-version analytics query `stages` reads."""
    s, env, _ = new_version(wid, [])
    new = ((env or {}).get("result") or {}).get("id")
    s, env, _ = call("POST", f"/workers/scripts/{WORKER}/deployments", {"strategy": "percentage", "versions": [
        {"version_id": new, "percentage": 0}, {"version_id": old, "percentage": 100}]}, query="force=true")
    # The simulator refuses 0 by default (the spec's minimum); a 200 here means the knob
    # `zero_percent_deployments` is Cloudflare's behaviour and should become the default.
    report(s >= 400, "deployment-zero-percent", f"HTTP {s} {codes(env)}")
    query = """query ($account: string!, $script: string!, $version: string!, $from: Time!, $to: Time!) {
  viewer { accounts(filter: { accountTag: $account }) {
    workersInvocationsAdaptive(limit: 100, filter: { scriptName: $script, scriptVersion: $version,
        datetime_geq: $from, datetime_leq: $to }) { sum { requests errors } dimensions { scriptVersion status } } } }
}"""
    now = time.time()
    fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    s, answer = graphql({"query": query, "variables": {"account": ACCOUNT, "script": WORKER, "version": old,
                                                         "from": fmt(now - 3600), "to": fmt(now)}})
    accounts = (((answer or {}).get("data") or {}).get("viewer") or {}).get("accounts")
    errors = (answer or {}).get("errors")
    # PASS: the query with a scriptVersion filter is accepted (rows may be empty for an idle
    # Worker). With a token lacking Account Analytics Read, the line shows that answer (row 76).
    report(s == 200 and isinstance(accounts, list) and not errors, "graphql-script-version",
           f"HTTP {s} errors={errors!r} accounts={accounts!r}")


def analytics_lag(wid, n=50):
    """Row 80 (§K.3 "the last few minutes lag"): how long after a Worker served N requests the
    per-version GraphQL count reaches N. The simulator and `analytics_lag` assume 3 minutes.
    Opt-in (LIVE_PROBE_ANALYTICS_LAG=1): it takes 3 to 15 minutes."""
    if os.environ.get("LIVE_PROBE_ANALYTICS_LAG") != "1":
        skip("analytics-lag", "set LIVE_PROBE_ANALYTICS_LAG=1 to run it (3 to 15 minutes)")
        return
    s, env, _ = call("GET", "/workers/subdomain")
    sub = ((env or {}).get("result") or {}).get("subdomain")
    if not sub:
        skip("analytics-lag", f"the account has no workers.dev subdomain (HTTP {s} {codes(env)})")
        return
    s, env, _ = new_version(wid, [], deploy=True)
    version = ((env or {}).get("result") or {}).get("id")
    call("POST", f"/workers/scripts/{WORKER}/subdomain", {"enabled": True})
    url = f"https://{WORKER}.{sub}.workers.dev/"
    fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    start = time.time()
    served, deadline = 0, start + 120
    # Only answers from the Worker count: until workers.dev routes to it, requests never reach it.
    while served < n and time.time() < deadline:
        try:
            with urllib.request.urlopen(urllib.request.Request(url), timeout=30) as r:
                served += r.status == 200 and r.read() == b"probe"
        except (urllib.error.URLError, OSError):
            time.sleep(2)
    last = time.time()
    if served < n:
        call("POST", f"/workers/scripts/{WORKER}/subdomain", {"enabled": False})
        report(False, "analytics-lag", f"only {served} of {n} requests reached the Worker at {url} in 2 minutes")
        return
    query = """query ($account: string!, $script: string!, $version: string!, $from: Time!, $to: Time!) {
  viewer { accounts(filter: { accountTag: $account }) {
    workersInvocationsAdaptive(limit: 100, filter: { scriptName: $script, scriptVersion: $version,
        datetime_geq: $from, datetime_leq: $to }) { sum { requests errors } dimensions { scriptVersion status } } } }
}"""
    seen, reads = 0, []
    while time.time() < last + 900:
        s, answer = graphql({"query": query, "variables": {"account": ACCOUNT, "script": WORKER, "version": version,
                                                             "from": fmt(start - 60), "to": fmt(time.time() + 1)}})
        accounts = (((answer or {}).get("data") or {}).get("viewer") or {}).get("accounts") or []
        seen = sum(r["sum"]["requests"] for a in accounts for r in a.get("workersInvocationsAdaptive") or [])
        reads.append(f"{time.time() - last:.0f}s:{seen}")
        if seen >= n:
            break
        time.sleep(10)
    call("POST", f"/workers/scripts/{WORKER}/subdomain", {"enabled": False})
    delay = time.time() - last
    # PASS: every request was counted within 3 minutes of the last, as assumed; the reads show
    # whether the count grew at once or in steps (row 91 assumes one cut at the lag).
    report(seen >= n and delay <= 180, "analytics-lag",
           f"{seen}/{n} counted {delay:.0f}s after the last request; reads (after the last, count): {reads}")


def d1():
    """api-assumptions rows 77-79 (§G-32, §G-33, §G-34): a throwaway D1 database, deleted after."""
    name = f"{WORKER}-probe-d1"
    s, env, _ = call("POST", "/d1/database", {"name": name})
    if s in (401, 403):
        skip("d1-query-atomic", f"the token cannot create D1 databases (HTTP {s} {codes(env)})")
        return
    uuid = ((env or {}).get("result") or {}).get("uuid")
    if not uuid:
        report(False, "d1-database-create-list", f"create: HTTP {s} {codes(env)}")
        return
    try:
        s2, env2, _ = call("POST", "/d1/database", {"name": name})
        s3, env3, _ = call("GET", "/d1/database", query="name=" + urllib.parse.quote(name[:-3]))
        listed = [d.get("name") for d in (env3 or {}).get("result") or []]
        s4, env4, _ = call("POST", f"/d1/database/{uuid}/query", {"nosql": 1})
        report(s2 == 400 and 7502 in codes(env2) and name in listed and s4 == 400 and 7400 in codes(env4),
               "d1-database-create-list",
               f"duplicate: HTTP {s2} {codes(env2)}; list by prefix {listed}; no sql: HTTP {s4} {codes(env4)}")
        q = f"/d1/database/{uuid}/query"
        call("POST", q, {"sql": "CREATE TABLE t(a);"})
        s5, env5, _ = call("POST", q, {"sql": "INSERT INTO t VALUES (1);\nINSERT INTO nope VALUES (1);"})
        msg = (((env5 or {}).get("errors") or [{}])[0]).get("message")
        report(s5 == 400 and 7500 in codes(env5) and msg == "no such table: nope: SQLITE_ERROR",
               "d1-sql-error-shape", f"HTTP {s5} {codes(env5)} message={msg!r}")
        _, env6, _ = call("POST", q, {"sql": "SELECT count(*) AS n FROM t;"})
        n = ((((env6 or {}).get("result") or [{}])[0].get("results") or [{}])[0]).get("n")
        report(n == 0, "d1-query-atomic", f"rows left by the failed request's first statement: {n}")
    finally:
        call("DELETE", f"/d1/database/{uuid}")


def versioned_settings_and_limits(wid):
    """Issue 20: what a version keeps, what Cloudflare refuses loudly, and where migrations apply."""
    # Correction 11: a version that does not restate placement/limits/cache_options has none.
    body = {
        "compatibility_date": "2026-11-01",
        "main_module": "index.js",
        "modules": [module("export default { fetch() { return new Response('probe') } }\n")],
        "placement": {"mode": "smart"},
        "limits": {"cpu_ms": 50},
        "cache_options": {"enabled": True},
    }
    call("POST", f"/workers/workers/{wid}/versions", body)
    s, env, _ = new_version(wid, [])
    vid = ((env or {}).get("result") or {}).get("id")
    _, got, _ = call("GET", f"/workers/workers/{wid}/versions/{vid}") if vid else (0, None, None)
    v = (got or {}).get("result") or {}
    kept = {k: v.get(k) for k in ("placement", "limits", "cache_options") if v.get(k)}
    report(not kept, "versioned-settings-not-restated-are-dropped", f"HTTP {s} kept={kept}")

    # Correction 16: analytics_engine without dataset fails the schema (simulator: 400/10021).
    s, env, _ = new_version(wid, [{"type": "analytics_engine", "name": "AE"}])
    report(s == 400 and 10021 in codes(env), "analytics-engine-needs-dataset", f"HTTP {s} {codes(env)}")

    # Correction 16: a compatibility date in the future (simulator: 400/10021, against UTC today).
    future = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 40 * 86400))
    body = dict(body, compatibility_date=future)
    s, env, _ = call("POST", f"/workers/workers/{wid}/versions", body)
    report(s == 400 and 10021 in codes(env), "future-compatibility-date-refused", f"HTTP {s} {codes(env)}")

    # §1.5: a name over 54 characters with previews on (simulator: 400/100315).
    long_name = (WORKER + "-" + "x" * 60)[:60]
    s, env, _ = call("POST", "/workers/workers",
                     {"name": long_name, "subdomain": {"enabled": True, "previews_enabled": True}})
    if s == 200:
        call("DELETE", f"/workers/scripts/{long_name}", query="force=true")
    report(s == 400 and 100315 in codes(env), "long-name-with-previews-100315", f"HTTP {s} {codes(env)}")

    # Correction 10: does the beta `versions?deploy=true` apply a Durable Object migration? wrangler
    # only ever uses the classic non-versioned upload; the simulator applies it on the beta path
    # (crates/simulator/src/version.rs). PASS: the migration tag moved to the new tag.
    do_module = "export class Probe { fetch() { return new Response('do') } }\nexport default { fetch() { return new Response('probe') } }\n"
    tag = f"probe-{int(time.time())}"
    def migration_tag():
        # Read as the client reads it (src/cloudflare/scripts.rs): the service's default script.
        _, env_tag, _ = call("GET", f"/workers/services/{WORKER}")
        script = (((env_tag or {}).get("result") or {}).get("default_environment") or {}).get("script") or {}
        return script.get("migration_tag")

    old = migration_tag()
    body = {
        "compatibility_date": "2026-11-01",
        "main_module": "index.js",
        "modules": [module(do_module)],
        "migrations": {"old_tag": old, "new_tag": tag, "steps": [{"new_sqlite_classes": [f"Probe{int(time.time())}"]}]},
    }
    if old is None:
        del body["migrations"]["old_tag"]
    s, env, _ = call("POST", f"/workers/workers/{wid}/versions", body, query="deploy=true")
    now = migration_tag()
    report(s == 200 and now == tag, "beta-deploy-applies-migrations",
           f"HTTP {s} {codes(env)} migration_tag {old!r} -> {now!r}")
    classic_upload_applies_migrations(do_module, migration_tag)


def classic_upload_applies_migrations(do_module, migration_tag):
    """api-assumptions row 68: the classic non-versioned upload (multipart PUT, `migrations` in its
    metadata) applies them and deploys at 100 %; `deployment_id` is the new version's id."""
    old = migration_tag()
    tag = f"classic-{int(time.time())}"
    meta = {"main_module": "index.js", "compatibility_date": "2026-11-01", "bindings": [],
            "migrations": {"new_tag": tag, "steps": [{"new_sqlite_classes": [f"Classic{int(time.time())}"]}]}}
    if old is not None:
        meta["migrations"]["old_tag"] = old
    s, env = multipart_upload("PUT", f"/workers/scripts/{WORKER}?excludeScript=true&bindings_inherit=strict", meta,
                              do_module)
    dep = ((env or {}).get("result") or {}).get("deployment_id")
    _, deps, _ = call("GET", f"/workers/scripts/{WORKER}/deployments")
    live = (((deps or {}).get("result") or {}).get("deployments") or [{}])[0].get("versions") or []
    now = migration_tag()
    bare = lambda x: (x or "").replace("-", "").lower()
    ok = s == 200 and now == tag and len(live) == 1 and live[0].get("percentage") == 100 \
        and (dep is None or bare(dep) == bare(live[0].get("version_id")))
    report(ok, "classic-upload-applies-migrations",
           f"HTTP {s} {codes(env)} migration_tag {old!r} -> {now!r} deployment_id={dep!r} live={live!r}")


def multipart_upload(method, path, meta, js):
    """(status, envelope) of a classic multipart upload: `meta` as the metadata part, `js` as index.js."""
    boundary = f"probe{int(time.time() * 1000)}"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n"
            f"{json.dumps(meta)}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\n"
            f"Content-Type: application/javascript+module\r\n\r\n{js}\r\n--{boundary}--\r\n").encode()
    req = urllib.request.Request(f"{BASE}/accounts/{ACCOUNT}{path}", data=body, method=method)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {"raw": raw[:200].decode(errors="replace")}


def exports_probes():
    """api-assumptions rows on declarative `exports` (docs/cloudflare-api.md §H.10), on a Worker of
    their own (a Worker that applied `migrations` may not take `exports` as freely), deleted after."""
    name = f"{WORKER}-exports"[:63]
    js = ("export class Room { fetch() { return new Response('room') } }\n"
          "export class Extra { fetch() { return new Response('extra') } }\n"
          "export default { fetch() { return new Response('probe') } }\n")
    room = {"type": "durable-object", "storage": "sqlite"}
    meta = {"main_module": "index.js", "compatibility_date": "2026-11-01",
            "bindings": [{"type": "durable_object_namespace", "name": "ROOM", "class_name": "Room"}],
            "exports": {"Room": room}}
    scripts = f"/workers/scripts/{name}"
    try:
        # Rows: the classic upload provisions a live export and binds it in one step; the
        # script object shows the exports.
        s, env = multipart_upload("PUT", f"{scripts}?excludeScript=true&bindings_inherit=strict", meta, js)
        _, svc, _ = call("GET", f"/workers/services/{name}")
        shown = ((((svc or {}).get("result") or {}).get("default_environment") or {}).get("script") or {}).get("exports")
        report(s == 200 and (shown or {}).get("Room") == room, "classic-upload-provisions-exports",
               f"HTTP {s} {codes(env)} script.exports={shown!r}")
        # A version upload that changes the lifecycle: 10211 (docs) or accepted and deferred (wrangler 4.107).
        changed = dict(meta, exports={"Room": room, "Extra": room})
        s, env = multipart_upload("POST", f"{scripts}/versions", changed, js)
        report(s == 400 and 10211 in codes(env), "version-upload-changing-exports-10211", f"HTTP {s} {codes(env)}")
        # Unchanged exports on a version upload are no change.
        s, env = multipart_upload("POST", f"{scripts}/versions", meta, js)
        same = ((env or {}).get("result") or {}).get("id")
        report(s == 200, "version-upload-same-exports-accepted", f"HTTP {s} {codes(env)}")
        # A binding to a class declared but not provisioned, on a non-deploying beta upload: 100406.
        body = {"compatibility_date": "2026-11-01", "main_module": "index.js", "modules": [module(js)],
                "bindings": [{"type": "durable_object_namespace", "name": "EXTRA", "class_name": "Extra"}],
                "exports": {"Room": room, "Extra": room}}
        s, env, _ = call("POST", f"/workers/workers/{name}/versions", body, query="deploy=false")
        report(s == 403 and 100406 in codes(env), "unprovisioned-export-binding-100406", f"HTTP {s} {codes(env)}")
        # A split across versions that disagree on exports: 100405.
        bare = {k: v for k, v in meta.items() if k != "exports"}
        bare["bindings"] = []
        s2, env2 = multipart_upload("POST", f"{scripts}/versions", bare, js)
        other = ((env2 or {}).get("result") or {}).get("id")
        if same and other:
            s, env, _ = call("POST", f"{scripts}/deployments", {"strategy": "percentage", "versions": [
                {"version_id": same, "percentage": 50}, {"version_id": other, "percentage": 50}]})
            report(s == 400 and 100405 in codes(env), "split-across-different-exports-100405", f"HTTP {s} {codes(env)}")
        else:
            skip("split-across-different-exports-100405", f"no versions to split (HTTP {s2} {codes(env2)})")
        # Row 111: a class keeps its storage; the refusal says per class why.
        kv = dict(meta, exports={"Room": {"type": "durable-object", "storage": "legacy-kv"}})
        s, env = multipart_upload("PUT", f"{scripts}?excludeScript=true&bindings_inherit=strict", kv, js)
        details = [((e.get("meta") or {}).get("details")) for e in ((env or {}).get("errors") or [])]
        report(s == 400 and 100402 in codes(env) and "storage_type_mismatch" in json.dumps(details),
               "exports-storage-change-100402", f"HTTP {s} {codes(env)} details={details!r}")
    finally:
        s, env, _ = call("DELETE", scripts, query="force=true")
        print(f"deleted {name}: HTTP {s} {codes(env)}")


def classic_upload_creates_worker():
    """api-assumptions row 100: a first deploy's classic upload creates the Worker and deploys it
    at 100 % in one request; which workers.dev flags it starts with (the simulator: off). The
    probe Worker is deleted afterwards."""
    name = f"{WORKER}-first"[:63]
    meta = {"main_module": "index.js", "compatibility_date": "2026-11-01", "bindings": []}
    js = "export default { fetch() { return new Response('probe') } }"
    try:
        s, env = multipart_upload("PUT", f"/workers/scripts/{name}?excludeScript=true&bindings_inherit=strict", meta, js)
        _, deps, _ = call("GET", f"/workers/scripts/{name}/deployments")
        live = (((deps or {}).get("result") or {}).get("deployments") or [{}])[0].get("versions") or []
        _, w, _ = call("GET", f"/workers/workers/{name}")
        sub = ((w or {}).get("result") or {}).get("subdomain")
        report(s == 200 and len(live) == 1 and live[0].get("percentage") == 100, "classic-upload-creates-worker",
               f"HTTP {s} {codes(env)} live={live!r} subdomain={sub!r} (row 100: the simulator starts it off workers.dev)")
    finally:
        s, env, _ = call("DELETE", f"/workers/scripts/{name}", query="force=true")
        print(f"deleted {name}: HTTP {s} {codes(env)}")


def previews(wid):
    """Worker Previews (docs/cloudflare-api.md §B; docs/api-assumptions.md rows 42-51)."""
    base = f"/workers/workers/{wid}/previews"
    name = "probe/Feature__X.1"
    # Only `name` in the create body (rows 42, 43: slug rule, §G-10).
    s, env, _ = call("POST", base, {"name": name})
    p = (env or {}).get("result") or {}
    report(s == 200 and bool(p.get("id")), "preview-create-name-only", f"HTTP {s} {codes(env)}")
    if s != 200:
        return
    report(p.get("slug") == "probe-feature-x-1", "preview-slug-rule", f"name={name!r} slug={p.get('slug')!r}")
    s, env, _ = call("POST", base, {"name": name})
    report(s == 409, "preview-duplicate-name-409", f"HTTP {s} {codes(env)}")
    s2, env2, _ = call("POST", base, {"name": "Probe/feature-x.1"})
    report(s2 == 409, "preview-slug-collision-409", f"HTTP {s2} {codes(env2)} slug={((env2 or {}).get('result') or {}).get('slug')!r}")
    if s2 == 200:
        call("DELETE", f"{base}/{env2['result']['id']}")
    # Addressing by id, slug and URL-encoded name (§B.2); a missing one is 10025 (row 44).
    got = [call("GET", f"{base}/{k}")[0] for k in (p["id"], p["slug"], urllib.parse.quote(name, safe=""))]
    report(got == [200, 200, 200], "preview-addressing", f"id/slug/name: {got}")
    s, env, _ = call("GET", f"{base}/no-such-preview-probe")
    report(s == 404 and 10025 in codes(env), "preview-not-found-10025", f"HTTP {s} {codes(env)}")
    s, env, _ = call("GET", f"{base}/{p['id']}/deployments/latest")
    report(s == 404 and 10222 in codes(env), "preview-no-deployment-10222", f"HTTP {s} {codes(env)}")
    s, env, _ = call("POST", base, {"name": "-bad-"})
    report(400 <= s < 500, "preview-invalid-name-refused", f"HTTP {s} {codes(env)}")
    # Deployments: `env` form, inherit from the Preview's latest deployment (row 46), the
    # short id in URLs (row 45, §G-11).
    dep = {"main_module": "index.js", "compatibility_date": "2026-11-01",
           "modules": [module("export default { fetch() { return new Response('preview probe') } }\n")]}
    s, env, _ = call("POST", f"{base}/{p['id']}/deployments", dict(dep, env={"S": {"type": "secret_text", "text": "probe"}}))
    d = (env or {}).get("result") or {}
    urls = d.get("urls") or []
    report(s == 200, "preview-deployment-create", f"HTTP {s} {codes(env)} urls={urls!r} keys={sorted(d)}")
    if urls:
        short = urls[0].split("//", 1)[-1].split("-", 1)[0]
        report(short == d.get("id", "")[:8], "preview-deployment-short-id", f"url={urls[0]!r} id={d.get('id')!r}")
    else:
        skip("preview-deployment-short-id", "no URLs (previews off on the probe Worker)")
    s, env, _ = call("POST", f"{base}/{p['id']}/deployments", dict(dep, env={"S": {"type": "inherit"}}))
    names = sorted(b.get("name") for b in ((env or {}).get("result") or {}).get("bindings") or [])
    report(s == 200 and names == ["S"], "preview-inherit-from-latest-deployment", f"HTTP {s} {codes(env)} bindings={names}")
    s, env, _ = call("POST", f"{base}/{p['id']}/deployments", dict(dep, env={"GONE": {"type": "inherit"}}))
    report(s == 400 and 10057 in codes(env), "preview-unresolved-inherit-refused", f"HTTP {s} {codes(env)}")
    # A slug too long for `<slug>-<worker>` to fit a DNS label (row 45, §G-10): the simulator
    # lists no workers.dev URL for the Preview; a refusal or a cut URL means it must change.
    long_name = "probe-" + "l" * 70
    s, env, _ = call("POST", base, {"name": long_name}) if urls else (0, None, None)
    lp = (env or {}).get("result") or {}
    if not urls:
        skip("preview-long-slug-url", "no URLs (previews off on the probe Worker)")
    elif s == 200:
        call("POST", f"{base}/{lp['id']}/deployments", dep)
        _, env3, _ = call("GET", f"{base}/{lp['id']}")
        lurls = ((env3 or {}).get("result") or {}).get("urls") or []
        report(lurls == [], "preview-long-slug-url", f"urls={lurls!r}")
        call("DELETE", f"{base}/{lp['id']}")
    else:
        report(False, "preview-long-slug-url", f"create refused: HTTP {s} {codes(env)}")
    # Row 56, §G-30: a deployment is laid over the Worker's previews base config; `env` merged
    # name by name (the simulator's choice), or replaced whole?
    s, env, _ = call("PATCH", f"/workers/workers/{wid}",
                     {"previews_base_config": {"env": {"BASE": {"type": "plain_text", "text": "base"}}}},
                     content_type="application/merge-patch+json")
    if s == 200:
        s, env, _ = call("POST", f"{base}/{p['id']}/deployments", dict(dep, env={"OWN": {"type": "plain_text", "text": "own"}}))
        names = sorted(b.get("name") for b in ((env or {}).get("result") or {}).get("bindings") or [])
        report(s == 200 and names == ["BASE", "OWN"], "preview-base-config-env-merge", f"HTTP {s} {codes(env)} bindings={names}")
        call("PATCH", f"/workers/workers/{wid}", {"previews_base_config": None}, content_type="application/merge-patch+json")
    else:
        report(False, "preview-base-config-env-merge", f"base config not written: HTTP {s} {codes(env)}")
    s, env, _ = call("DELETE", f"{base}/{p['id']}")
    s2, env2, _ = call("DELETE", f"{base}/{p['id']}")
    report(s == 200 and s2 == 404 and 10025 in codes(env2), "preview-delete-twice", f"HTTP {s}, then {s2} {codes(env2)}")


def upload_bucket(token, parts):
    """(status, envelope) of one bulk assets upload: parts are (hash, bytes), sent as base64."""
    boundary = "probe-boundary-7f3a"
    body = b""
    for h, data in parts:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{h}\"; filename=\"{h}\"\r\n"
                 f"Content-Type: text/html\r\n\r\n").encode() + base64.b64encode(data) + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{BASE}/accounts/{ACCOUNT}/workers/assets/upload?base64=true", data=body, method="POST")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read())
        except ValueError:
            return e.code, None


def assets(wid):
    """G-5, G-7, G-9 (docs/api-assumptions.md rows 36-40)."""
    import hashlib
    data = b"<h1>probe</h1>\n"
    # Not wrangler's hash: the docs' own example keys files by sha256; the simulator refuses it.
    fake = hashlib.sha256(data).hexdigest()[:32]
    manifest = {"manifest": {"/index.html": {"hash": fake, "size": len(data)}}}
    s, env, _ = call("POST", f"/workers/scripts/{WORKER}/assets-upload-session", manifest)
    result = (env or {}).get("result") or {}
    jwt, buckets = result.get("jwt"), result.get("buckets")
    if s != 200 or not jwt:
        report(False, "assets-upload-session", f"HTTP {s} {codes(env)} result={'null' if not result else 'set'}")
        return
    # api-assumptions row 69: the upload token's claims (read unverified, as wrangler does). The
    # simulator's default issues no per-file claims; PASS while Cloudflare does not either.
    try:
        part = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        claims = {}
    single = {k: claims.get(k) for k in ("wrangler_single_asset_uploads", "edge_kv_upload_concurrency") if k in claims}
    report(claims.get("wrangler_single_asset_uploads") is not True, "assets-upload-token-mode",
           f"per-file claims: {single or 'none'}")
    if not buckets:
        skip("assets-hash-verified", "the account already stores this hash")
        return
    s, env = upload_bucket(TOKEN, [(fake, data)])
    report(s in (401, 403), "assets-upload-refuses-api-token", f"HTTP {s} {codes(env)}")
    s, env = upload_bucket(jwt, [(fake, data)])
    done = ((env or {}).get("result") or {}).get("jwt")
    report(s >= 400, "assets-hash-verified", f"HTTP {s} {codes(env)} (a non-wrangler hash was {'refused' if s >= 400 else 'accepted'})")
    if not done:
        skip("assets-only-beta-version", "no completion token (hash refused)")
        return
    body = {"compatibility_date": "2026-11-01", "assets": {"jwt": done}}
    s, env, _ = call("POST", f"/workers/workers/{wid}/versions", body)
    report(s == 200, "assets-only-beta-version", f"HTTP {s} {codes(env)} (beta version without main_module or modules)")
    if s == 200:
        s, env, _ = call("POST", f"/workers/workers/{wid}/versions", body)
        report(s >= 400, "assets-completion-token-single-use", f"HTTP {s} {codes(env)} (the same completion token again)")
    s, env, _ = call("POST", f"/workers/workers/{wid}/versions", {"compatibility_date": "2026-11-01", "assets": {"jwt": jwt + "x"}})
    report(s >= 400, "assets-bad-completion-token", f"HTTP {s} {codes(env)}")
    truncated_upload()


def truncated_upload():
    """api-assumptions row 52: a bucket whose body stops before its Content-Length (workers-ci
    aborts the stream when a file changed after hashing) stores nothing: a new session for the
    same manifest still asks for the file."""
    import hashlib
    import http.client
    import urllib.parse
    data = f"<p>truncated probe {time.time()}</p>".encode()
    h = hashlib.sha256(data).hexdigest()[:32]
    manifest = {"manifest": {"/t.html": {"hash": h, "size": len(data)}}}
    s, env, _ = call("POST", f"/workers/scripts/{WORKER}/assets-upload-session", manifest)
    jwt = ((env or {}).get("result") or {}).get("jwt")
    if s != 200 or not jwt:
        skip("assets-truncated-upload-stores-nothing", f"no upload session (HTTP {s} {codes(env)})")
        return
    boundary = "probe-boundary-7f3a"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{h}\"; filename=\"{h}\"\r\n"
            f"Content-Type: text/html\r\n\r\n").encode() + base64.b64encode(data) + f"\r\n--{boundary}--\r\n".encode()
    u = urllib.parse.urlsplit(f"{BASE}/accounts/{ACCOUNT}/workers/assets/upload?base64=true")
    conn = http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=30)
    conn.putrequest("POST", f"{u.path}?{u.query}")
    conn.putheader("Authorization", f"Bearer {jwt}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    conn.send(body[: len(body) - 10])
    conn.close()
    time.sleep(5)
    s, env, _ = call("POST", f"/workers/scripts/{WORKER}/assets-upload-session", manifest)
    asked = [x for b in (((env or {}).get("result") or {}).get("buckets") or []) for x in b]
    report(s == 200 and h in asked, "assets-truncated-upload-stores-nothing", f"HTTP {s} {codes(env)} asked again={h in asked}")


def triggers_without_builds():
    # api-assumptions row 24: the triggers of a Worker with no Builds configuration. Simulator:
    # 404 with code 12000, as for an unknown tag; `setup` reads a 404 twice before it means "none".
    s, env, _ = call("GET", "/workers/scripts")
    tag = next((w.get("tag") for w in (env or {}).get("result") or [] if w.get("id") == WORKER), None)
    if not tag:
        skip("triggers-without-builds", f"no tag for {WORKER} in the scripts list (HTTP {s})")
        return
    s, env, _ = call("GET", f"/builds/workers/{tag}/triggers")
    report(s == 404 and 12000 in codes(env), "triggers-without-builds", f"HTTP {s} {codes(env)} result={(env or {}).get('result')!r}")


def builds(wid):
    tag = os.environ.get("LIVE_BUILDS_TAG")
    if not tag:
        for p in ("builds-list-paging-and-order", "builds-default-per-page", "ratelimit-headers-builds",
                  "log-timestamp-unit", "short-sha", "build-variables-list-form-refused",
                  "account-scoped-token-error", "third-trigger-refused", "builds-deploy-by-command",
                  "builds-versions-map-back", "skipped-build-reason"):
            skip(p, "LIVE_BUILDS_TAG is not set (a Worker with Workers Builds connected)")
        return
    # §3.4 / G: order undocumented (simulator default newest first), result_info fields.
    s, env, headers = call("GET", f"/builds/workers/{tag}/builds", query="page=1&per_page=2")
    items = (env or {}).get("result") or []
    info = (env or {}).get("result_info") or {}
    stamps = [i.get("created_on") for i in items]
    fields = {"count", "page", "per_page", "total_count", "total_pages"} <= set(info)
    report(s == 200 and fields and stamps == sorted(stamps, reverse=True), "builds-list-paging-and-order",
           f"HTTP {s} result_info={info} created_on={stamps}")
    rl = header(headers, "ratelimit")
    report(bool(rl and "r=" in rl), "ratelimit-headers-builds", f"Ratelimit={rl!r}")
    s, env, _ = call("GET", f"/builds/workers/{tag}/builds")
    # Simulator: 10 when per_page is absent (INFERRED from [MCP]).
    report(((env or {}).get("result_info") or {}).get("per_page") == 10, "builds-default-per-page",
           f"result_info={(env or {}).get('result_info')}")
    # §3.7: log timestamps. Simulator default: seconds.
    if items:
        s, env, _ = call("GET", f"/builds/builds/{items[0]['build_uuid']}/logs")
        lines = ((env or {}).get("result") or {}).get("lines") or []
        ts = lines[0][0] if lines else None
        report(isinstance(ts, (int, float)) and ts < 1e11, "log-timestamp-unit", f"first timestamp {ts!r}")
    else:
        skip("log-timestamp-unit", "the Worker has no builds")
    trigger, short = os.environ.get("LIVE_BUILDS_TRIGGER"), os.environ.get("LIVE_BUILDS_SHORT_SHA")
    if trigger and short:
        # Simulator: a short commit_hash is refused; workers-ci resolves it before sending.
        s, env, _ = call("POST", f"/builds/triggers/{trigger}/builds", {"commit_hash": short})
        uuid = ((env or {}).get("result") or {}).get("build_uuid")
        if uuid:
            call("PUT", f"/builds/builds/{uuid}/cancel")
        report(s >= 400, "short-sha", f"HTTP {s} {codes(env)} (a build was {'started and cancelled' if uuid else 'not started'})")
    else:
        skip("short-sha", "LIVE_BUILDS_TRIGGER and LIVE_BUILDS_SHORT_SHA are not set")
    if trigger:
        # api-assumptions row 28: build variables only in the schema's map form; the guide's list
        # form is refused. Should it be accepted, the probe's variable is removed again.
        probe_key = "WORKERS_CI_PROBE"
        s, env, _ = call("PATCH", f"/builds/triggers/{trigger}/environment_variables",
                         {"variables": [{"key": probe_key, "value": "1", "is_secret": False}]})
        if s < 400:
            call("DELETE", f"/builds/triggers/{trigger}/environment_variables/{probe_key}")
        report(s == 400, "build-variables-list-form-refused", f"HTTP {s} {codes(env)}")
    else:
        skip("build-variables-list-form-refused", "LIVE_BUILDS_TRIGGER is not set")
    third_trigger(tag)
    went_live(tag)
    skipped_build_reason(tag)
    verify_rules(tag)
    account_token = os.environ.get("LIVE_ACCOUNT_TOKEN")
    if account_token:
        # G-3: simulator answers 401 with code 12006 "Invalid token".
        s, env, _ = call("GET", f"/builds/workers/{tag}/builds", token=account_token)
        report(s == 401 and 12006 in codes(env), "account-scoped-token-error", f"HTTP {s} {codes(env)}")
    else:
        skip("account-scoped-token-error", "LIVE_ACCOUNT_TOKEN is not set")


# The fields of builds_BuildResponse (docs/cloudflare-api.md §3.1): anything else is news.
BUILD_FIELDS = {"build_uuid", "status", "build_outcome", "created_on", "modified_on", "initializing_on",
                "running_on", "stopped_on", "build_trigger_metadata", "trigger", "pull_request",
                "preview_url", "deploy_hook"}


def skipped_build_reason(tag):
    """api-assumptions row 72, read only: a skipped build of the Worker carries no reason field,
    and its trigger narrows its watch paths (the one cause workers-ci names). Push a commit that
    touches only a path outside the trigger's `path_includes` first to have one."""
    s, env, _ = call("GET", f"/builds/workers/{tag}/builds", query="page=1&per_page=50")
    skipped = [b for b in (env or {}).get("result") or [] if b.get("build_outcome") == "skipped"]
    if not skipped:
        skip("skipped-build-reason", "none of the Worker's 50 newest builds is skipped")
        return
    b = skipped[0]
    extra = sorted(set(b) - BUILD_FIELDS)
    t = b.get("trigger") or {}
    inc, exc = t.get("path_includes"), t.get("path_excludes")
    narrowed = (inc not in (None, [], ["*"])) or bool(exc)
    report(not extra and narrowed, "skipped-build-reason",
           f"build {b.get('build_uuid')}: fields beyond §3.1 {extra}; trigger path_includes={inc} path_excludes={exc}")


def commit_status_limits():
    """api-assumptions G13: a 141-character description is refused (422), a 140-character one and a
    255-character context are taken."""
    token, repo, sha = (os.environ.get(k) for k in ("LIVE_GITHUB_TOKEN", "LIVE_GITHUB_REPO", "LIVE_GITHUB_SHA"))
    if not (token and repo and sha):
        skip("commit-status-limits", "LIVE_GITHUB_TOKEN, LIVE_GITHUB_REPO and LIVE_GITHUB_SHA are not set")
        return

    def post(description, context):
        body = json.dumps({"state": "success", "description": description, "context": context}).encode()
        req = urllib.request.Request(f"https://api.github.com/repos/{repo}/statuses/{sha}", data=body, method="POST")
        req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    long_desc = post("é" * 141, "workers-ci-probe/description")
    fits = post("é" * 140, "workers-ci-probe/description")
    long_ctx = post("probe", "workers-ci-probe/" + "c" * (255 - len("workers-ci-probe/")))
    report(long_desc == 422 and fits == 201 and long_ctx == 201, "commit-status-limits",
           f"141-character description: HTTP {long_desc}; 140: HTTP {fits}; 255-character context: HTTP {long_ctx}")


def went_live(tag):
    """api-assumptions rows 65 and 71, read only: the active deployment's versions were built by a
    trigger whose deploy command runs `wrangler deploy` (row 65), and the versions of the newest
    successful builds, `wrangler versions upload` ones included, map back to their builds through
    `GET /builds/builds?version_ids=` (row 71)."""
    s, env, _ = call("GET", "/workers/scripts")
    name = next((w.get("id") for w in ((env or {}).get("result") or []) if w.get("tag") == tag), None)
    if not name:
        for p in ("builds-deploy-by-command", "builds-versions-map-back"):
            skip(p, f"no Worker of the account has the tag of LIVE_BUILDS_TAG (HTTP {s})")
        return
    quoted = urllib.parse.quote(name, safe="")
    s, env, _ = call("GET", f"/workers/scripts/{quoted}/deployments")
    active = (((env or {}).get("result") or {}).get("deployments") or [{}])[0]
    ids = [v.get("version_id") for v in active.get("versions") or []]
    by = {}
    if ids:
        s, env, _ = call("GET", "/builds/builds", query="version_ids=" + ",".join(ids))
        by = ((env or {}).get("result") or {}).get("builds") or {}
    commands = [((b.get("build_trigger_metadata") or {}).get("deploy_command") or "") for b in by.values()]
    report(bool(commands) and all("wrangler deploy" in c for c in commands), "builds-deploy-by-command",
           f"active deployment {active.get('id')}: {len(ids)} versions, built by deploy commands {commands}")
    s, env, _ = call("GET", f"/workers/scripts/{quoted}/versions")
    versions = [v.get("id") for v in (((env or {}).get("result") or {}).get("items") or [])][:20]
    s, env, _ = call("GET", "/builds/builds", query="version_ids=" + ",".join(versions)) if versions else (0, {}, {})
    mapped = {b.get("build_uuid") for b in (((env or {}).get("result") or {}).get("builds") or {}).values()}
    s, env, _ = call("GET", f"/builds/workers/{tag}/builds", query="page=1&per_page=5")
    done = [b for b in ((env or {}).get("result") or []) if b.get("build_outcome") == "success"]
    missing = [b.get("build_uuid") for b in done if b.get("build_uuid") not in mapped]
    report(bool(done) and not missing, "builds-versions-map-back",
           f"{len(done)} successful builds of the last 5; not mapped from the newest 20 versions: {missing}")


def active_versions(tag):
    """The active deployment's version ids of the Worker with this tag (none when it has none)."""
    s, env, _ = call("GET", "/workers/scripts")
    name = next((w.get("id") for w in ((env or {}).get("result") or []) if w.get("tag") == tag), None)
    if not name:
        return []
    s, env, _ = call("GET", f"/workers/scripts/{urllib.parse.quote(name, safe='')}/deployments")
    active = (((env or {}).get("result") or {}).get("deployments") or [{}])[0]
    return [v.get("version_id") for v in active.get("versions") or []]


def verify_rules(tag):
    """api-assumptions rows 80 and 81 (`verify`), read only."""
    repo = os.environ.get("LIVE_REPO_DIR")
    if repo:
        # Row 80: a branch's builds were created in the order of their commits (push order).
        import subprocess
        s, env, _ = call("GET", f"/builds/workers/{tag}/builds", query="page=1&per_page=50")
        builds = [b for b in ((env or {}).get("result") or [])
                  if (b.get("build_trigger_metadata") or {}).get("build_trigger_source") == "push"]
        builds.sort(key=lambda b: b.get("created_on") or "")
        wrong = []
        for a, b in zip(builds, builds[1:]):
            ca = (a.get("build_trigger_metadata") or {}).get("commit_hash")
            cb = (b.get("build_trigger_metadata") or {}).get("commit_hash")
            ba = (a.get("build_trigger_metadata") or {}).get("branch")
            if not ca or not cb or ca == cb or ba != (b.get("build_trigger_metadata") or {}).get("branch"):
                continue
            older = subprocess.run(["git", "-C", repo, "merge-base", "--is-ancestor", ca, cb]).returncode == 0
            if not older:
                wrong.append(f"{ca[:8]} built before {cb[:8]}")
        report(len(builds) > 1 and not wrong, "builds-push-order",
               f"{len(builds)} push builds; out of commit order: {wrong}")
    else:
        skip("builds-push-order", "LIVE_REPO_DIR is not set")
    other = os.environ.get("LIVE_BUILDS_TAG_2")
    if other:
        # Row 81: versions of two Workers in one builds-by-version read.
        ids = (active_versions(tag) + active_versions(other))[:20]
        s, env, _ = call("GET", "/builds/builds", query="version_ids=" + ",".join(ids)) if ids else (0, {}, {})
        mapped = set((((env or {}).get("result") or {}).get("builds") or {}).keys())
        report(len(ids) > 1 and mapped == set(ids), "version-ids-several-workers",
               f"HTTP {s}: {len(mapped)} of {len(ids)} versions mapped")
    else:
        skip("version-ids-several-workers", "LIVE_BUILDS_TAG_2 is not set")
def zone_call(method, path, body=None, query=""):
    """call() for the endpoints under /zones (not account-scoped)."""
    url = f"{BASE}{path}{('?' + query) if query else ''}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read())
        except ValueError:
            return e.code, {}


def deploy_triggers():
    """api-assumptions rows for §T (what a deploy applies): the settings a new Worker shows, the
    code of a bad cron, the queues name filter, and (with LIVE_ZONE, a zone of the account) the
    script routes PUT with an empty list. Leaves no schedule, queue or route behind."""
    s, env, _ = call("GET", f"/workers/scripts/{WORKER}/script-settings")
    obs = ((env or {}).get("result") or {}).get("observability", "absent")
    report(s == 200 and obs is None, "script-settings-default-observability", f"HTTP {s} observability={obs!r}")
    # Row 99: the official schema requires `enabled`; configurations in the wild omit it.
    s, env, _ = call("PATCH", f"/workers/scripts/{WORKER}/script-settings",
                     {"observability": {"logs": {"enabled": True, "invocation_logs": True}}})
    report(s == 400, "script-settings-observability-needs-enabled", f"HTTP {s} {codes(env)}")
    call("PATCH", f"/workers/scripts/{WORKER}/script-settings", {"observability": None})
    s, env, _ = call("PUT", f"/workers/scripts/{WORKER}/schedules", [{"cron": "every minute"}])
    report(s == 400 and 10021 in codes(env), "schedules-bad-cron-10021", f"HTTP {s} {codes(env)}")
    name = f"{WORKER}-probe-queue"
    s1, env1, _ = call("POST", "/queues", {"queue_name": name})
    s2, env2, _ = call("GET", "/queues", query="page=1&name=" + urllib.parse.quote(name[:-2]))
    prefix = [q.get("queue_name") for q in ((env2 or {}).get("result") or [])]
    qid = ((env1 or {}).get("result") or {}).get("queue_id")
    if qid:
        call("DELETE", f"/queues/{qid}")
    report(s1 == 200 and s2 == 200 and name not in prefix, "queues-name-filter-exact",
           f"create HTTP {s1}; a name's prefix found {prefix}")
    zone = os.environ.get("LIVE_ZONE", "")
    if not zone:
        skip("script-routes-empty-list-refused", "LIVE_ZONE (a zone of the account) is not set")
        return
    s, env, _ = call("PUT", f"/workers/scripts/{WORKER}/routes", [])
    report(s == 400, "script-routes-empty-list-refused", f"HTTP {s} {codes(env)}")


def third_trigger(tag):
    """api-assumptions row 66: a Worker has at most two triggers (docs); the simulator refuses a
    third create with 400/12002. Should Cloudflare create it, the probe's trigger is deleted again."""
    s, env, _ = call("GET", f"/builds/workers/{tag}/triggers")
    live = [t for t in ((env or {}).get("result") or []) if not t.get("deleted_on")]
    if len(live) != 2:
        skip("third-trigger-refused", f"the Worker of LIVE_BUILDS_TAG has {len(live)} triggers, not 2")
        return
    first = live[0]
    body = {k: first.get(k) for k in ("build_command", "deploy_command", "root_directory", "branch_excludes",
                                       "path_includes", "path_excludes")}
    body.update({
        "external_script_id": tag,
        "build_token_uuid": first.get("build_token_uuid"),
        "repo_connection_uuid": (first.get("repo_connection") or {}).get("repo_connection_uuid"),
        "trigger_name": "workers-ci probe third trigger",
        "branch_includes": ["workers-ci-probe-never-pushed"],
    })
    s, env, _ = call("POST", "/builds/triggers", body)
    made = ((env or {}).get("result") or {}).get("trigger_uuid")
    if made:
        call("DELETE", f"/builds/triggers/{made}")
    report(s == 400 and 12002 in codes(env), "third-trigger-refused",
           f"HTTP {s} {codes(env)} (a third trigger was {'created and deleted' if made else 'not created'})")


if __name__ == "__main__":
    started = time.time()
    code = main()
    print(f"{len(FAILED)} failed in {time.time() - started:.0f}s", flush=True)
    sys.exit(code)
