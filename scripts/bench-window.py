#!/usr/bin/env python3
"""Benchmark: the window's CPU and memory while it watches many sockets, as a user would run it.

    python3 scripts/bench-window.py [--conns 25000] [--procs 6] [--seconds 30] [--profile release]
                                    [--binary PATH]

Builds the binary (cargo build --profile PROFILE; --binary runs a given one instead, e.g. a copy of an
earlier build for a before/after comparison), starts Xvfb on a free display when $DISPLAY is unset,
holds CONNS loopback connections with ../shared/tools/socket-farm.py (2*CONNS sockets over PROCS
processes; falls back to examples/socket_farm.rs when the shared tool is missing), opens the window with
a fresh $HOME (default settings: Sockets view, 1 Hz), waits 10 s, then reads /proc for SECONDS seconds
and prints the CPU of the UI thread (the task whose id is the process id), of every other thread by
name, of the whole process, and the peak RSS. Exits 0 whatever the numbers: it measures, it does not
judge. Loopback only.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks(stat_path):
    """utime + stime of a task or process, in clock ticks."""
    with open(stat_path) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def threads(pid):
    """{tid: (name, ticks)} of every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            out[int(tid)] = (name, cpu_ticks(f"/proc/{pid}/task/{tid}/stat"))
        except OSError:
            pass  # the thread ended meanwhile
    return out


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_farm(conns, procs):
    tool = os.path.join(ROOT, "..", "shared", "tools", "socket-farm.py")
    if os.path.exists(tool):
        cmd = [sys.executable, tool, "-n", str(conns), "-k", str(procs), "--hold-s", "900"]
    else:
        subprocess.run(["cargo", "build", "--release", "--example", "socket_farm"], cwd=ROOT, check=True)
        cmd = [os.path.join(ROOT, "target", "release", "examples", "socket_farm"), "--conns", str(conns),
               "--hold-s", "900"]
    farm = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    ready = farm.stdout.readline().strip()
    if not ready.startswith("ready"):
        farm.kill()
        sys.exit(f"socket farm did not start: {ready!r}")
    print(ready)
    return farm


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--conns", type=int, default=25000)
    p.add_argument("--procs", type=int, default=6)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--profile", default="release")
    p.add_argument("--binary", help="run this binary instead of building one")
    a = p.parse_args()

    binary = a.binary
    if not binary:
        subprocess.run(["cargo", "build", "--profile", a.profile, "--bin", "sockscope"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", a.profile, "sockscope")
    children = []
    env = dict(os.environ)
    try:
        if not env.get("DISPLAY"):
            if not shutil.which("Xvfb"):
                sys.exit("no $DISPLAY and no Xvfb (apt-get install xvfb)")
            display = ":97"
            children.append(subprocess.Popen(["Xvfb", display, "-screen", "0", "1400x900x24"],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            env["DISPLAY"] = display
            time.sleep(1)
        farm = start_farm(a.conns, a.procs)
        children.append(farm)
        env["HOME"] = tempfile.mkdtemp(prefix="sockscope-bench-")
        app = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(app)
        time.sleep(10)  # first samples, first owner scan, window up
        if app.poll() is not None:
            sys.exit("the window exited")
        pid = app.pid
        t0, before, proc0 = time.monotonic(), threads(pid), cpu_ticks(f"/proc/{pid}/stat")
        peak = 0.0
        while time.monotonic() - t0 < a.seconds:
            time.sleep(1)
            peak = max(peak, rss_mb(pid))
        elapsed = time.monotonic() - t0
        after, proc1 = threads(pid), cpu_ticks(f"/proc/{pid}/stat")
        pct = lambda ticks: 100.0 * ticks / TICKS / elapsed
        ui = after[pid][1] - before.get(pid, ("", 0))[1]
        print(f"{a.conns * 2} farm sockets, {a.seconds} s at 1 Hz, {binary}")
        print(f"UI thread (tid {pid}):   {pct(ui):5.1f} % of a core  ({1000 * ui / TICKS / elapsed:.0f} ms per second)")
        by_name = {}
        for tid, (name, ticks) in after.items():
            if tid != pid:
                by_name[name] = by_name.get(name, 0) + ticks - before.get(tid, (name, 0))[1]
        for name, ticks in sorted(by_name.items(), key=lambda kv: -kv[1]):
            if ticks > 0:
                print(f"  thread {name:<16} {pct(ticks):5.1f} %")
        print(f"whole process:          {pct(proc1 - proc0):5.1f} % of a core")
        print(f"peak RSS:               {peak:6.1f} MB")
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
