#!/usr/bin/env python3
"""For scale: the same as upload_requests.py with the standard library's http.client.

What the lab's server allows a Python client on this machine: no requests to import,
about a third of its CPU per POST (the form is built by hand, one keep-alive
connection per thread, nothing checked).
"""

import http.client
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

folder, url = sys.argv[1], urlsplit(sys.argv[2])
BOUNDARY = "b0undary7c1a4e5f9a8b7c6d5e4f3a2b"
connections = threading.local()


def upload(name: str) -> None:
    if not hasattr(connections, "one"):
        connections.one = http.client.HTTPConnection(url.hostname, url.port)
    with open(os.path.join(folder, name), "rb") as image:
        body = b"".join(
            [
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode(),
                image.read(),
                f"\r\n--{BOUNDARY}--\r\n".encode(),
            ]
        )
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    connections.one.request("POST", url.path.rstrip("/") + "/upload/", body, headers)
    answer = connections.one.getresponse()
    answer.read()
    if answer.status != 201:
        raise SystemExit(f"{name}: {answer.status} {answer.reason}")


names = sorted(name for name in os.listdir(folder) if name.endswith(".jpeg"))
with ThreadPoolExecutor(2) as pool:
    list(pool.map(upload, names))
