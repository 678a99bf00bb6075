#!/usr/bin/env python3
"""Time changeImage.py against the course's straightforward loop, and measure its memory.

    $ .venv/bin/python benchmarks/bench_change_image.py --count 6 --memory-counts 6,12 --repeat 1
    6 images, 3000x2000 RGBA LZW TIFF -> 600x400 JPEG; 2 cores, changeImage.py --jobs 2; best of 1

    | run | time | |
    | --- | ---: | ---: |
    | straightforward loop, one process | 0.71 s | 1.00x |
    | changeImage.py | 0.39 s | 1.82x as fast |
    | changeImage.py again, nothing to do | 0.08 s | 19.2% |
    ... (time per stage, then peak memory:)
    | images | largest process (peak RSS) | whole process tree (peak RSS sum) |
    | ---: | ---: | ---: |
    | 6 | 76 MB | 167 MB |
    | 12 | 76 MB | 169 MB |

On COUNT generated 3000x2000 RGBA LZW TIFFs (lab.sample_data, generated once
into --cache and reused), in the same run:

1. the straightforward solution: open, convert("RGB"), resize((600, 400)),
   save, one image after the other in this process;
2. changeImage.py as a user runs it (a subprocess, --dest elsewhere);
3. the same command again, with nothing to do.

Each is run --repeat times, taking turns, and the best time kept. Then, for each of
--memory-counts, changeImage.py runs under a small wrapper process that reports
the largest resident set of any one process of the run (getrusage of its waited-for
children: the main process or one worker) and the peak of the sum over the
process tree (psutil, sampled every 10 ms). Both must not grow with the count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

import changeImage  # noqa: E402
from lab.sample_data import make_data  # noqa: E402

SCRIPT = ROOT / "changeImage.py"

# Runs a command, then prints the peak memory of its process tree as JSON.
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
print(json.dumps({"max_rss": usage.ru_maxrss * 1024, "peak_sum": peak_sum,
                  "status": process.returncode}))
"""


def sample_images(cache: Path, count: int, seed: int = 0) -> Path:
    """The images folder of COUNT generated images, made once and kept in ``cache``."""
    folder = cache / f"{count}-{seed}"
    if not folder.exists():
        print(f"generating {count} images into {folder} ...", file=sys.stderr)
        make_data(folder.with_suffix(".tmp"), count=count, seed=seed)
        folder.with_suffix(".tmp").rename(folder)
    return folder / "images"


def straightforward(images: Path, dest: Path) -> None:
    """The course's solution, as most people write it."""
    for path in sorted(images.glob("*.tif")):
        with Image.open(path) as image:
            image.convert("RGB").resize((600, 400)).save(dest / f"{path.stem}.jpeg", "JPEG")


def change_image_command(images: Path, dest: Path, jobs: int | None) -> list[str]:
    command = [sys.executable, str(SCRIPT), str(images), "--dest", str(dest), "-q"]
    return command + (["--jobs", str(jobs)] if jobs else [])


def fresh_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def time_runs(images: Path, work: Path, repeat: int, jobs: int | None) -> dict[str, float]:
    """Best wall-clock time of each way; the ways take turns, so both see the same load."""
    baseline_dest, script_dest = work / "straightforward", work / "changeImage"
    command = change_image_command(images, script_dest, jobs)
    times: dict[str, list[float]] = {"straightforward": [], "script": [], "rerun": []}
    for _ in range(repeat):
        fresh_folder(baseline_dest)
        times["straightforward"].append(timed(lambda: straightforward(images, baseline_dest)))
        fresh_folder(script_dest)
        times["script"].append(timed(lambda: subprocess.run(command, check=True)))
        times["rerun"].append(timed(lambda: subprocess.run(command, check=True)))
    return {way: min(seconds) for way, seconds in times.items()}


