"""``thriftwatch replica --port N``: the replica marketplace in the foreground."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.replica.faults import FAULT_KINDS, parse_fault

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("replica", help="run the replica marketplace on loopback")
    parser.add_argument("--port", type=int, default=8321)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default loopback; the replica is for local use)")
    parser.add_argument("--seed", type=int, default=2026, help="catalogue seed")
    parser.add_argument("--size", type=int, default=3000, help="catalogue size (offers)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                        help="make every answer wait this long, like a real site")
    parser.add_argument("--fault", action="append", default=[], metavar="HOST=KIND[:COUNT]",
                        help="make HOST misbehave for its next COUNT requests (-1: always); "
                             "KIND: " + ", ".join(FAULT_KINDS))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from crawler.replica.server import serve_forever

    for spec in args.fault:
        parse_fault(spec)  # refuse a bad --fault before binding the port
    print(f"replica marketplace on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    serve_forever(args.port, args.host, args.seed, args.size, tuple(args.fault), args.latency)
    return 0
