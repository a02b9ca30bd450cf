"""Checks what three e2e-preview runs (pull request opened, synchronize, closed) left in the
simulator, read back from its GitHub and Cloudflare APIs by .ci/action:

    e2e-preview-check.py AFTER_FILE SHA1 SHA2

AFTER_FILE holds `name=JSON` lines: comments, deployments, `statuses <id>`, previews, requests.
"""

import json
import sys

lines = open(sys.argv[1]).read().splitlines()
sha1, sha2 = sys.argv[2], sys.argv[3]


def get(key):
    for line in lines:
        if line.startswith(key + "="):
            try:
                return json.loads(line.split("=", 1)[1])
            except ValueError:
                raise SystemExit(f"e2e-preview: {key} could not be read back:\n" + "\n".join(lines))
    raise SystemExit(f"e2e-preview: no {key} read back:\n" + "\n".join(lines))


problems = []
ours = [c for c in get("comments") if "<!-- workers-ci:" in c["body"]]
if len(ours) != 1:
    problems.append(f"{len(ours)} workers-ci comments on the pull request, want exactly 1 (edited in place)")
elif "deleted" not in ours[0]["body"].lower():
    problems.append("the comment does not say the Preview was deleted")

deployments = get("deployments")
if sorted(d["sha"] for d in deployments) != sorted([sha1, sha2]):
    problems.append(f"GitHub Deployments for {[d['sha'][:7] for d in deployments]}, want one per head commit")
for line in lines:
    if line.startswith("statuses "):
        ident = line.split("=", 1)[0].split()[1]
        states = [s["state"] for s in json.loads(line.split("=", 1)[1])]
        # Newest first, as GitHub lists them.
        if not states or states[0] != "inactive":
            problems.append(f"GitHub Deployment {ident}: latest status {states[:1]}, want inactive")

previews = get("previews").get("result") or []
if previews:
    problems.append(f"{len(previews)} Previews left after the pull request closed")

requests = get("requests")
creates = [r for r in requests if r["method"] == "POST" and r["path"].endswith("/previews")]
if len(creates) != 1:
    problems.append(f"{len(creates)} Preview creates, want 1 (the second push updates it)")
deploys = [r for r in requests if r["method"] == "POST" and "/previews/" in r["path"] and r["path"].endswith("/deployments")]
if len(deploys) != 2:
    problems.append(f"{len(deploys)} Preview deployments, want 2 (one per push)")

for p in problems:
    print("e2e-preview:", p)
cloudflare = sum(1 for r in requests if not r["path"].startswith("/api/v3"))
print(f"e2e-preview: {cloudflare} Cloudflare and {len(requests) - cloudflare} GitHub API requests over the 3 runs; "
      f"{len(problems)} problems")
sys.exit(1 if problems else 0)