def time_stages(images: Path, limit: int = 10) -> dict[str, dict[str, float]]:
    """Milliseconds per image for each stage of both ways, in this process, one core.

    Measured after the timings, with glibc told to keep freed memory as
    changeImage.py does, so that both ways show their work without page faults.
    """
    changeImage.keep_freed_memory()
    paths = sorted(images.glob("*.tif"))[:limit]
    totals = {"straightforward": {}, "changeImage.py": {}}

    def add(way: str, stage: str, start: float) -> float:
        now = time.perf_counter()
        totals[way][stage] = totals[way].get(stage, 0.0) + now - start
        return now

    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "out.jpeg"
        for path in paths:
            start = time.perf_counter()
            with Image.open(path) as image:
                image.load()
                start = add("straightforward", "decode", start)
                rgb = image.convert("RGB")
                start = add("straightforward", "convert to RGB", start)
                small = rgb.resize((600, 400))
                start = add("straightforward", "resize (bicubic, full size)", start)
                small.save(output, "JPEG")
                add("straightforward", "save", start)

            start = time.perf_counter()
            with Image.open(path) as image:
                image.load()
                start = add("changeImage.py", "decode", start)
                small = changeImage.resizable(image).resize(
                    changeImage.parse_size(changeImage.DEFAULT_SIZE),
                    Image.Resampling.LANCZOS,
                    reducing_gap=changeImage.REDUCING_GAP,
                )
                start = add("changeImage.py", "resize (lanczos, reducing_gap)", start)
                small = changeImage.on_white(small)
                start = add("changeImage.py", "composite onto white", start)
                small.save(output, "JPEG", quality=changeImage.DEFAULT_QUALITY)
                add("changeImage.py", "save", start)
    return {
        way: {stage: seconds * 1000 / len(paths) for stage, seconds in stages.items()}
        for way, stages in totals.items()
    }


def measure_memory(images: Path, work: Path, jobs: int | None) -> dict[str, int]:
    dest = work / "memory"
    fresh_folder(dest)
    command = [sys.executable, "-c", MEMORY_WRAPPER, *change_image_command(images, dest, jobs)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def megabytes(size: int) -> str:
    return f"{size / 2**20:.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=40, help="images for the timings")
    parser.add_argument(
        "--memory-counts", default="40,160", help="comma-separated image counts for memory"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing (best kept)")
    parser.add_argument("--jobs", type=int, help="--jobs for changeImage.py (default: its own)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench-change-image",
        help="folder for the generated images, kept between runs",
    )
    args = parser.parse_args()
    memory_counts = [int(count) for count in args.memory_counts.split(",") if count]

    images = sample_images(args.cache, args.count)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        times = time_runs(images, work, args.repeat, args.jobs)
        stages = time_stages(images)
        memory = {
            count: measure_memory(sample_images(args.cache, count), work, args.jobs)
            for count in memory_counts
        }

    jobs = args.jobs or changeImage.available_cpus()
    print(f"\n{args.count} images, 3000x2000 RGBA LZW TIFF -> 600x400 JPEG; ", end="")
    print(f"{os.cpu_count()} cores, changeImage.py --jobs {jobs}; best of {args.repeat}\n")
    print("| run | time | |")
    print("| --- | ---: | ---: |")
    print(f"| straightforward loop, one process | {times['straightforward']:.2f} s | 1.00x |")
    speed_up = times["straightforward"] / times["script"]
    print(f"| changeImage.py | {times['script']:.2f} s | {speed_up:.2f}x as fast |")
    share = times["rerun"] / times["script"]
    print(f"| changeImage.py again, nothing to do | {times['rerun']:.2f} s | {share:.1%} |")

    print("\n| stage, ms per image, one core, no page faults | straightforward | changeImage.py |")
    print("| --- | ---: | ---: |")
    names = list(dict.fromkeys([*stages["straightforward"], *stages["changeImage.py"]]))
    for stage in [*names, "total"]:
        cells = []
        for way in ("straightforward", "changeImage.py"):
            value = sum(stages[way].values()) if stage == "total" else stages[way].get(stage)
            cells.append("" if value is None else f"{value:.1f}")
        print(f"| {stage} | {cells[0]} | {cells[1]} |")

    print("\n| images | largest process (peak RSS) | whole process tree (peak RSS sum) |")
    print("| ---: | ---: | ---: |")
    for count, figures in memory.items():
        print(f"| {count} | {megabytes(figures['max_rss'])} | {megabytes(figures['peak_sum'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
