#!/usr/bin/env python3
"""Time changeImage.py against the course's loop, as whole processes, and show the picture kept.

    $ .venv/bin/python benchmarks/bench_change_image.py --count 8 --repeat 3   # a quick look

The images are 3000x2000 RGBA LZW TIFFs from ``lab.sample_data.make_data``,
generated once into ``--cache`` (default /tmp/bench-change-image/COUNT-0) and
reused. The ways take turns, each a fresh process:

- the course's loop, benchmarks/plain/change_image.py: ``open``,
  ``convert("RGB")``, ``resize((600, 400))`` (Pillow's default filter), ``save``
  at quality 85, one image after another;
- ``changeImage.py --dest DIR -q`` (quality 85 too), with its default --jobs;
- ``changeImage.py`` again with nothing to do (share of the first run).

Then, in this process: the PSNR of the script's JPEGs against JPEGs of the same
images resized with a full Lanczos (no reduce step, as changeImage.py did before
it reduced by whole blocks first), both at quality 85; the time of each stage of
changeImage.py's work per image on one core; and the peak memory of a run
(largest process, and the whole tree summed).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import PLAIN, ROOT, median, record, run_process, take_turns
from PIL import Image, ImageChops

import changeImage
from lab.sample_data import make_data

SCRIPT = ROOT / "changeImage.py"

MEMORY_WRAPPER = """
import json, resource, subprocess, sys, time
import psutil
process = subprocess.Popen(sys.argv[1:])
tree = psutil.Process(process.pid)
peak_sum = 0
while process.poll() is None:
    total = 0
    try:
        for member in [tree, *tree.children(recursive=True)]:
            total += member.memory_info().rss
    except psutil.Error:
        pass  # a worker ended while we looked
    peak_sum = max(peak_sum, total)
    time.sleep(0.01)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"max_rss": usage.ru_maxrss * 1024, "peak_sum": peak_sum}))
"""


def sample_images(cache: Path, count: int, seed: int = 0) -> Path:
    """The images folder of ``count`` generated images, made once and kept in ``cache``."""
    folder = cache / f"{count}-{seed}"
    if not folder.exists():
        print(f"generating {count} images into {folder} ...", file=sys.stderr, flush=True)
        make_data(folder.with_suffix(".tmp"), count=count, seed=seed)
        folder.with_suffix(".tmp").rename(folder)
    return folder / "images"


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of two RGB pictures of one size, in dB."""
    histogram = ImageChops.difference(a, b).histogram()
    squares = sum(count * (index % 256) ** 2 for index, count in enumerate(histogram))
    mse = squares / (a.size[0] * a.size[1] * 3)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def quality_kept(images: Path, outputs: Path, scratch: Path) -> dict[str, list[float]]:
    """PSNR (dB) per image against a full Lanczos of it (the picture before any JPEG):

    - "resize": changeImage.py's picture before encoding (load_for_catalog);
    - "premultiplied": the same, but against the same resize of the whole image
      premultiplied first (as the script did before it premultiplied only the
      tiles of mixed alpha, see changeImage.shrink_on_white);
    - "jpeg": the JPEG changeImage.py wrote;
    - "jpeg before": the JPEG the script wrote before (Lanczos after a 3x3 reduce,
      reducing_gap=1.5), to show what JPEG at quality 85 costs by itself.
    """
    values: dict[str, list[float]] = {
        "resize": [],
        "premultiplied": [],
        "jpeg": [],
        "jpeg before": [],
    }
    lanczos, gap = Image.Resampling.LANCZOS, changeImage.REDUCING_GAP
    for path in sorted(images.glob("*.tif")):
        with Image.open(path) as image:
            reference = changeImage.on_white(image.resize((600, 400), lanczos))
            premultiplied = image.convert("RGBa").resize((600, 400), lanczos, reducing_gap=gap)
            premultiplied = changeImage.on_white(premultiplied.convert("RGBA"))
            before = changeImage.on_white(image.resize((600, 400), lanczos, reducing_gap=1.5))
        before.save(scratch / "before.jpeg", "JPEG", quality=changeImage.DEFAULT_QUALITY)
        resized = changeImage.load_for_catalog(path, (600, 400))
        values["resize"].append(psnr(resized, reference))
        values["premultiplied"].append(psnr(resized, premultiplied))
        for name, jpeg in (
            ("jpeg", outputs / f"{path.stem}.jpeg"),
            ("jpeg before", scratch / "before.jpeg"),
        ):
            with Image.open(jpeg) as written:
                values[name].append(psnr(written.convert("RGB"), reference))
    return values


