#!/usr/bin/env python3
"""The course's four checks in five lines of psutil (CPU sampled 0.1 s, as the benchmark's script)."""
import socket
import sys

import psutil

disk = psutil.disk_usage("/")
problems = [
    psutil.cpu_percent(float(sys.argv[1])) > 80,
    disk.free / disk.total * 100 < 20,
    psutil.virtual_memory().available / 2**20 < 500,
    socket.gethostbyname("localhost") != "127.0.0.1",
]
print("\n".join(p for p, bad in zip(["cpu", "disk", "memory", "localhost"], problems) if bad))
