"""Berth's kernel driven by real Jupyter clients (Debian's jupyter_client and
jupyter_kernel_test). Started by test/kernel.test.ts with JUPYTER_PATH and a
private BERTH_ROOT in the environment."""
import time
import unittest

import jupyter_kernel_test
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

from kernelcase import KernelCase


class BerthKernelConformance(jupyter_kernel_test.KernelTests):
    kernel_name = "berth"
    language_name = "berth"
    file_extension = ".berth"
    code_hello_world = "%run --rm busybox echo hello, world"
    code_stderr = "%run --rm busybox sh -c 'echo oops >&2'"
    completion_samples = [{"text": "%im", "matches": {"%images", "%import"}}]
    complete_code_samples = ["%ps", "%run --rm busybox true", "docker run --rm busybox true"]
    incomplete_code_samples = ["%run --rm busybox \\", "%%run busybox"]
    invalid_code_samples = ["print('this is python')"]
    code_inspect_sample = "%stop"
    code_generate_error = "%logs no-such-container"
    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "*{{.Os}}*"
    code_page_something = "%help run"
    code_display_data = [{"code": "%ps -a", "mime": "text/html"}, {"code": "%images", "mime": "text/html"}]
    code_execute_result = [{"code": "%inspect -f '{{.Os}}' busybox", "result": "linux"},
                           {"code": "%inspect -f '{{json .RootFS.Type}}' busybox", "result": '"layers"'}]


