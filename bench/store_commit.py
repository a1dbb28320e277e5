"""What one state change costs to save, with ``PRAGMA synchronous=FULL`` and ``=NORMAL``.

Every change `exaop serve` makes is one SQLite transaction (WAL mode). With ``NORMAL`` a
commit is durable against a crash of the process but the last commits may be lost when
the machine loses power (the WAL is synced only at checkpoints); with ``FULL`` the WAL is
synced at every commit. This measures the price of ``FULL`` on this machine's disk.

One commit here is what a ``startupNode``/``poweroffNode`` call saves: the node's record,
its machine's power and one log entry, through ``Runtime.commit`` as the server does.
The modes alternate in rounds so that both see the same disk weather.

    .venv/bin/python bench/store_commit.py [--commits 400] [--rounds 4] [--dir DIR]

``--dir`` must be on the disk a state dir would be on (default: a temporary dir in the
current dir; ``/tmp`` is often a tmpfs, where no sync costs anything).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from exaop.engine.runtime import Runtime  # noqa: E402

MODES = ("NORMAL", "FULL")


def measure(rt: Runtime, mode: str, commits: int) -> list[float]:
    """Seconds per commit of ``commits`` power changes of one node, saved in ``mode``."""
    assert rt.store is not None
    rt.store.conn.execute(f"PRAGMA synchronous={mode}")
    node = rt.cluster.nodes["n0011"]
    times = []
    for _ in range(commits):
        if node.state == "off":
            node.startup()
        else:
            node.poweroff()
        t0 = time.perf_counter()
        rt.commit()
        times.append(time.perf_counter() - t0)
    return times


def filesystem(path: Path) -> str:
    """The mount (device and type) holding ``path``, from /proc/mounts where there is one."""
    best = ("", "?", "?")
    try:
        with open("/proc/mounts") as f:
            for line in f:
                dev, mnt, fstype = line.split()[:3]
                if str(path).startswith(mnt) and len(mnt) > len(best[0]):
                    best = (mnt, dev, fstype)
    except OSError:
        pass
    return f"{best[1]} ({best[2]}) on {best[0] or '?'}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--commits", type=int, default=400, help="commits per mode and round")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--dir", help="where to make the state dir (default: a temp dir in the current dir)")
    args = ap.parse_args()
    parent = Path(args.dir or ".").resolve()
    work = Path(tempfile.mkdtemp(prefix="store-commit-", dir=parent))
    try:
        rt = Runtime.open(work / "state", speed=0, admin_password="bench-secret", start=1_000_000.0).runtime
        measure(rt, "NORMAL", 50)  # warm up: pages cached, WAL grown
        times: dict[str, list[float]] = {m: [] for m in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                times[mode] += measure(rt, mode, args.commits)
        rt.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"state dir on {filesystem(parent)}, {os.cpu_count()} cores, {args.rounds} x {args.commits} commits per mode")
    print(f"{'synchronous':<12} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'commits/s':>10}")
    for mode in MODES:
        t = sorted(times[mode])
        mean = statistics.fmean(t)
        p50, p99 = t[len(t) // 2], t[min(len(t) - 1, int(len(t) * 0.99))]
        print(f"{mode:<12} {mean * 1e3:8.3f} {p50 * 1e3:8.3f} {p99 * 1e3:8.3f} {1 / mean:10.0f}")
    full, normal = statistics.fmean(times["FULL"]), statistics.fmean(times["NORMAL"])
    print(f"FULL costs {(full - normal) * 1e3:.3f} ms more per commit ({full / normal:.1f}x NORMAL)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
