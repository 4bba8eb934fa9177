#!/usr/bin/env bash
# Makes docs/climate-report-example.png, the printable monthly report shown in docs/climate.md:
# a month of one simulated school (with a power cut, so the marks show), imported into a
# fresh SQLite store, printed by `classnet report --format pdf` (headless Chromium), and the page
# rasterised with pdftoppm (Debian's poppler-utils).
#
#   bash docs/report_example.sh            # from the repository root, with classnet installed
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
classnet() { PYTHONPATH="$root" "${PYTHON:-python3}" -m gateway.cli "$@"; }

# The calendar month before last: always whole, whatever today is.
month=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
days_ago=$(( ($(date -u +%s) - $(date -u -d "$month-01" +%s)) / 86400 + 2 ))
classnet simulate --towns tampere --count 1 --interval 600 --start "${days_ago}d" \
  --duration 33d --fast --record messages.jsonl --seed 7
classnet simulate --towns tampere --count 1 --write-stations stations.toml
# The recorded messages' observation bodies (single readings and backlog batches), one per line.
# A power cut from the 12th, 14:00 UTC to the 14th, 02:00 UTC: nothing measured, nothing sent.
MONTH=$month "${PYTHON:-python3}" - <<'PY'
import json, os
from datetime import datetime
cut = [datetime.fromisoformat(f"{os.environ['MONTH']}-{day}+00:00").timestamp()
       for day in ("12T14:00", "14T02:00")]
with open("messages.jsonl") as log, open("obs.jsonl", "w") as out:
    for message in map(json.loads, log):
        if message["topic"].endswith("/obs"):
            body = json.loads(message["payload"])
            for reading in body if isinstance(body, list) else [body]:
                if not cut[0] <= reading["ts"] < cut[1]:
                    out.write(json.dumps({"station": message["station"], **reading}) + "\n")
PY
classnet import obs.jsonl --store sqlite:month.db
classnet report --store sqlite:month.db --stations stations.toml --station fi-tampere-01 \
  --month "$month" --format pdf -o report.pdf
pdftoppm -png -r 70 -singlefile report.pdf "$root/docs/climate-report-example"
echo "wrote docs/climate-report-example.png ($month)"
