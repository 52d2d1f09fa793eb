"""Every structure's PyTorch module against nn.Linear, one thread, measured in one run.

    python benchmarks/torch_layers.py [--smoke] [--json] [--batch 1 64]

The matrices and methods of ``benchmarks/kernels.py`` (MobileNetV2's classifier and
LeNet-300-100's fc1 at about 10 % of their numbers, the codebook at 4-bit indices;
the 1024-point Hadamard transform as butterflies). For each module ``S.to_torch()``,
float32, against a dense ``nn.Linear`` of the same shape in the same run: the best
microseconds of a forward pass (inference, ``torch.no_grad``) and of a training step
(forward, backward of the output's sum, gradients cleared), the speed-ups over
``nn.Linear`` (above 1: faster), the module's bytes (parameters and buffers) and its
``state_dict`` as ``torch.save`` writes it, against the dense layer's, its trainable
numbers against the structure's stored numbers, and the largest difference between
its output and the structure's own product. Nothing here passes or fails: the goals
are the issue's (every module faster than ``nn.Linear`` at batch 1, ``state_dict``
within 10 % of the structure's bytes).
"""

import io

import numpy as np
import torch
from common import layer_options, report

from structlab.info import versions
from structlab.kernel_bench import cases
from structlab.timing import measure

HEADER = (f"{'layer':<24} {'method':<16} {'batch':>5} {'fwd us':>9} {'dense':>8} {'speed-up':>8} "
          f"{'train us':>9} {'dense':>8} {'speed-up':>8} {'module KB':>10} {'saved KB':>9} "
          f"{'dense KB':>9} {'params':>9} {'stored':>9}")


def format_row(r):
    return (f"{r['case']:<24} {r['method']:<16} {r['batch']:>5} {r['forward_us']:>9.1f} "
            f"{r['dense_forward_us']:>8.1f} {r['forward_speedup']:>7.2f}x {r['train_us']:>9.1f} "
            f"{r['dense_train_us']:>8.1f} {r['train_speedup']:>7.2f}x "
            f"{r['module_bytes'] / 1e3:>10.1f} {r['state_dict_bytes'] / 1e3:>9.1f} "
            f"{r['dense_bytes'] / 1e3:>9.1f} {r['params']:>9,} {r['numbers']:>9,}")


def module_bytes(module):
    """Bytes of every parameter and buffer a module holds (parametrizations' included)."""
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def saved_bytes(module):
    """Bytes of ``module.state_dict()`` as ``torch.save`` writes it."""
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def training_step(module, x):
    """One forward and backward pass, the gradients cleared first (as an optimizer loop does)."""
    module.zero_grad(set_to_none=True)
    module(x).sum().backward()


def times(module, x, timing):
    """Best microseconds of ``module``'s forward pass without autograd, and of a training step."""
    def forward():
        with torch.no_grad():
            module(x)
    return (measure(forward, **timing).best * 1e6,
            measure(training_step, module, x, **timing).best * 1e6)


def rows(case_list, batches, timing, seed=0):
    """One dict per (case, method, batch): the module against ``nn.Linear`` of its shape."""
    rng = np.random.default_rng(seed)
    for case, method, S, _ in case_list:
        if method in ("dense", "butterflies as CSR"):  # the baseline; the same module again
            continue
        module = S.to_torch().float()
        m, n = S.shape
        dense = torch.nn.Linear(n, m, bias=False)
        with torch.no_grad():
            dense.weight.copy_(torch.as_tensor(S.toarray(), dtype=torch.float32))
        for batch in batches:
            x = torch.as_tensor(rng.standard_normal((batch, n)), dtype=torch.float32)
            with torch.no_grad():
                error = float((module(x).double() - torch.as_tensor(S.matmat(x.double().numpy().T).T)
                               ).abs().max())
            forward_us, train_us = times(module, x, timing)
            dense_forward_us, dense_train_us = times(dense, x, timing)
            yield {"case": case, "method": method, "batch": batch,
                   "forward_us": forward_us, "dense_forward_us": dense_forward_us,
                   "forward_speedup": dense_forward_us / forward_us,
                   "train_us": train_us, "dense_train_us": dense_train_us,
                   "train_speedup": dense_train_us / train_us,
                   "module_bytes": module_bytes(module), "state_dict_bytes": saved_bytes(module),
                   "dense_bytes": module_bytes(dense), "structure_bytes": int(S.nbytes),
                   "params": sum(p.numel() for p in module.parameters()),
                   "numbers": int(S.nparams), "max_error": error}


def main():
    parser = layer_options(__doc__.splitlines()[0])
    args = parser.parse_args()
    timing = dict(repeats=3, min_sample=2e-4) if args.smoke else dict(repeats=7)
    v = versions()
    title = (f"torch {v['torch']}, float32, 1 thread; best microseconds; speed-up over "
             f"nn.Linear; KB = 1000 bytes{', SMOKE' if args.smoke else ''}")
    report(rows(cases(args.smoke, args.share, progress=not args.json), args.batch, timing),
           as_json=args.json, title=title, header=HEADER, format_row=format_row)


if __name__ == "__main__":
    main()
