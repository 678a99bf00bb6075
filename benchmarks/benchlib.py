"""What every benchmark does alike: time whole processes, take turns, record the rows.

Each way is a command run as a user runs it, a fresh process (interpreter start
included), started by a small launcher that reads that process's own usage from
``os.wait4``: wall seconds and CPU seconds (user + system) of that process and
its children. The ways take turns (plain, script, plain, script, ...), so both
see the same load; the figure kept is the median.

The processes run without PYTHONDONTWRITEBYTECODE, as on a user's machine: the
scripts' modules are compiled once and read from __pycache__ afterwards.

A benchmark's rows go to stdout and, under ``make bench`` (benchmarks/run_all.py),
to the JSON file named by $BENCH_RESULTS, from which the README's table is made.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAIN = Path(__file__).resolve().parent / "plain"
REFERENCE = Path(__file__).resolve().parent / "reference"
sys.path.insert(0, str(ROOT))

# Linux keeps a process's peak memory across exec, and wait4 gives the usage of
# one child and its children only: hence a bare launcher between us and the run.
LAUNCHER = """
import os, sys, time
out = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1,)]
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=out)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def user_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a user's shell: bytecode caches written, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra or {})
    return env


def run_process(
    command: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)
) -> dict[str, float]:
    """Run ``command`` once as a fresh process: wall and CPU seconds, peak RSS in MB."""
    result = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, *command],
        env=env or user_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu, max_rss, status = result.stdout.split()
    if int(status) not in ok:
        raise SystemExit(f"{' '.join(command)} exited {status}:\n{result.stderr}")
    return {"wall": float(wall), "cpu": float(cpu), "rss": int(max_rss) / 1024}


def take_turns(
    ways: dict[str, Callable[[], dict[str, float]]], repeat: int
) -> dict[str, list[dict[str, float]]]:
    """Each way once per round, ``repeat`` rounds, in turns; every measurement of each way."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in ways}
    for _ in range(repeat):
        for name, way in ways.items():
            runs[name].append(way())
    return runs


def median(runs: list[dict[str, float]], what: str = "wall") -> float:
    return statistics.median(run[what] for run in runs)


def record(row: dict) -> None:
    """Keep a row of the summary table (for run_all.py) and print it."""
    note = f" - {row['note']}" if row.get("note") else ""
    ratio = row.get("ratio_text") or f"{row['ratio']:.2f}x as fast"
    print(
        f"{row['step']}: plain {row['plain']:.3g} {row['unit']}, script {row['script']:.3g} "
        f"{row['unit']}: {ratio} "
        f"(goal {row['goal']}){note}",
        flush=True,
    )
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps(row) + "\n")


def make_jpegs(folder: Path, count: int) -> list[Path]:
    """``count`` 600x400 JPEGs of 20-30 KB (quality 85, as changeImage.py makes them)."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    noise = Image.effect_noise((600, 400), 12).convert("RGB")
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
        image = Image.blend(image, noise, 0.15)
        path = folder / f"{index:03d}.jpeg"
        image.save(path, quality=85)
        paths.append(path)
    return paths
