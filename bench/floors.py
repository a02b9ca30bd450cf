#!/usr/bin/env python3
"""8. Requests where users feel them (issue 26): every command against a simulator that holds
each answer back `answer_delay_ms` (0 and 150 ms: a hosted runner's distance from Cloudflare
plus its time), beside wrangler where wrangler has the command. Run by bench/run (`--only 8`)
or alone:

    floors.py --bin PATH --work DIR [--wrangler PATH] [--before PATH] [--quick] [--delays 0,150]

`--bin` also serves the simulator; `--before` is another workers-ci binary measured as a client
beside it (the code before issue 26). For every command and tool: the requests it sent, its
sequential rounds (requests sent together overlap in the simulator's log, `at_ms` to
`answered_ms`; one that waited for an answer starts the next round), and the median wall time
at each delay. Prints progress to stderr and a Markdown table to stdout.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ACCOUNT, TOKEN, WORKER_JS, Sim, log, wrangler_env  # noqa: E402

COMMIT = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
SETUP_FILE = """worker = "my-worker"

[[triggers]]
name = "Deploy default branch"
branch_includes = ["main"]
build_command = "npm run build"
deploy_command = "npx wrangler deploy"

[[triggers]]
name = "Preview"
branch_includes = ["*"]
branch_excludes = ["main"]
deploy_command = "npx wrangler versions upload"
"""
# Targets from issue 26, at 150 ms an answer.
FIRST_UPLOAD_RATIO = 3.0
EXISTING_UPLOAD_ROUNDS = 2


def rounds(requests):
    """Sequential rounds of Cloudflare requests, as tests/it/floors.rs counts them."""
    reqs = sorted((r for r in requests if r["path"].startswith("/client/v4")), key=lambda r: r["at_ms"])
    n, first_answer = 0, None
    for r in reqs:
        if first_answer is not None and r["at_ms"] < first_answer:
            first_answer = min(first_answer, r["answered_ms"])
        else:
            n += 1
            first_answer = r["answered_ms"]
    return n


def wci_env(sim, work):
    """workers-ci as a user's step runs it: real waits, no debug output, no GitHub context."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    env.pop("WORKERS_CI_TIME_SCALE", None)
    env.update({"INPUT_API_TOKEN": TOKEN, "INPUT_ACCOUNT_ID": ACCOUNT, "INPUT_API_URL": sim.api})
    return env


def project(work, name):
    """A wrangler project for the Worker `name`: the same one-file module workers-ci uploads."""
    proj = os.path.join(work, "wrangler", name)
    os.makedirs(os.path.join(proj, "src"), exist_ok=True)
    with open(os.path.join(proj, "src", "index.js"), "w") as f:
        f.write(WORKER_JS)
    with open(os.path.join(proj, "wrangler.toml"), "w") as f:
        f.write(f'name = "{name}"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n')
    return proj


