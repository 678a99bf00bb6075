#!/usr/bin/env python3
"""The course's four checks as a student writes them with psutil (CPU sample: argv[1] s)."""

import socket
import sys

import psutil

if psutil.cpu_percent(float(sys.argv[1])) > 80:
    print("Error - CPU usage is over 80%")
if psutil.disk_usage("/").free / psutil.disk_usage("/").total * 100 < 20:
    print("Error - Available disk space is less than 20%")
if psutil.virtual_memory().available / (1024 * 1024) < 500:
    print("Error - Available memory is less than 500MB")
if socket.gethostbyname("localhost") != "127.0.0.1":
    print("Error - localhost cannot be resolved to 127.0.0.1")
