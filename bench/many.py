#!/usr/bin/env python3
"""Monorepo benchmark (issue 13): 20 Workers with 3-minute builds of one push, followed by one
`wait` step (a list in `worker`) and by 20 separate single-Worker `wait` runs, logs off and on.
The four set-ups run side by side, each against its own simulator, so each count is its own.

    python3 bench/many.py --bin target/release/workers-ci [--quick] [--only one-off,sep-on,…] [--label X]

Prints one Markdown table to stdout. Targets: one step, logs off, at most 20 API requests a
minute for all 20 Workers; finish detection p95 at most 5 s per build. --quick: 1-minute builds.
--only: the set-ups to run (`one-off`, `one-on`, `sep-off`, `sep-on`; all by default). The
"went live" column counts the reads that say whether each build went live (issue 22): the
deployments lists and the builds-by-version reads.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Sim  # noqa: E402  (the one simulator wrapper of the benchmarks)
from datetime import datetime

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "bench-token"
N = 20
COMMIT = "c" * 40
REQ_PER_MIN = 20.0
DETECT_P95_S = 5.0


def log(msg):
    print(f"[many {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def p95(xs):
    xs = sorted(xs)
    return xs[max(0, int(-(-0.95 * len(xs) // 1)) - 1)]


def monorepo_sim(binary, work, name, running_ms):
    """`workers-ci simulate` with N Workers whose builds stop at different moments."""
    workers = []
    for i in range(N):
        # Staggered by 0.7 s so the builds stop at different moments of the poll cycle.
        profile = {"queued_ms": 5000, "initializing_ms": 10000, "running_ms": running_ms + 700 * i,
                   "outcome": "success"}
        workers.append({"name": f"w{i}", "tag": f"{i:032x}", "build": profile})
    return Sim(binary, work, name, {"workers": workers})


def env_for(sim):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    env.pop("WORKERS_CI_TIME_SCALE", None)
    env.update({"INPUT_API_TOKEN": TOKEN, "INPUT_ACCOUNT_ID": ACCOUNT, "INPUT_API_URL": sim.api,
                "INPUT_COMMIT": COMMIT, "INPUT_TIMEOUT": "15m", "INPUT_APPEAR_TIMEOUT": "30s"})
    return env


def run_and_watch(cmd, env, seen):
    """Runs cmd; records, per Worker, when stdout first said its build succeeded."""
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in p.stdout:
        now = time.time()
        for m in re.finditer(r"\[(w\d+)\] success", line):
            seen.setdefault(m.group(1), now)
    p.wait()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}")
    return time.time()


def setup(a, work, name, running):
    sim = monorepo_sim(a.bin, work, name, running)
    for i in range(N):
        sim.admin("POST", "push", {"worker": f"w{i}", "branch": "main", "commit": COMMIT})
    return sim


def one_step(a, work, logs, running, out):
    sim = setup(a, work, f"one-{logs}", running)
    seen = {}
    start = time.time()
    cmd = [a.bin, "wait", "--worker", ",".join(f"w{i}" for i in range(N)), "--logs", "true" if logs else "false"]
    run_and_watch(cmd, env_for(sim), seen)
    finish(sim, seen, start, out, f"one step, logs {'on' if logs else 'off'}")


def separate(a, work, logs, running, out):
    sim = setup(a, work, f"sep-{logs}", running)
    seen = {}
    start = time.time()
    threads = []
    for i in range(N):
        def one(i=i):
            exited = run_and_watch([a.bin, "wait", "--worker", f"w{i}", "--logs", "true" if logs else "false"],
                                   env_for(sim), {})
            seen[f"w{i}"] = exited
        t = threading.Thread(target=one)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    finish(sim, seen, start, out, f"20 separate runs, logs {'on' if logs else 'off'}")


def finish(sim, seen, start, out, label):
    builds = {b["build_uuid"]: b for b in sim.admin("GET", "builds")}
    tags = {f"{i:032x}": f"w{i}" for i in range(N)}
    reqs = sim.admin("GET", "requests")
    sim.stop()
    first = min(parse_ts(b["created_on"]) for b in builds.values())
    last = max(parse_ts(b["stopped_on"]) for b in builds.values())
    minutes = (last - first) / 60
    detect = []
    for b in builds.values():
        w = tags[b["trigger"]["external_script_id"]]
        detect.append(seen[w] - parse_ts(b["stopped_on"]))
    live = sum(1 for r in reqs if r["path"].endswith("/deployments") or "version_ids=" in (r.get("query") or ""))
    out.append({"label": label, "requests": len(reqs), "minutes": minutes, "per_min": len(reqs) / minutes,
                "p95": p95(detect), "max": max(detect), "wall": time.time() - start, "live": live})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="one-off,one-on,sep-off,sep-on")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    running = 45000 if a.quick else 165000
    out = []
    with tempfile.TemporaryDirectory() as work:
        wanted = set(a.only.split(","))
        jobs = [threading.Thread(target=f, args=(a, work, logs, running, out))
                for (name, f) in (("one", one_step), ("sep", separate)) for logs in (False, True)
                if f"{name}-{'on' if logs else 'off'}" in wanted]
        log(f"{len(jobs)} set-ups of {N} Workers, {(running + 15000) / 60000:.0f}-minute builds, side by side")
        for j in jobs:
            j.start()
        for j in jobs:
            j.join()
    print("| set-up | API requests | of which went live | build span | requests / min (all 20) | detection p95 | detection max |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in sorted(out, key=lambda r: r["label"]):
        print(f"| {a.label}{r['label']} | {r['requests']} | {r['live']} | {r['minutes']:.2f} min | {r['per_min']:.1f} | "
              f"{r['p95']:.2f} s | {r['max']:.2f} s |")
    ok = [r for r in out if r["label"] == "one step, logs off"]
    if ok:
        r = ok[0]
        print(f"\ntargets: one step logs off ≤ {REQ_PER_MIN:.0f}/min: {'met' if r['per_min'] <= REQ_PER_MIN else 'MISSED'}; "
              f"detection p95 ≤ {DETECT_P95_S:.0f} s: "
              f"{'met' if all(x['p95'] <= DETECT_P95_S for x in out if x['label'].startswith('one')) else 'MISSED'}")


if __name__ == "__main__":
    main()
