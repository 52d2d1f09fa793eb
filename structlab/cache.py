"""Where derived files go, and how they are written: atomically, readable by others.

The cache folder is ``$STRUCTLAB_DATA/cache`` when that variable is set (say, a
folder a whole JupyterHub shares), else ``data/cache`` of the source checkout
this package runs from, when that checkout is writable, else the per-user cache
``$XDG_CACHE_HOME/structlab`` (default ``~/.cache/structlab``). Files are
written to a temporary name and renamed, so a reader sees the old file or the
complete new one; they get the permissions the umask gives (``0644`` under the
usual ``022``), so other users of a shared cache can read them.

Examples
--------
>>> import numpy as np, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "table.npz"
>>> save_npz(path, "made from v1", table=np.arange(3))
>>> load_npz(path, "made from v1")["table"].tolist()
[0, 1, 2]
>>> load_npz(path, "made from v2") is None  # another source: rebuild it
True
"""

import os
import secrets
import zipfile
import zlib
from pathlib import Path

import numpy as np

from structlab._paths import checkout_root


def cache_dir():
    """The cache folder (created if needed); see the module docstring for the order."""
    if os.environ.get("STRUCTLAB_DATA"):
        path = Path(os.environ["STRUCTLAB_DATA"]) / "cache"
    elif (root := checkout_root()) is not None and os.access(root, os.W_OK):
        path = root / "data" / "cache"
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "structlab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_path(filename):
    """``cache_dir() / filename`` for a plain file name; a ValueError for anything else.

    A name with a folder separator, or ``.``/``..``, could point outside the cache.
    """
    if (not isinstance(filename, str) or filename in ("", ".", "..")
            or Path(filename).name != filename or "\\" in filename):
        raise ValueError(f"a cache name must be a plain file name, got {filename!r}")
    return cache_dir() / filename


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the complete new one, never a half-written one;
    if ``write`` fails, the temporary file is removed and ``path`` is untouched.
    The file is created with mode ``0666`` minus the umask, as ``open`` would.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder where a file is to be written: move it away")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _key_bytes(key):
    # the key's UTF-8 bytes, stored as uint8: a NumPy string array would drop trailing NULs
    return np.frombuffer(key.encode("utf-8"), np.uint8)


def save_npz(path, key, *, compressed=False, **arrays):
    """Write ``arrays`` to ``path`` atomically, tagged with ``key`` (what they were made from)."""
    if not isinstance(key, str):
        raise TypeError(f"key must be a string, got {type(key).__name__}")
    save = np.savez_compressed if compressed else np.savez
    atomic_write(path, lambda f: save(f, cache_key=_key_bytes(key), **arrays))


def load_npz(path, key):
    """The arrays saved at ``path`` under the same ``key``, or ``None`` (missing, stale, damaged)."""
    try:
        with np.load(path) as z:
            if not np.array_equal(z["cache_key"], _key_bytes(key)):
                return None
            return {name: z[name] for name in z.files if name != "cache_key"}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error):
        return None
