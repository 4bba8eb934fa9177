"""Every `classnet` subcommand given everyday bad input, as a teacher or coordinator would type
it (issue #15): run as a real process in an empty folder, each must end with the documented exit
code and one line naming the culprit, with no traceback and no file left behind.

Exit codes (gateway/cli.py): 1 done but some input set aside, 2 bad command line, 3 a mistake
the message says how to fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import servers

pytestmark = pytest.mark.slow  # a process per row: minutes on a shared machine

ROOT = Path(__file__).resolve().parents[1]
DATES = ["--start", "2024-06-01", "--end", "2024-06-02"]
# A port nothing listens on: the store is unreachable.
DOWN = "influxdb://127.0.0.1:1/classnet"
GOOD_ROWS = "station,ts,temp_c\nfi-table-01,2024-06-01T12:00:00+03:00,21.5\n"
STATION_JSON = {
    "station": "fi-tampere-hervanta",
    "board": "esp32",
    "wifi": {"ssid": "school-iot"},
    "broker": {"host": "mqtt.school.fi"},
    "sensors": [{"type": "bme280"}],
}
IMPOSSIBLE = {
    **STATION_JSON,
    "intervall_s": 60,
    "meta": {"lat": 200, "timezone": "Europe/Helsinky"},
    "sensors": [{"type": "bme280", "sda": 50}, {"type": "vane", "pin": 26}],
}


@dataclass
class Case:
    name: str
    argv: list[str]  # {in} is the folder of the inputs, {store} the seeded store's URL
    code: int
    says: str  # the one line names this (the culprit and what to do)
    files: dict[str, str] = field(default_factory=dict)  # inputs, written before the run


CASES = [
    # the command word itself
    Case("a mistyped command", ["rebuld-bins", "--store", "sqlite:nope.db"], 2,
         "no command 'rebuld-bins'; did you mean 'rebuild-bins'?"),
    Case("a word that is no command", ["fly"], 2, "no command 'fly'; classnet --help lists them"),
    Case("rebuild-bins: no such SQLite store", ["rebuild-bins", "--store", "sqlite:nope.db"], 3,
         "no store at nope.db"),
    # stores that are not there, not reachable, or refuse us
    Case("summary: no such SQLite store", ["summary", "--store", "sqlite:nope.db", *DATES], 3,
         "no store at nope.db: check the path in --store"),
    Case("export: no such SQLite store", ["export", "--store", "sqlite:nope.db", *DATES], 3,
         "no store at nope.db"),
    Case("rejects: no such SQLite store", ["rejects", "--store", "sqlite:nope.db"], 3,
         "no store at nope.db"),
    Case("dashboard: no such SQLite store", ["dashboard", "--store", "sqlite:nope.db"], 3,
         "no store at nope.db"),
    Case("spool --replay: no such SQLite store",
         ["spool", "--replay", "--spool-dir", "{in}/spool", "--store", "sqlite:nope.db"], 3,
         "no store at nope.db", {"spool/refused/.keep": ""}),
    Case("export: a file that is no store", ["export", "--store", "sqlite:{in}/notes.txt", *DATES],
         3, "notes.txt: cannot open it: not a ClassNet store (file is not a database)",
         {"notes.txt": "station list for the science fair\n" * 100}),
    Case("summary: InfluxDB down", ["summary", "--store", DOWN, *DATES], 3,
         "influxdb://127.0.0.1:1/classnet: [Errno 111] Connection refused; is the store running"),
    Case("export: InfluxDB down", ["export", "--store", DOWN, *DATES], 3, "is the store running"),
    Case("rejects: InfluxDB down", ["rejects", "--store", DOWN], 3, "Connection refused"),
    Case("import: InfluxDB down", ["import", "--store", DOWN, "{in}/good.csv"], 3,
         "is the store running", {"good.csv": GOOD_ROWS}),
    Case("export: an InfluxDB database that is not there", ["export", "--store", "{open}/nosuch",
         *DATES], 3, "database not found: nosuch; check the database (or bucket) name"),
    Case("summary: HTTP 401", ["summary", "--store", "{secured}", *DATES], 3,
         "HTTP 401 {\"error\":\"authorization failed\"}; the server refused the login"),
    Case("gateway: a store path through a file",
         ["gateway", "--store", "sqlite:///etc/hostname/x.db", "--metrics-port", "-1"], 3,
         "cannot create it there: /etc/hostname is a file, not a folder"),
    # bad URLs
    Case("summary: not a store URL", ["summary", "--store", "postgres://db/x", *DATES], 3,
         "store 'postgres://db/x': use sqlite:///path.db"),
    Case("export: sqlite with two slashes", ["export", "--store", "sqlite://x.db", *DATES], 3,
         "store 'sqlite://x.db': sqlite:///abs/path.db or sqlite:relative.db"),
    Case("rejects: InfluxDB without a database", ["rejects", "--store", "influxdb://host"], 3,
         "name one database"),
    Case("gateway: not an MQTT URL", ["gateway", "--broker", "http://x", "--store", "sqlite:g.db"],
         3, "broker 'http://x': use mqtt://host:1883"),
    Case("bridge: not an MQTT URL", ["bridge", "--broker", "http://x"], 3, "broker 'http://x': use mqtt://host:1883"),
    # unknown stations, empty ranges, impossible dates
    Case("summary: a station with no data", ["summary", "--store", "{store}", *DATES,
         "--station", "fi-nobody-01"], 3, "no observations from station fi-nobody-01"),
    Case("export: an empty range", ["export", "--store", "{store}", "--start", "2019-01-01",
         "--end", "2019-01-02"], 3, "no observations from any station for local dates 2019-01-01"),
    Case("summary: end before start", ["summary", "--store", "{store}", "--start", "2024-06-02",
         "--end", "2024-06-01"], 3, "--end 2024-06-01 is before --start 2024-06-02: swap them"),
    Case("summary: not a station id", ["summary", "--store", "{store}", *DATES, "--station",
         "Tampere"], 2, "'Tampere' is not a station id"),
    Case("export: not a date", ["export", "--store", "{store}", "--start", "2024-13-01", "--end",
         "2024-06-02"], 2, "'2024-13-01' is not a date like 2024-06-01"),
    Case("export: output into a missing folder", ["export", "--store", "{store}", *DATES,
         "--output", "{in}/no/such/dir/out.csv"], 3, "no/such/dir; choose another --output"),
    Case("summary: stations file missing", ["summary", "--store", "{store}", *DATES,
         "--stations", "{in}/stations.toml"], 3, "stations.toml not found"),
    # files: missing, malformed
    Case("import: missing file", ["import", "--store", "{store}", "{in}/sd.csv"], 3,
         "sd.csv: not found"),
    Case("import: CSV without a ts column", ["import", "--store", "{store}", "{in}/a.csv"], 3,
         "a.csv: row 1 (the header) has no ts column", {"a.csv": "station,temp_c\nfi-a-01,1\n"}),
    Case("import: a row with an extra cell", ["import", "--store", "{store}", "{in}/b.csv"], 1,
         "row 3: 4 cells where the header names 3",
         {"b.csv": GOOD_ROWS + "fi-table-01,2024-06-01T12:05:00+03:00,21.5,x\n"}),
    Case("import: JSON nested too deeply", ["import", "--store", "{store}", "{in}/c.jsonl"], 1,
         "row 2: JSON nested too deeply; row refused",
         {"c.jsonl": '{"station": "fi-a-01", "ts": 1717232400}\n' + "[" * 100_000 + "\n"}),
    Case("import: an empty time", ["import", "--store", "{store}", "{in}/d.jsonl"], 1,
         "row 1 (fi-a-01): no time (the ts cell is empty)",
         {"d.jsonl": '{"station": "fi-a-01", "ts": "", "temp_c": 3}\n'}),
    Case("check-payload: missing file", ["check-payload", "fi-a-01", "{in}/msg.json"], 3,
         "cannot read"),
    Case("check-payload: bad station id", ["check-payload", "Tampere", "{in}/msg.json"], 1,
         "station id 'Tampere' is not a country code", {"msg.json": '{"ts": 1717232400}'}),
    Case("check-stations: missing file", ["check-stations", "--stations", "{in}/s.toml"], 3,
         "s.toml not found"),
    Case("check-stations: none here", ["check-stations"], 3, "no stations.toml here"),
    Case("check-stations: a repeated station", ["check-stations", "--stations", "{in}/s.toml"],
         3, "invalid station metadata:",
         {"s.toml": '[fi-a-01]\nlat = 61.5\nlon = 23.8\ntimezone = "Europe/Helsinki"\n' * 2}),
    Case("broker-config: no stations", ["broker-config", "--out", "{in}/broker"], 3,
         "no stations: give --stations FILE"),
    # flash: impossible configs, missing files
    Case("flash: an impossible station", ["flash", "--dry-run", "--config", "{in}/st.json"], 3,
         "st.json: unknown key 'intervall_s'; did you mean 'interval_s'?",
         {"st.json": json.dumps(IMPOSSIBLE)}),
    Case("flash: config missing", ["flash", "--dry-run", "--config", "{in}/st.json"], 3,
         "cannot read"),
    Case("flash: config not JSON", ["flash", "--dry-run", "--config", "{in}/st.json"], 3,
         "st.json is not JSON", {"st.json": "{'station': 1}"}),
    Case("flash: secrets file missing", ["flash", "--dry-run", "--config", "{in}/st.json",
         "--secrets", "{in}/secrets.json"], 3, "cannot read the secrets file",
         {"st.json": json.dumps(STATION_JSON)}),
    Case("flash: a port that is not there", ["flash", "--config", "{in}/st.json", "--secrets",
         "{in}/secrets.json", "--port", "/dev/ttyNOPE0"], 3, "/dev/ttyNOPE0 does not exist",
         {"st.json": json.dumps(STATION_JSON),
          "secrets.json": '{"wifi_password": "school-wifi"}'}),
    Case("flash: a WPA2 password too short", ["flash", "--dry-run", "--config", "{in}/st.json",
         "--secrets", "{in}/secrets.json"], 3, "wifi password has 5 characters; WPA2 needs 8",
         {"st.json": json.dumps(STATION_JSON), "secrets.json": '{"wifi_password": "short"}'}),
    Case("broker-config: out through a file", ["broker-config", "--station", "fi-a-01", "--out",
         "{in}/notes.txt/broker"], 3, "a file is in the way where a folder is needed",
         {"notes.txt": "x"}),
    Case("gateway: spool dir through a file", ["gateway", "--spool-dir", "{in}/notes.txt/spool",
         "--store", "sqlite:{in}/g.db", "--metrics-port", "-1"], 3,
         "a file is in the way where a folder is needed", {"notes.txt": "x", "g.db": ""}),
    Case("import: --problems into a missing folder", ["import", "--store", "sqlite:new.db",
         "{in}/good.csv", "--problems", "{in}/no/such/p.csv"], 3,
         "--problems {in}/no/such/p.csv: no folder", {"good.csv": GOOD_ROWS}),
    Case("simulate: record into a missing folder", ["simulate", "--count", "1", "--fast",
         "--duration", "10m", "--record", "{in}/no/such/r.jsonl"], 3,
         "no/such/r.jsonl: No such file or directory"),
    Case("demo: data dir through a file", ["demo", "--data-dir", "{in}/notes.txt/demo"], 3,
         "a file is in the way where a folder is needed", {"notes.txt": "x"}),
    Case("spool: no spool here", ["spool"], 3, "no spool at classnet-spool"),
    Case("simulate: not an MQTT URL", ["simulate", "--broker", "http://x", "--fast",
         "--duration", "1m"], 3, "broker 'http://x': use mqtt://host:1883 or mqtts://host:8883"),
    Case("alerts: outbox marks the wrong way round", ["alerts", "--store", "{store}", "--smtp",
         "smtp://127.0.0.1:1", "--outbox-low", "60", "--outbox-high", "50"], 3,
         "--outbox-low 60 and --outbox-high 50: the low mark must be under the high one"),
]  # fmt: skip


def _files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with one reading on 2024-06-01 (fi-table-01), made by `classnet import`."""
    where = tmp_path_factory.mktemp("seeded")
    (where / "rows.csv").write_text(GOOD_ROWS)
    url = f"sqlite:///{where / 'obs.db'}"
    done = _classnet(["import", "--store", url, str(where / "rows.csv")], where)
    assert done.returncode == 0, done.stderr
    return url


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory):
    """An InfluxDB that asks for a login, with one admin whose password we do not give."""
    server = servers.start_influxdb(tmp_path_factory.mktemp("influx-auth"), auth=True)
    servers.influx_query(
        server.port, "CREATE USER admin WITH PASSWORD 'secret' WITH ALL PRIVILEGES"
    )
    yield f"influxdb://teacher@127.0.0.1:{server.port}/classnet"
    server.stop()


