"""What is installed: versions, the native kernel, the cache folder and the data assets."""

import importlib.metadata
import platform

from structlab import assets, kernels
from structlab._paths import checkout_root
from structlab.cache import cache_dir

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


def native_line():
    """One line: the C kernels in use, or the NumPy fallback and why."""
    if kernels.native_available():
        return "native kernel loaded (structlab._native)"
    return f"native kernel NOT loaded, NumPy fallback in use: {kernels.FALLBACK_REASON}"


SMOKE_BANNER = ("SMOKE MODE (STRUCTLAB_SMOKE=1): tiny data, few epochs, small sizes. Every "
                "number below is illustrative only; unset STRUCTLAB_SMOKE for the real ones.")


def summary(with_data=True, smoke=False):
    """Readable multi-line report, as printed by ``structlab info``.

    With ``smoke`` (a chapter run with ``STRUCTLAB_SMOKE=1``) it ends with
    :data:`SMOKE_BANNER`, so the reader knows the numbers are illustrative.
    """
    lines = [f"{name:<13} {version or 'not installed'}" for name, version in versions().items()]
    lines.append(native_line())
    root = checkout_root()
    lines.append(f"running from  {'the checkout ' + str(root) if root else 'an installed package'}")
    if with_data:
        lines.append(f"cache folder  {cache_dir()}")
        lines.append("data assets (structlab/MANIFEST.toml):")
        for row in assets.asset_status():
            where = row["path"] or f"install with: {row['install']}"
            lines.append(f"  {row['name']:<13} {row['status']:<16} {row['package']}: {where}")
    if smoke:
        lines.append(SMOKE_BANNER)
    return "\n".join(lines)


def measured(rows, title="This run's numbers"):
    """A chapter's measured results as aligned lines, for its summary.

    Parameters
    ----------
    rows : sequence of (str, str)
        What was measured, and its value as the chapter printed it.
    title : str

    Examples
    --------
    >>> print(measured([("dense", "1066 KB"), ("pruned", "101.2 KB (10.5x)")]))
    This run's numbers
      dense   1066 KB
      pruned  101.2 KB (10.5x)
    """
    width = max(len(label) for label, _ in rows)
    return "\n".join([title] + [f"  {label:<{width}}  {value}" for label, value in rows])
