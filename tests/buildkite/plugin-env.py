"""Prints, as shell `export` lines, the environment the Buildkite agent gives this plugin's
hooks for the first step of a pipeline file that uses it (docs/buildkite.md §O.2): the plugin's
name from its location (last path segment, `-buildkite-plugin` stripped, uppercased, `-` → `_`),
then BUILDKITE_PLUGIN_<NAME>_<KEY> for each key (uppercased, `-` and spaces → `_`), booleans as
true/false, lists as <KEY>_0, <KEY>_1, ..., maps as <KEY>_<SUB>.

    python3 plugin-env.py pipeline.yml
"""
import re
import shlex
import sys

import yaml

LOCATION = "https://github.com/workers-ci/workers-ci#"


def flatten(prefix, value, out):
    if isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    elif isinstance(value, (int, float, str)):
        out[prefix] = str(value)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flatten(f"{prefix}_{i}", v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            key = re.sub(r"[-\s]", "_", str(k).upper())
            flatten(f"{prefix}_{key}", v, out)
    else:
        sys.exit(f"unsupported value {value!r} under {prefix}")


pipeline = yaml.safe_load(open(sys.argv[1]))
for step in pipeline["steps"]:
    for plugin in step.get("plugins", []) if isinstance(step, dict) else []:
        for location, config in plugin.items():
            if not location.startswith(LOCATION):
                continue
            name = location.split("#")[0].rstrip("/").split("/")[-1].lower()
            name = re.sub(r"[^a-z0-9]", "-", name).removesuffix("-buildkite-plugin")
            name = name.upper().replace("-", "_")
            env = {}
            flatten(f"BUILDKITE_PLUGIN_{name}", config, env)
            for k, v in env.items():
                print(f"export {k}={shlex.quote(v)}")
            sys.exit(0)
sys.exit(f"no step of {sys.argv[1]} uses {LOCATION}")
