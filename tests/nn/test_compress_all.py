"""compress(): every structure of the course on a model's linear layers, input untouched."""

import numpy as np
import pytest
import torch

from structlab.approx.budget import METHODS
from structlab.nn.compress import StructuredLinear, compress
from structlab.nn.models import lenet_300_100


@pytest.fixture(scope="module")
def lenet_and_data():
    torch.manual_seed(0)
    model = lenet_300_100()
    rng = np.random.default_rng(0)
    X = rng.random((200, 784), dtype=np.float32)
    return model, X, rng.integers(0, 10, 200)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_compresses_a_copy_and_reports(lenet_and_data, method):
    model, X, y = lenet_and_data
    before = {k: v.clone() for k, v in model.state_dict().items()}
    new, report = compress(model, method, 0.2, layers=["fc1", "fc3"], data=(X, y),
                           timing=method == "lowrank")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert isinstance(new.fc1, StructuredLinear) and isinstance(new.fc2, torch.nn.Linear)
    for row, layer in zip(report["layers"], (model.fc1, model.fc3)):
        S = new.get_submodule(row["layer"]).structure
        x = torch.as_tensor(X[:5]) if row["layer"] == "fc1" else torch.randn(5, 100)
        expected = x.double() @ torch.as_tensor(S.toarray()).T + layer.bias.double()
        torch.testing.assert_close(new.get_submodule(row["layer"])(x).double(), expected,
                                   rtol=1e-4, atol=1e-4)
        assert row["dense_numbers"] == layer.weight.numel()
        if method != "codebook":
            assert row["numbers"] <= 0.2 * row["dense_numbers"] + 40  # + a k-means table
        assert 0 <= row["weight_error"] <= 1.5
    assert report["numbers"] == sum(r["numbers"] for r in report["layers"])
    assert 0 <= report["agreement"] <= 1 and 0 <= report["accuracy"] <= 1
    assert report["dense_accuracy"] == pytest.approx(float((model(torch.as_tensor(X)).argmax(1)
                                                            == torch.as_tensor(y)).float().mean()))
    if method == "lowrank":
        assert all(r["us"] > 0 and r["dense_us"] > 0 for r in report["layers"])


def test_full_budget_keeps_the_function_and_bad_layers_are_named(lenet_and_data):
    model, X, _ = lenet_and_data
    new, report = compress(model, "pruning", 1.0, data=(X, None), timing=False)
    assert report["agreement"] == 1.0 and "accuracy" not in report
    with pytest.raises(ValueError, match=r"layers \['conv9'\] are not nn.Linear layers"):
        compress(model, "lowrank", 0.1, layers=["conv9"])
    with pytest.raises(ValueError, match="method must be one of"):
        compress(model, "magic", 0.1)
