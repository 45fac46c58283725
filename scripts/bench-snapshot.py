#!/usr/bin/env python3
"""Benchmark: one `sockscope snapshot` against `ss -tuanpi`, on the same sockets, measured alternately.

    python3 scripts/bench-snapshot.py [--conns 10000] [--rounds 15] [--udp 0] [--unix 0]

Builds the release binary and the socket_farm example, opens CONNS established loopback connections
(2*CONNS sockets, both ends held by the farm), then runs, ROUNDS times in alternation,
    ss -tuanpi > /dev/null          (with tcp_info, as sockscope reads it)
    sockscope snapshot --format json -o /dev/null
and prints each command's median wall time and the ratio. The target (issue 10) is ratio <= 0.5 at
--conns 10000 (20 000 sockets). With --steady N it then runs examples/steady_state.rs for N samples at
1 Hz, which prints the collector's CPU time per sample with the window's owner cache.
With --unix U the farm also holds U Unix stream sockets, and sockscope (which lists Unix sockets in the
same snapshot) is compared with `ss -xanp` plus `ss -tuanp` run one after the other, as issue 14 asks:
target ratio <= 1.5 at --conns 10000 --unix 10000 (20 000 TCP and 10 000 Unix sockets).
Exits 0 whatever the numbers: it measures, it does not judge.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conns", type=int, default=10000)
    p.add_argument("--udp", type=int, default=0)
    p.add_argument("--unix", type=int, default=0, help="Unix stream sockets the farm holds too")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--profile", default="release")
    p.add_argument("--steady", type=int, default=0, metavar="N",
                   help="also sample N times at 1 Hz and report collector CPU per sample")
    a = p.parse_args()

    subprocess.run(["cargo", "build", "--profile", a.profile, "--bin", "sockscope", "--example", "socket_farm",
                    "--example", "steady_state"],
                   cwd=ROOT, check=True)
    target = os.path.join(ROOT, "target", a.profile)
    farm = subprocess.Popen([os.path.join(target, "examples", "socket_farm"), "--conns", str(a.conns),
                             "--udp", str(a.udp), "--unix", str(a.unix), "--hold-s", "900"],
                            stdout=subprocess.PIPE, text=True)
    try:
        ready = farm.stdout.readline().strip()
        if not ready.startswith("ready"):
            sys.exit("socket_farm did not start")
        print(ready)
        count = lambda flags: subprocess.run(["ss", flags], capture_output=True, text=True).stdout.count("\n")
        print(f"sockets on the machine: {count('-tuanH')} TCP/UDP, {count('-xanH')} Unix")
        sockscope = [os.path.join(target, "sockscope"), "snapshot", "--format", "json", "-o", "/dev/null"]
        ss_runs = [["ss", "-xanp"], ["ss", "-tuanp"]] if a.unix else [["ss", "-tuanpi"]]
        ss_name = " + ".join(" ".join(c) for c in ss_runs)
        ss_time = lambda: sum(timed(c) for c in ss_runs)
        target_ratio = 1.5 if a.unix else 0.5
        ss_time(), timed(sockscope)  # warm caches for both
        ss_times, our_times = [], []
        for _ in range(a.rounds):
            ss_times.append(ss_time())
            our_times.append(timed(sockscope))
        ss_med, our_med = statistics.median(ss_times), statistics.median(our_times)
        print(f"{ss_name:45} median {ss_med * 1000:8.1f} ms  (n={a.rounds})")
        print(f"{'sockscope snapshot --format json -o /dev/null':45} median {our_med * 1000:8.1f} ms  (n={a.rounds})")
        print(f"ratio sockscope/ss: {our_med / ss_med:.2f}  (target <= {target_ratio:.2f})")
        if a.steady:
            subprocess.run([os.path.join(target, "examples", "steady_state"), "--samples", str(a.steady)],
                           check=True)
    finally:
        farm.terminate()
        farm.wait()


if __name__ == "__main__":
    main()
