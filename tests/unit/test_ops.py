"""The operations files in ``ops/``: Prometheus's alert rules and scrape
config pass ``promtool``, the alerts fire when they should (and only then,
``ops/prometheus/alerts_test.yml``), and the Grafana board is a well-formed
dashboard whose queries parse and name only metrics Boende exposes.

``promtool`` comes from Debian's ``prometheus`` package (``.ci/run`` installs
it): without it the tests that need it skip with the reason, and fail when
``CI`` is set (1, true or yes), so CI cannot go green without running them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail_on_ci

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "ops" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
ALERTS_TEST = PROMETHEUS / "alerts_test.yml"
CONFIG = PROMETHEUS / "prometheus.yml"
BOARD = ROOT / "ops" / "grafana" / "boende.json"

# Every Boende metric, as exposed (infra/metrics.py and its probes), by kind.
COUNTERS = {
    "boende_submissions_total",
    "boende_read_model_rebuilds_total",
    "boende_ingest_messages_total",
    "boende_relay_produce_errors_total",
    "boende_personal_data_reads_total",
    "boende_erasures_total",
    "boende_purges_total",
    "boende_purged_keys_total",
}
HISTOGRAMS = {
    "boende_submission_duration_seconds",
    "boende_commit_batch_size",
    "boende_http_request_duration_seconds",
    "boende_read_model_batch_duration_seconds",
}
GAUGES = {
    "boende_read_model_position_events",
    "boende_read_model_lag_events",
    "boende_log_position_events",
    "boende_store_up",
    "boende_tree_head_size_events",
    "boende_tree_head_age_seconds",
    "boende_tree_head_interval_seconds",
    "boende_ingest_consumer_lag_messages",
    "boende_relay_position_events",
    "boende_relay_lag_events",
}
METRIC_NAME = re.compile(r"boende_[a-z_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def base_name(name: str) -> str:
    """``name`` without the suffix a client adds to a counter or histogram."""
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


KNOWN = {base_name(name) for name in COUNTERS | HISTOGRAMS | GAUGES}


def unknown_metrics(text: str) -> set[str]:
    """The ``boende_*`` names in ``text`` that are no metric Boende exposes."""
    return {n for n in METRIC_NAME.findall(text) if base_name(n) not in KNOWN}


# -- promtool ----------------------------------------------------------------


def find_promtool() -> str:
    """promtool's path; skips without it, or fails when CI is set."""
    path = shutil.which("promtool")
    if path is not None:
        return path
    reason = (
        "promtool is not on PATH (Debian: apt-get install prometheus; "
        ".ci/run installs it)"
    )
    skip_or_fail_on_ci(reason)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def promtool() -> str:
    return find_promtool()


def run_promtool(promtool: str, *args: str | Path) -> str:
    done = subprocess.run(
        [promtool, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"promtool {' '.join(map(str, args))}:\n{output}"
    return output


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        ("", pytest.skip.Exception),
        ("0", pytest.skip.Exception),
        ("false", pytest.skip.Exception),
        ("1", pytest.fail.Exception),
        ("true", pytest.fail.Exception),
        ("TRUE", pytest.fail.Exception),
        ("Yes", pytest.fail.Exception),
    ],
)
def test_without_promtool_skip_locally_fail_on_ci(
    ci: str,
    outcome: type[BaseException],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="promtool is not on PATH"):
        find_promtool()


def test_alert_rules_pass_promtool(promtool: str) -> None:
    output = run_promtool(promtool, "check", "rules", ALERTS)
    assert "SUCCESS" in output


def test_scrape_config_passes_promtool_and_loads_the_rules(promtool: str) -> None:
    output = run_promtool(promtool, "check", "config", CONFIG)
    assert "alerts.yml" in output  # the rules were found through rule_files


def test_alerts_fire_when_they_should(promtool: str) -> None:
    """``alerts_test.yml``: lag 5000 fires after ``for``, lag 10 never; the
    tree head alert past twice the interval; 5xx at 5% fires, at 0.1% not;
    and a test for every other alert."""
    output = run_promtool(promtool, "test", "rules", ALERTS_TEST)
    assert "SUCCESS" in output


def test_board_queries_parse(promtool: str, tmp_path: Path) -> None:
    """Every panel's PromQL, as a recording rule, passes ``promtool check
    rules`` (JSON is YAML; Grafana's ``$__rate_interval`` becomes 5m)."""
    rules = [
        {
            "record": f"boende_board:panel_{panel['id']}:{target['refId']}",
            "expr": target["expr"].replace("$__rate_interval", "5m"),
        }
        for panel in board()["panels"]
        for target in panel["targets"]
    ]
    path = tmp_path / "board_rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "board", "rules": rules}]}))
    run_promtool(promtool, "check", "rules", path)


# -- the alert rules, as text (no YAML parser among the dependencies) ----------


def alert_blocks() -> dict[str, str]:
    """Each alert's name and the text of its rule, up to the next rule."""
    text = ALERTS.read_text()
    starts = list(re.finditer(r"^\s*- alert: (\w+)\s*$", text, re.MULTILINE))
    ends = [m.start() for m in starts[1:]] + [len(text)]
    spans = zip(starts, ends, strict=True)
    return {m.group(1): text[m.end() : end] for m, end in spans}


