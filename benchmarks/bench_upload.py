#!/usr/bin/env python3
"""Time supplier_image_upload.py against a plain loop of requests.post calls.

Each way uploads the same JPEGs (600x400, about 27 KB, as changeImage.py
makes them) into its own fresh, empty lab catalog service on this machine:

- the course's way: ``requests.post(url, files={"file": f})`` per image, no session;
- supplier_image_upload.py with ``--jobs 1``: one keep-alive session, and a HEAD
  per image to ask whether the server has it already;
- supplier_image_upload.py with its default ``--jobs``: the same, several at a time.

$ .venv/bin/python benchmarks/bench_upload.py --count 30
30 JPEGs of 600x400, 26 KB on average, server delay 0 ms per answer

| way | images | seconds | images/s | vs plain loop |
| --- | ---: | ---: | ---: | ---: |
| plain loop of requests.post, no session | 30 | 0.33 | 92 | 1.00x |
| supplier_image_upload.py --jobs 1 | 30 | 2.95 | 10 | 0.11x |
| supplier_image_upload.py --jobs 4 | 30 | 0.94 | 32 | 0.35x |

(The lab's server does not set TCP_NODELAY: on a kept-alive connection each
answer waits about 40 ms for a delayed ACK, which a new connection per request
does not. With it set, 100 images and --delay 0.02: 2.96 s, 5.36 s, 1.94 s.)
"""

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import supplier_image_upload  # noqa: E402
from lab.control import launch_lab  # noqa: E402


def make_images(folder: Path, count: int) -> list[Path]:
    """``count`` 600x400 JPEGs of 20-30 KB: gradients, discs and a little noise."""
    folder.mkdir(parents=True)
    paths = []
    for index in range(1, count + 1):
        rnd = random.Random(index)
        gradients = [
            Image.linear_gradient("L").rotate(rnd.randint(0, 359)).resize((600, 400))
            for _ in range(3)
        ]
        image = Image.merge("RGB", gradients)
        draw = ImageDraw.Draw(image)
        for _ in range(8):
            x, y, r = rnd.randint(0, 600), rnd.randint(0, 400), rnd.randint(20, 120)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rnd.choices(range(256), k=3)))
        image = Image.blend(image, Image.effect_noise((600, 400), 12).convert("RGB"), 0.15)
        path = folder / f"{index:03d}.jpeg"
        image.save(path, quality=85)
        paths.append(path)
    return paths


def plain_loop(url: str, folder: Path, paths: list[Path]) -> None:
    """The course's example_upload.py, once per image."""
    for path in paths:
        with path.open("rb") as image:
            response = requests.post(f"{url}/upload/", files={"file": image}, timeout=60)
        if response.status_code != 201:
            raise SystemExit(f"{path}: HTTP {response.status_code}")


def script_way(jobs: int) -> Callable[[str, Path, list[Path]], None]:
    def run(url: str, folder: Path, paths: list[Path]) -> None:
        status = supplier_image_upload.main(["-q", "--url", url, "--jobs", str(jobs), str(folder)])
        if status != 0:
            raise SystemExit(f"supplier_image_upload.py exited {status}")

    return run


def timed_upload(
    work: Path, name: str, upload: Callable, folder: Path, paths: list[Path], delay: float
) -> float:
    """Seconds ``upload`` takes into a fresh lab; checks every image arrived exactly once."""
    lab = launch_lab(work / f"lab-{name}", no_smtp=True, delay=delay or None)
    try:
        start = time.perf_counter()
        upload(lab.url, folder, paths)
        seconds = time.perf_counter() - start
        if lab.images() != [path.name for path in paths]:
            raise SystemExit(f"{name}: the server does not have each image exactly once")
        return seconds
    finally:
        lab.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="images to upload (default 300)")
    parser.add_argument(
        "--delay",
        type=float,
        default=0.0,
        help="seconds the lab waits before each answer, to play a distant server (default 0)",
    )
    args = parser.parse_args()
    jobs = supplier_image_upload.DEFAULT_JOBS
    ways = [
        ("plain loop of requests.post, no session", plain_loop),
        ("supplier_image_upload.py --jobs 1", script_way(1)),
        (f"supplier_image_upload.py --jobs {jobs}", script_way(jobs)),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as temporary:
        work = Path(temporary)
        folder = work / "images"
        paths = make_images(folder, args.count)
        kb = sum(path.stat().st_size for path in paths) / len(paths) / 1000
        print(
            f"{args.count} JPEGs of 600x400, {kb:.0f} KB on average, "
            f"server delay {args.delay * 1000:.0f} ms per answer\n"
        )
        times = [
            timed_upload(work, str(number), upload, folder, paths, args.delay)
            for number, (_, upload) in enumerate(ways)
        ]
    print("| way | images | seconds | images/s | vs plain loop |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for (label, _), seconds in zip(ways, times, strict=True):
        print(
            f"| {label} | {args.count} | {seconds:.2f} | {args.count / seconds:.0f} "
            f"| {times[0] / seconds:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
