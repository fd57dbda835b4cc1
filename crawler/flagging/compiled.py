"""The compiled build of the flagger's hot modules, made by mypyc from this same source.

``make fast`` (``thriftwatch compile``) compiles :data:`HOT_MODULES` to C
extensions in ``crawler/flagging/_compiled/`` and writes down a digest of their source. The
package puts that folder first on its ``__path__`` only while the digest still matches
the source, so an edited module never runs as stale compiled code: it runs as plain
Python until the next build. ``THRIFTWATCH_PURE=1`` leaves the compiled build unused;
``THRIFTWATCH_COMPILED_DIR`` names another build folder (the tests build into one).

mypyc compiles the typed source as it is: the verdicts are the same, only faster
(``bench/flag.py`` prints which build it measured).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HOT_MODULES = ("textnorm", "prefilter", "spelling", "texts", "flagger")
PACKAGE = Path(__file__).resolve().parent
BUILD_DIR = PACKAGE / "_compiled"
_DIGEST = "SOURCE.sha256"


def source_digest(package: Path = PACKAGE) -> str:
    """SHA-256 over the source of the hot modules, in order."""
    digest = hashlib.sha256()
    for name in HOT_MODULES:
        digest.update((package / f"{name}.py").read_bytes())
    return digest.hexdigest()


def build_dir() -> Path:
    return Path(os.environ.get("THRIFTWATCH_COMPILED_DIR") or BUILD_DIR)


def enable(package_path: list[str]) -> bool:
    """Put a build made from the current source first on *package_path*; True if so."""
    folder = build_dir()
    stamp = folder / _DIGEST
    if os.environ.get("THRIFTWATCH_PURE") or not stamp.is_file():
        return False
    if stamp.read_text(encoding="ascii").strip() != source_digest():
        return False
    package_path.insert(0, str(folder))
    return True


def in_use() -> bool:
    """Is the flagger running compiled?"""
    from crawler.flagging import flagger

    return flagger.__file__ is not None and flagger.__file__.endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES)
    )


def build(target: Path | None = None) -> Path:
    """Compile the hot modules into *target* (default: ``crawler/flagging/_compiled``).

    Needs mypy (``pip install -e '.[fast]'``), a C compiler and the Python headers.
    """
    target = target or build_dir()
    with tempfile.TemporaryDirectory(prefix="thriftwatch-mypyc-") as work:
        source = Path(work) / "crawler"
        shutil.copytree(
            PACKAGE.parent,
            source,
            ignore=shutil.ignore_patterns("_compiled", "__pycache__", "*.so"),
        )
        sources = [f"crawler/flagging/{name}.py" for name in HOT_MODULES]
        script = (
            "from setuptools import setup\n"
            "from mypyc.build import mypycify\n"
            f"setup(name='thriftwatch-hot', ext_modules=mypycify({sources!r},"
            " group_name='crawler.flagging._hot', opt_level='3'),"
            " script_args=['build_ext', '--build-lib', 'out', '--build-temp', 'tmp'])\n"
        )
        result = subprocess.run(  # noqa: S603 - our own interpreter running our own script
            [sys.executable, "-c", script], cwd=work, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                "mypyc could not compile the hot modules:\n"
                f"{result.stdout[-4000:]}{result.stderr[-4000:]}"
            )
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for library in (Path(work) / "out" / "crawler" / "flagging").iterdir():
            shutil.copy2(library, target / library.name)
        (target / _DIGEST).write_text(source_digest(source / "flagging") + "\n", encoding="ascii")
    return target
