#!/usr/bin/env python3
"""The workers-ci benchmarks, against the embedded simulator on loopback. Run by bench/run,
which builds the binary and installs the tools first; see BENCHMARKS.md.

    bench.py --bin PATH --wrangler PATH --work DIR [--quick] [--only 123456789] [--before PATH] [--delays 0,150]

Prints progress to stderr and, at the end, one Markdown table to stdout.
"""

import argparse
import base64
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import assets as assets_bench  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "bench-token"
WORKER_JS = """export default {
  async fetch(request) {
    return new Response("hello from a benchmark Worker");
  },
};
"""

# Targets from issue 6.
UPLOAD_WALL_RATIO = 50.0
UPLOAD_RSS_RATIO = 20.0
REQ_PER_MIN_LOGS = 24.0
REQ_PER_MIN_NO_LOGS = 12.0
DETECT_P95_S = 5.0
RSS_PER_MODULE = 4.0
FLAT_RATIO = 1.25  # "flat in log size": 100k-line peak RSS at most 1.25x the 10k-line one


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Sim:
    """A `workers-ci simulate` process on a free loopback port."""

    def __init__(self, binary, work, name, config):
        path = os.path.join(work, f"sim-{name}.json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.proc = subprocess.Popen(
            [binary, "simulate", "--port", "0", "--config", path],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/client/v4)", line)
        if not m:
            raise SystemExit(f"simulator did not start: {line!r}")
        self.api = m.group(1)
        self.root = self.api.rsplit("/client/v4", 1)[0]

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.root}/__sim/{path}", data=data, method=method)
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    def builds(self):
        return self.admin("GET", "builds")

    def requests(self):
        return self.admin("GET", "requests")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def wci_env(sim):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    env.pop("WORKERS_CI_TIME_SCALE", None)
    env.update({
        "INPUT_API_TOKEN": TOKEN,
        "INPUT_ACCOUNT_ID": ACCOUNT,
        "INPUT_API_URL": sim.api,
        "RUNNER_DEBUG": "1",
    })
    return env


