"""bench/flash_sale.py runs end to end in --smoke mode and writes JSON of the promised shape, its section of the
benchmarks file and its figure; and the rules it measures by (oversold, lost sales, propagation) count what they
say. No assertion on speed or on the issue's goals: those are for the benchmark to report, not for tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
HEADING = "## Flash sale (bench/flash_sale.py)"
STRATEGIES = ["periodic-5min", "periodic-1min", "realtime-shared", "realtime-partition"]
KEYS = {"oversold_units": int, "lost_sales_units": int, "sell_through": float, "propagation_p50_s": float,
        "propagation_p99_s": float, "api_calls_per_order": float}
OTHER = "## Reservations (bench/reserve.py)\n\nNumbers another bench wrote; they must survive.\n"


def _flash(name: str) -> ModuleType:
    """bench/ is a folder of scripts: put it on the path to import the benchmark's own modules."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return __import__(f"flash.{name}", fromlist=[name])


@pytest.mark.slow
def test_smoke_run_writes_json_section_and_figure_with_consistent_numbers(tmp_path: Path) -> None:
    out, result = tmp_path / "BENCHMARKS.md", tmp_path / "results.json"
    out.write_text(f"# Benchmarks\n\nIntro.\n\n{OTHER}")
    proc = subprocess.run([sys.executable, str(BENCH / "flash_sale.py"), "--smoke", "--json", str(result),
                           "--out", str(out), "--workdir", str(tmp_path / "work")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]

    strategies = json.loads(result.read_text())["strategies"]
    assert list(strategies) == STRATEGIES
    for name, numbers in strategies.items():
        assert set(numbers) == set(KEYS), name
        for key, kind in KEYS.items():
            assert type(numbers[key]) is kind, (name, key, numbers[key])
        assert numbers["oversold_units"] >= 0 and numbers["lost_sales_units"] >= 0, name
        assert 0.0 <= numbers["sell_through"] <= 1.0, name
        assert 0.0 <= numbers["propagation_p50_s"] <= numbers["propagation_p99_s"], name
        assert numbers["api_calls_per_order"] > 0, name  # every strategy polls orders and pushes stock

    text = out.read_text()
    assert OTHER.strip() in text
    section = text[text.index(HEADING):]
    assert "- Commit: `" in section and "- CPU: " in section and "--smoke" in section and "seed 20261111" in section
    for name in STRATEGIES:
        assert f"| {name} |" in section
    goal_lines = [line for line in section.splitlines() if line.startswith(("- PASS: ", "- FAIL: "))]
    assert len(goal_lines) == 5  # partition's oversell and loss; p99 and 100× for each realtime strategy
    assert "](img/flash_sale.png)" in section
    assert (tmp_path / "img" / "flash_sale.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "PASS: " in proc.stdout or "FAIL: " in proc.stdout  # the goals are printed too


def test_omnistock_bench_flash_sale_hands_its_options_to_the_script() -> None:
    proc = subprocess.run([sys.executable, "-c", "from omnistock.cli import main; main()", "bench", "flash-sale",
                           "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "usage: flash_sale.py" in proc.stdout and "--quick" in proc.stdout and "--json" in proc.stdout


def test_a_change_is_visible_when_every_other_platform_shows_no_more_than_the_new_available() -> None:
    m = _flash("measure")
    displays = {"jd": {"A": [(0.0, 10), (2.0, 9)]}, "taobao": {"A": [(0.0, 10), (5.0, 9)]},
                "douyin": {"A": [(0.0, 10), (1.0, 9)]}}  # douyin sold: its own drop does not count
    delays = m.propagation([m.Change(1.0, "A", 9, "douyin")], displays, until=20.0)
    assert delays == [m.Delay(4.0, False)]  # taobao, the slowest of the others, shows 9 at 5.0


def test_a_change_already_covered_elsewhere_is_visible_at_once_and_one_never_shown_is_a_lower_bound() -> None:
    m = _flash("measure")
    displays = {"jd": {"A": [(0.0, 3)]}, "taobao": {"A": [(0.0, 10), (4.0, 8)]}}
    changes = [m.Change(1.0, "A", 5, "shopify"), m.Change(2.0, "A", 4, "shopify"), m.Change(3.0, "A", 2, "shopify")]
    delays = m.propagation(changes, displays, until=10.0)
    # taobao's 8 covers neither 5 nor 4 nor 2; jd's 3 covers 5 and 4 from the start but 2 never
    assert delays == [m.Delay(9.0, True), m.Delay(8.0, True), m.Delay(7.0, True)]
    displays["taobao"]["A"].append((6.0, 2))
    displays["jd"]["A"].append((7.0, 0))
    assert m.propagation(changes, displays, until=10.0) == [m.Delay(5.0, False), m.Delay(4.0, False),
                                                            m.Delay(4.0, False)]


def test_lost_sales_are_refused_units_that_stayed_unsold_and_oversold_is_beyond_the_stock() -> None:
    m = _flash("measure")
    shopper = m.Outcome
    outcomes = [shopper(1.0, "jd", "A", 1, True), shopper(2.0, "taobao", "A", 2, False),  # refused, 4 left
                shopper(3.0, "jd", "A", 3, True), shopper(4.0, "taobao", "A", 1, False),  # refused, 1 left
                shopper(5.0, "jd", "B", 3, True), shopper(6.0, "douyin", "B", 2, True),  # B oversold by 3
                shopper(7.0, "douyin", "B", 1, False)]  # refused with nothing left: not lost
    per_sku = m.sales({"A": 5, "B": 2}, outcomes)
    assert (per_sku["A"].sold, per_sku["A"].lost, per_sku["A"].oversold) == (4, 1, 0)  # 3 refused, only 1 unsold
    assert (per_sku["B"].sold, per_sku["B"].lost, per_sku["B"].oversold) == (2, 0, 3)
    assert m.sell_through(per_sku, ["A", "B"]) == pytest.approx(6 / 7)


def test_the_demand_script_depends_only_on_the_seed_and_gives_each_hot_sku_one_half_platform() -> None:
    scenario = _flash("scenario")
    shape = scenario.SHAPES["quick"]
    cat = scenario.catalogue(shape, 7)
    first, again = scenario.demand(shape, cat, 7), scenario.demand(shape, cat, 7)
    assert first == again and first != scenario.demand(shape, cat, 8)
    for sku in cat.hot:
        asked = [a for a in first.arrivals if a.sku == sku]
        assert 4 * cat.stock[sku] < sum(a.qty for a in asked) < 6 * cat.stock[sku]  # about 5× the stock
        lead = max(first.hot_split[sku], key=first.hot_split[sku].__getitem__)
        share = sum(a.platform == lead for a in asked) / len(asked)
        assert 0.4 < share < 0.6, (sku, lead, share)
        assert all(0 <= a.at < shape.sale_s for a in asked)