def run_ok(argv, env, cwd=None):
    r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"preparation failed: {' '.join(argv)}: {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def cases(a, work):
    """Every command, as a dict: `name`; `config` for its simulator; `prepare(sim, env)`, run
    once and not measured (with --bin), returning a state; `wci(state, i)`, the arguments of
    repetition i; and, where wrangler has the command, `wrangler(state, i)` -> (argv, project)
    and a `note` naming the wrangler command."""
    dist = os.path.join(work, "dist")
    os.makedirs(dist, exist_ok=True)
    with open(os.path.join(dist, "index.js"), "w") as f:
        f.write(WORKER_JS)
    builds_config = os.path.join(work, "workers-builds.toml")
    with open(builds_config, "w") as f:
        f.write(SETUP_FILE)
    version = ["--command", "version", "--dir", dist, "--compatibility-date", "2026-11-01"]
    preview = ["--command", "preview", "--dir", dist, "--worker", "my-worker", "--compatibility-date", "2026-11-01",
               "--preview-name", "feature-x"]
    wproj = project(work, "wrangler-worker")

    def upload(env, extra=()):
        """A version of my-worker (and one of wrangler-worker by wrangler); its id."""
        out = os.path.join(work, "outputs.json")
        run_ok([a.bin, *version, "--worker", "my-worker", "--output-file", out, *extra], env)
        with open(out) as f:
            return json.load(f)["version_id"]

    def existing(sim, env):
        upload(env)
        if a.wrangler:
            run_ok([a.wrangler, "versions", "upload"], wrangler_env(sim, work), wproj)

    def two_deployed(sim, env):
        """Two versions deployed one after the other, by each tool, to split between."""
        state = {"wci": [upload(env, ["--deploy", "true"]) for _ in range(2)]}
        if a.wrangler:
            ids = []
            for _ in range(2):
                r = run_ok([a.wrangler, "deploy"], wrangler_env(sim, work), wproj)
                ids.append(next(line.split(":", 1)[1].strip() for line in r.stdout.splitlines()
                                if line.startswith("Current Version ID:")))
            state["wrangler"] = ids
        return state

    instant = {"build": {"queued_ms": 0, "initializing_ms": 0, "running_ms": 0}}
    return [
        dict(name="build (start, `wait: false`)", config={}, prepare=lambda sim, env: None,
             wci=lambda s, i: ["--command", "build", "--worker", "my-worker", "--branch", "main", "--wait", "false"]),
        dict(name="wait (a build that has finished)", config=instant,
             prepare=lambda sim, env: sim.admin("POST", "push", {"worker": "my-worker", "branch": "main",
                                                                  "commit": COMMIT}),
             wci=lambda s, i: ["--command", "wait", "--worker", "my-worker", "--commit", COMMIT]),
        dict(name="version, new Worker", config={}, prepare=lambda sim, env: None,
             wci=lambda s, i: [*version, "--worker", f"fresh-{i}", "--create-worker", "true"],
             wrangler=lambda s, i: ([a.wrangler, "versions", "upload"], project(work, f"fresh-{i}")),
             note="`versions upload`*"),
        dict(name="version, existing Worker", config={}, prepare=existing,
             wci=lambda s, i: [*version, "--worker", "my-worker"],
             wrangler=lambda s, i: ([a.wrangler, "versions", "upload"], wproj), note="`versions upload`"),
        dict(name="version + deploy 100 %", config={}, prepare=existing,
             wci=lambda s, i: [*version, "--worker", "my-worker", "--deploy", "true"],
             wrangler=lambda s, i: ([a.wrangler, "deploy"], wproj), note="`deploy`"),
        dict(name="deploy, split 30/70", config={}, prepare=two_deployed,
             wci=lambda s, i: ["--command", "deploy", "--worker", "my-worker", "--versions",
                               f"{s['wci'][1]}@30, {s['wci'][0]}@70"],
             wrangler=lambda s, i: ([a.wrangler, "versions", "deploy", f"{s['wrangler'][1]}@30",
                                     f"{s['wrangler'][0]}@70", "--yes"], wproj),
             note="`versions deploy`"),
        dict(name="preview, existing Preview", config={},
             prepare=lambda sim, env: run_ok([a.bin, *preview], env), wci=lambda s, i: preview),
        dict(name="setup, nothing to change", config={},
             prepare=lambda sim, env: run_ok([a.bin, "--command", "setup", "--builds-config", builds_config], env),
             wci=lambda s, i: ["--command", "setup", "--builds-config", builds_config]),
        dict(name="redeploy (`wait: false`)", config=instant,
             prepare=lambda sim, env: run_ok([a.bin, "--command", "build", "--worker", "my-worker", "--branch",
                                              "main", "--commit", COMMIT], {**env, "WORKERS_CI_TIME_SCALE": "0.02"}),
             wci=lambda s, i: ["--command", "redeploy", "--worker", "my-worker", "--wait", "false"]),
    ]


