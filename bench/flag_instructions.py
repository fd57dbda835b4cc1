"""Instructions a listing for ``flag()``, counted by valgrind: a figure the load cannot move.

    python bench/flag_instructions.py [--listings 1500] [--warm 4000]

Wall-clock rates on a shared machine swing by ±15% from one minute to the next; the number
of instructions a listing takes does not. This runs plain Python under
``valgrind --tool=callgrind`` twice, each time loading the lexicon and flagging ``--warm`` of
``bench/flag.py``'s listings (so that the caches are as warm as in a long run), the second
time flagging ``--listings`` more, and prints the difference a listing. Compare two
versions of the code by running it in each (``git worktree``, ``PYTHONPATH``). Needs
valgrind; takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = """
import sys
sys.path[:0] = [{root!r}, {bench!r}]
from flag import listings
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import load_lexicon
lexicon = load_lexicon()
records = listings({warm} + {more})
for record in records:
    flag(record, lexicon)
"""


def instructions(warm: int, more: int) -> int:
    """Instructions callgrind counts for the whole program."""
    program = PROGRAM.format(root=str(ROOT), bench=str(ROOT / "bench"), warm=warm, more=more)
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", program],
        capture_output=True, text=True, check=False,
        env={**os.environ, "THRIFTWATCH_PURE": "1", "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode or found is None:
        raise SystemExit(f"the flagging under valgrind failed:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1500)
    parser.add_argument("--warm", type=int, default=4000)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    base = instructions(args.warm, 0)
    total = instructions(args.warm, args.listings)
    print(f"flag(): {(total - base) / args.listings:,.0f} instructions a listing "
          f"(plain Python, {args.listings:,} listings after {args.warm:,})")


if __name__ == "__main__":
    main()
