"""Scale-out on a shared frontier (docs/operations.md, "Shared frontier"): one crawl split
over processes that share one Redis queue and duplicate filter.

    python bench/scaleout.py [--latency 0.3] [--terms 24] [--pages 4] [--concurrency 2]
                             [--merge-observations 1000000]

Against the replica (every response delayed --latency seconds; 127.0.0.1 only) and a
throwaway redis-server on loopback, it crawls Tokopedia's default search terms
(--pages pages each, enrichment off) and prints:

- throughput (search pages/s) of 1 process and of 2 processes sharing a frontier, and their
  ratio (target >= 1.8) while both fetch, and from the first page to the last (the second
  process starts a few seconds after the first: a fixed cost a longer crawl hides);
- duplicate page fetches across the 2 processes (target 0): pages stored by both;
- pages lost when one of 2 processes is SIGKILLed mid-crawl (target 0), and pages fetched
  twice among the pages whose evidence was stored;
- Redis: commands per page and per second in those crawls, the pop+acknowledge rate one
  Redis sustains (one client, and four at once), and memory per queued request;
- the merge rate of bench/merge.py's ``measure(observations, nodes)`` when that exists.

Every wait is bounded in time, every loop in count.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.redis_server: the tests' throwaway redis-server

from crawler.flagging.lexicon import default_search_terms  # noqa: E402
from crawler.replica.server import ReplicaServer  # noqa: E402
from tests.redis_server import RedisServer, redis_server_path  # noqa: E402

PLATFORM = "tokopedia"
CRAWL_TIMEOUT = 600  # seconds any crawl may take
IDLE, LEASE = 2, 3  # THRIFTWATCH_FRONTIER_IDLE and _LEASE for the bench's crawls
# More terms than the shipped 8 (the replica answers any term with 150 to 400 results), so a
# crawl is wide enough to split: a term's pages are found one after the other.
MORE_TERMS = ("kaos bekas", "jaket thrift", "kemeja preloved", "celana jeans bekas",
              "hoodie import", "sweater korea", "dress vintage", "rok preloved", "tas branded",
              "sepatu bekas", "jaket jepang", "kaos band vintage", "blazer import",
              "cardigan korea", "kulot bekas", "kemeja flanel thrift")


def terms(count: int) -> list[str]:
    return [*default_search_terms(), *MORE_TERMS][:count]


def crawl_command(replica: str, frontier: str, run: str, db: Path, *, node: str,
                  args: argparse.Namespace) -> list[str]:
    scrapy = Path(sys.executable).parent / "scrapy"
    return [str(scrapy), "crawl", PLATFORM, "-a", f"max_pages={args.pages}",
            "-a", "keywords=" + ",".join(terms(args.terms)),
            "-s", f"THRIFTWATCH_DB={db}", "-s", f"THRIFTWATCH_REPLICA={replica}",
            "-s", f"THRIFTWATCH_FRONTIER={frontier}", "-s", f"THRIFTWATCH_FRONTIER_RUN={run}",
            "-s", f"THRIFTWATCH_NODE={node}", "-s", f"THRIFTWATCH_FRONTIER_IDLE={IDLE}",
            "-s", f"THRIFTWATCH_FRONTIER_LEASE={LEASE}", "-s", "THRIFTWATCH_ENRICH=False",
            "-s", "THRIFTWATCH_PROGRESS_ENABLED=False", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "DOWNLOAD_DELAY=0", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}",
            "-s", "LOG_LEVEL=INFO"]


def start_nodes(count: int, folder: Path, args: argparse.Namespace, replica: str, *,
                frontier: str, run: str) -> list[tuple[subprocess.Popen, Path]]:
    nodes = []
    for index in range(count):
        db = folder / f"{run}-node{index}.db"
        log = (folder / f"{run}-node{index}.log").open("w")
        command = crawl_command(replica, frontier, run, db, node=f"node{index}", args=args)
        nodes.append((subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                                       stderr=log), db))
    return nodes


def wait_all(nodes: list[tuple[subprocess.Popen, Path]]) -> None:
    deadline = time.monotonic() + CRAWL_TIMEOUT
    for process, _ in nodes:
        try:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
            raise SystemExit(f"a crawl took more than {CRAWL_TIMEOUT} s") from None


def stored_pages(db: Path) -> tuple[dict[tuple, str], dict[tuple, int]]:
    """Search pages a node DB holds: page -> fetched_at, and page -> listings stored."""
    if not db.exists():
        return {}, {}
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute(
            "SELECT c.method, c.url, c.request_body_sha256, c.fetched_at, "
            "(SELECT COUNT(*) FROM observations o WHERE o.capture_id = c.id) "
            "FROM captures c WHERE c.url NOT LIKE '%/robots.txt'").fetchall()
    except sqlite3.OperationalError:  # a DB whose tables are not written yet
        return {}, {}
    finally:
        conn.close()
    pages = {(m, u, b): at for m, u, b, at, _ in rows}
    return pages, {(m, u, b): n for m, u, b, _, n in rows if n}


def commands(redis_server: RedisServer) -> int:
    return int(redis_server.client().info("stats")["total_commands_processed"])


def redis_cpu(redis_server: RedisServer) -> float:
    """Seconds of CPU the redis-server process has used."""
    info = redis_server.client().info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def crawl_round(count: int, folder: Path, args: argparse.Namespace, replica: str, *,
                redis_server: RedisServer, run: str) -> dict:
    before = commands(redis_server)
    started = time.monotonic()
    nodes = start_nodes(count, folder, args, replica, frontier=redis_server.url, run=run)
    wait_all(nodes)
    wall = time.monotonic() - started
    per_node = [stored_pages(db)[0] for _, db in nodes]
    every = [at for pages in per_node for at in pages.values()]
    span = _seconds(max(every)) - _seconds(min(every)) if len(every) > 1 else 0.0
    # While every process is fetching (from the last one's first page to the first one's
    # last): the rate once start-up is behind, which a longer crawl approaches.
    start = max(_seconds(min(pages.values())) for pages in per_node)
    end = min(_seconds(max(pages.values())) for pages in per_node)
    inside = sum(start <= _seconds(at) <= end for at in every)
    steady = inside / (end - start) if end - start > 1 else float("nan")
    union = set().union(*per_node)
    duplicates = sum(len(pages) for pages in per_node) - len(union)
    used = commands(redis_server) - before
    return {"pages": len(union), "span": span, "wall": wall, "rate": len(union) / span,
            "steady": steady, "window": end - start,
            "per_node": [len(pages) for pages in per_node], "duplicates": duplicates,
            "redis_commands": used, "codes": [p.returncode for p, _ in nodes]}


def kill_round(folder: Path, args: argparse.Namespace, replica: str, *,
               redis_server: RedisServer, expected: set[tuple]) -> dict:
    nodes = start_nodes(2, folder, args, replica, frontier=redis_server.url, run="kill")
    victim, victim_db = nodes[0]
    deadline = time.monotonic() + CRAWL_TIMEOUT
    # Kill once the victim has stored some pages and while pages are left to fetch.
    while time.monotonic() < deadline:
        done = len(stored_pages(victim_db)[1])
        if done >= max(1, int(len(expected) * args.kill_after / 2)):
            break
        if victim.poll() is not None:
            break
        time.sleep(0.05)
    killed_alive = victim.poll() is None
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    wait_all(nodes[1:])
    (_, victim), (_, survivor) = (stored_pages(db) for _, db in nodes)
    lost = expected - set(victim) - set(survivor)
    # A page the killed process stored in full (as many listings as the survivor's copy)
    # and the survivor fetched again. A page it stored in part (killed while writing its
    # listings) is rightly fetched again.
    twice = {page for page, count in victim.items() if survivor.get(page, -1) == count}
    partial = {page for page, count in victim.items() if page in survivor
               and count < survivor[page]}
    return {"killed_mid_crawl": killed_alive, "victim_pages": len(victim),
            "survivor_pages": len(survivor), "lost": len(lost), "twice": len(twice),
            "victim_partial": len(partial), "survivor_code": nodes[1][0].returncode}


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


def redis_capacity(redis_server: RedisServer, entries: int, clients: int) -> dict:
    """Pop+acknowledge rate and memory per queued request, with the frontier's own queue."""
    from crawler.frontier.keys import FrontierKeys
    from crawler.frontier.lease import new_node_id
    from crawler.frontier.queue import LeasedQueue
    from spiders.tokopedia import TokopediaSpider

    spider = TokopediaSpider()
    keys = FrontierKeys("bench", f"capacity{clients}")
    server = redis_server.client()
    memory_before = int(server.info("memory")["used_memory"])
    queue = LeasedQueue(server, spider, keys, new_node_id("bench"))
    request = spider.page_request("baju bekas import", 3)
    request = request.replace(meta={**request.meta, "is_start_request": True})
    size = len(queue._encode_request(request))
    pipe = server.pipeline(transaction=False)
    for index in range(entries):
        req = request.replace(url=f"{request.url}?n={index}")
        pipe.zadd(keys.queue, {queue._encode_request(req): 0})
        if index % 1000 == 999:
            pipe.execute()
    pipe.execute()
    per_request = (int(server.info("memory")["used_memory"]) - memory_before) / entries
    before, cpu_before = commands(redis_server), redis_cpu(redis_server)
    done = [0] * clients

    def worker(slot: int) -> None:
        own = LeasedQueue(redis_server.client(), spider, keys, new_node_id(f"bench{slot}"))
        for _ in range(entries):  # bounded: at most every entry
            popped = own.pop()
            if popped is None:
                return
            own.ack([popped.meta["thriftwatch_frontier_token"]])
            done[slot] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=CRAWL_TIMEOUT)
    elapsed = time.monotonic() - started
    cpu = max(1e-6, redis_cpu(redis_server) - cpu_before)
    used = commands(redis_server) - before
    server.delete(*keys.shared(), keys.queue)
    return {"entry_bytes": size, "bytes_per_queued": per_request,
            "pops_per_s": sum(done) / elapsed, "commands_per_s": used / elapsed,
            "pops_per_redis_cpu_s": sum(done) / cpu, "commands_per_redis_cpu_s": used / cpu}