def measure_case(a, work, case, delay, tools, reps):
    """{tool: [requests, rounds, [wall seconds]]} for one command at one delay."""
    config = {"workers": [{"name": "my-worker"}, {"name": "wrangler-worker", "triggers": False}],
              "answer_delay_ms": delay, **case["config"]}
    sim = Sim(a.bin, work, f"floors-{delay}", config)
    try:
        env = wci_env(sim, work)
        state = case["prepare"](sim, env)
        results = {}
        for i in range(reps):
            order = list(tools)
            if i % 2:
                order.reverse()
            for tool, client in order:
                # Each tool's own name for what a repetition creates (a new Worker).
                key = f"{tool.replace(' ', '-')}-{i}"
                if tool == "wrangler":
                    argv, cwd = case["wrangler"](state, key)
                    run_env = wrangler_env(sim, work)
                else:
                    argv, cwd = [client, *case["wci"](state, key)], None
                    run_env = env
                before = len(sim.requests())
                t0 = time.perf_counter()
                r = subprocess.run(argv, env=run_env, cwd=cwd, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                reqs = sim.requests()[before:]
                ok = r.returncode == 0
                if not ok and not (tool == "wrangler" and case["name"] == "version, new Worker"):
                    raise SystemExit(f"{tool} {case['name']}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
                n = len([q for q in reqs if q["path"].startswith("/client/v4")])
                got = results.setdefault(tool, [n, rounds(reqs), []])
                got[2].append(wall)
        return results
    finally:
        sim.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--wrangler")
    p.add_argument("--before", help="a workers-ci binary from before issue 26, measured beside --bin")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--delays", default="0,150")
    a = p.parse_args()
    print(table(a))


def table(a):
    delays = [int(d) for d in a.delays.split(",")]
    reps = 2 if a.quick else 5
    tools = [("workers-ci", a.bin)]
    if a.before:
        tools.insert(0, ("workers-ci before", a.before))
    rows, checks = [], []
    for case in cases(a, a.work):
        case_tools = tools + ([("wrangler", a.wrangler)] if a.wrangler and "wrangler" in case else [])
        per_delay = {}
        for d in delays:
            log(f"8. {case['name']} at {d} ms")
            per_delay[d] = measure_case(a, a.work, case, d, case_tools, reps)
        for tool, _ in case_tools:
            n, r, _ = per_delay[delays[-1]][tool]
            # Answers without a delay are too quick to overlap: rounds only show with one.
            r = r if delays[-1] > 0 else "—"
            walls = " | ".join(f"{statistics.median(per_delay[d][tool][2]) * 1000:.0f} ms" for d in delays)
            label = f"wrangler {case['note']}" if tool == "wrangler" else tool
            rows.append(f"| {case['name']} | {label} | {n} | {r} | {walls} |")
        if 150 in delays and case["name"] == "version, new Worker" and a.wrangler:
            w, c = per_delay[150]["wrangler"], per_delay[150]["workers-ci"]
            ratio = statistics.median(w[2]) / statistics.median(c[2])
            checks.append(f"- first upload at 150 ms: wrangler / workers-ci wall = {ratio:.1f}× "
                          f"(target ≥ {FIRST_UPLOAD_RATIO:.0f}×: {'pass' if ratio >= FIRST_UPLOAD_RATIO else 'MISS'}); "
                          f"requests {c[0]} vs wrangler's {w[0]} "
                          f"({'pass' if c[0] <= w[0] else 'MISS'}: no more than wrangler)")
        if case["name"] == "version, existing Worker" and delays[-1] > 0:
            r = per_delay[delays[-1]]["workers-ci"][1]
            checks.append(f"- upload to an existing Worker: {r} sequential rounds (target ≤ {EXISTING_UPLOAD_ROUNDS}: "
                          f"{'pass' if r <= EXISTING_UPLOAD_ROUNDS else 'MISS'})")
    head = ("| command | tool | requests | sequential rounds | "
            + " | ".join(f"wall at {d} ms, median" for d in delays) + " |\n"
            + "| --- | --- | --- | --- | " + " | ".join("---" for _ in delays) + " |\n")
    notes = ("\n\n\\* The simulator refuses a classic upload to a Worker that does not exist (404 after "
             "wrangler's 3 requests), as nothing documents that it creates one: wrangler's requests and time up to "
             "that answer.\n") if a.wrangler else "\n"
    return head + "\n".join(rows) + notes + "\n" + "\n".join(checks) + "\n"


if __name__ == "__main__":
    main()
