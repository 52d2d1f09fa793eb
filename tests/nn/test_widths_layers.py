import numpy as np
import pytest
import torch
from torch import nn

from structlab.nn.layers import count_parameters
from structlab.nn.widths import grow_layers, shrink_layers, width_of


def _rank_limited(layer, rank, rng):
    """Give ``layer`` a weight (and bias) of the given rank, as [W | b]."""
    W = layer.weight.detach().numpy().reshape(width_of(layer), -1)
    A = rng.standard_normal((W.shape[0], rank)) @ rng.standard_normal((rank, W.shape[1] + 1))
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(A[:, :-1].reshape(layer.weight.shape)))
        layer.bias.copy_(torch.as_tensor(A[:, -1]))


@pytest.mark.parametrize("pair", ["linear", "conv", "conv-linear"])
def test_shrink_then_grow_pairs(rng, pair):
    torch.manual_seed(0)
    if pair == "linear":
        layer, nxt, x = nn.Linear(12, 10), nn.Linear(10, 4), torch.randn(7, 12)
    elif pair == "conv":
        layer, nxt, x = nn.Conv2d(3, 10, 3, padding=1), nn.Conv2d(10, 4, 3), torch.randn(2, 3, 8, 8)
    else:
        layer, nxt, x = nn.Conv2d(3, 10, 3, stride=2), nn.Linear(10 * 3 * 3, 4), torch.randn(2, 3, 8, 8)
    layer, nxt = layer.double(), nxt.double()
    x = x.double()
    _rank_limited(layer, 3, rng)

    def net(a, b):  # no nonlinearity: the shrink must be exact
        return b(a(x).flatten(1) if isinstance(b, nn.Linear) else a(x))

    small, small_next, kept = shrink_layers(layer, nxt, 3)
    assert width_of(small) == 3 and len(kept) == 3
    torch.testing.assert_close(net(small, small_next), net(layer, nxt))
    grown, grown_next = grow_layers(small, small_next, 2)
    assert width_of(grown) == 5
    torch.testing.assert_close(net(grown, grown_next), net(small, small_next))
    relu_net = (lambda a, b: b(torch.relu(a(x)).flatten(1) if isinstance(b, nn.Linear)
                               else torch.relu(a(x))))
    torch.testing.assert_close(relu_net(grown, grown_next), relu_net(small, small_next))
    per_unit = layer.weight[0].numel() + 1 + nxt.weight.shape[0] * nxt.weight[0].numel() // 10
    assert count_parameters(layer) + count_parameters(nxt) - (
        count_parameters(small) + count_parameters(small_next)) == 7 * per_unit


@pytest.mark.parametrize("conv", [False, True])
def test_refit_on_data_helps_across_the_relu(conv):
    torch.manual_seed(1)
    if conv:
        layer, nxt = nn.Conv2d(2, 16, 3, stride=2).double(), nn.Linear(16 * 16, 5).double()
        x = torch.randn(300, 2, 9, 9, dtype=torch.float64)
    else:
        layer, nxt = nn.Linear(20, 16).double(), nn.Linear(16, 5).double()
        x = torch.randn(400, 20, dtype=torch.float64)

    def net(a, b):
        return b(torch.relu(a(x)).flatten(1))

    before = net(layer, nxt)
    folded = shrink_layers(layer, nxt, 8)
    refit = shrink_layers(layer, nxt, 8, inputs=x)
    error = {name: (net(a, b) - before).norm().item()
             for name, (a, b, _) in [("folded", folded), ("refit", refit)]}
    assert error["refit"] < error["folded"]


def test_bad_pairs():
    with pytest.raises(TypeError, match="a Conv2d cannot read the units of a Linear"):
        shrink_layers(nn.Linear(3, 4), nn.Conv2d(4, 2, 1), 2)
    with pytest.raises(ValueError, match="next_layer reads 5 units, layer makes 4"):
        shrink_layers(nn.Conv2d(3, 4, 1), nn.Conv2d(5, 2, 1), 2)
    with pytest.raises(ValueError, match="not a multiple of the 4 units"):
        shrink_layers(nn.Conv2d(3, 4, 1), nn.Linear(10, 2), 2)
    with pytest.raises(TypeError, match="must be nn.Linear or nn.Conv2d"):
        grow_layers(nn.ReLU(), nn.Linear(3, 2), 1)
    with pytest.raises(ValueError, match="k must be between 1 and 4"):
        shrink_layers(nn.Linear(3, 4), nn.Linear(4, 2), 5)


def test_policy_targets():
    from structlab.nn.widths import WidthPolicy

    policy = WidthPolicy(keep_energy=0.9, grow_ratio=0.5, grow_by=0.5, min_width=2, max_width=7)
    assert policy.target(np.diag([10.0, 1.0, 0.1, 0.01]), np.zeros(4)) == 2  # shrink, floored
    assert policy.target(np.eye(4, 6)) == 6  # flat spectrum: grow by half
    assert policy.target(np.eye(6, 9)) == 7  # capped at max_width
    assert policy.target(np.eye(4, 5)) == 5  # and at the fan-in: no orthogonal direction left
    assert policy.target(np.eye(5, 5)) == 5
    assert policy.target(np.diag([1.0, 1.0, 0.5])) == 3  # 2 units hold 0.89 < 0.9: stays


