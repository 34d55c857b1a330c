"""nbclient executes a notebook of Berth magics top to bottom with the Berth
kernel, as CI will execute the tutorial notebooks."""
import os
import tempfile
import unittest

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from nboutputs import cell_text


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "berth", "display_name": "Berth", "language": "berth"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


texts = cell_text


class NotebookOfMagics(unittest.TestCase):
    def test_runs_top_to_bottom(self):
        nb = notebook(
            "%images",
            "%run --rm busybox sh -c 'echo I am PID $$ in $(hostname)'",
            "%run -d --name nb-sleeper busybox sleep 60",
            "%ps",
            "%exec nb-sleeper ps -o pid,args",
            "%inspect -f '{{.State.Running}}' nb-sleeper",
            "%%run --pids-limit 10 busybox\necho from a cell script\ncat /proc/self/status | grep NoNewPrivs",
            "%rm -f nb-sleeper",
        )
        NotebookClient(nb, timeout=120, kernel_name="berth").execute()
        self.assertIn("busybox", texts(nb.cells[0]))
        self.assertIn("I am PID 1 in", texts(nb.cells[1]))
        self.assertIn("nb-sleeper", texts(nb.cells[3]))
        self.assertRegex(texts(nb.cells[4]), r"\n\s*1 sleep 60")
        self.assertEqual(nb.cells[5].outputs[0].output_type, "execute_result")
        self.assertEqual(nb.cells[5].outputs[0].data["text/plain"], "true")
        self.assertIn("from a cell script", texts(nb.cells[6]))
        self.assertIn("NoNewPrivs:\t1", texts(nb.cells[6]))
        self.assertEqual([c.execution_count for c in nb.cells], list(range(1, 9)))

    def test_error_stops_the_notebook_with_a_clear_message(self):
        nb = notebook("%run --rm busybox sh -c 'exit 2'", "%run --rm busybox echo never")
        with self.assertRaises(CellExecutionError) as ctx:
            NotebookClient(nb, timeout=60, kernel_name="berth").execute()
        self.assertIn("ContainerExit", str(ctx.exception))
        self.assertIn("exited with code 2", str(ctx.exception))
        self.assertEqual(nb.cells[1].outputs, [])

    def test_secrets_stay_out_of_saved_outputs(self):
        # A notebook's outputs are saved and shared: an inspect shows values
        # from --env-file and secret-looking names as ***; the container
        # still gets them.
        with tempfile.NamedTemporaryFile("w", suffix=".env", delete=False) as f:
            f.write("FROM_FILE=file-val-6c2e\n")
        try:
            nb = notebook(
                f"%run -d --name nb-secret --network none -e DB_PASSWORD=pw-nb-51f0 -e LAB=visible --env-file {f.name} busybox sleep 30",
                "%inspect nb-secret",
                "%inspect -f '{{json .Config.Env}}' nb-secret",
                "%exec nb-secret sh -c 'echo $DB_PASSWORD $FROM_FILE | wc -c'",
                "%rm -f nb-secret",
            )
            NotebookClient(nb, timeout=120, kernel_name="berth").execute()
        finally:
            os.unlink(f.name)
        for i in (1, 2):
            out = texts(nb.cells[i])
            self.assertNotIn("pw-nb-51f0", out)
            self.assertNotIn("file-val-6c2e", out)
            self.assertIn("DB_PASSWORD=***", out)
            self.assertIn("FROM_FILE=***", out)
            self.assertIn("LAB=visible", out)
        self.assertEqual(texts(nb.cells[3]).strip(), "25")  # both values reached the container


if __name__ == "__main__":
    unittest.main(verbosity=2)
