#!/usr/bin/env python3
"""The upload loop a student writes (the course's example_upload.py, once per file)."""

import os
import sys

import requests

folder, url = sys.argv[1], sys.argv[2] + "/upload/"
for file in os.listdir(folder):
    if file.endswith(".jpeg"):
        with open(os.path.join(folder, file), "rb") as opened:
            requests.post(url, files={"file": opened})