def test_controller_resizes_and_training_continues(rng):
    from structlab.nn.widths import WidthController, WidthPolicy, rebuild_optimizer

    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("fc0", nn.Linear(6, 6))  # not managed: keeps its optimizer state
    model.add_module("fc1", nn.Linear(6, 40))
    model.add_module("act", nn.ReLU())
    model.add_module("fc2", nn.Linear(40, 3))
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()  # the optimizer now holds moments for every parameter
    _rank_limited(model.fc1, 5, rng)
    controller = WidthController(model, [("fc1", "fc2")], WidthPolicy(keep_energy=0.999999))
    changes = controller.step(epoch=1)
    assert changes == {"fc1": (40, 5)} and controller.widths() == {"fc1": 5}
    assert controller.log[-1]["params"] == 42 + 5 * 7 + 3 * 5 + 3
    old_state = optimizer.state[model.fc0.weight]
    optimizer = rebuild_optimizer(optimizer, model)
    assert set(optimizer.state) == {model.fc0.weight, model.fc0.bias}  # the pair starts fresh
    assert optimizer.state[model.fc0.weight] is old_state
    before = model.fc2.weight.detach().clone()
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    assert not torch.equal(before, model.fc2.weight)  # the rebuilt optimizer trains them


def test_training_with_a_controller_resizes_between_epochs(rng):
    from structlab.nn.train import train
    from structlab.nn.widths import WidthController, WidthPolicy

    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(8, 64))
    model.add_module("act", nn.ReLU())
    model.add_module("fc2", nn.Linear(64, 3))
    X = rng.standard_normal((300, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)
    controller = WidthController(model, [("fc1", "fc2")], WidthPolicy(keep_energy=0.9))
    history = train(model, X, y, epochs=3, lr=1e-2, progress=False,
                    on_epoch_end=lambda epoch: bool(controller.step(epoch)))
    assert len(history) == 3 and [r["epoch"] for r in controller.log] == [1, 2, 3]
    widths = [r["widths"]["fc1"] for r in controller.log]
    assert widths[0] < 64 and widths == sorted(widths, reverse=True)
    assert model.fc1.out_features == widths[-1] == model.fc2.in_features
    assert history[-1]["loss"] < history[0]["loss"] + 0.1  # training went on after resizing


def test_policy_limits_a_single_shrink_and_layer_inputs_are_captured():
    from structlab.nn.models import evolving_cnn
    from structlab.nn.widths import WidthPolicy, layer_inputs

    policy = WidthPolicy(keep_energy=0.5, max_shrink=0.25)
    assert policy.target(np.diag([10.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])) == 6
    model = evolving_cnn((4, 6, 8, 10))
    seen = layer_inputs(model, ["conv2", "fc1"], torch.zeros(3, 784))
    assert seen["conv2"].shape == (3, 4, 14, 14) and seen["fc1"].shape == (3, 72)
    assert not model.conv2._forward_pre_hooks  # hooks removed
    from structlab.nn.models import evolving_resnet
    seen = layer_inputs(evolving_resnet((5, 6, 7)), ["block2.branch.conv_b"], torch.zeros(3, 784))
    assert seen["block2.branch.conv_b"].shape == (3, 6, 7, 7)  # dotted names reach submodules


def test_controller_resizes_the_inner_width_of_a_residual_block(rng):
    from structlab.nn.models import ResidualBlock
    from structlab.nn.widths import WidthController, WidthPolicy

    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("block", ResidualBlock(3, 12))
    model = model.double()
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    pair = ("block.branch.conv_a", "block.branch.conv_b")
    # growth: the block computes the same function, with a wider branch
    grower = WidthController(model, [pair], WidthPolicy(grow_ratio=0.0, grow_by=0.5, max_width=18))
    before = model(x)
    assert grower.step(1) == {"block.branch.conv_a": (12, 18)}
    torch.testing.assert_close(model(x), before)
    assert model.block.branch.conv_b.in_channels == 18
    # shrink, without the ReLU inside the branch: exact for a rank-limited conv_a
    model.block.branch.act = nn.Identity()
    _rank_limited(model.block.branch.conv_a, 4, rng)
    before = model(x)
    shrinker = WidthController(model, [pair], WidthPolicy(keep_energy=1 - 1e-12))
    assert shrinker.step(2) == {"block.branch.conv_a": (18, 4)}
    torch.testing.assert_close(model(x), before)
    assert shrinker.widths() == {"block.branch.conv_a": 4}
    with pytest.raises(ValueError, match="must be children of the same module"):
        WidthController(model, [("block.branch.conv_a", "block")],
                        WidthPolicy(keep_energy=0.5))._between("block.branch.conv_a", "block")


def test_a_residual_cnn_evolves_while_it_trains(rng):
    from structlab.nn.models import EVOLVING_RESNET_PAIRS, evolving_resnet
    from structlab.nn.widths import WidthPolicy, evolve

    X = rng.random((64, 784), dtype=np.float32)
    model = evolving_resnet((8, 8, 16))
    log = evolve(model, EVOLVING_RESNET_PAIRS, X, np.arange(64) % 10, epochs=2, resize_until=1,
                 policy=WidthPolicy(keep_energy=0.6, grow_ratio=1.0), progress=False).log
    shrunk = log[1]["widths"]
    assert list(shrunk) == [name for name, _ in EVOLVING_RESNET_PAIRS]
    assert all(width < start for width, start in zip(shrunk.values(), (8, 8, 16)))
    assert log[1]["params"] == sum(p.numel() for p in model.parameters()) < log[0]["params"]
    assert model.block2.branch.conv_b.in_channels == shrunk["block2.branch.conv_a"]
    assert model(torch.as_tensor(X[:2])).shape == (2, 10)


@pytest.mark.parametrize("grow", [False, True])
def test_optimizer_state_follows_the_kept_and_grown_units(rng, grow):
    from structlab.nn.models import evolving_cnn
    from structlab.nn.widths import WidthController, WidthPolicy, rebuild_optimizer

    model = evolving_cnn((3, 4, 6, 8))
    x, y = torch.rand(16, 784), torch.arange(16) % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    old = {name: (model.get_submodule(name).weight, model.get_submodule(name).bias)
           for name in ("conv3", "fc1")}
    moments = {p: optimizer.state[p]["exp_avg"].clone() for pair in old.values() for p in pair}
    policy = WidthPolicy(grow_ratio=0.0, grow_by=0.5) if grow else WidthPolicy(keep_energy=0.6)
    controller = WidthController(model, [("conv3", "fc1")], policy)
    (before, after), = controller.step(1).values()
    optimizer = rebuild_optimizer(optimizer, model, carry=controller.carry)
    W_old, b_old = old["conv3"]
    state = optimizer.state[model.conv3.weight]
    if grow:
        kept = np.arange(before)
        assert torch.equal(state["exp_avg"][before:], torch.zeros_like(state["exp_avg"][before:]))
    else:  # the kept units are rows of the old layer, unchanged
        kept = np.array([int(torch.all(W_old == row, dim=(1, 2, 3)).nonzero()) for row in model.conv3.weight])
    assert len(kept) == min(before, after)
    torch.testing.assert_close(state["exp_avg"][:len(kept)], moments[W_old][kept])
    torch.testing.assert_close(optimizer.state[model.conv3.bias]["exp_avg"][:len(kept)], moments[b_old][kept])
    fc1 = optimizer.state[model.fc1.weight]["exp_avg"].reshape(8, after, 9)
    torch.testing.assert_close(fc1[:, :len(kept)], moments[old["fc1"][0]].reshape(8, before, 9)[:, kept])
    torch.testing.assert_close(optimizer.state[model.fc1.bias]["exp_avg"], moments[old["fc1"][1]])
    assert int(state["step"]) == 1
    assert rebuild_optimizer(optimizer, model).state.keys() == optimizer.state.keys()


def test_per_layer_policies_and_a_cached_evolving_run(tmp_path, monkeypatch):
    from structlab.nn import widths
    from structlab.nn.models import EVOLVING_PAIRS, evolving_cnn

    with pytest.raises(ValueError, match="policy has no entry for \\['fc1'\\]"):
        widths.WidthController(evolving_cnn((2, 2, 2, 2)), EVOLVING_PAIRS,
                               {n: widths.WidthPolicy() for n in ("conv1", "conv2", "conv3")})
    monkeypatch.setenv("STRUCTLAB_DATA", str(tmp_path))
    X = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    y = np.arange(64) % 10
    policy = {name: widths.WidthPolicy(keep_energy=0.5, min_width=3 if name == "conv1" else 1)
              for name, _ in EVOLVING_PAIRS}
    settings = dict(name="run", policy=policy, epochs=2, resize_until=1, progress=False)
    model, log = widths.evolve_cached(evolving_cnn, (6, 6, 6, 8), EVOLVING_PAIRS, X, y, **settings)
    assert log[-1]["widths"]["conv1"] == 3 and 1 <= log[-1]["widths"]["fc1"] < 8
    monkeypatch.setattr(widths, "evolve", lambda *a, **k: pytest.fail("should load the cache"))
    again, cached_log = widths.evolve_cached(evolving_cnn, (6, 6, 6, 8), EVOLVING_PAIRS, X, y,
                                             **settings)
    assert cached_log == log
    torch.testing.assert_close(again(torch.as_tensor(X)), model(torch.as_tensor(X)))
