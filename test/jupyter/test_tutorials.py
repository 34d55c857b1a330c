"""Executes every tutorial notebook in notebooks/ top to bottom with the
Berth kernel through nbclient, as a learner would with Run All, and checks
the outputs a learner looks at. Any error output fails the notebook.

NOTEBOOK_DIR is a copy of notebooks/ (with images/ beside it), so the run
writes nothing into the repository."""
import json
import os
import pathlib
import re
import signal
import subprocess
import time
import unittest

import nbformat
from nbclient import NotebookClient

from nboutputs import cell_text

NB_DIR = pathlib.Path(os.environ["NOTEBOOK_DIR"])


def execute(name):
    nb = nbformat.read(NB_DIR / name, as_version=4)
    try:
        NotebookClient(nb, timeout=180, kernel_name="berth", resources={"metadata": {"path": str(NB_DIR)}}).execute()
    except Exception as e:
        # What was still running when a cell failed or hung, for whoever reads the CI log.
        ps = subprocess.run(["ps", "-eo", "pid,ppid,stat,wchan:24,etimes,args"], capture_output=True, text=True).stdout
        shown = "\n".join(l for l in ps.splitlines() if re.search(r"berth|busybox|sleep|httpd|registry|kernel -f|PID", l))
        raise AssertionError(f"{name}: {e}\nprocesses then:\n{shown}{kernel_reports(ps)}") from e
    return nb


def kernel_reports(ps):
    """Where a kernel was at: its JavaScript stack and what its event loop
    waits on, from Node's diagnostic report (NODE_OPTIONS from the caller
    asks for one on SIGUSR2 in BERTH_REPORT_DIR)."""
    out = ""
    where = os.environ.get("BERTH_REPORT_DIR")
    if not where:
        return out
    for line in ps.splitlines():
        if "main.js kernel -f" not in line or "berth-shim" in line:
            continue
        pid = int(line.split()[0])
        try:
            os.kill(pid, signal.SIGUSR2)
        except OSError:
            continue
        time.sleep(2)
        for f in pathlib.Path(where).glob(f"report.*.{pid}.*.json"):
            rep = json.loads(f.read_text())
            js = rep.get("javascriptStack", {})
            stack = [js.get("message", "")] + js.get("stack", [])
            handles = [f"{h.get('type')} {'active' if h.get('is_active') else ''}".strip() for h in rep.get("libuv", [])]
            workers = rep.get("workers", [])
            out += f"\nkernel {pid} report: stack {stack[:12]}\n  libuv: {handles}\n  workers: {len(workers)}"
    return out


text = cell_text


def cell(nb, source_start):
    for c in nb.cells:
        if c.cell_type == "code" and c.source.startswith(source_start):
            return text(c)
    raise AssertionError(f"no cell starts with {source_start!r}")