def measure(cmd, env, cwd=None, stdout=None):
    """Runs cmd under measure.py; returns its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    args = [sys.executable, os.path.join(HERE, "measure.py"), "--out", out]
    if stdout:
        args += ["--stdout", stdout]
    subprocess.run(args + ["--", *cmd], env=env, cwd=cwd, check=True)
    with open(out) as f:
        r = json.load(f)
    os.unlink(out)
    if r["exit_code"] != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {r['exit_code']}")
    return r


def parse_ts(s):
    """RFC 3339 with microseconds and Z, as the simulator writes it, to Unix seconds."""
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def median(xs):
    return statistics.median(xs)


def p95(xs):
    xs = sorted(xs)
    # nearest-rank
    k = max(0, int(-(-0.95 * len(xs) // 1)) - 1)
    return xs[k]


def ms(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


ROWS = []


def row(bench, metric, target, result, ok):
    ROWS.append((bench, metric, target, result, {True: "pass", False: "**MISS**", None: "—"}[ok]))


# ---------------------------------------------------------------------------------------------
# 1. Upload vs wrangler


def bench_upload(a, work):
    log("1. upload vs wrangler")
    sim = Sim(a.bin, work, "upload", {
        "workers": [
            {"name": "my-worker", "tag": "0123456789abcdef0123456789abcdef"},
            {"name": "wrangler-worker", "triggers": False},
        ],
    })
    proj = os.path.join(work, "wrangler-project")
    os.makedirs(os.path.join(proj, "src"), exist_ok=True)
    with open(os.path.join(proj, "src", "index.js"), "w") as f:
        f.write(WORKER_JS)
    with open(os.path.join(proj, "wrangler.toml"), "w") as f:
        f.write('name = "wrangler-worker"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n')
    dist = os.path.join(work, "dist")
    os.makedirs(dist, exist_ok=True)
    with open(os.path.join(dist, "index.js"), "w") as f:
        f.write(WORKER_JS)

    wenv = wrangler_env(sim, work)
    cenv = no_debug(sim)
    wci = [a.bin, "--command", "version", "--worker", "my-worker", "--dir", dist, "--compatibility-date", "2026-11-01"]
    cases = {
        "upload": (
            ("wrangler versions upload", [a.wrangler, "versions", "upload"], wenv, proj),
            ("workers-ci version", wci, cenv, None),
        ),
        "deploy": (
            ("wrangler deploy", [a.wrangler, "deploy"], wenv, proj),
            ("workers-ci version --deploy true", wci + ["--deploy", "true"], cenv, None),
        ),
    }
    results = {name: {"wrangler": [], "workers-ci": []} for name in cases}
    runs = 3 if a.quick else 10
    for i in range(1 + runs):  # the first round is a warm-up
        for name, (wr, wc) in cases.items():
            order = [("wrangler", wr), ("workers-ci", wc)]
            if i % 2:
                order.reverse()  # alternate who goes first, against order effects
            for tool, (_label, cmd, env, cwd) in order:
                r = measure(cmd, env, cwd)
                if i > 0:
                    results[name][tool].append(r)
        log(f"   round {i}/{runs} done")
    sim.stop()

    for name, (wr, wc) in cases.items():
        w, c = results[name]["wrangler"], results[name]["workers-ci"]
        ww, cw = median([r["wall_s"] for r in w]), median([r["wall_s"] for r in c])
        wcpu, ccpu = median([r["cpu_s"] for r in w]), median([r["cpu_s"] for r in c])
        wr_rss, c_rss = median([r["tree_peak_rss_kib"] for r in w]), median([r["tree_peak_rss_kib"] for r in c])
        procs = max(r["processes"] for r in w)
        label = f"1. {wr[0]} vs {wc[0]}"
        row(label, "wall, median (wrangler / workers-ci)", "", f"{ms(ww)} / {ms(cw)}", None)
        row(label, "wall ratio", f"≥ {UPLOAD_WALL_RATIO:.0f}×", f"{ww / cw:.0f}×", ww / cw >= UPLOAD_WALL_RATIO)
        row(label, "CPU time (user+sys), median", "", f"{ms(wcpu)} / {ms(ccpu)} ({wcpu / ccpu:.0f}×)", None)
        row(label, f"peak RSS, median (wrangler: tree of {procs} processes)", "",
            f"{mib(wr_rss)} / {mib(c_rss)}", None)
        row(label, "peak RSS ratio", f"≥ {UPLOAD_RSS_RATIO:.0f}×", f"{wr_rss / c_rss:.0f}×",
            wr_rss / c_rss >= UPLOAD_RSS_RATIO)
    return results


# ---------------------------------------------------------------------------------------------
# 2. Polling economy


def usage_line(path):
    with open(path, errors="replace") as f:
        text = f.read()
    m = re.search(r"usage: (\d+) API requests? in ([\d.]+)s", text)
    return (int(m.group(1)), float(m.group(2))) if m else (None, None)


def start_build(a, sim, work, tag, commit, logs):
    out = os.path.join(work, f"{tag}.log")
    cmd = [a.bin, "build", "--worker", "my-worker", "--branch", "main", "--commit", commit,
           "--logs", "true" if logs else "false", "--timeout", "15m"]
    f = open(out, "wb")
    p = subprocess.Popen(cmd, env=wci_env(sim), stdout=f, stderr=subprocess.STDOUT)
    rec = {"proc": p, "out": out, "commit": commit, "logs": logs, "file": f}

    def wait():
        p.wait()
        rec["exited_at"] = time.time()
        f.close()

    t = threading.Thread(target=wait, daemon=True)
    t.start()
    rec["thread"] = t
    return rec


def build_for(sim, commit):
    for b in sim.builds():
        if b["build_trigger_metadata"]["commit_hash"] == commit:
            return b
    return None


def wait_for_build(sim, commit, limit=30):
    end = time.time() + limit
    while time.time() < end:
        b = build_for(sim, commit)
        if b:
            return b
        time.sleep(0.02)
    raise SystemExit(f"no build appeared for {commit}")


def commit_hash(n):
    return f"{n:040x}"


def start_polling(a, work):
    """Starts the 3-minute builds concurrently; returns what finish_polling needs."""
    log("2. polling economy: three 3-minute builds, logs on (quiet and chatty log) and off, in the background")
    sim = Sim(a.bin, work, "polling", {})
    # 3 minutes from creation to stop: 5 s queued, 10 s initializing, 165 s running.
    running = 45000 if a.quick else 165000  # --quick: a 1-minute build
    profile = {"queued_ms": 5000, "initializing_ms": 10000, "running_ms": running, "outcome": "success"}
    # The simulator's default log (18 lines, a typical npm + wrangler build), and a chatty one:
    # 1000 lines spread over the running phase (6 lines/s, about one 50-line page per log read).
    chatty = [f"[{i:04d}] compiling module {i} of 1000" for i in range(1000)]
    runs = []
    for tag, logs, lines, label in (
        ("poll-logs", True, None, "logs on, 18-line log"),
        ("poll-chatty", True, chatty, "logs on, 1000-line log"),
        ("poll-nologs", False, None, "logs off"),
    ):
        sim.admin("PUT", "build_profile", {**profile, "log_lines": lines})
        rec = start_build(a, sim, work, tag, commit_hash(0xA0 + len(runs)), logs)
        rec["label"] = label
        wait_for_build(sim, rec["commit"])  # created under this profile before the next one is set
        runs.append(rec)
    return sim, runs


def finish_polling(sim, runs):
    for rec in runs:
        rec["thread"].join()
        if rec["proc"].returncode != 0:
            raise SystemExit(f"polling build exited {rec['proc'].returncode}; see {rec['out']}")
    reqs = sim.requests()
    for rec in runs:
        b = build_for(sim, rec["commit"])
        minutes = (parse_ts(b["stopped_on"]) - parse_ts(b["created_on"])) / 60
        n, _secs = usage_line(rec["out"])
        uuid = b["build_uuid"]
        polls = [r for r in reqs if uuid in r["path"]]
        status = sum(1 for r in polls if not r["path"].endswith("/logs") and r["method"] == "GET")
        logs = sum(1 for r in polls if r["path"].endswith("/logs"))
        span_min = (polls[-1]["at_ms"] - polls[0]["at_ms"]) / 60000
        steady = (len(polls) - 1) / span_min
        per_min = n / minutes
        target = REQ_PER_MIN_LOGS if rec["logs"] else REQ_PER_MIN_NO_LOGS
        detect = rec["exited_at"] - parse_ts(b["stopped_on"])
        label = f"2. polling, {minutes:.0f}-min build, {rec['label']}"
        row(label, "API requests per build-minute (all requests ÷ created→stopped)", f"≤ {target:.0f}",
            f"{per_min:.1f} ({n} in {minutes:.2f} min: {status} status, {logs} logs, {n - status - logs} setup)",
            per_min <= target)
        row(label, "polling rate while following (status + logs, first→last)", "", f"{steady:.1f} / min", None)
        row(label, "finish detection (stop → exit)", "", ms(detect), None)


def bench_latency(a, work, runs):
    log(f"2. finish-detection latency: {runs} short builds with logs on, {runs} with logs off")
    sim = Sim(a.bin, work, "latency", {})
    rng = random.Random(6)  # fixed seed: the same spread of stop phases on every machine
    pending, done = [], []
    n = 0
    for logs in (True, False):
        for i in range(runs):
            while len([r for r in pending if "exited_at" not in r]) >= 6:
                time.sleep(0.05)
            # Stops land at a uniformly spread phase of the client's poll tick.
            running = 4000 + rng.randrange(0, 8000)
            sim.admin("PUT", "build_profile", {"queued_ms": 1000, "initializing_ms": 1000, "running_ms": running,
                                               "outcome": "success"})
            n += 1
            rec = start_build(a, sim, work, f"latency-{n}", commit_hash(0xB000 + n), logs)
            wait_for_build(sim, rec["commit"])
            pending.append(rec)
    for rec in pending:
        rec["thread"].join()
        if rec["proc"].returncode != 0:
            raise SystemExit(f"latency build exited {rec['proc'].returncode}; see {rec['out']}")
        b = build_for(sim, rec["commit"])
        rec["detect"] = rec["exited_at"] - parse_ts(b["stopped_on"])
        done.append(rec)
    sim.stop()
    for logs, label in ((True, "logs on"), (False, "logs off")):
        d = [r["detect"] for r in done if r["logs"] == logs]
        row(f"2. finish detection, {len(d)} short builds, {label}", "stop → process exit, p95", f"≤ {DETECT_P95_S:.0f} s",
            f"{ms(p95(d))} (median {ms(median(d))}, max {ms(max(d))})", p95(d) <= DETECT_P95_S)


# ---------------------------------------------------------------------------------------------
# 3. Log volume


def bench_logs(a, work):
    log("3. log volume: 10k and 100k lines")
    sim = Sim(a.bin, work, "logs", {})
    out = {}
    runs = 1 if a.quick else 3
    for count in (10_000, 100_000):
        lines = [f"{i:06d} npm verb build step output line with some typical width to it, ok" for i in range(count)]
        # The build is over by the client's first status poll, so the whole log is the drain.
        sim.admin("PUT", "build_profile", {"queued_ms": 0, "initializing_ms": 0, "running_ms": 0,
                                           "outcome": "success", "log_lines": lines})
        rs = []
        for k in range(runs):
            commit = commit_hash(0xC00000 + count + k)
            stdout = os.path.join(work, f"log-{count}-{k}.out")
            cmd = [a.bin, "build", "--worker", "my-worker", "--branch", "main", "--commit", commit]
            r = measure(cmd, wci_env(sim), stdout=stdout)
            with open(stdout, errors="replace") as f:
                printed = sum(1 for line in f if "npm verb build step" in line)
            if printed != count:
                raise SystemExit(f"{count}-line log: only {printed} lines printed")
            uuid = build_for(sim, commit)["build_uuid"]
            at = [q["at_ms"] for q in sim.requests() if q["path"].endswith(f"{uuid}/logs")]
            r["drain_s"] = (max(at) - min(at)) / 1000 if len(at) > 1 else 0.0
            r["pages"] = len(at)
            rs.append(r)
        out[count] = rs
    sim.stop()
    for count, rs in out.items():
        wall = median([r["wall_s"] for r in rs])
        drain = median([r["drain_s"] for r in rs])
        rss = median([r["max_single_rss_kib"] for r in rs])
        row(f"3. log volume, {count // 1000}k lines", "wall (whole run) / drain (first→last logs request)", "",
            f"{ms(wall)} / {ms(drain)} ({rs[0]['pages']} pages)", None)
        row(f"3. log volume, {count // 1000}k lines", "lines/s (drain)", "", f"{count / drain:,.0f}", None)
        row(f"3. log volume, {count // 1000}k lines", "peak RSS", "", mib(rss), None)
    r10 = median([r["max_single_rss_kib"] for r in out[10_000]])
    r100 = median([r["max_single_rss_kib"] for r in out[100_000]])
    row("3. log volume", "peak RSS 100k / 10k lines", f"flat (≤ {FLAT_RATIO}×)", f"{r100 / r10:.2f}×",
        r100 / r10 <= FLAT_RATIO)


# ---------------------------------------------------------------------------------------------
# 4. Large upload


def bench_large(a, work):
    log("4. large upload: 1, 10 and 25 MiB modules")
    sim = Sim(a.bin, work, "large", {})
    runs = 1 if a.quick else 3
    rng = random.Random(25)
    tiny = os.path.join(work, "large-0")
    os.makedirs(tiny, exist_ok=True)
    with open(os.path.join(tiny, "index.js"), "w") as f:
        f.write(WORKER_JS)
    base_cmd = [a.bin, "--command", "version", "--worker", "large-0", "--dir", tiny, "--compatibility-date", "2026-11-01"]
    baseline = median([measure(base_cmd, wci_env(sim))["max_single_rss_kib"] for _ in range(runs)])
    row(f"4. large upload, {len(WORKER_JS)}-byte module", "peak RSS (the fixed baseline)", "", mib(baseline), None)
    for size_mib in (1, 10, 25):
        d = os.path.join(work, f"large-{size_mib}")
        os.makedirs(d, exist_ok=True)
        head = WORKER_JS.encode() + b"// padding: "
        # Incompressible text (base64 of random bytes), as minified code is to a compressor.
        pad = base64.b64encode(rng.randbytes(size_mib * 1024 * 1024)).replace(b"\n", b"")
        body = (head + pad)[: size_mib * 1024 * 1024 - 1] + b"\n"
        with open(os.path.join(d, "index.js"), "wb") as f:
            f.write(body)
        rs = []
        for k in range(runs):
            cmd = [a.bin, "--command", "version", "--worker", f"large-{size_mib}", "--dir", d, "--compatibility-date", "2026-11-01"]
            rs.append(measure(cmd, wci_env(sim)))
        rss = median([r["max_single_rss_kib"] for r in rs])
        wall = median([r["wall_s"] for r in rs])
        limit = RSS_PER_MODULE * size_mib * 1024
        row(f"4. large upload, {size_mib} MiB module", "peak RSS (÷ module size)", f"≤ {RSS_PER_MODULE:.0f}× = {mib(limit)}",
            f"{mib(rss)} ({rss / (size_mib * 1024):.2f}×)", rss <= limit)
        row(f"4. large upload, {size_mib} MiB module", "(peak RSS − baseline) ÷ module size", "",
            f"{(rss - baseline) / (size_mib * 1024):.2f}×", None)
        cpu = median([r["cpu_s"] for r in rs])
        row(f"4. large upload, {size_mib} MiB module", "wall / workers-ci CPU time, median", "",
            f"{ms(wall)} / {ms(cpu)}", None)
    sim.stop()


# ---------------------------------------------------------------------------------------------
# 5. Start-up and size


def bench_startup(a, work):
    log("5. start-up and size")
    out = os.path.join(work, "hyperfine-version.json")
    runs = "50" if a.quick else "300"
    subprocess.run(["hyperfine", "--shell=none", "--warmup", "20", "--runs", runs, "--export-json", out,
                    f"{a.bin} --version"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        r = json.load(f)["results"][0]
    row("5. start-up", "`workers-ci --version` wall (hyperfine)", "",
        f"median {ms(r['median'])}, mean {ms(r['mean'])} ± {ms(r['stddev'])}", None)
    rss = measure([a.bin, "--version"], dict(os.environ))["max_single_rss_kib"]
    row("5. start-up", "`workers-ci --version` peak RSS", "", mib(rss), None)
    size = os.path.getsize(a.bin)
    row("5. size", "release binary (LTO, strip)", "", f"{size / 1024 / 1024:.2f} MiB ({size:,} bytes)", None)


def bench_lockout(a, work):
    """40 builds at once on one token against Cloudflare's limit as enforced (1200 requests per
    5 min, then every call refused for 5 min), compressed 20x on both sides: the simulator's
    window and lockout are 15 s, the client polls 20x faster, builds take 10 min / 20 = 30 s, so
    unthrottled polling would need several windows' budget."""
    jobs = 10 if a.quick else 40
    log(f"6. {jobs} concurrent builds on one token, lockout mode, time x0.05")
    sim = Sim(a.bin, work, "lockout", {
        "rate_limit": {"requests": 1200, "window_secs": 300, "lockout_secs": 300, "time_scale": 0.05},
        "build": {"queued_ms": 250, "initializing_ms": 500, "running_ms": 29250, "outcome": "success"},
    })
    env = wci_env(sim)
    env["WORKERS_CI_TIME_SCALE"] = "0.05"
    t0 = time.time()
    procs = []
    for n in range(jobs):
        out = open(os.path.join(work, f"lockout-{n}.log"), "wb")
        cmd = [a.bin, "build", "--worker", "my-worker", "--branch", "main", "--commit", commit_hash(0xC000 + n),
               "--timeout", "10m"]
        procs.append((subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT), out))
    codes = []
    for p, out in procs:
        codes.append(p.wait(timeout=600))
        out.close()
    wall = time.time() - t0
    reqs = sim.requests()
    sim.stop()
    statuses = [r["status"] for r in reqs]
    # A lockout starts where a 429 follows an answer that was not one.
    lockouts = sum(1 for i, st in enumerate(statuses) if st == 429 and (i == 0 or statuses[i - 1] != 429))
    ok = sum(1 for c in codes if c == 0)
    name = f"6. {jobs} concurrent builds, one token, lockout mode (x0.05)"
    row(name, "lockouts triggered", "0", f"{lockouts} ({statuses.count(429)} requests answered 429)", lockouts == 0)
    row(name, "builds that succeeded", f"{jobs}", f"{ok}", ok == jobs)
    row(name, "API requests (all jobs)", "", f"{len(reqs)} ({len(reqs) / jobs:.1f} per build)", None)
    row(name, "wall, first start → last exit (scaled; × 20 for real time)", "", f"{wall:.1f} s (≈ {wall * 20 / 60:.0f} min real)", None)


