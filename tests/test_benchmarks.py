"""The benchmark scripts run and print what they promise (no timing is asserted)."""

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(*args):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          check=True).stdout


def test_deep_compression_smoke_json():
    out = _run(BENCHMARKS / "deep_compression.py", "--smoke", "--json", "--model", "lenet300")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["stage"] for r in rows] == ["baseline", "pruned", "pruned+quantized",
                                          "pruned+quantized+huffman"]
    fields = {"model", "stage", "test_error_pct", "val_error_pct", "size_kb", "dense_kb", "ratio",
              "seconds"}
    assert all(set(r) == fields for r in rows)
    sizes = [r["size_kb"] for r in rows]
    assert sizes == sorted(sizes, reverse=True) and rows[0]["ratio"] == 1.0
    assert rows[0]["dense_kb"] == rows[0]["size_kb"] == 266_610 * 4 / 1000


def test_lowrank_benchmark_prints_a_table():
    out = _run(BENCHMARKS / "lowrank.py", "--repeats", "2")
    assert "MobileNetV2 classifier 1000x1280" in out and "theory" in out
    assert len(out.splitlines()) == 3 + 6
