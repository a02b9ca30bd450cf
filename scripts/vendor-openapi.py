#!/usr/bin/env python3
"""Extracts the OpenAPI operations tests/it/openapi.rs validates against into a self-contained file.

Usage: python3 scripts/vendor-openapi.py SUBSET.json [OUT.json]
    SUBSET.json  an OpenAPI 3.0 document holding at least the operations below (Cloudflare's
                 openapi.json from github.com/cloudflare/api-schemas, or a subset of it)
    OUT.json     default tests/fixtures/cloudflare-openapi/subset.json

Keeps only the operations in OPERATIONS and every component they reach through `$ref`, followed
transitively, so the output resolves without the input. The output is pretty, key-sorted JSON,
so refreshing from the same input gives the same bytes and a refresh's diff shows only what
Cloudflare changed. Python standard library only.
"""

import json
import sys
from pathlib import Path

# Every (method, path) tests/it/openapi.rs looks up. A test that asks for one not listed here fails
# with "the subset has no …": add it here and refresh.
OPERATIONS = [
    ("get", "/accounts/{account_id}/workers/scripts"),
    ("put", "/accounts/{account_id}/workers/scripts/{script_name}"),
    ("post", "/accounts/{account_id}/workers/scripts/{script_name}/assets-upload-session"),
    ("get", "/accounts/{account_id}/workers/scripts/{script_name}/deployments"),
    ("post", "/accounts/{account_id}/workers/scripts/{script_name}/deployments"),
    ("post", "/accounts/{account_id}/workers/scripts/{script_name}/subdomain"),
    ("get", "/accounts/{account_id}/workers/subdomain"),
    ("get", "/accounts/{account_id}/workers/workers"),
    ("post", "/accounts/{account_id}/workers/workers"),
    ("get", "/accounts/{account_id}/workers/workers/{worker_id}"),
    ("get", "/accounts/{account_id}/workers/workers/{worker_id}/versions"),
    ("post", "/accounts/{account_id}/workers/workers/{worker_id}/versions"),
    ("get", "/accounts/{account_id}/workers/workers/{worker_id}/versions/{version_id}"),
    ("get", "/accounts/{account_id}/workers/workers/{worker_id}/previews"),
    ("post", "/accounts/{account_id}/workers/workers/{worker_id}/previews"),
    ("get", "/accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}"),
    ("patch", "/accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}"),
    ("put", "/accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}"),
    ("delete", "/accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}"),
    ("get", "/accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments"),
    ("post", "/accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments"),
    ("patch", "/accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments/latest"),
    ("get", "/accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments/{deployment_id}"),
    ("delete", "/accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments/{deployment_id}"),
    ("get", "/accounts/{account_id}/builds/builds"),
    ("get", "/accounts/{account_id}/builds/builds/{build_uuid}"),
    ("put", "/accounts/{account_id}/builds/builds/{build_uuid}/cancel"),
    ("get", "/accounts/{account_id}/builds/builds/{build_uuid}/logs"),
    ("put", "/accounts/{account_id}/builds/repos/connections"),
    ("get", "/accounts/{account_id}/builds/tokens"),
    ("post", "/accounts/{account_id}/builds/triggers"),
    ("patch", "/accounts/{account_id}/builds/triggers/{trigger_uuid}"),
    ("delete", "/accounts/{account_id}/builds/triggers/{trigger_uuid}"),
    ("post", "/accounts/{account_id}/builds/triggers/{trigger_uuid}/builds"),
    ("get", "/accounts/{account_id}/builds/triggers/{trigger_uuid}/environment_variables"),
    ("patch", "/accounts/{account_id}/builds/triggers/{trigger_uuid}/environment_variables"),
    (
        "delete",
        "/accounts/{account_id}/builds/triggers/{trigger_uuid}/environment_variables/{environment_variable_key}",
    ),
    ("post", "/accounts/{account_id}/builds/triggers/{trigger_uuid}/purge_build_cache"),
    ("get", "/accounts/{account_id}/builds/workers/{external_script_id}/builds"),
    ("get", "/accounts/{account_id}/builds/workers/{external_script_id}/triggers"),
    ("get", "/zones"),
    ("get", "/zones/{zone_id}/workers/routes"),
    ("put", "/zones/{zone_id}/workers/routes/{route_id}"),
    ("delete", "/zones/{zone_id}/workers/routes/{route_id}"),
    ("put", "/accounts/{account_id}/workers/scripts/{script_name}/routes"),
    ("get", "/accounts/{account_id}/workers/domains"),
    ("put", "/accounts/{account_id}/workers/domains"),
    ("delete", "/accounts/{account_id}/workers/domains/{domain_id}"),
    ("put", "/accounts/{account_id}/workers/scripts/{script_name}/domains/records"),
    ("get", "/accounts/{account_id}/workers/scripts/{script_name}/schedules"),
    ("put", "/accounts/{account_id}/workers/scripts/{script_name}/schedules"),
    ("get", "/accounts/{account_id}/workers/scripts/{script_name}/script-settings"),
    ("patch", "/accounts/{account_id}/workers/scripts/{script_name}/script-settings"),
    ("get", "/accounts/{account_id}/queues"),
    ("post", "/accounts/{account_id}/queues/{queue_id}/consumers"),
    ("put", "/accounts/{account_id}/queues/{queue_id}/consumers/{consumer_id}"),
    ("delete", "/accounts/{account_id}/queues/{queue_id}/consumers/{consumer_id}"),
    ("put", "/accounts/{account_id}/workflows/{workflow_name}"),
    ("get", "/accounts/{account_id}/d1/database"),
    ("get", "/accounts/{account_id}/d1/database/{database_id}"),
    ("post", "/accounts/{account_id}/d1/database/{database_id}/query"),
    ("post", "/accounts/{account_id}/d1/database/{database_id}/raw"),
]

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def refs(node):
    """Every `$ref` string anywhere in `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def pointer_parts(ref):
    """`#/components/schemas/a~1b` -> ['components', 'schemas', 'a/b'] (RFC 6901)."""
    if not ref.startswith("#/"):
        sys.exit(f"only local $refs can be vendored, not {ref}")
    return [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]


def lookup(doc, parts, ref):
    for part in parts:
        if not isinstance(doc, dict) or part not in doc:
            sys.exit(f"unresolved $ref {ref}")
        doc = doc[part]
    return doc


def vendor(spec):
    out = {k: spec[k] for k in ("openapi", "info", "servers", "security") if k in spec}
    paths = {}
    for method, path in OPERATIONS:
        item = spec.get("paths", {}).get(path)
        if item is None or method not in item:
            sys.exit(f"the input has no {method} {path}")
        kept = paths.setdefault(path, {k: v for k, v in item.items() if k not in HTTP_METHODS})
        kept[method] = item[method]
    out["paths"] = paths
    components = {}
    # `security` names its schemes without a $ref: keep the ones it names.
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for requirement in spec.get("security", []):
        for name in requirement:
            components.setdefault("securitySchemes", {})[name] = schemes[name]
    pending = list(refs(paths))
    seen = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        parts = pointer_parts(ref)
        if len(parts) != 3 or parts[0] != "components":
            sys.exit(f"only $refs to a component can be vendored, not {ref}")
        target = lookup(spec, parts, ref)
        components.setdefault(parts[1], {})[parts[2]] = target
        pending.extend(refs(target))
    out["components"] = components
    return out


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    source = Path(sys.argv[1])
    target = Path(sys.argv[2]) if len(sys.argv) == 3 else Path(__file__).resolve().parent.parent / (
        "tests/fixtures/cloudflare-openapi/subset.json"
    )
    spec = json.loads(source.read_text(encoding="utf-8"))
    vendored = vendor(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(vendored, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    target.write_text(text, encoding="utf-8")
    counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(vendored["components"].items()))
    print(f"{target}: {len(OPERATIONS)} operations on {len(vendored['paths'])} paths; {counts}; {len(text)} bytes")


if __name__ == "__main__":
    main()