def _classnet(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLASSNET_")}
    env |= {"PYTHONPATH": str(ROOT), "CLASSNET_INFLUX_PASSWORD": "wrong"}
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_input_is_one_sentence_and_the_documented_code(
    case: Case, tmp_path: Path, seeded: str, secured: str, influxdb: servers.Server
) -> None:
    work, inputs = tmp_path / "work", tmp_path / "in"
    work.mkdir()
    inputs.mkdir()
    for name, text in case.files.items():
        (inputs / name).parent.mkdir(parents=True, exist_ok=True)
        (inputs / name).write_text(text)
    before = _files(tmp_path)
    argv = [
        a.replace("{in}", str(inputs))
        .replace("{store}", seeded)
        .replace("{secured}", secured)
        .replace("{open}", f"influxdb://127.0.0.1:{influxdb.port}")
        for a in case.argv
    ]
    done = _classnet(argv, work)
    err = done.stderr
    assert "Traceback" not in err + done.stdout, err
    said = err + done.stdout
    assert done.returncode == case.code, f"exit {done.returncode}: {err}"
    says = case.says.replace("{in}", str(inputs))
    lines = [line for line in said.splitlines() if says in line]
    assert lines, f"no line says {says!r}:\n{said}"
    if case.code == 3:  # the whole error is that one line (flash lists one line per problem)
        first = err.splitlines()[0]
        assert first.startswith(f"classnet {case.argv[0]}: "), err
    assert _files(tmp_path) == before, "a failed command left a file behind"
    print(f"| {case.name} | `classnet {' '.join(case.argv)}` | {done.returncode} | {lines[0]} |")
