"""``thriftwatch keygen -o KEYFILE``: an Ed25519 key pair for signing case bundles."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crawler.evidence.signing import generate

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "keygen", help="make an Ed25519 key pair to sign case bundles (export --sign)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="KEYFILE",
                        help="the private key to write (readable by you only); the public key "
                             "goes to KEYFILE.pub")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    public, fingerprint = generate(args.output)
    print(f"private key: {args.output} (keep it; never send it)")
    print(f"public key:  {public} (give it to whoever checks your bundles)")
    print(f"fingerprint: {fingerprint}")
    return 0
