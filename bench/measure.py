#!/usr/bin/env python3
"""Runs one command and writes its wall time, CPU time and peak memory, counting its whole
process tree, as JSON to the file named by --out.

    measure.py --out RESULT.json [--stdout FILE] -- CMD [ARG...]

* wall: from just before the spawn until the command itself exits (what a CI step waits for).
* cpu: user + system time of the command and every descendant. This process makes itself a
  child subreaper (prctl PR_SET_CHILD_SUBREAPER), so descendants orphaned by their parent (e.g.
  a daemonised esbuild service) are re-parented here and reaped, and the growth of
  getrusage(RUSAGE_CHILDREN) over the run covers the whole tree exactly. (The growth, because
  the counters survive exec: a launcher such as a pyenv shim leaves its own children in them.)
* max_single_rss_kib: "Maximum resident set size" from `/usr/bin/time`, which runs the command:
  the largest peak of any one process it waited for. Exact for a single-process command.
  (Not taken from our own getrusage: a child forked from Python keeps the interpreter's
  pre-exec peak in its maxrss.)
* sampled_tree_rss_kib: the largest sum of VmRSS over all live descendants, sampled every 2 ms
  from /proc. A lower bound of the true peak of the sum (a peak between two samples can be
  missed), so a ratio "other tool / workers-ci" built on it errs against workers-ci.
* hwm_sum_kib: the sum over descendants of each one's own peak (VmHWM, exact per process, last
  value seen): an upper bound of the tree's peak.
* tree_peak_rss_kib: max(sampled_tree_rss_kib, max_single_rss_kib), the figure reported.
"""

import ctypes
import json
import os
import resource
import subprocess
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36
SAMPLE_SECONDS = 0.002


def descendants(root):
    """All live descendants of root (by /proc/<pid>/task/<tid>/children)."""
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                continue
            out.extend(kids)
            stack.extend(kids)
    return out


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def main():
    args = sys.argv[1:]
    out_path, stdout_path = None, None
    while args and args[0] != "--":
        if args[0] == "--out":
            out_path, args = args[1], args[2:]
        elif args[0] == "--stdout":
            stdout_path, args = args[1], args[2:]
        else:
            sys.exit(f"measure.py: unknown flag {args[0]}")
    cmd = args[1:]
    if not out_path or not cmd:
        sys.exit("usage: measure.py --out FILE [--stdout FILE] -- CMD [ARG...]")

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("measure.py: prctl(PR_SET_CHILD_SUBREAPER) failed")

    me = os.getpid()
    own_exe = exe(me)
    peak = {"sum": 0}
    hwm = {}
    skip = set()  # /usr/bin/time itself: measurement overhead, not the command
    done = threading.Event()

    def sample():
        while not done.is_set():
            total = 0
            for pid in descendants(me):
                if pid in skip or exe(pid) == own_exe:
                    # /usr/bin/time, or our own fork before it execs (it still shows our RSS)
                    continue
                total += status_kib(pid, "VmRSS")
                h = status_kib(pid, "VmHWM")
                if h:
                    hwm[pid] = max(hwm.get(pid, 0), h)
            peak["sum"] = max(peak["sum"], total)
            time.sleep(SAMPLE_SECONDS)

    sink = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss_file = out_path + ".rss"
    timed = ["/usr/bin/time", "-f", "%M", "-o", rss_file, "--", *cmd]
    t0 = time.perf_counter()
    proc = subprocess.Popen(timed, stdout=sink, stderr=subprocess.STDOUT if stdout_path else subprocess.DEVNULL)
    skip.add(proc.pid)
    code = proc.wait()
    wall = time.perf_counter() - t0
    exited_at = time.time()
    # Reap whatever the command left behind (re-parented to us as subreaper).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.005)
    done.set()
    sampler.join()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(rss_file) as f:
        max_single = int(f.read().split()[-1])
    os.unlink(rss_file)
    result = {
        "cmd": cmd[0],
        "exit_code": code,
        "wall_s": wall,
        "exited_at": exited_at,
        "cpu_s": (ru.ru_utime + ru.ru_stime) - (before.ru_utime + before.ru_stime),
        "max_single_rss_kib": max_single,
        "sampled_tree_rss_kib": peak["sum"],
        "hwm_sum_kib": sum(hwm.values()),
        "processes": len(hwm),
        "tree_peak_rss_kib": max(peak["sum"], max_single),
    }
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