def test_every_alert_has_for_severity_summary_and_description() -> None:
    blocks = alert_blocks()
    assert len(blocks) >= 9
    for name, block in blocks.items():
        assert name.startswith("Boende"), name
        assert re.search(r"^\s+for: \d+[smh]\s*$", block, re.MULTILINE), name
        severity = re.search(r"^\s+severity: (\w+)\s*$", block, re.MULTILINE)
        assert severity and severity.group(1) in {"critical", "warning"}, name
        assert re.search(r"^\s+summary: \S", block, re.MULTILINE), name
        assert re.search(r"^\s+description: \S", block, re.MULTILINE), name


def test_every_alert_is_unit_tested() -> None:
    tested = set(re.findall(r"alertname: (\w+)", ALERTS_TEST.read_text()))
    assert set(alert_blocks()) <= tested


def test_the_rules_name_only_boende_metrics() -> None:
    for path in (ALERTS, ALERTS_TEST):
        text = path.read_text()
        assert METRIC_NAME.search(text), path
        assert not unknown_metrics(text), path


def test_the_config_scrapes_every_process() -> None:
    text = CONFIG.read_text()
    for job in ("boende-api", "boende-ingest", "boende-relay", "boende-project"):
        assert re.search(rf"job_name: {job}\s*$", text, re.MULTILINE), job
    assert re.search(r"^rule_files:\s*\n\s+- alerts\.yml\s*$", text, re.MULTILINE)
    assert '"127.0.0.1:9464"' in text  # the API's metrics port


# -- the Grafana board -------------------------------------------------------------


def board() -> dict[str, Any]:
    loaded = json.loads(BOARD.read_text())
    assert isinstance(loaded, dict)
    return loaded


def exprs() -> Iterator[str]:
    for panel in board()["panels"]:
        for target in panel["targets"]:
            yield target["expr"]


def test_board_is_a_dashboard() -> None:
    dashboard = board()
    assert dashboard["title"] == "Boende"
    assert isinstance(dashboard["uid"], str)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard["uid"])
    assert isinstance(dashboard["schemaVersion"], int)
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["panels"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_board_panels_are_complete() -> None:
    panels = board()["panels"]
    ids = [panel["id"] for panel in panels]
    assert all(isinstance(i, int) for i in ids)
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        where = f"panel {panel['id']} {panel.get('title')!r}"
        assert panel["type"] in {"timeseries", "stat"}, where
        assert isinstance(panel["title"], str) and panel["title"], where
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        grid = panel["gridPos"]
        assert set(grid) >= {"x", "y", "w", "h"}, where
        assert all(isinstance(grid[k], int) for k in "xywh"), where
        assert grid["x"] >= 0 and grid["w"] > 0, where
        assert grid["x"] + grid["w"] <= 24, where
        assert grid["y"] >= 0 and grid["h"] > 0, where
        assert panel["targets"], where
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), where
        for target in panel["targets"]:
            assert isinstance(target["expr"], str) and target["expr"].strip(), where
            assert target["datasource"]["uid"] == "${datasource}", where


def test_board_panels_do_not_overlap() -> None:
    boxes = [(p["title"], p["gridPos"]) for p in board()["panels"]]
    for i, (title, a) in enumerate(boxes):
        for other, b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["w"] <= b["x"]
                or b["x"] + b["w"] <= a["x"]
                or a["y"] + a["h"] <= b["y"]
                or b["y"] + b["h"] <= a["y"]
            )
            assert apart, f"{title!r} overlaps {other!r}"


def test_board_names_only_boende_metrics_and_shows_them_all() -> None:
    queries = list(exprs())
    used = {name for expr in queries for name in METRIC_NAME.findall(expr)}
    assert not {n for n in used if base_name(n) not in KNOWN}
    assert {base_name(n) for n in used} == KNOWN, "a metric with no panel"


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("rate(boende_submissions_total[5m])", set()),
        ("boende_http_request_duration_seconds_bucket", set()),
        ("boende_commit_batch_size_count / boende_commit_batch_size_sum", set()),
        ("boende_submission_seconds_bucket", {"boende_submission_seconds_bucket"}),
        ("boende_store_down", {"boende_store_down"}),
        ("BOENDE_METRICS_PORT and `boende projections status`", set()),
    ],
)
def test_the_metric_name_check(text: str, unknown: set[str]) -> None:
    assert unknown_metrics(text) == unknown


def defined_in_code() -> set[str]:
    """Every metric name the code defines: the first argument of a
    prometheus-client metric in ``infra/metrics.py`` (a counter gains
    ``_total``) and the names the scrape-time probes yield."""
    names: set[str] = set()
    declared = re.compile(r'(Counter|Gauge|Histogram)\(\s*"(boende_[a-z_]+)"')
    families = re.compile(
        r'(CounterMetricFamily|gauge|labelled)\(\s*"(boende_[a-z_]+)"'
    )
    for path in [ROOT / "infra" / "metrics.py", *(ROOT / "services").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for kind, name in [*declared.findall(text), *families.findall(text)]:
            counter = kind in ("Counter", "CounterMetricFamily")
            names.add(f"{name}_total" if counter else name)
    return names


def test_the_list_of_metrics_is_the_code_s() -> None:
    """A metric renamed in the code breaks this, not the operator's board."""
    assert defined_in_code() == COUNTERS | HISTOGRAMS | GAUGES
