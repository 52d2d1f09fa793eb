"""What is installed: versions, the native kernel, and the data assets."""

import importlib.metadata
import platform

from structlab import datasets, kernels

PACKAGES = ["structlab", "numpy", "scipy", "scikit-learn", "torch", "torchvision",
            "matplotlib", "ipywidgets", "jupyterlab", "cffi", "threadpoolctl"]


def versions():
    """Python and package versions, ``None`` for a package that is not installed."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def summary(with_data=True):
    """Readable multi-line report, as printed by ``structlab info``."""
    lines = [f"{name:<13} {version or 'not installed'}" for name, version in versions().items()]
    lines.append("native kernel " + ("loaded (structlab._native)" if kernels.native_available()
                                     else "NOT loaded: NumPy fallback in use"))
    if with_data:
        lines.append("data assets (data/MANIFEST.toml):")
        lines += [f"  {row['name']:<13} {row['status']:<16} {row['package']}: {row['path']}"
                  for row in datasets.asset_status()]
    return "\n".join(lines)
