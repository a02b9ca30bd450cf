#!/usr/bin/env python3
"""Static assets upload: peak RSS and wall time of `workers-ci version` on a generated site.

    python3 bench/assets.py --bin target/release/workers-ci [--files 5000] [--mib 50]

Starts `workers-ci simulate` on a free port, generates FILES files (about MIB MiB in all,
sizes spread from a few hundred bytes to a few hundred KiB, incompressible bytes), and
measures with GNU time (`/usr/bin/time -v`: wall clock and maximum resident set size of
the workers-ci process; the simulator is a separate process and not counted):

1. the first upload (every file sent),
2. a re-upload with one file changed (one file sent),
3. a re-upload with nothing changed (nothing sent).

Prints one Markdown table. Needs Linux, python3 and /usr/bin/time (apt-get install time).
"""

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def generate(root, files, total_bytes, seed=11):
    rng = random.Random(seed)
    # Sizes with a long tail, scaled to the total.
    weights = [rng.paretovariate(1.3) for _ in range(files)]
    scale = total_bytes / sum(weights)
    exts = ["html", "css", "js", "png", "jpg", "svg", "json", "woff2", "txt", "map"]
    for i, w in enumerate(weights):
        size = max(1, min(int(w * scale), 20 * 1024 * 1024))
        rel = os.path.join(f"d{i % 50:02d}", f"s{i % 7}", f"f{i:05d}.{exts[i % len(exts)]}")
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(rng.randbytes(size))


def measure(cmd, env):
    """Runs cmd under GNU time; returns (exit code, wall seconds, peak RSS KiB, output)."""
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, env=env, capture_output=True, text=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", r.stderr)
    h, m, s = wall.groups()
    secs = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return r.returncode, secs, rss, r.stdout + r.stderr


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--bin", required=True)
    a.add_argument("--files", type=int, default=5000)
    a.add_argument("--mib", type=float, default=50)
    a = a.parse_args()
    work = tempfile.mkdtemp(prefix="workers-ci-assets-bench.")
    sim = subprocess.Popen([a.bin, "simulate", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = account = None
        while base is None or account is None:
            line = sim.stdout.readline()
            if not line:
                sys.exit("the simulator exited")
            if m := re.search(r"listening on (\S+)", line):
                base = m.group(1)
            if m := re.search(r"\b([0-9a-f]{32})\b", line) if base else None:
                account = m.group(1)
        site = os.path.join(work, "public")
        generate(site, a.files, int(a.mib * 1024 * 1024))
        total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(site) for f in fs)
        env = dict(os.environ, INPUT_API_TOKEN="bench", INPUT_ACCOUNT_ID=account, INPUT_API_URL=base,
                   INPUT_COMMAND="version", INPUT_WORKER="bench-site", INPUT_COMPATIBILITY_DATE="2026-11-01",
                   INPUT_ASSETS=site, INPUT_CREATE_WORKER="true")
        env.pop("GITHUB_ACTIONS", None)
        cmd = [a.bin, "version"]
        rows = []
        code, secs, rss, out = measure(cmd, env)
        if code != 0:
            sys.exit(out)
        rows.append(("first upload", secs, rss, out))
        first = sorted(os.listdir(os.path.join(site, "d00", "s0")))[0]
        with open(os.path.join(site, "d00", "s0", first), "ab") as f:
            f.write(b"changed")
        code, secs, rss, out = measure(cmd, env)
        if code != 0:
            sys.exit(out)
        rows.append(("re-upload, one file changed", secs, rss, out))
        code, secs, rss, out = measure(cmd, env)
        if code != 0:
            sys.exit(out)
        rows.append(("re-upload, nothing changed", secs, rss, out))
        print(f"{a.files} files, {total / 1048576:.1f} MiB, {os.cpu_count()} CPUs\n")
        print("| run | wall (s) | peak RSS (MiB) | files sent |")
        print("| --- | --- | --- | --- |")
        for name, secs, rss, out in rows:
            m = re.search(r"(\d+) uploaded", out)
            sent = m.group(1) if m else ("0" if "all unchanged" in out else "?")
            print(f"| {name} | {secs:.2f} | {rss / 1024:.1f} | {sent} |")
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            sim.wait(10)
        except subprocess.TimeoutExpired:
            sim.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
