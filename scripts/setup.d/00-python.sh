#!/usr/bin/env bash
# A private virtualenv in .tools/venv with every package listed in scripts/requirements/*.txt.
set -euo pipefail
venv="$BERTH_TOOLS/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
stamp="$venv/.requirements"
want=$(cat scripts/requirements/*.txt 2>/dev/null | sort)
if [ "$want" != "$(cat "$stamp" 2>/dev/null)" ]; then
  [ -z "$want" ] || "$venv/bin/pip" install --quiet --disable-pip-version-check $(cat scripts/requirements/*.txt | grep -v '^#')
  printf '%s' "$want" > "$stamp"
fi
