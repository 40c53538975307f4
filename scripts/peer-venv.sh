#!/usr/bin/env bash
# Creates .venv-peers at the repository root with the benchmark's peers (requirements/peers.txt),
# kept apart from .venv so their dependencies never mix with Todoke's. Idempotent: the stamp holds
# the hash of the installed requirements file, and a changed file installs again.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-peers"
requirements="$root/requirements/peers.txt"
stamp="$venv/.installed-peers"

wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
echo "$wanted" >"$stamp"
