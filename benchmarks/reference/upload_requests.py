#!/usr/bin/env python3
"""For scale: the least a requests client does to upload, 2 at a time, checking nothing.

One session (keep-alive, the environment read once, as supplier_image_upload.py's),
two threads; no listing, no record of what was sent, no second look after a lost answer.
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import requests

folder, url = sys.argv[1], sys.argv[2] + "/upload/"
session = requests.Session()
session.trust_env = False
session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=2))


def upload(name: str) -> None:
    with open(os.path.join(folder, name), "rb") as image:
        session.post(url, files={"file": (name, image, "image/jpeg")}).raise_for_status()


names = sorted(name for name in os.listdir(folder) if name.endswith(".jpeg"))
with ThreadPoolExecutor(2) as pool:
    list(pool.map(upload, names))
