#!/usr/bin/env python3
"""The run.py a student writes: one requests.post per description file."""

import os
import sys

import requests

folder, url = sys.argv[1], sys.argv[2] + "/fruits/"
for file in os.listdir(folder):
    if file.endswith(".txt"):
        with open(os.path.join(folder, file)) as opened:
            lines = opened.read().strip().splitlines()
        fruit = {
            "name": lines[0],
            "weight": int(lines[1].strip(" lbs")),
            "description": lines[2],
            "image_name": file.replace(".txt", ".jpeg"),
        }
        requests.post(url, json=fruit)
