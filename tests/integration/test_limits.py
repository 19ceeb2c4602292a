"""Resources a client can hold (issue 11): descriptors, and the answers
past a bound (503 or 429 with Retry-After, never an EOF)."""

import os
import re
import resource
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from host_harness import Server, base_config, sanitizer_clean  # noqa: E402


def low_nofile():
    """In the child: 400 descriptors, and no way to raise that."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (400, 400))


def read_answer(sock):
    """Reads one answer's head and Content-Length body; (status, head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head:
        return None, b"", b""
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    want = int(m.group(1)) if m else 0
    while len(body) < want:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head.split(b" ")[1]), head, body


class TestDescriptors(unittest.TestCase):

    def test_max_connections_fits_the_descriptors(self):
        with Server(base_config(limits={"max_connections": 10000}),
                    preexec_fn=low_nofile) as srv:
            line = srv.wait_log("limits.max_connections lowered from 10000 to ")
            self.assertTrue(line)
            m = re.search(r"lowered from 10000 to (\d+)", srv.stderr())
            fit = int(m.group(1))
            self.assertTrue(0 < fit < 400, fit)
            held = []
            try:
                # every connection up to the limit is served ...
                for _ in range(fit):
                    s = srv.raw_socket()
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                    status, _, _ = read_answer(s)
                    self.assertEqual(status, 200)
                    held.append(s)
                # ... and those past it get 503 with Retry-After, never an EOF
                for _ in range(20):
                    s = srv.raw_socket()
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                    status, head, body = read_answer(s)
                    self.assertEqual(status, 503, head)
                    self.assertIn(b"retry-after:", head.lower())
                    self.assertIn(b"IKKE_KLAR", body)
                    s.close()
            finally:
                for s in held:
                    s.close()
            srv.stop()
            self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())


if __name__ == "__main__":
    unittest.main()
