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
