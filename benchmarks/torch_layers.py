"""Every structure's PyTorch module against nn.Linear, one thread, measured in one run.

    python benchmarks/torch_layers.py [--smoke] [--json] [--batch 1 64]

The matrices and methods of ``benchmarks/kernels.py`` (MobileNetV2's classifier and
LeNet-300-100's fc1 at about 10 % of their numbers, the codebook at 4-bit indices;
the 1024-point Hadamard transform as butterflies). For each layer ``as_module(S)``,
float32, against a dense ``nn.Linear`` of the same shape and against its own C kernel
in the same run (:func:`structlab.kernel_bench.torch_rows`): the best microseconds of a
forward pass (inference, ``torch.no_grad``) and of a training step (forward, backward
of the output's sum, gradients cleared), the speed-ups over ``nn.Linear`` (above 1:
faster), the forward pass over the C kernel's time, the ``state_dict`` as
``torch.save`` writes it against the dense weight, and trainable numbers against the
structure's stored numbers. Nothing here passes or fails; the goals are issue 18's
(every layer faster than ``nn.Linear`` at batch 1 and within 1.3x of its C kernel,
training no slower than 3x ``nn.Linear``'s).
"""

from common import layer_options, report

from structlab.info import versions
from structlab.kernel_bench import TORCH_HEADER, cases, format_torch_row, torch_rows


def main():
    parser = layer_options(__doc__.splitlines()[0])
    args = parser.parse_args()
    timing = dict(repeats=3, min_sample=2e-4) if args.smoke else dict(repeats=7)
    v = versions()
    title = (f"torch {v['torch']}, float32, 1 thread; best microseconds; speed-up over "
             f"nn.Linear; KB = 1000 bytes{', SMOKE' if args.smoke else ''}")
    report(torch_rows(cases(args.smoke, args.share, progress=not args.json), args.batch,
                      **timing),
           as_json=args.json, title=title, header=TORCH_HEADER, format_row=format_torch_row)


if __name__ == "__main__":
    main()
