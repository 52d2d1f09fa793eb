"""cffi build script: compiles native/*.c into the extension ``structlab._native``.

Run by ``pip install -e .`` through ``setup.py`` (``cffi_modules``). It can also be
run directly (``python native/build_kernels.py``) to build the extension in place.
"""

import os
from pathlib import Path

from cffi import FFI

NATIVE = Path(__file__).resolve().parent
SOURCES = sorted(NATIVE.glob("*.c"))

# -march=native: the course builds its kernels on the machine that runs them, and the
# vector width (AVX2, AVX-512) is what makes them competitive; STRUCTLAB_CFLAGS="" turns it off.
ffibuilder = FFI()
# cffi's parser cannot read #include, so hand it the prototypes only.
header = (NATIVE / "structlab.h").read_text()
ffibuilder.cdef("\n".join(line for line in header.splitlines() if not line.startswith("#")))
ffibuilder.set_source(
    "structlab._native",
    '#include "structlab.h"',
    sources=[str(p.relative_to(NATIVE.parent)) for p in SOURCES],
    include_dirs=[str(NATIVE.relative_to(NATIVE.parent))],
    extra_compile_args=["-O3", "-std=c99", "-fopenmp-simd",
                        *os.environ.get("STRUCTLAB_CFLAGS", "-march=native").split()],
    # Without a working C compiler the install still succeeds: structlab.kernels then
    # runs its NumPy fallback, and `structlab info` says so.
    optional=True,
)

if __name__ == "__main__":
    os.chdir(NATIVE.parent)
    ffibuilder.compile(verbose=True)
