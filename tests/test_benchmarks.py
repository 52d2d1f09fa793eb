"""The benchmark scripts run and print what they promise (no timing is asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from structlab.approx.budget import METHODS

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


def test_palm4msa_benchmark_smoke_json():
    out = _run(BENCHMARKS / "palm4msa_vs_pyfaust.py", "--smoke", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["case"] for r in rows] == ["Hadamard 16", "Gaussian 64x64 J=3 k=4"]
    fields = {"case", "shape", "nnz", "ours_error", "ours_s", "pyfaust_error", "pyfaust_s",
              "pyfaust_nnz", "speedup", "quoted_pyfaust_error", "quoted_pyfaust_s", "goal_met"}
    assert all(set(r) == fields for r in rows)
    assert rows[0]["ours_error"] <= 1e-12 and rows[0]["nnz"] == 4 * 32
    assert 0 < rows[1]["ours_error"] < 1 and rows[1]["nnz"] <= 3 * 64 * 4


def test_sss_benchmark_smoke_json():
    out = _run(BENCHMARKS / "sss_imagenet.py", "--smoke", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["share"], r["method"]) for r in rows] == [
        (s, m) for s in (0.2, 0.5) for m in ("SSS", "low rank", "sparse product")]
    for r in rows:
        assert r["nparams"] <= r["budget"] == int(r["share"] * 100 * 1280)
        assert 0 <= r["weight_error"] < 1 and 0 <= r["agreement"] <= 1
        assert r["structurednets_error"] is None  # only quoted for the full 1000 x 1280 matrix


def test_evolving_widths_smoke_json():
    out = _run(BENCHMARKS / "evolving_widths.py", "--smoke", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["run"], r["epoch"]) for r in rows] == [
        (run, epoch) for run in ("shrink", "grow", "residual") for epoch in (1, 2)]
    fields = {"run", "epoch", "widths", "params", "val_accuracy", "seconds", "test_accuracy"}
    assert all(set(r) == fields for r in rows)
    shrink, grow, residual = rows[:2], rows[2:4], rows[4:]
    assert list(shrink[0]["widths"]) == ["conv1", "conv2", "conv3", "fc1"]
    assert shrink[-1]["params"] < 24_000  # the smoke start (4, 8, 16, 192) has ~24k
    assert grow[-1]["params"] > grow[0]["params"] and grow[-1]["widths"]["fc1"] > 2
    assert list(residual[0]["widths"]) == ["block1.branch.conv_a", "block2.branch.conv_a", "fc1"]
    assert residual[-1]["params"] < 50_058  # the smoke start (8, 8, 128) has 50,058
    assert [r["test_accuracy"] is None for r in rows] == [True, False] * 3


def test_kernels_benchmark_smoke_json(tmp_path):
    out = _run(BENCHMARKS / "kernels.py", "--smoke", "--json", "--batch", "1", "4",
               "--plot", tmp_path / "speed.png")
    rows = [json.loads(line) for line in out.splitlines()]
    methods = ["dense", "lowrank", "pruning", "codebook", "pruned codebook", "sparse product",
               "sss", "dense", "butterflies", "butterflies as CSR"]
    assert [r["method"] for r in rows] == [m for m in methods for _ in (1, 4)]
    assert [r["batch"] for r in rows] == [1, 4] * len(methods)
    for r in rows:
        assert r["flop_ratio"] == r["dense_flops"] / r["flops"]
        assert r["speedup"] == r["dense_c_best"] / r["structure_best"]
        assert 0 < r["structure_best"] <= r["structure_median"]
        assert r["bandwidth"] == 2 * r["read_bytes"] / r["copy_best"]
        assert r["bound_share"] == pytest.approx(r["copy_best"] / 2 / r["structure_best"])
        assert r["read_bytes"] == r["bytes"] + 4 * r["batch"] * r["shape"][1]
        goals = ("met", "MISS") if r["method"] == "dense" else ("met flops", "met bytes", "MISS")
        assert r["goal"] in (goals if r["batch"] == 1 else ("-",))
    hadamard = [r for r in rows if r["case"] == "Hadamard 64" and r["method"] != "dense"]
    assert all(r["numbers"] == 2 * 64 * 6 and r["flop_ratio"] == 64 / 12 for r in hadamard)
    assert (tmp_path / "speed.png").stat().st_size > 10_000


def test_torch_layers_smoke_json():
    out = _run(BENCHMARKS / "torch_layers.py", "--smoke", "--json", "--batch", "1", "3")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["method"], r["batch"]) for r in rows] == [
        (method, batch) for method in (*METHODS, "butterflies") for batch in (1, 3)]
    for r in rows:  # each module computes its structure's product, and every field is filled
        assert r["max_error"] < 1e-4 and r["numbers"] > 0 and r["dense_bytes"] > 0, r
        assert r["forward_speedup"] == r["dense_forward_us"] / r["forward_us"] > 0
        assert r["c_us"] > 0 and r["train_speedup"] == r["dense_train_us"] / r["train_us"] > 0
        assert r["state_dict_bytes"] < r["dense_bytes"], r  # the compressed numbers only
    low = next(r for r in rows if r["method"] == "lowrank")
    assert low["params"] == low["numbers"] and low["state_dict_bytes"] > 4 * low["numbers"]
