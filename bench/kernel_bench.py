"""Kernel start-up, execute latency and idle memory: Berth's kernel against
ipykernel, both started by jupyter_client in this same run.

Run by bench/kernel.bench.ts with JUPYTER_PATH pointing at a Berth kernelspec."""
import statistics
import sys
import time

import os
import subprocess
import tempfile

import zmq
from jupyter_client.connect import write_connection_file
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def direct_start(name):
    """Process spawn to kernel_info_reply, with no client machinery in between."""
    spec = KernelSpecManager().get_kernel_spec(name)
    times = []
    for _ in range(5):
        fd, cf = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        _, cfg = write_connection_file(cf, ip="127.0.0.1")
        session = Session(key=cfg["key"].encode() if isinstance(cfg["key"], str) else cfg["key"])
        argv = [a.replace("{connection_file}", cf) for a in spec.argv]
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.RECONNECT_IVL, 10)
        sock.setsockopt(zmq.LINGER, 0)
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(spec.env or {})})
        sock.connect(f"tcp://127.0.0.1:{cfg['shell_port']}")
        session.send(sock, "kernel_info_request", {})
        if sock.poll(30000):
            session.recv(sock)
            times.append((time.perf_counter() - t0) * 1000)
        proc.kill()
        proc.wait()
        sock.close()
        ctx.term()
        os.unlink(cf)
    return statistics.median(times)


def cell_latencies(name, cells):
    """Median execute-to-idle of each cell, interleaved, in one warm kernel."""
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.blocking_client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    lat = {c: [] for c in cells}
    for i in range(RUNS + 3):
        for c in cells:
            t0 = time.perf_counter()
            reply = kc.execute_interactive(c, output_hook=lambda m: None, timeout=60)
            if reply["content"]["status"] != "ok":
                raise SystemExit(f"{name}: {c!r} failed: {reply['content']}")
            if i >= 3:
                lat[c].append((time.perf_counter() - t0) * 1000)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return {c: statistics.median(v) for c, v in lat.items()}


def measure(name, code):
    starts = []
    for _ in range(5):
        km = KernelManager(kernel_name=name)
        t0 = time.perf_counter()
        km.start_kernel()
        kc = km.blocking_client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)  # kernel_info_request answered
        starts.append((time.perf_counter() - t0) * 1000)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.blocking_client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    time.sleep(1.0)
    rss = rss_mib(km.provisioner.process.pid)
    lat = []
    for i in range(RUNS + 3):
        t0 = time.perf_counter()
        reply = kc.execute_interactive(code, output_hook=lambda m: None, timeout=60)  # returns after idle
        if reply["content"]["status"] != "ok":
            raise SystemExit(f"{name}: {code!r} failed: {reply['content']}")
        if i >= 3:
            lat.append((time.perf_counter() - t0) * 1000)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return statistics.median(starts), statistics.median(lat), rss, direct_start(name)


# The cells first, closest in time to the engine run measured just before.
cells = cell_latencies("berth", ["%ps -q", "%run --rm --network none busybox true"])
berth = measure("berth", "%run --rm --network none busybox true")
try:
    ipy = measure("python3", "pass")
except Exception as e:  # ipykernel missing
    print(f"ipykernel not available ({e}); install python3-ipykernel for the anchor")
    ipy = None
print(f"{'':34}{'berth':>10}{'ipykernel':>12}{'ratio':>8}   target")
rows = [
    ("start to kernel_info reply (ms)", 3, "<= 300 ms (process spawn to reply)"),
    ("  same through jupyter_client (ms)", 0, "KernelManager.start_kernel + wait_for_ready"),
    ("execute to idle, median (ms)", 1, "<= 15 ms (berth runs %run --rm --network none busybox true; ipykernel runs pass)"),
    ("idle kernel RSS (MiB)", 2, "<= 60 MiB"),
]
for label, i, target in rows:
    b = berth[i]
    a = ipy[i] if ipy else float("nan")
    print(f"{label:34}{b:10.1f}{a:12.1f}{(a / b if ipy else float('nan')):7.1f}x   {target}")

engine_ms = float(os.environ.get("BERTH_ENGINE_RUN_MS", "nan"))
run_ms = cells["%run --rm --network none busybox true"]
print()
print(f"berth cells, execute to idle, median of {RUNS} (ms):")
print(f"  %ps -q                                   {cells['%ps -q']:8.1f}")
print(f"  %run --rm --network none busybox true    {run_ms:8.1f}")
print(f"  engine run alone (same run, pipes)       {engine_ms:8.1f}")
print(f"  cell cost over the engine run            {run_ms - engine_ms:8.1f}   target <= 3 ms")