class Tutorials(unittest.TestCase):
    def check(self, name):
        nb = execute(name)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        self.assertEqual(errors, [], f"{name} has error outputs")
        self.assertTrue(all(c.execution_count for c in nb.cells if c.cell_type == "code"), f"{name} did not run every cell")
        return nb

    def test_00_welcome(self):
        # A newcomer's first notebook runs top to bottom with Run All; its
        # OOM kill is shown by %wait and %inspect, not by a failing cell.
        nb = self.check("00-welcome.ipynb")
        self.assertEqual(cell(nb, "%wait oom-demo").strip(), "137")
        self.assertEqual(cell(nb, "%inspect -f 'OOMKilled").strip(), "OOMKilled=true ExitCode=137")

    def test_01_containers_vs_vms(self):
        nb = self.check("01-containers-vs-vms.ipynb")
        self.assertEqual(cell(nb, "%run --rm busybox uname").splitlines()[0], os.uname().release)
        walls = [float(w) for w in re.findall(r"wall time\s+([\d.]+) s", cell(nb, "%run --rm --network none busybox true"))]
        self.assertEqual(len(walls), 3)
        self.assertRegex(cell(nb, "%images"), r"busybox\s+latest\s+[0-9a-f]{12}\s+.*\s+2\.\d+MB")
        self.assertRegex(cell(nb, "%stats --no-stream"), r"vm-vs-ct\s+\d+\.\d+%\s+[\d.]+(KiB|MiB) / ")

    def test_02_namespaces(self):
        nb = self.check("02-namespaces.ipynb")
        self.assertRegex(cell(nb, "%run --rm -t busybox top"), r"\n\s+1\s+0\s+root\s+\w+\s+\d+\s+\d+%\s+\d+%\s+top -b -n 1", "top is PID 1")
        ps = cell(nb, "%exec ns-lab ps -ef")
        self.assertEqual([l.split()[0] for l in ps.splitlines()[1:]], ["1", "2"], "only the container's own processes")
        pid_ns = re.findall(r"pid:\[\d+\]", cell(nb, "%exec ns-lab readlink"))
        self.assertEqual(len(pid_ns), 2)
        self.assertNotEqual(pid_ns[0], pid_ns[1])
        self.assertIn("lab-box", cell(nb, "%run --rm busybox hostname"))
        self.assertNotIn("only-here", cell(nb, "%exec ns-lab sh -c").split("only-here", 1)[1])
        addrs = cell(nb, "%run --rm --network none busybox ip addr")
        self.assertIn("1: lo:", addrs)
        self.assertNotIn("2: ", addrs, "only loopback")

    def test_03_cgroups(self):
        nb = self.check("03-cgroups.ipynb")
        self.assertIn("OOMKilled=true ExitCode=137", cell(nb, "%inspect -f 'OOMKilled"))
        self.assertEqual(cell(nb, "%wait oom-lab").strip(), "137")
        self.assertEqual(cell(nb, "%run --rm -m 64m busybox sh -c 'cat /sys/fs/cgroup").splitlines()[0], str(64 << 20))
        half = float(re.search(r"CPU time\s+([\d.]+) s", cell(nb, "%run --rm --cpus 0.5")).group(1))
        full = float(re.search(r"CPU time\s+([\d.]+) s", cell(nb, "%run --rm --cpus 1 ")).group(1))
        self.assertLess(half, 1.4, "--cpus 0.5 allows about 1 s of CPU in 2 s")
        self.assertGreater(full, 1.5 * half)
        self.assertIn("can't fork", cell(nb, "%logs pids-lab"))
        self.assertRegex(cell(nb, "%stats --no-stream stats-lab"), r"stats-lab\s+[\d.]+%\s+[\d.]+\w+ / 128MiB")

    def test_04_images_and_layers(self):
        nb = self.check("04-images-and-layers.ipynb")
        self.assertRegex(cell(nb, "%history busybox"), r"COPY busybox /bin/busybox")
        self.assertRegex(cell(nb, "%diff figlet-lab"), r"A /usr/local/bin/figlet")
        self.assertIn("| hello containers |", cell(nb, "%run --rm figlet:1"))
        counts = [int(n) for n in re.findall(r"(\d+) layers", cell(nb, "%inspect -f '{{len"))]
        self.assertEqual(counts[1], counts[0] + 1, "commit adds one layer")

    def test_05_dockerfiles(self):
        nb = self.check("05-dockerfiles-and-the-build-cache.ipynb")
        v2 = cell(nb, "%build -t hello:v0.2")
        self.assertEqual(v2.count("Using cache"), 2, "COPY and RUN come from the cache")
        self.assertIn("Successfully tagged hello:v0.2", v2)
        self.assertIn("a container built from a Dockerfile", cell(nb, "%run --rm hello:v0.1"))
        greet = cell(nb, "%run --rm greet:1")
        self.assertIn("Hello, world\n", greet)
        self.assertIn("Hello, notebook\n", greet)

    def test_06_volumes(self):
        nb = self.check("06-volumes.ipynb")
        self.assertIn("the data went with the container", cell(nb, "%run --rm busybox sh -c 'cat /var/lib/db"))
        self.assertEqual(cell(nb, "%run --rm -v dbdata:/var/lib/db busybox cat").splitlines()[:2], ["1,alice", "2,bob"])
        self.assertIn("write refused: /data is read-only", cell(nb, "%run --rm -v ./lab/data:/data:ro"))
        self.assertIn("seeded by the image", cell(nb, "%run --name vol-demo"))
        self.assertIn("volume at /data", cell(nb, "%run --name vol-demo"))

    def test_07_networking(self):
        nb = self.check("07-networking.ipynb")
        self.assertIn("80/tcp -> 127.0.0.1:8080", cell(nb, "%port web"))
        self.assertIn("<h1>Hello from a Berth container</h1>", cell(nb, "%run --rm --network host busybox sh -c 'for"))
        self.assertIn("<h1>Hello from a Berth container</h1>", cell(nb, "%run --rm --network labnet"))
        self.assertRegex(cell(nb, "%run --rm busybox ip -4 addr"), r"eth0.*\n\s+inet 172\.")

    def test_08_registries(self):
        nb = self.check("08-registries.ipynb")
        self.assertRegex(cell(nb, "%tag busybox"), r"1: digest: sha256:[0-9a-f]{64} size: \d+")
        self.assertIn('"lab/busybox"', cell(nb, "%run --rm --network host busybox wget"))
        self.assertIn("pulled from the lab registry and running", cell(nb, "%run --rm 127.0.0.1:5000"))

    def test_09_reproducible_experiments(self):
        nb = self.check("09-reproducible-experiments.ipynb")
        image_id = cell(nb, "%inspect -f '{{.Id}}' pi-experiment:1").strip()
        self.assertRegex(image_id, r"^sha256:[0-9a-f]{64}$")
        same = cell(nb, "%records --file lab/pi/runs.jsonl compare prev last")
        self.assertIn("are the same experiment", same)
        self.assertRegex(same, r"image ID\s+(sha256:[0-9a-f]+)…?\s+\1…?\s+same")
        self.assertIn(image_id[:39], same)
        self.assertIn("differ", cell(nb, "%records compare prev last"))
        results = re.findall(r'\{"seed": 42, "samples": 500000, "pi": ([\d.]+)\}', "".join(text(c) for c in nb.cells if c.cell_type == "code"))
        self.assertEqual(len(results), 2)
        self.assertEqual(results[0], results[1], "the rerun gives the same result")
        # Two builds from nothing with SOURCE_DATE_EPOCH: one image, bit for bit.
        built_a = re.findall(r"sha256:[0-9a-f]{64}", cell(nb, "%%build --no-cache --build-arg SOURCE_DATE_EPOCH"))[-1]
        built_b = re.findall(r"sha256:[0-9a-f]{64}", cell(nb, "%%build -q --no-cache --build-arg SOURCE_DATE_EPOCH"))[-1]
        self.assertEqual(built_a, built_b, "a rebuild with SOURCE_DATE_EPOCH is the same image")
        self.assertNotEqual(built_a, image_id)
        listed = cell(nb, "%images --format 'table")
        self.assertRegex(listed, r"pi-experiment:repro-a\s+" + built_a[7:19] + r"\s+2023-11-14 22:13:20")
        self.assertRegex(listed, r"pi-experiment:repro-b\s+" + built_a[7:19])


if __name__ == "__main__":
    unittest.main(verbosity=2)