# ---------------------------------------------------------------------------------------------
# 7. Static assets vs wrangler (issue 11)

ASSETS_FILES = 5000
ASSETS_BYTES = 50 * 1024 * 1024
ASSETS_WALL_RATIO = 10.0
ASSETS_RSS_RATIO = 20.0
ASSETS_REUPLOAD_S = 1.0


def bench_assets(a, work):
    log("7. static assets vs wrangler")
    proj = os.path.join(work, "assets-project")
    os.makedirs(os.path.join(proj, "src"), exist_ok=True)
    with open(os.path.join(proj, "src", "index.js"), "w") as f:
        f.write(WORKER_JS)
    site = os.path.join(proj, "public")
    # The same generated site as bench/assets.py (which measures workers-ci alone).
    assets_bench.generate(site, ASSETS_FILES, ASSETS_BYTES)
    with open(os.path.join(proj, "wrangler.toml"), "w") as f:
        f.write('name = "assets-worker"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n'
                '[assets]\ndirectory = "public"\nbinding = "ASSETS"\n')
    size = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(site) for n in ns)
    changed = os.path.join(site, "d00", "s0", "f00000.html")
    with open(changed, "rb") as f:
        original = f.read()

    runs = 1 if a.quick else 3
    tools = {
        "wrangler": lambda sim: ([a.wrangler, "versions", "upload"], wrangler_env(sim, work)),
        "workers-ci": lambda sim: ([a.bin, "--command", "version", "--config", "wrangler.toml"], no_debug(sim)),
    }
    res = {t: {"first": [], "again": []} for t in tools}
    for i in range(runs):
        for tool in (list(tools) if i % 2 == 0 else list(reversed(tools))):
            # A fresh simulator each time: the first upload must find no asset stored.
            sim = Sim(a.bin, work, f"assets-{tool}-{i}", {
                "workers": [{"name": "assets-worker", "triggers": False}],
                "rate_limit": None,
            })
            cmd, env = tools[tool](sim)
            res[tool]["first"].append(measure(cmd, env, proj))
            with open(changed, "wb") as f:
                f.write(original + b"<!-- changed -->")
            before = len(sim.requests())
            res[tool]["again"].append(measure(cmd, env, proj))
            uploads = [r for r in sim.requests()[before:] if "/workers/assets/upload" in r.get("path", "")]
            res[tool].setdefault("upload_requests", []).append(len(uploads))
            with open(changed, "wb") as f:
                f.write(original)
            sim.stop()
        log(f"   round {i + 1}/{runs} done")

    label = f"7. static assets, {ASSETS_FILES:,} files, {size / 1024 / 1024:.1f} MiB"
    w, c = res["wrangler"], res["workers-ci"]
    for phase, what in (("first", "first upload"), ("again", "re-upload, one file changed")):
        ww = median([r["wall_s"] for r in w[phase]])
        cw = median([r["wall_s"] for r in c[phase]])
        wr = median([r["tree_peak_rss_kib"] for r in w[phase]])
        cr = median([r["tree_peak_rss_kib"] for r in c[phase]])
        row(label, f"{what}: wall, median (wrangler / workers-ci)", "", f"{ms(ww)} / {ms(cw)}", None)
        row(label, f"{what}: peak RSS of the process tree, median", "", f"{mib(wr)} / {mib(cr)}", None)
        if phase == "first":
            row(label, "first upload: wall ratio", f"≥ {ASSETS_WALL_RATIO:.0f}×", f"{ww / cw:.1f}×",
                ww / cw >= ASSETS_WALL_RATIO)
            row(label, "first upload: peak RSS ratio", f"≥ {ASSETS_RSS_RATIO:.0f}×", f"{wr / cr:.1f}×",
                wr / cr >= ASSETS_RSS_RATIO)
        else:
            row(label, "re-upload: workers-ci wall, median", f"≤ {ASSETS_REUPLOAD_S:.0f} s", ms(cw),
                cw <= ASSETS_REUPLOAD_S)
            row(label, "re-upload: upload requests (wrangler / workers-ci)", "",
                f"{max(w['upload_requests'])} / {max(c['upload_requests'])}", None)


