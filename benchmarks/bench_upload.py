#!/usr/bin/env python3
"""Time supplier_image_upload.py and run.py against the loops a user writes, as whole processes.

    $ .venv/bin/python benchmarks/bench_upload.py --count 100 --repeat 3 --delays 0

Upload: the same JPEGs (600x400, 20-30 KB, quality 85) go into a fresh, empty
lab catalog for each run, by benchmarks/plain/upload.py (``requests.post`` per
file) or by ``supplier_image_upload.py``. run.py: the same description files
(name, "N lbs", description) go into a fresh catalog whose /media/images/
already has their pictures, uploaded by supplier_image_upload.py as in the chain
(not timed), by benchmarks/plain/run.py or by ``run.py``. Each
is done with the lab answering at once and with ``--delay`` (default 20 ms)
added before each answer (the lab's ``delay`` fault: a server a network hop
away). The lab is started before each run and checked after it (every image or
fruit there exactly once); neither is timed. At 0 ms the upload also times, in the
same turns, two clients that post 2 at a time and check nothing
(benchmarks/reference/): what requests itself allows, and http.client.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import psutil
from benchlib import (
    PLAIN,
    REFERENCE,
    ROOT,
    make_jpegs,
    median,
    record,
    run_process,
    take_turns,
    user_env,
)

from lab.control import launch_lab

# Clients that post 2 at a time and check nothing (benchmarks/reference/), taking turns
# with the two ways at 0 ms: how fast the upload could be with requests, and without it.
REFERENCES = {
    "upload_requests.py": "for scale, requests posting 2 at a time and checking nothing",
    "upload_http_client.py": "http.client doing the same",
}
FRUITS = ["Apple", "Avocado", "Blackberry", "Grape", "Kiwifruit", "Lemon", "Mango", "Plum"]


def make_descriptions(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for index in range(1, count + 1):
        fruit = f"{FRUITS[index % len(FRUITS)]} {index}"
        text = f"{fruit}\n{100 + index % 400} lbs\nA fine {fruit.lower()}, picked this week.\n"
        (folder / f"{index:03d}.txt").write_text(text, encoding="utf-8")


def in_fresh_lab(work: Path, command: list[str], delay: float, prepare, check):
    """A way: start a lab, ``prepare(lab)``, run ``command URL`` (timed), ``check(lab)``.

    The scripts' state folder ($XDG_STATE_HOME) is fresh for each run too.
    """

    def way() -> dict[str, float]:
        shutil.rmtree(work / "state", ignore_errors=True)
        lab = launch_lab(work / "lab", no_smtp=True, delay=delay or None)
        try:
            prepare(lab)
            server = psutil.Process(lab.process.pid)
            before = sum(server.cpu_times()[:2])
            usage = run_process([*command, lab.url], lab_env(lab, work))
            usage["server"] = sum(server.cpu_times()[:2]) - before
            check(lab)
        finally:
            lab.stop()
            shutil.rmtree(work / "lab")
        return usage

    return way


def upload_way(work: Path, command: list[str], delay: float, images: list[Path]):
    def check(lab) -> None:
        if sorted(lab.images()) != sorted(path.name for path in images):
            raise SystemExit(f"{command}: the server does not have each image exactly once")

    return in_fresh_lab(work, command, delay, lambda lab: None, check)


def run_way(work: Path, command: list[str], delay: float, images: list[Path], count: int):
    def prepare(lab) -> None:
        # As in the chain: supplier_image_upload.py has put the pictures there.
        upload = [sys.executable, str(ROOT / "supplier_image_upload.py"), "-q", "--url", lab.url]
        run_process([*upload, str(images[0].parent)], lab_env(lab, work))

    def check(lab) -> None:
        names = {row["name"] for row in lab.fruits()}
        if len(lab.fruits()) != count or len(names) != count:
            raise SystemExit(f"{command}: {len(lab.fruits())} fruits in the catalog, not {count}")

    return in_fresh_lab(work, command, delay, prepare, check)


def lab_env(lab, work: Path) -> dict[str, str]:
    return user_env({"CATALOG_URL": lab.url, "XDG_STATE_HOME": str(work / "state")})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="images and fruits (default 300)")
    parser.add_argument("--repeat", type=int, default=9, help="runs of each way (default 9)")
    parser.add_argument(
        "--repeat-far", type=int, default=3, help="runs of each way with --delay (default 3)"
    )
    parser.add_argument("--delay", type=float, default=0.02, help="the far server's delay (s)")
    parser.add_argument("--only", choices=["upload", "run.py"], help="one step only")
    parser.add_argument("--delays", default="0,1", help="which delays: 0 (none) and/or 1 (--delay)")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as temporary:
        work = Path(temporary)
        images = make_jpegs(work / "data" / "images", args.count)
        make_descriptions(work / "data" / "descriptions", args.count)
        for delay in [(0.0, args.delay)[int(which)] for which in args.delays.split(",")]:
            where = f"{delay * 1000:.0f} ms per answer"
            plain = [python, str(PLAIN / "upload.py"), str(work / "data" / "images")]
            script = [
                python,
                str(ROOT / "supplier_image_upload.py"),
                "-q",
                str(images[0].parent),
                "--url",
            ]
            if args.only != "run.py":
                ways = {
                    "plain": upload_way(work, plain, delay, images),
                    "script": upload_way(work, script, delay, images),
                }
                if not delay:  # for scale: what the HTTP client itself allows, on this server
                    for name in REFERENCES:
                        command = [python, str(REFERENCE / name), str(images[0].parent)]
                        ways[name] = upload_way(work, command, delay, images)
                runs = take_turns(ways, args.repeat_far if delay else args.repeat)
                report("upload", f"{args.count} JPEGs", where, runs, goal=3.0 if delay else 1.3)

            plain = [python, str(PLAIN / "run.py"), str(work / "data" / "descriptions")]
            script = [
                python,
                str(ROOT / "run.py"),
                "-q",
                str(work / "data" / "descriptions"),
                "--url",
            ]
            if args.only != "upload":
                runs = take_turns(
                    {
                        "plain": run_way(work, plain, delay, images, args.count),
                        "script": run_way(work, script, delay, images, args.count),
                    },
                    args.repeat_far if delay else args.repeat,
                )
                report("run.py", f"{args.count} fruits", where, runs, goal=3.0 if delay else 1.0)
    return 0


def report(step: str, size: str, where: str, runs: dict, goal: float) -> None:
    plain, script = median(runs["plain"]), median(runs["script"])
    scale = "".join(
        f"; {REFERENCES[name]}: {median(runs[name]):.3g} s, {plain / median(runs[name]):.2f}x"
        for name in REFERENCES
        if name in runs
    )
    record(
        {
            "step": f"{step}, {size}, {where}",
            "plain": plain,
            "script": script,
            "unit": "s",
            "ratio": plain / script,
            "goal": f">= {goal:g}x",
            "met": plain / script >= goal,
            "runs": len(runs["plain"]),
            "note": f"CPU seconds, client + lab server: plain {median(runs['plain'], 'cpu'):.2f} "
            f"+ {median(runs['plain'], 'server'):.2f}, script {median(runs['script'], 'cpu'):.2f} "
            f"+ {median(runs['script'], 'server'):.2f}{scale}",
        }
    )


if __name__ == "__main__":
    sys.exit(main())
