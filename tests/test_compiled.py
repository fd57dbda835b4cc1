"""The mypyc-compiled flagger (``make fast``) gives the very verdicts of the plain one, and
a build that no longer matches the source is left unused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from crawler.flagging import compiled

pytestmark = pytest.mark.build

LABELLED = Path(__file__).parent / "data" / "labelled.jsonl"
VERDICTS = """
import json, sys
from crawler.flagging.compiled import in_use
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import load_lexicon
from crawler.replica.catalogue import build_catalogue
lexicon = load_lexicon()
records = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
records += [{"title": o.title, "description": o.description, "category": o.category_breadcrumb,
             "location": o.city, "condition": o.condition, "imported": o.imported}
            for o in build_catalogue()[:1500]]
verdicts = [flag(record, lexicon).as_dict() for record in records]
print(json.dumps({"compiled": in_use(), "verdicts": verdicts}))
"""


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("cc") is None or find_spec("mypyc") is None:
        pytest.skip("compiling needs mypy (the 'test' extra) and a C compiler")
    return compiled.build(tmp_path_factory.mktemp("compiled"))


def _run(build: Path, **env: str) -> dict:
    base = {name: value for name, value in os.environ.items() if name != "THRIFTWATCH_PURE"}
    result = subprocess.run(
        [sys.executable, "-c", VERDICTS, str(LABELLED)], capture_output=True, text=True, check=True,
        env={**base, "THRIFTWATCH_COMPILED_DIR": str(build), **env},
    )
    return json.loads(result.stdout)


def test_compiled_flagger_gives_the_same_verdicts(build: Path) -> None:
    assert {path.name.split(".")[0] for path in build.glob("*.so")} >= set(compiled.HOT_MODULES)
    fast = _run(build)
    assert fast["compiled"] is True
    plain = _run(build, THRIFTWATCH_PURE="1")
    assert plain["compiled"] is False
    assert len(fast["verdicts"]) > 1800
    assert any(verdict["flagged"] for verdict in fast["verdicts"])
    assert fast["verdicts"] == plain["verdicts"]


def test_a_build_from_other_source_is_left_unused(build: Path, tmp_path: Path) -> None:
    stale = tmp_path / "stale"
    shutil.copytree(build, stale)
    (stale / "SOURCE.sha256").write_text("0" * 64 + "\n", encoding="ascii")
    assert _run(stale)["compiled"] is False