# ---------------------------------------------------------------------------------------------
# 9. A deploy that applies the configuration vs wrangler deploy (issue 21)

# The project of tests/it/wrangler_oracle.rs, from its fixture: KV and D1 bindings, a Durable Object
# with its migration, two routes, a custom domain, two crons, a queue consumer, observability on.
ORACLE_PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "oracle-project")


def bench_deploy_triggers(a, work):
    log("9. deploy with triggers vs wrangler deploy")
    proj = os.path.join(work, "oracle-project")
    shutil.copytree(ORACLE_PROJECT, proj, dirs_exist_ok=True)
    tools = {
        "wrangler": lambda sim: ([a.wrangler, "deploy"], wrangler_env(sim, work)),
        "workers-ci": lambda sim: (
            [a.bin, "--command", "version", "--deploy", "true", "--create-worker", "true"], no_debug(sim)),
    }
    runs = 1 if a.quick else 3
    for delay in [int(d) for d in a.delays.split(",")]:
        res = {t: {"first": [], "again": [], "req_first": [], "req_again": [], "writes_first": [], "writes_again": []}
               for t in tools}
        for i in range(runs):
            for tool in (list(tools) if i % 2 == 0 else list(reversed(tools))):
                # A fresh account each time: the first deploy creates the Worker.
                sim = Sim(a.bin, work, f"oracle-{tool}-{delay}-{i}", {
                    "workers": [], "queues": ["jobs", "jobs-dlq"], "rate_limit": None, "answer_delay_ms": delay,
                })
                cmd, env = tools[tool](sim)
                res[tool]["first"].append(measure(cmd, env, proj))
                firsts = sim.requests()
                first = len(firsts)
                res[tool]["writes_first"].append(len([r for r in firsts if r.get("method") != "GET"]))
                res[tool]["again"].append(measure(cmd, env, proj))
                again = sim.requests()[first:]
                res[tool]["req_first"].append(first)
                res[tool]["req_again"].append(len(again))
                res[tool]["writes_again"].append(len([r for r in again if r.get("method") != "GET"]))
                sim.stop()
        label = f"9. deploy with routes, domain, crons, consumer, settings at {delay} ms an answer"
        w, c = res["wrangler"], res["workers-ci"]
        for phase, what in (("first", "first deploy"), ("again", "re-run, nothing changed")):
            ww = median([r["wall_s"] for r in w[phase]])
            cw = median([r["wall_s"] for r in c[phase]])
            wr = median([r["tree_peak_rss_kib"] for r in w[phase]])
            cr = median([r["tree_peak_rss_kib"] for r in c[phase]])
            row(label, f"{what}: wall, median (wrangler / workers-ci)", "", f"{ms(ww)} / {ms(cw)}", None)
            row(label, f"{what}: peak RSS of the process tree, median", "", f"{mib(wr)} / {mib(cr)}", None)
            row(label, f"{what}: requests (wrangler / workers-ci)", "",
                f"{max(w['req_' + phase])} / {max(c['req_' + phase])}", None)
        row(label, "first deploy: writes (wrangler / workers-ci)", "",
            f"{max(w['writes_first'])} / {max(c['writes_first'])}", None)
        row(label, "re-run: writes (wrangler / workers-ci; workers-ci: the version and its deployment)", "",
            f"{max(w['writes_again'])} / {max(c['writes_again'])}", None)
        log(f"   {delay} ms done")


