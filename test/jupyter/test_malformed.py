"""Malformed but validly signed messages, sent as raw frames with the
kernel's own key: each gets an error reply or a logged drop, nothing runs,
the execution count does not move and the kernel lives. Started by
test/kernel.test.ts."""
import json
import unittest
import uuid
from datetime import datetime, timezone

from kernelcase import KernelCase


class MalformedMessages(KernelCase):
    def header(self, kind, drop=()):
        h = {"msg_id": uuid.uuid4().hex, "session": self.kc.session.session, "username": "test",
             "date": datetime.now(timezone.utc).isoformat(), "msg_type": kind, "version": "5.3"}
        for k in drop:
            h.pop(k)
        return h

    def send_raw(self, header_json, content_json, parent_json="{}"):
        parts = [p.encode() for p in (header_json, parent_json, "{}", content_json)]
        sig = self.kc.session.sign(parts)
        self.kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", sig] + parts)

    def shell_reply(self, msg_id, timeout=10):
        while True:
            m = self.kc.get_shell_msg(timeout=timeout)
            if m["parent_header"].get("msg_id") == msg_id:
                return m

    def no_shell_reply(self, seconds=1.5):
        try:
            m = self.kc.get_shell_msg(timeout=seconds)
        except Exception:
            return
        self.fail(f"unexpected reply {m['msg_type']}")

    def count(self):
        reply = self.kc.execute_interactive("%ps -q", timeout=60, output_hook=lambda m: None)
        self.assertEqual(reply["content"]["status"], "ok")
        return reply["content"]["execution_count"]

    def assert_alive_and_count(self, before):
        # The next real cell is the very next count: nothing ran in between.
        self.assertEqual(self.count(), before + 1)

    def test_deeply_nested_header_does_not_kill_the_kernel(self):
        before = self.count()
        h = json.dumps(self.header("kernel_info_request"))[:-1] + ', "junk": ' + "[" * 100000 + "]" * 100000 + "}"
        self.send_raw(h, "{}")
        self.no_shell_reply()
        self.assert_alive_and_count(before)

    def test_deeply_nested_content_is_refused_with_a_reply(self):
        before = self.count()
        h = self.header("execute_request")
        self.send_raw(json.dumps(h), '{"code": "%ps", "x": ' + "[" * 100000 + "]" * 100000 + "}")
        # The content never parsed into something to run: the header is fine,
        # so the refusal is logged and no cell runs.
        self.no_shell_reply()
        self.assert_alive_and_count(before)

    def test_null_list_and_empty_content_get_an_error_reply_and_run_nothing(self):
        for content in ("null", "[]", "{}", '{"code": 42}'):
            before = self.count()
            h = self.header("execute_request")
            self.send_raw(json.dumps(h), content)
            reply = self.shell_reply(h["msg_id"])
            self.assertEqual(reply["msg_type"], "execute_reply", content)
            self.assertEqual(reply["content"]["status"], "error", content)
            self.assertEqual(reply["content"]["ename"], "InvalidRequest", content)
            self.assertEqual(reply["content"]["execution_count"], before, content)
            self.assert_alive_and_count(before)

    def test_other_requests_with_bad_content_get_an_error_reply(self):
        h = self.header("complete_request")
        self.send_raw(json.dumps(h), "null")
        reply = self.shell_reply(h["msg_id"])
        self.assertEqual(reply["msg_type"], "complete_reply")
        self.assertEqual(reply["content"]["status"], "error")

    def test_header_without_msg_id_or_session_is_dropped(self):
        for missing in ("msg_id", "session", "msg_type"):
            before = self.count()
            h = self.header("execute_request", drop=(missing,))
            self.send_raw(json.dumps(h), json.dumps({"code": "%run --rm busybox echo should-not-run", "silent": False}))
            self.no_shell_reply()
            self.assert_alive_and_count(before)

    def test_non_object_header_and_bad_json_are_dropped(self):
        before = self.count()
        for header in ("[]", "null", '"text"', "{not json"):
            self.send_raw(header, "{}")
        self.no_shell_reply()
        self.assert_alive_and_count(before)


if __name__ == "__main__":
    unittest.main()