class BerthKernelBehaviour(KernelCase):
    def test_message_order_and_parent(self):
        reply, msgs = self.run_cell("%run --rm busybox sh -c 'echo one; echo two'")
        kinds = [m["msg_type"] for m in msgs]
        self.assertEqual(kinds[0:2], ["status", "execute_input"])
        self.assertEqual(msgs[0]["content"]["execution_state"], "busy")
        self.assertEqual(kinds[-1], "status")
        self.assertEqual(msgs[-1]["content"]["execution_state"], "idle")
        text = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
        self.assertEqual(text, "one\ntwo\n")
        for m in msgs:
            self.assertEqual(m["parent_header"]["msg_id"], reply["parent_header"]["msg_id"])

    def test_commands_run_in_order_and_stop_at_first_error(self):
        reply, msgs = self.run_cell("%run --rm busybox echo first\n%run --rm busybox sh -c 'exit 4'\n%run --rm busybox echo never")
        text = "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream")
        self.assertIn("first", text)
        self.assertNotIn("never", text)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "ContainerExit")
        self.assertIn("exited with code 4", reply["content"]["evalue"])
        errors = [m for m in msgs if m["msg_type"] == "error"]
        self.assertEqual(len(errors), 1)
        self.assertFalse(any("Traceback" in t or ".js:" in t for t in errors[0]["content"]["traceback"]))

    def test_pasted_docker_lines_and_continuations(self):
        reply, msgs = self.run_cell("docker container run --rm busybox \\\n  echo 'pasted line'")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("pasted line\n", [m["content"].get("text") for m in msgs])

    def test_cell_magics(self):
        reply, msgs = self.run_cell("%%run busybox\necho from the body\nexit 0")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("from the body\n", "".join(m["content"].get("text", "") for m in msgs))
        import os, tempfile
        ctxdir = tempfile.mkdtemp(dir=os.environ["BERTH_ROOT"])
        with open(os.path.join(ctxdir, "note.txt"), "w") as f:
            f.write("from the context\n")
        reply, msgs = self.run_cell(f"%%build -t cellbuild {ctxdir}\nFROM busybox\nCOPY note.txt /\nRUN echo built in a cell\nCMD [\"cat\", \"/note.txt\"]")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        text = "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream")
        self.assertIn("Step 3/4 : RUN echo built in a cell", text)
        self.assertIn("built in a cell\n", text)
        self.assertIn("Successfully tagged cellbuild:latest", text)
        bars = [m for m in msgs if m["msg_type"] in ("display_data", "update_display_data") and "berth-build" in m["content"]["transient"].get("display_id", "")]
        self.assertEqual(bars[0]["msg_type"], "display_data")
        self.assertGreaterEqual(len(bars), 4)
        self.assertIn("100%", bars[-1]["content"]["data"]["text/plain"])
        reply, msgs = self.run_cell("%run --rm cellbuild")
        self.assertIn("from the context\n", [m["content"].get("text") for m in msgs])
        # %%build takes build's flags: --network none gives RUN only loopback.
        reply, msgs = self.run_cell(f"%%build --network none -t cellnone {ctxdir}\nFROM busybox\nRUN echo \"interfaces: $(ip -o link | grep -vc ': lo:')\"")
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        self.assertIn("interfaces: 0\n", "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream"))
        reply, _ = self.run_cell("%%build -t broken .\nFROM busybox\nNOPE x")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "BuildError")
        self.assertIn("Dockerfile:2: unknown instruction: NOPE", reply["content"]["evalue"])

    def test_context_use_sends_runs_to_the_cluster_and_back(self):
        def text(msgs):
            return "".join(m["content"].get("text", "") if m["msg_type"] == "stream" else m["content"].get("data", {}).get("text/plain", "")
                           for m in msgs if m["msg_type"] in ("stream", "display_data", "execute_result"))
        reply, _ = self.run_cell("%context create nbhpc --slurm --registry 127.0.0.1:9 --berth /nonexistent/berth")
        self.assertEqual(reply["content"]["status"], "ok")
        try:
            reply, msgs = self.run_cell("%context use nbhpc\n%context ls")
            self.assertEqual(reply["content"]["status"], "ok")
            self.assertRegex(text(msgs), r"nbhpc \*\s+slurm registry=127\.0\.0\.1:9")
            # The run goes to the cluster: its image must reach the context's registry first.
            reply, msgs = self.run_cell("%run --rm busybox true")
            self.assertEqual(reply["content"]["status"], "error")
            self.assertIn("cannot put busybox into 127.0.0.1:9, from where the nodes pull", reply["content"]["evalue"])
            reply, msgs = self.run_cell("%exec anything true")
            self.assertIn('the context in use is "nbhpc"', reply["content"]["evalue"])
        finally:
            self.run_cell("%context use default\n%context rm nbhpc")
        reply, msgs = self.run_cell("%run --rm busybox echo back here")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("back here\n", text(msgs))

    def test_bad_signature_is_dropped_and_kernel_survives(self):
        forged = Session(key=b"not-the-key", username="mallory")
        forged.send(self.kc.shell_channel.socket, "execute_request",
                    content={"code": "%run --rm busybox echo forged", "silent": False, "store_history": True,
                             "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        time.sleep(1.0)
        while True:
            try:
                m = self.kc.get_iopub_msg(timeout=0.2)
            except Exception:
                break
            self.assertNotEqual(m["content"].get("text"), "forged\n")
        reply, msgs = self.run_cell("%run --rm busybox echo still-alive")
        self.assertEqual(reply["content"]["status"], "ok")

    def test_interrupt_stops_the_foreground_container(self):
        msg_id = self.kc.execute("%run --rm busybox sleep 60")
        time.sleep(1.5)
        t0 = time.time()
        self.km.interrupt_kernel()
        reply = self.kc.get_shell_msg(timeout=15)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Interrupted")
        self.assertLess(time.time() - t0, 10)
        while True:  # drain this cell's iopub
            m = self.kc.get_iopub_msg(timeout=5)
            if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break

    def test_stdin_through_input_request(self):
        answers = iter(["hello", ""])
        def on_input(msg):
            self.kc.input(next(answers, ""))
        msgs = []
        reply = self.kc.execute_interactive("%run --rm -i busybox sh -c 'read x; echo got $x'", output_hook=msgs.append,
                                            stdin_hook=on_input, allow_stdin=True, timeout=60)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("got hello\n", "".join(m["content"].get("text", "") for m in msgs))

    def test_exec_ends_when_its_process_ends_even_if_a_background_child_keeps_stdout(self):
        self.kc.execute_interactive("%run -d --name bg-holder --network none busybox sleep 60", timeout=30)
        try:
            msgs = []
            t0 = time.time()
            reply = self.kc.execute_interactive("%exec bg-holder sh -c 'sleep 30 & echo started in the background'", output_hook=msgs.append, timeout=25)
            self.assertEqual(reply["content"]["status"], "ok")
            self.assertLess(time.time() - t0, 10, "the cell waited for the background sleep")
            self.assertIn("started in the background", "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream"))
        finally:
            self.kc.execute_interactive("%rm -f bg-holder", timeout=30)

    def test_stdin_refused_when_front_end_has_none(self):
        reply, msgs = self.run_cell("%run --rm -i busybox cat", allow_stdin=False)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("does not allow stdin", "".join(m["content"].get("text", "") for m in msgs))

    def test_completion_of_flags_and_images(self):
        self.kc.complete("%run --rm --pids", 15)
        r = self.kc.get_shell_msg(timeout=10)["content"]
        self.assertIn("--pids-limit", r["matches"])
        self.assertEqual(r["cursor_start"], len("%run --rm "))
        self.kc.complete("%run bus", 8)
        r = self.kc.get_shell_msg(timeout=10)["content"]
        self.assertIn("busybox", r["matches"])

    def test_cursor_pos_counts_code_points(self):
        code = "%run --rm -e X=\U0001F433 --nam"
        self.kc.complete(code, len(code))  # len() in Python counts code points
        r = self.kc.get_shell_msg(timeout=10)["content"]
        self.assertEqual(r["cursor_end"], len(code))
        self.assertEqual(r["cursor_start"], len(code) - len("--nam"))
        self.assertIn("--name", r["matches"])


class BerthKernelRichOutput(KernelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kc.execute_interactive("%run -d --name richps busybox sleep 120", timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.kc.execute_interactive("%rm -f richps", timeout=60)
        super().tearDownClass()

    def test_tables_are_sanitizer_safe_html_with_docker_text(self):
        msgs = []
        self.kc.execute_interactive("%ps", output_hook=msgs.append, timeout=60)
        shown = [m for m in msgs if m["msg_type"] == "display_data"]
        self.assertEqual(len(shown), 1)
        data = shown[0]["content"]["data"]
        self.assertRegex(data["text/plain"], r"CONTAINER ID\s+IMAGE\s+COMMAND")
        self.assertIn("richps", data["text/html"])
        self.assertIn("<table", data["text/html"])
        for forbidden in ("<style", "<script", " class=\"berth-table\" style=\"\""):
            self.assertNotIn(forbidden, data["text/html"])
        self.assertNotIn("application/json", data)
        self.assertEqual(shown[0]["content"]["transient"], {})

    def test_experiment_record_after_a_foreground_run(self):
        msgs = []
        self.kc.execute_interactive("%run --rm -m 64m --pids-limit 30 busybox sh -c 'echo measured; head -c 3000000 /dev/zero | md5sum'",
                                    output_hook=msgs.append, timeout=60)
        records = [m for m in msgs if m["msg_type"] == "display_data" and m["content"]["metadata"].get("berth") == "experiment-record"]
        self.assertEqual(len(records), 1)
        text = records[0]["content"]["data"]["text/plain"]
        self.assertRegex(text, r"image\s+busybox \(sha256:[0-9a-f]{12}\)")
        self.assertIn("memory 64MiB, pids 30, network bridge", text)
        self.assertRegex(text, r"exit code\s+0\n")
        self.assertRegex(text, r"wall time\s+\d+\.\d{3} s")
        self.assertRegex(text, r"peak memory\s+[\d.]+(KiB|MiB)")
        cpu = float(__import__("re").search(r"CPU time\s+([\d.]+) s", text).group(1))
        self.assertGreater(cpu, 0)
        # The record comes after the container's own output.
        kinds = [m["msg_type"] for m in msgs]
        self.assertLess(kinds.index("stream"), kinds.index("display_data"))

    def test_record_on_appends_each_run_and_records_compares_them(self):
        import json, os, tempfile
        d = tempfile.mkdtemp(prefix="berth-test-records-")
        f = os.path.join(d, "runs.jsonl")
        try:
            msgs = []
            self.kc.execute_interactive(f"%record on {f}", output_hook=msgs.append, timeout=30)
            self.assertIn(f"Recording every run to {f}", "".join(m["content"].get("text", "") for m in msgs))
            for script in ("echo 6x7=42", "echo 6x7=42", "echo 6x7=41"):
                self.kc.execute_interactive(f"%run --rm --network none -m 32m busybox sh -c '{script}'", output_hook=lambda m: None, timeout=60)
            self.kc.execute_interactive("%record off", output_hook=lambda m: None, timeout=30)
            self.kc.execute_interactive("%run --rm --network none busybox true", output_hook=lambda m: None, timeout=60)
            with open(f) as fh:
                lines = [json.loads(l) for l in fh]
            self.assertEqual(len(lines), 3, "three recorded runs, none after %record off")
            self.assertEqual(lines[0]["limits"]["memory"], 32 * 1024 * 1024)
            self.assertEqual(lines[0]["stdoutDigest"], lines[1]["stdoutDigest"])
            self.assertNotEqual(lines[0]["stdoutDigest"], lines[2]["stdoutDigest"])
            self.assertEqual(lines[0]["imageId"], lines[2]["imageId"])
            for cell, verdict in ((f"%records --file {f} compare 1 2", "are the same experiment"), (f"%records --file {f} compare 1 last", "differ")):
                shown = []
                self.kc.execute_interactive(cell, output_hook=shown.append, timeout=30)
                tables = [m["content"]["data"] for m in shown if m["msg_type"] == "display_data"]
                self.assertEqual(len(tables), 1)
                self.assertIn(verdict, tables[0]["text/plain"])
                self.assertIn("<table", tables[0]["text/html"])
            self.assertRegex(tables[0]["text/plain"], r"stdout\s+sha256:\S+\s+sha256:\S+\s+DIFFERENT")
        finally:
            import shutil
            shutil.rmtree(d, ignore_errors=True)

    def test_live_stats_update_one_display_until_interrupted(self):
        msg_id = self.kc.execute("%stats richps")
        time.sleep(3.5)
        self.km.interrupt_kernel()
        reply = self.kc.get_shell_msg(timeout=15)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        msgs = []
        while True:
            m = self.kc.get_iopub_msg(timeout=5)
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            msgs.append(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        first = [m for m in msgs if m["msg_type"] == "display_data"]
        updates = [m for m in msgs if m["msg_type"] == "update_display_data"]
        self.assertEqual(len(first), 1)
        self.assertGreaterEqual(len(updates), 1)
        display_id = first[0]["content"]["transient"]["display_id"]
        self.assertTrue(all(u["content"]["transient"]["display_id"] == display_id for u in updates))
        self.assertRegex(updates[-1]["content"]["data"]["text/plain"], r"richps\s+\d+\.\d\d%")
        chart = updates[-1]["content"]["data"]["text/html"]
        self.assertIn("berth-stats-chart", chart)
        self.assertIn("richps CPU", chart)
        self.assertIn("richps MEM", chart)
        self.assertGreaterEqual(chart.count("background-color:#2684ff"), 2)  # one bar per sample
        self.assertNotIn("<script", chart)
        self.assertNotIn("<style", chart)


class BerthKernelRestart(unittest.TestCase):
    def test_restart_keeps_history(self):
        km, kc = start_new_kernel(kernel_name="berth")
        try:
            kc.execute_interactive("%run --rm busybox echo remember-me", timeout=60)
            km.restart_kernel(now=False)
            kc.wait_for_ready(timeout=30)
            reply = kc.execute_interactive("%run --rm busybox echo after-restart", timeout=60)
            self.assertEqual(reply["content"]["status"], "ok")
            kc.history(hist_access_type="tail", n=20)
            hist = kc.get_shell_msg(timeout=10)["content"]["history"]
            self.assertTrue(any("remember-me" in h[2] for h in hist))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
        self.assertFalse(km.is_alive())


if __name__ == "__main__":
    unittest.main(verbosity=2)
