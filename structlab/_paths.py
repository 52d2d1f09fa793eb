"""Where this package runs from: a source checkout or an installed wheel."""

from pathlib import Path


def checkout_root():
    """The source checkout that holds this package (``pip install -e .``), else ``None``.

    A checkout has ``pyproject.toml`` and ``native/`` beside the package folder;
    ``site-packages`` has neither, so a wheel install returns ``None``.
    """
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "native").is_dir():
        return root
    return None