def merge_rate(observations: int) -> str:
    path = REPO / "bench" / "merge.py"
    if not path.exists():
        return "bench/merge.py not present yet: merge rate not measured"
    spec = importlib.util.spec_from_file_location("bench_merge", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "measure"):
        return "bench/merge.py has no measure(): merge rate not measured"
    try:
        result = module.measure(observations, 4)
    except Exception as error:  # noqa: BLE001 - another bench's failure is reported, not raised
        return f"merge: bench/merge.py's measure() failed: {type(error).__name__}: {error}"
    rate = result.get("observations_per_second")
    return f"merge: {observations:,} observations from 4 node DBs: {result}" + (
        f" ({rate:,.0f}/s, target >= 20,000/s)" if isinstance(rate, (int, float)) else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--pages", type=int, default=4, help="search pages per term")
    parser.add_argument("--terms", type=int, default=24, help="search terms (at most 24)")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="CONCURRENT_REQUESTS_PER_DOMAIN of each process (politeness)")
    parser.add_argument("--kill-after", type=float, default=0.4,
                        help="kill one node once this share of the pages is stored")
    parser.add_argument("--merge-observations", type=int, default=1_000_000)
    parser.add_argument("--queue-entries", type=int, default=20_000)
    args = parser.parse_args()
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)  # the killed node's lost requests
    if redis_server_path() is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; replica latency {args.latency} s, "
          f"{args.concurrency} requests at a time per process, {PLATFORM}, "
          f"{len(terms(args.terms))} terms x up to {args.pages} pages")
    with tempfile.TemporaryDirectory(prefix="thriftwatch-scaleout-") as tmp, \
            ReplicaServer(latency=args.latency) as replica, RedisServer() as redis_server:
        folder = Path(tmp)
        one = crawl_round(1, folder, args, replica.url, redis_server=redis_server, run="one")
        two = crawl_round(2, folder, args, replica.url, redis_server=redis_server, run="two")
        expected = set(stored_pages(folder / "one-node0.db")[0])
        for name, result in (("1 process ", one), ("2 processes", two)):
            print(f"{name}: {result['pages']} pages in {result['span']:.1f} s "
                  f"({result['rate']:.2f} pages/s; {result['steady']:.2f} pages/s over the "
                  f"{result['window']:.1f} s all its processes fetched; {result['wall']:.1f} s "
                  f"with start-up and {IDLE} s idle wait), pages per process "
                  f"{result['per_node']}, exit codes {result['codes']}")
        print(f"speed-up, 2 processes over 1: {two['steady'] / one['steady']:.2f}x while both "
              f"fetch (target >= 1.8), {two['rate'] / one['rate']:.2f}x first page to last "
              f"(the second process starts a few seconds later)")
        print(f"duplicate page fetches across the 2 processes: {two['duplicates']} "
              f"(target 0); pages missing against 1 process: {len(expected) - two['pages']}")
        killed = kill_round(folder, args, replica.url, redis_server=redis_server,
                            expected=expected)
        print(f"one of 2 processes SIGKILLed mid-crawl ({killed['killed_mid_crawl']}): "
              f"{killed['lost']} pages lost (target 0), {killed['twice']} stored pages fetched "
              f"twice (target 0); killed process stored {killed['victim_pages']} pages "
              f"({killed['victim_partial']} of them in part, fetched again), the other "
              f"{killed['survivor_pages']} (exit code {killed['survivor_code']})")
        for name, result in (("1 process", one), ("2 processes", two)):
            print(f"redis, {name}: {result['redis_commands']} commands, "
                  f"{result['redis_commands'] / result['pages']:.0f} a page, "
                  f"{result['redis_commands'] / result['wall']:.0f}/s over the crawl")
        redis_server.flush()
        for clients in (1, 4):
            cap = redis_capacity(redis_server, args.queue_entries, clients)
            print(f"redis capacity, {clients} client thread(s): {cap['pops_per_s']:,.0f} "
                  f"pops+acks/s ({cap['commands_per_s']:,.0f} commands/s, bound by the "
                  f"Python client); per second of redis-server CPU: "
                  f"{cap['pops_per_redis_cpu_s']:,.0f} pops+acks "
                  f"({cap['commands_per_redis_cpu_s']:,.0f} commands); a queued request takes "
                  f"{cap['bytes_per_queued']:,.0f} bytes of Redis memory (entry "
                  f"{cap['entry_bytes']} bytes of JSON)")
            redis_server.flush()
    print(merge_rate(args.merge_observations))


if __name__ == "__main__":
    main()
