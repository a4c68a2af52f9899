import importlib.util, pathlib
from collections import Counter
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from support import partition_engine as pe
_spec = importlib.util.spec_from_file_location("tp", pathlib.Path(__file__).with_name("test_partition.py")); _m = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(_m)

STATS = Counter()

def test_probe(clean, api, sim, monkeypatch):
    osell, oclaim = pe.Engine.sell, pe.Engine.claim
    def sell(self, shelf, packs):
        STATS["sell_calls"] += 1
        r = osell(self, shelf, packs)
        STATS["sales"] += r is not None
        STATS["max_over"] = max(STATS["max_over"], self.sold_units() - self.stock_in)
        return r
    def claim(self, shelf):
        r = oclaim(self, shelf); STATS["claims"] += 1; STATS["pushes"] += len(r); return r
    monkeypatch.setattr(pe.Engine, "sell", sell)
    monkeypatch.setattr(pe.Engine, "claim", claim)
    channels = pe.open_channels(clean, api, sim, ("jd", "taobao", "pinduoduo"), 1000)
    try:
        run_state_machine_as_test(lambda: _m.Interleavings(clean, channels, []), settings=settings(max_examples=60, stateful_step_count=60, deadline=None))
    finally:
        print("STATS", dict(STATS))