def span(values: list[float]) -> str:
    if min(values) == math.inf:
        return "identical"
    return f"{min(values):.1f}-{max(values):.1f} dB"


def time_stages(images: Path, limit: int = 10) -> dict[str, float]:
    """Milliseconds per image for each stage of changeImage.py's work, in this process.

    The steps of changeImage.shrink_on_white, one by one, for 3000x2000 RGBA -> 600x400.
    """
    changeImage.keep_freed_memory()
    paths = sorted(images.glob("*.tif"))[:limit]
    totals: dict[str, float] = {}
    tiles = 0
    lanczos = Image.Resampling.LANCZOS
    side = changeImage.MIXED_TILE * 5  # a tile's side in the source

    def add(stage: str, start: float) -> float:
        now = time.perf_counter()
        totals[stage] = totals.get(stage, 0.0) + now - start
        return now

    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "out.jpeg"
        for path in paths:
            start = time.perf_counter()
            with Image.open(path) as image:
                image.load()
                start = add("decode (LZW TIFF)", start)
                small = changeImage.reduce_as_stored(image, (5, 5))
                start = add("reduce 5x5, alpha not premultiplied", start)
                for x, y in changeImage.mixed_tiles(small.getchannel("A")):
                    box = (x * 5, y * 5, min(x * 5 + side, 3000), min(y * 5 + side, 2000))
                    small.paste(image.crop(box).reduce(5), (x, y))
                    tiles += 1
                start = add("TILES", start)
                small = small.resize((600, 400), lanczos, box=(0, 0, 600, 400))
                small = changeImage.on_white(small)
                start = add("Lanczos for what is left (none at 5x5), onto white", start)
                small.save(output, "JPEG", quality=changeImage.DEFAULT_QUALITY)
                add("save (JPEG, quality 85)", start)
    tile_count = math.ceil(600 / changeImage.MIXED_TILE) * math.ceil(400 / changeImage.MIXED_TILE)
    label = f"mixed-alpha tiles ({tiles / len(paths):.0f} of {tile_count}): premultiply, reduce"
    return {
        label if stage == "TILES" else stage: seconds * 1000 / len(paths)
        for stage, seconds in totals.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=24, help="images (default 24)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each way (default 5)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench-change-image",
        help="folder for the generated images, kept between runs",
    )
    args = parser.parse_args()
    images = sample_images(args.cache, args.count)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-change-image-") as scratch:
        work = Path(scratch)
        plain_dest, script_dest = work / "plain", work / "script"
        script = [python, str(SCRIPT), str(images), "--dest", str(script_dest), "-q"]

        def plain_way() -> dict[str, float]:
            fresh(plain_dest)
            return run_process(
                [python, str(PLAIN / "change_image.py"), str(images), str(plain_dest)]
            )

        def script_way() -> dict[str, float]:
            fresh(script_dest)
            return run_process(script)

        def rerun_way() -> dict[str, float]:
            return run_process(script)  # right after script_way: every JPEG is up to date

        runs = take_turns(
            {"plain": plain_way, "script": script_way, "rerun": rerun_way}, args.repeat
        )
        psnrs = quality_kept(images, script_dest, work)
        stages = time_stages(images)
        memory = json.loads(
            subprocess.run(
                [python, "-c", MEMORY_WRAPPER, *script[:-1], "-q", "--force"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )

    plain, script_time, rerun = (median(runs[way]) for way in ("plain", "script", "rerun"))
    jobs = changeImage.available_cpus()
    record(
        {
            "step": f"changeImage.py, {args.count} TIFFs 3000x2000 RGBA -> 600x400 JPEG q85",
            "plain": plain,
            "script": script_time,
            "unit": "s",
            "ratio": plain / script_time,
            "goal": ">= 3x",
            "met": plain / script_time >= 3,
            "runs": args.repeat,
            "note": f"--jobs {jobs}; picture kept: PSNR of the resize against a full Lanczos "
            f"{span(psnrs['resize'])} (goal >= 40 dB), against premultiplying the whole "
            f"image {span(psnrs['premultiplied'])}; the JPEG written against a full Lanczos "
            f"{span(psnrs['jpeg'])}, before this change {span(psnrs['jpeg before'])}; "
            f"re-run with nothing to do {rerun:.2f} s",
        }
    )
    print("\n| stage of changeImage.py, one core | ms per image |")
    print("| --- | ---: |")
    for stage, ms in [*stages.items(), ("total", sum(stages.values()))]:
        print(f"| {stage} | {ms:.1f} |")
    largest, tree = memory["max_rss"] / 2**20, memory["peak_sum"] / 2**20
    print(
        f"\npeak memory, {args.count} images: largest process {largest:.0f} MB, tree {tree:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
