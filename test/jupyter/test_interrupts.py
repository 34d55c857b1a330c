"""Interrupting long cells through jupyter_client, as a notebook user does:
%%build, %pull, %push and %commit stop soon after the interrupt, the cell
ends as KeyboardInterrupt (as ipykernel's does), nothing half-made stays,
and the next cell works. The registry is a slow one served here, on
127.0.0.1, that never finishes a transfer."""
import http.server
import json
import os
import tempfile
import threading
import time
import unittest

from kernelcase import KernelCase


class SlowRegistry(http.server.BaseHTTPRequestHandler):
    """Answers what a pull and a push ask first, then trickles: a layer
    download that never ends, an upload it reads slowly for ever."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/v2/":
            return self.reply(200, b"{}", "application/json")
        if self.path.startswith("/v2/slow/app/manifests/"):
            body = json.dumps({
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": SlowRegistry.config_digest, "size": len(SlowRegistry.config)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + "1" * 64, "size": len(SlowRegistry.layer)}],
            }).encode()
            return self.reply(200, body, "application/vnd.oci.image.manifest.v1+json")
        if self.path.endswith(SlowRegistry.config_digest):
            return self.reply(200, SlowRegistry.config, "application/octet-stream")
        if "/blobs/" in self.path:
            self.send_response(200)
            self.send_header("content-length", str(len(SlowRegistry.layer)))
            self.end_headers()
            try:
                for i in range(0, len(SlowRegistry.layer), 256):  # a real gzip stream, slowly
                    self.wfile.write(SlowRegistry.layer[i:i + 256])
                    self.wfile.flush()
                    time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        return self.reply(404, b"", "text/plain")

    def do_HEAD(self):
        self.send_response(404)
        self.end_headers()

    def do_POST(self):
        self.send_response(202)
        self.send_header("location", "/v2/upload/1")
        self.send_header("content-length", "0")
        self.end_headers()

    def do_PUT(self):
        # Reads the upload one small piece at a time, for ever.
        try:
            while self.rfile.read(512):
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.reply(500, b"", "text/plain")

    do_PATCH = do_PUT

    def reply(self, code, body, ctype):
        self.send_response(code)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class InterruptedCells(KernelCase):
    @classmethod
    def setUpClass(cls):
        import gzip
        import hashlib
        SlowRegistry.layer = gzip.compress(bytes(64 << 20))
        SlowRegistry.config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "2" * 64]}, "config": {}}).encode()
        SlowRegistry.config_digest = "sha256:" + hashlib.sha256(SlowRegistry.config).hexdigest()
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowRegistry)
        cls.server.daemon_threads = True
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.registry = f"127.0.0.1:{cls.server.server_address[1]}"
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.server.shutdown()

    def interrupt(self, code, after=2.0):
        """Starts code, interrupts it after `after` s; returns the reply and how long the stop took."""
        msg_id = self.kc.execute(code)
        time.sleep(after)
        t0 = time.time()
        self.km.interrupt_kernel()
        reply = self.kc.get_shell_msg(timeout=30)
        took = time.time() - t0
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        while True:  # this cell's iopub, to idle
            m = self.kc.get_iopub_msg(timeout=10)
            if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        return reply["content"], took

    def assert_stopped(self, content, took):
        self.assertEqual(content["status"], "error", content)
        self.assertEqual(content["ename"], "KeyboardInterrupt", content)
        self.assertIn("interrupted", content["evalue"])
        # Within a second, with room for this machine's slow hours.
        self.assertLess(took, 3.0)

    def assert_next_cell_works(self):
        reply, msgs = self.run_cell("%run --rm --network none busybox echo next")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("next\n", "".join(m["content"].get("text", "") for m in msgs))

    def store_has_no_leftovers(self):
        root = os.environ["BERTH_ROOT"]
        leases = os.listdir(os.path.join(root, "leases")) if os.path.isdir(os.path.join(root, "leases")) else []
        self.assertEqual(leases, [], "a lease outlived its operation")
        trash = os.path.join(root, "trash")
        self.assertEqual(os.listdir(trash) if os.path.isdir(trash) else [], [])

    def test_build(self):
        ctx = tempfile.mkdtemp(dir=os.environ["BERTH_ROOT"])
        content, took = self.interrupt(f"%%build --network none -t intr-built {ctx}\nFROM busybox\nRUN echo started; sleep 120")
        self.assert_stopped(content, took)
        _, msgs = self.run_cell("%images -q intr-built")
        self.assertEqual("".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream").strip(), "")
        _, msgs = self.run_cell("%ps -aq")
        self.assertEqual("".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream").strip(), "", "the RUN container was left")
        self.store_has_no_leftovers()
        self.assert_next_cell_works()

    def test_pull(self):
        content, took = self.interrupt(f"%pull {self.registry}/slow/app:v1")
        self.assert_stopped(content, took)
        _, msgs = self.run_cell(f"%images -q {self.registry}/slow/app")
        self.assertEqual("".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream").strip(), "")
        self.store_has_no_leftovers()
        self.assert_next_cell_works()

    def test_push(self):
        self.run_cell(f"%tag busybox {self.registry}/slow/pushed:v1")
        content, took = self.interrupt(f"%push {self.registry}/slow/pushed:v1")
        self.assert_stopped(content, took)
        self.store_has_no_leftovers()
        self.assert_next_cell_works()

    def test_load(self):
        # The archive arrives through a FIFO, slowly, as from a slow disk or network.
        d = tempfile.mkdtemp(dir=os.environ["BERTH_ROOT"])
        archive, fifo = os.path.join(d, "bb.tar"), os.path.join(d, "slow.fifo")
        reply, _ = self.run_cell(f"%save -o {archive} busybox")
        self.assertEqual(reply["content"]["status"], "ok")
        self.run_cell("%rmi -f intr-loaded")
        os.mkfifo(fifo)

        def trickle():
            try:
                with open(archive, "rb") as src, open(fifo, "wb") as out:
                    while chunk := src.read(4096):
                        out.write(chunk)
                        out.flush()
                        time.sleep(0.05)
            except (BrokenPipeError, OSError):
                pass
        threading.Thread(target=trickle, daemon=True).start()
        content, took = self.interrupt(f"%load -i {fifo}")
        self.assert_stopped(content, took)
        self.store_has_no_leftovers()
        self.assert_next_cell_works()

    def test_commit(self):
        # A container with enough files that packing them takes a while.
        reply, _ = self.run_cell("%run -d --name intr-commit --network none busybox sh -c 'mkdir /d; i=0; while [ $i -lt 30000 ]; do echo $i > /d/f$i; i=$((i+1)); done; echo ready > /ready; sleep 600'")
        self.assertEqual(reply["content"]["status"], "ok")
        for _ in range(600):
            r, msgs = self.run_cell("%exec intr-commit cat /ready")
            if r["content"]["status"] == "ok":
                break
            time.sleep(0.2)
        content, took = self.interrupt("%commit intr-commit intr-committed", after=0.3)
        if content["status"] == "ok":
            self.skipTest("the commit finished before the interrupt reached it")
        self.assert_stopped(content, took)
        _, msgs = self.run_cell("%images -q intr-committed")
        self.assertEqual("".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream").strip(), "")
        # Thawed: the container still answers.
        reply, msgs = self.run_cell("%exec intr-commit echo alive")
        self.assertEqual(reply["content"]["status"], "ok")
        self.run_cell("%rm -f intr-commit")
        self.store_has_no_leftovers()
        self.assert_next_cell_works()


if __name__ == "__main__":
    unittest.main(verbosity=2)
