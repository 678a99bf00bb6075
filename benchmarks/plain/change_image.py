#!/usr/bin/env python3
"""The course's changeImage.py loop, at the script's JPEG quality (85)."""

import os
import sys

from PIL import Image

folder, dest = sys.argv[1], sys.argv[2]
for file in os.listdir(folder):
    if file.endswith(".tif"):
        im = Image.open(os.path.join(folder, file))
        out = os.path.join(dest, file.replace(".tif", ".jpeg"))
        im.convert("RGB").resize((600, 400)).save(out, "JPEG", quality=85)
