"""A notebook cell never receives raw bytes: commands that read or write a
tar (save, export, load, import) take files there, and say so."""
import os
import shutil
import tempfile
import unittest

from kernelcase import KernelCase


class BytesInANotebook(KernelCase):
    def test_bytes_go_to_files_never_into_the_kernel(self):
        # A tar archive cannot be a cell's output: %save and %export ask for
        # -o, and nothing is written to the kernel's own stdout.
        reply, msgs = self.run_cell("%save busybox")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("save writes a tar archive, which a notebook cell cannot hold: name a file with -o FILE", reply["content"]["evalue"])
        self.assertFalse([m for m in msgs if m["msg_type"] == "stream" and "ustar" in m["content"]["text"]])
        work = tempfile.mkdtemp(prefix="berth-kernel-bytes-")
        self.addCleanup(shutil.rmtree, work, True)
        archive = os.path.join(work, "bb.tar")
        reply, _ = self.run_cell(f"%save -o {archive} busybox")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertGreater(os.path.getsize(archive), 1_000_000)
        reply, msgs = self.run_cell(f"%load -i {archive}")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("Loaded image: busybox:latest", "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream"))
        reply, _ = self.run_cell("%load")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("name the archive with -i FILE", reply["content"]["evalue"])
        reply, _ = self.run_cell("%import - imported:v1")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("give the path of the tarball", reply["content"]["evalue"])


if __name__ == "__main__":
    unittest.main()
