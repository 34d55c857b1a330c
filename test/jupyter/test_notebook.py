"""nbclient executes a notebook of Berth magics top to bottom with the Berth
kernel, as CI will execute the tutorial notebooks."""
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