def wrangler_env(sim, work):
    """wrangler against `sim`, offline, as in CI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    env.update({
        "CLOUDFLARE_API_BASE_URL": sim.api,
        "CLOUDFLARE_API_TOKEN": TOKEN,
        "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
        "WRANGLER_SEND_METRICS": "false",
        # The banner's update check asks registry.npmjs.org for the latest version; hiding the
        # banner keeps every run offline (and spares wrangler up to 3 s of network wait).
        "WRANGLER_HIDE_BANNER": "true",
        "XDG_CONFIG_HOME": os.path.join(work, "xdg"),
        "CI": "true",
    })
    return env


def no_debug(sim):
    """workers-ci against `sim` without debug output (what a user's step runs)."""
    env = wci_env(sim)
    env.pop("RUNNER_DEBUG")
    return env


def table():
    head = "| benchmark | metric | target | result | |\n| --- | --- | --- | --- | --- |\n"
    return head + "".join(f"| {' | '.join(r)} |\n" for r in ROWS)


def machine(a):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    wrangler = subprocess.run([a.wrangler, "--version"], capture_output=True, text=True).stdout.strip()
    return (f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}\n- CPU: {cpu}, {os.cpu_count()} cores (nproc)\n"
            f"- memory: {mem_kib / 1024 / 1024:.1f} GiB\n- kernel: {os.uname().release}\n"
            f"- node {node}, wrangler {wrangler}\n- load average before / after: {{before}} / {{after}}\n")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--wrangler", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--quick", action="store_true", help="fewer repetitions, for trying the scripts out")
    p.add_argument("--only", default="123456789", help="which benchmarks to run, e.g. 45")
    p.add_argument("--before", help="8: a workers-ci binary from before issue 26, measured beside --bin")
    p.add_argument("--delays", default="0,150", help="8, 9: the simulator's answer delays, in ms")
    a = p.parse_args()
    work = a.work
    t0 = time.time()
    before = loadavg()
    poll = None
    if "2" in a.only:
        poll = start_polling(a, work)
        bench_latency(a, work, 5 if a.quick else 20)
    if "5" in a.only:
        bench_startup(a, work)
    if "4" in a.only:
        bench_large(a, work)
    if "3" in a.only:
        bench_logs(a, work)
    if poll:
        log("2. waiting for the 3-minute builds to finish")
        finish_polling(*poll)
        poll[0].stop()
    if "1" in a.only:
        bench_upload(a, work)
    if "6" in a.only:
        bench_lockout(a, work)
    if "7" in a.only:
        bench_assets(a, work)
    if "9" in a.only:
        bench_deploy_triggers(a, work)
    floors = None
    if "8" in a.only:
        import floors as floors_bench  # noqa: PLC0415 (it imports this module)

        floors = floors_bench.table(a)
    # Group the rows in benchmark order, whatever order they ran in.
    ROWS.sort(key=lambda r: r[0][0])
    log(f"done in {time.time() - t0:.0f} s")
    print(machine(a).format(before=before, after=loadavg()))
    print(table())
    if floors:
        print("8. Requests where users feel them: every command at each answer delay\n")
        print(floors)


if __name__ == "__main__":
    main()
