"""The C kernels as torch operations, with a backward pass and a pure-torch twin.

One kernel, two front doors: :mod:`structlab.kernels` hands NumPy arrays to
the C kernels, this module hands them torch tensors (their memory, no copy, no
NumPy round trip). A structured layer of :mod:`structlab.nn.layers` computes
through :func:`run` when the kernels can take its input (the compiled
extension is loaded, the tensor is on the CPU, in float32 or float64), and
through its own torch code otherwise (on a GPU, or inside
:func:`torch_path`), with the same result.

The backward passes are C kernels too: for CSR and codebook layers the
transposed product (the input's gradient) and the gradient of every stored
number, for SSS the adjoint recursions.

Examples
--------
>>> import torch
>>> from structlab.nn.ops import kernels_take
>>> kernels_take(torch.ones(2, 3)) == native_available()
True
>>> with torch_path():
...     kernels_take(torch.ones(2, 3))
False
"""

import contextlib
import threading

import torch

from structlab import kernels
from structlab.kernels import native_available

_C_NAMES = {torch.float32: ("float *", "f32"), torch.float64: ("double *", "f64")}
_forced = threading.local()


@contextlib.contextmanager
def torch_path():
    """Within this block every structured layer computes with torch operations only.

    What a CUDA tensor gets; here to test that path on the CPU, and to time it.
    """
    before = getattr(_forced, "on", False)
    _forced.on = True
    try:
        yield
    finally:
        _forced.on = before


def kernels_take(x):
    """True when the C kernels compute on ``x``: extension loaded, CPU tensor, float32 or float64."""
    return (native_available() and not getattr(_forced, "on", False) and x.device.type == "cpu"
            and x.dtype in _C_NAMES)


def pointer(t):
    """A C pointer to a tensor's memory (float, double, or ``void *`` for the integer buffers).

    Unchecked, because it runs on every call: the layers pass only their own
    buffers (contiguous by construction, and on the CPU when the input is,
    which they check) and inputs made contiguous by :func:`rows2d` and accepted
    by :func:`kernels_take`.
    """
    return kernels._ffi.cast(_C_NAMES.get(t.dtype, ("void *",))[0], t.data_ptr())


def null():
    """The C null pointer, for an optional array the kernel does without."""
    return kernels._ffi.NULL


def sparse_work(n, batch, dtype):
    """A scratch tensor of the bytes the CSR and codebook kernels need (``kernels``' rule)."""
    size = kernels._lib.sparse_work_bytes(n, batch, torch.empty(0, dtype=dtype).element_size())
    return torch.empty(int(size), dtype=torch.uint8)


def run(name, dtype, *args):
    """Call the C kernel ``name`` (``csr_apply``, ``codebook_grad``, ...) in ``dtype``'s version.

    ``args`` are passed as they are: tensors must already be :func:`pointer` s.
    """
    getattr(kernels._lib, f"{name}_{_C_NAMES[dtype][1]}")(*args)


def rows2d(x):
    """``x`` as a contiguous ``(batch, features)`` matrix, and the shape to give the output back."""
    lead = x.shape[:-1]
    return x.reshape(-1, x.shape[-1]).contiguous(), lead


def product(x, numbers, layer):
    """``x @ W.T`` by ``layer``'s C kernel; differentiable (by its backward kernels) when it must be.

    ``numbers`` is the tensor the layer trains (CSR values, a codebook's
    table, the SSS generators); ``layer`` computes with it through
    ``layer.kernel_forward(x, numbers)`` and
    ``layer.kernel_backward(x, dy, numbers, input_grad, numbers_grad)``.
    Without autograd (``torch.no_grad``, or nothing that requires a
    gradient) the kernel is called directly, which saves an autograd node.
    """
    if torch.is_grad_enabled() and (x.requires_grad or numbers.requires_grad):
        return KernelProduct.apply(x, numbers, layer)
    return layer.kernel_forward(x, numbers)


class KernelProduct(torch.autograd.Function):
    """:func:`product` with autograd: the layer's backward kernels give both gradients."""

    @staticmethod
    def forward(ctx, x, numbers, layer):
        ctx.save_for_backward(x, numbers)
        ctx.layer = layer
        return layer.kernel_forward(x, numbers)

    @staticmethod
    def backward(ctx, dy):
        x, numbers = ctx.saved_tensors
        dx, dnumbers = ctx.layer.kernel_backward(x, dy.contiguous(), numbers,
                                                 *ctx.needs_input_grad[:2])
        return dx, dnumbers, None
