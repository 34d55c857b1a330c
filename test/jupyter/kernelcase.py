"""One Berth kernel per test class, started and stopped through jupyter_client."""
import unittest

from jupyter_client.manager import start_new_kernel


class KernelCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name="berth")

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=False)

    def run_cell(self, code, **kw):
        """Executes a cell to idle; returns the reply and every IOPub message."""
        msgs = []
        reply = self.kc.execute_interactive(code, output_hook=msgs.append, timeout=60, **kw)
        return reply, msgs
