#!/usr/bin/env python3
"""Convert the supplier's images to 600x400 RGB JPEGs for the catalog.

    $ export SUPPLIER_DATA=/tmp/supplier-data
    $ ./changeImage.py
    10 images done, 0 skipped, 0 failed
    $ touch /tmp/supplier-data/images/004.tif
    $ ./changeImage.py
    1 images done, 9 skipped, 0 failed
    $ ./changeImage.py --dry-run --force | head -2
    /tmp/supplier-data/images/001.tif -> /tmp/supplier-data/images/001.jpeg
    /tmp/supplier-data/images/002.tif -> /tmp/supplier-data/images/002.jpeg
    dry run: 10 images to do, 0 skipped, 0 failed

Every image of the source folder ($SUPPLIER_DATA/images, default
~/supplier-data/images) becomes NAME.jpeg beside it, NAME as the catalog will
store it ("my fruit.tif" -> my_fruit.jpeg, see catalog.py): 600x400 pixels, RGB,
transparent areas made white, upright as its EXIF orientation says. Any format
Pillow reads is a source (chosen by extension; a file with no extension is
a source when Pillow recognises its content). Hidden files, other files and
the script's own outputs are left alone. An output newer than its source is
not made again (--force to make it anyway).

The course's icons (rotated 90 degrees anticlockwise, 192x192, no extension):

    $ ./changeImage.py images/ --dest /opt/icons --rotate 90 --size 128x128 --keep-name
    3 images done, 0 skipped, 0 failed

Exit status: 0 all done, 1 some images could not be converted or written
(named on stderr, the others are done), 2 bad usage (nothing done), 75 another
run is writing to the same folder (nothing done; --wait to wait for it),
130/143 interrupted (run again to do the rest).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import io
import os
import re
import signal
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from catalog import catalog_image_name
from cli import (
    EXIT_USAGE,
    UsageError,
    add_wait_argument,
    atomic_output,
    finish,
    imports_done,
    log,
    make_parser,
    progress,
    remove_temporaries,
    require,
    setup_logging,
    single_run,
)
from supplier_data import NotInFolder, open_listed, supplier_data_dir, supplier_files

require("PIL")  # one line saying how to get Pillow, not a traceback, if this Python lacks it

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

    from PIL import Image

OUTPUT_SUFFIX = ".jpeg"
DEFAULT_SIZE = "600x400"
# Pillow's default is 75; 85 keeps fine detail of product photos for a few more kB.
DEFAULT_QUALITY = 85
# Pillow's Image.MAX_IMAGE_PIXELS (known without importing it): 15 times the supplier's
# 3000x2000; more is refused as a decompression bomb unless --max-pixels says otherwise.
DEFAULT_MAX_PIXELS = 89_478_485
# Suffixes known without importing Pillow: a re-run with nothing to do stays stat-only.
COMMON_SUFFIXES = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp"})
# Average whole blocks of pixels (Image.reduce) by the largest whole factor that
# keeps at least the target size (5x5 blocks for 3000x2000 -> 600x400), then
# Lanczos for what is left (Pillow's reducing_gap=1.0). Against a full Lanczos
# the result is 41-44 dB PSNR on the sample images, where JPEG at quality 85
# itself is 35-38 dB; it costs a tenth of a full Lanczos.
# So that transparent pixels (often black) do not bleed into the edges, Pillow
# premultiplies the colours by alpha first, in a full-size copy: 17-20 ms of a
# 57 ms conversion. That changes nothing where a block is all opaque, nor where
# it is all transparent (made white whatever its colour): the bands are averaged
# as they are (4 ms), and only the tiles holding blocks of mixed alpha (the edge
# of a cut-out, a soft shadow: 64 tiles of 950, 2 ms, on the sample images) are
# averaged again premultiplied. See shrink_on_white; bench_change_image.py in
# benchmarks/ measures all this.
REDUCING_GAP = 1.0
# Side, in reduced pixels, of the tiles shrink_on_white averages again premultiplied.
# At most 22: one mixed block must still show in a tile's rounded average (255 / 16**2 > 0.5).
MIXED_TILE = 16
# The EXIF Orientation tag: ExifTags.Base.Orientation in Pillow 9.3+.
EXIF_ORIENTATION = 0x0112
# glibc's mallopt(3) parameters, see keep_freed_memory().
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
# prctl(2): have the kernel send a signal to this process when its parent dies.
PR_SET_PDEATHSIG = 1
# Seconds an interrupted run gives its workers to remove their temporary files.
WORKER_STOP_GRACE = 0.5


class Job(NamedTuple):
    """One image to convert; sent to a worker process, so small and picklable."""

    source: Path
    output: Path
    size: tuple[int, int]
    rotate: int  # degrees clockwise, a multiple of 90
    quality: int
    max_pixels: int = DEFAULT_MAX_PIXELS


class Result(NamedTuple):
    """What a worker sends back: never the image, only whether it worked."""

    source: Path
    error: str  # empty when the output was written


class Plan(NamedTuple):
    todo: list[tuple[Path, Path]]  # (source, output)
    skipped: list[tuple[Path, Path]]  # (source, output): output already newer than the source
    refused: list[tuple[Path, str]]  # (source, why): output names that cannot be written


# --- which files, and where they go -----------------------------------------------


def make_plan(source: Path, dest: Path, keep_name: bool = False, force: bool = False) -> Plan:
    """Decide what to do with each file of ``source``, looking only at names and mtimes.

    Only files inside ``source`` are sources: a link out of it is skipped (see
    supplier_files). UsageError if ``source`` cannot be read.
    """
    in_place = dest.exists() and os.path.samefile(source, dest)
    names = [path.name for path in supplier_files(source)]
    sources_by_output: dict[str, list[str]] = defaultdict(list)
    plan = Plan([], [], [])
    for name in names:
        if is_image_file(source / name):
            try:
                sources_by_output[output_name(name, keep_name)].append(name)
            except ValueError as error:
                plan.refused.append((source / name, f"the catalog cannot take its name: {error}"))

    for name_out, sources in sources_by_output.items():
        output = dest / name_out
        if in_place and name_out in sources and len(sources) > 1:
            sources.remove(name_out)  # 001.jpeg beside 001.tif: our own output
        if len(sources) > 1:
            why = f"{' and '.join(sources)} would all be written to {output}; rename all but one"
            plan.refused.extend((source / name, why) for name in sources)
        elif in_place and sources[0] == name_out:
            why = "the output would overwrite this source; convert it with --dest elsewhere"
            plan.refused.append((output, why))
        elif not force and is_up_to_date(source / sources[0], output):
            plan.skipped.append((source / sources[0], output))
        else:
            plan.todo.append((source / sources[0], output))
    plan.todo.sort()
    plan.refused.sort()
    return plan


def is_image_file(path: Path) -> bool:
    """An image by its extension; a file without extension by its content."""
    suffix = path.suffix.lower()
    if suffix:
        return suffix in COMMON_SUFFIXES or suffix in pillow_suffixes()
    return pillow_recognises(path)


@functools.cache
def pillow_suffixes() -> frozenset[str]:
    """Extensions of every format Pillow can open (not those it can only write)."""
    from PIL import Image

    Image.init()
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)


def pillow_recognises(path: Path) -> bool:
    """Does Pillow know this file's format? Reads the header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a huge image is refused when converted
            with open_listed(path) as file, Image.open(file):
                return True
    except UnidentifiedImageError:
        return False
    except Exception:
        return True  # an image with a problem: converting it will say which


def output_name(name: str, keep_name: bool = False) -> str:
    """``001.tif`` -> ``001.jpeg``, ``my fruit.tif`` -> ``my_fruit.jpeg`` (the name the
    catalog will store, see catalog.py); the name unchanged with ``keep_name``.

    ValueError when the name has nothing the catalog keeps (``日本.tif``).
    """
    return name if keep_name else catalog_image_name(Path(name).stem + OUTPUT_SUFFIX)


def is_up_to_date(source: Path, output: Path) -> bool:
    """The output exists and is newer than its source (a stat of each, nothing opened).

    Newer than when the source was last written, and than when it was last put there
    (its ctime): a replacement that keeps the supplier's older mtime (``cp -p``,
    ``rsync -t``, ``tar``, ``unzip``) is converted again. Strictly newer: written in
    the same clock tick as its source, it may be stale.
    """
    try:
        changed = source.stat()
        return output.stat().st_mtime_ns > max(changed.st_mtime_ns, changed.st_ctime_ns)
    except FileNotFoundError:
        return False


# --- one image ---------------------------------------------------------------------


def convert(job: Job) -> Result:
    """Write one JPEG; any failure comes back as a one-line reason, never as an exception."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # A damaged file's warnings ("Corrupt EXIF data") would be lines without
            # its name: the error that follows, if any, says what is wrong.
            warnings.simplefilter("ignore")
            # Pillow only warns between the limit and twice it; refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = job.max_pixels
            image = load_for_catalog(job.source, job.size, job.rotate)
        # Encoded in memory, then written and synced by us: every write error
        # (no space, I/O error) is raised, whatever Pillow's version does with it.
        jpeg = io.BytesIO()
        image.save(jpeg, "JPEG", quality=job.quality)
        with atomic_output(job.output) as temporary:
            temporary.write_bytes(jpeg.getbuffer())
    # Pillow raises many kinds of errors for a damaged file (OSError, SyntaxError,
    # ValueError, EOFError, zlib.error...): one bad file must not stop the others.
    except Exception as error:
        return Result(job.source, describe_image_error(error, job.source, job.max_pixels))
    return Result(job.source, "")


def load_for_catalog(path: Path, size: tuple[int, int], rotate: int = 0) -> Image.Image:
    """The image at ``path`` as an RGB picture of ``size``: upright, on white, rotated."""
    from PIL import Image

    # Rotating by a quarter turn swaps width and height: resize to the swapped size first.
    upright_size = size[::-1] if rotate % 180 == 90 else size
    with open_listed(path) as file, Image.open(file) as image:
        if image.format == "JPEG":
            # Let the JPEG decoder scale down by 1/2, 1/4 or 1/8: far less to decode.
            orientation = image.getexif().get(EXIF_ORIENTATION, 1)
            image.draft(None, upright_size[::-1] if orientation in (5, 6, 7, 8) else upright_size)
        image = exif_upright(image)
        image = shrink_on_white(resizable(image), upright_size)
    return image.rotate(-rotate, expand=True) if rotate else image


def exif_upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says (ImageOps.exif_transpose)."""
    from PIL import ImageOps

    if pillow_version() >= (9, 4):
        ImageOps.exif_transpose(image, in_place=True)
        return image
    # Pillow < 9.4 (Ubuntu 22.04 has 9.0.1) has no in_place and returns a copy
    # even of an upright image: call it only when there is something to turn.
    if image.getexif().get(EXIF_ORIENTATION, 1) in (2, 3, 4, 5, 6, 7, 8):
        return ImageOps.exif_transpose(image)
    return image


@functools.cache
def pillow_version() -> tuple[int, ...]:
    import PIL

    return tuple(int(part) for part in re.findall(r"\d+", PIL.__version__)[:2])


def resizable(image: Image.Image) -> Image.Image:
    """The image in one of the modes resized well: L, LA, RGB or RGBA."""
    if "transparency" in image.info or image.mode in ("PA", "La", "RGBa"):
        return image.convert("RGBA")  # palette or colour-key transparency becomes alpha
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        # Pillow's conversion clips 16-bit values to 255: scale them down instead.
        # A multiplication: the point() of Ubuntu 22.04's Pillow 9.0.1 takes only + and *.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV


def shrink_on_white(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """An L, LA, RGB or RGBA image resized to ``size``, as RGB on white.

    The picture of Pillow's resize (Lanczos after reducing, see REDUCING_GAP)
    pasted onto white, without premultiplying the alpha of the whole image.
    """
    from PIL import Image

    # Image.Resampling is Pillow 9.1+; Ubuntu 22.04's 9.0.1 has Image.LANCZOS.
    lanczos = getattr(Image, "Resampling", Image).LANCZOS
    factor = (
        int(image.width / size[0] / REDUCING_GAP) or 1,
        int(image.height / size[1] / REDUCING_GAP) or 1,
    )
    if image.mode not in ("LA", "RGBA") or factor == (1, 1):
        # Pillow resizes LA and RGBA with premultiplied alpha, so transparent
        # pixels do not bleed their colour into the edges.
        return on_white(image.resize(size, lanczos, reducing_gap=REDUCING_GAP))
    small = reduce_as_stored(image, factor)
    across, down = factor
    for x, y in mixed_tiles(small.getchannel("A")):
        # The tile's pixels in the source, reduced premultiplied (Image.reduce of
        # an LA or RGBA image does that): the same blocks as in the whole image.
        right = min((x + MIXED_TILE) * across, image.width)
        bottom = min((y + MIXED_TILE) * down, image.height)
        tile = image.crop((x * across, y * down, right, bottom))
        small.paste(tile.reduce(factor), (x, y))
    # Lanczos for what is left (premultiplied by Pillow: the image is small now).
    reduced_box = (0, 0, image.width / across, image.height / down)
    return on_white(small.resize(size, lanczos, box=reduced_box))


def reduce_as_stored(image: Image.Image, factor: tuple[int, int]) -> Image.Image:
    """Each band averaged by blocks of ``factor`` as it is, alpha not premultiplied."""
    try:
        # Pillow's core reduce, which Image.reduce calls after premultiplying a copy
        # of an LA or RGBA image. Not public: where it is not as in Pillow 9.0 to 13,
        # the public way. Whatever it did with alpha would not show: its result is
        # kept only where all pixels of a block are opaque, or all transparent.
        image.load()
        return image._new(image.im.reduce(factor, (0, 0, *image.size)))
    except (AttributeError, TypeError, ValueError):
        return reduce_bands(image, factor)


def reduce_bands(image: Image.Image, factor: tuple[int, int]) -> Image.Image:
    """reduce_as_stored by public means, 3 times as long: the bands are copied apart first."""
    from PIL import Image

    return Image.merge(image.mode, [band.reduce(factor) for band in image.split()])


def mixed_tiles(alpha: Image.Image) -> Iterator[tuple[int, int]]:
    """Top-left corners of the tiles (MIXED_TILE pixels a side) of ``alpha`` that
    hold a value other than 0 and 255."""
    mixed = alpha.point(lambda value: 255 if 0 < value < 255 else 0)
    tiles = mixed.reduce(MIXED_TILE)  # more than 0 where any pixel is mixed
    for index, value in enumerate(tiles.tobytes()):
        if value:
            yield index % tiles.width * MIXED_TILE, index // tiles.width * MIXED_TILE


def on_white(image: Image.Image) -> Image.Image:
    """An RGB image, transparent areas composited onto white."""
    from PIL import Image

    if image.mode not in ("LA", "RGBA"):
        return image.convert("RGB")
    if image.mode == "LA":  # pasted onto RGB, LA would be taken byte for byte as RGB
        image = image.convert("RGBA")
    background = Image.new("RGB", image.size, "white")
    background.paste(image, mask=image.getchannel("A"))
    return background


def describe_image_error(
    error: Exception, source: Path | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> str:
    """One line saying why the image at ``source`` could not be converted, and what to do."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(error, UnidentifiedImageError):
        reason = "not an image Pillow can read (empty, damaged, or another kind of file)"
    elif isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        # Pillow: "Image size (144000000 pixels) exceeds limit of 89478485 pixels, ..."
        pixels = re.search(r"\d+", str(error))
        return (
            f"refused: {pixels.group() if pixels else 'more'} pixels, more than --max-pixels "
            f"{max_pixels} (a decompression bomb?): if it is a real picture, raise --max-pixels"
        )
    elif isinstance(error, NotInFolder):
        return f"{error.strerror}: not converted"
    elif isinstance(error, OSError) and error.errno is not None:  # the system: access, space
        if error.filename == str(source):
            return f"cannot read it ({error.strerror}): check its permissions"
        return f"cannot write {error.filename} ({error.strerror})"
    else:
        reason = f"cannot be decoded ({type(error).__name__}: {error})"
    return f"{reason}; ask the supplier for the file again"


# --- the run ---------------------------------------------------------------------


def run_jobs(jobs: Iterable[Job], processes: int) -> Iterator[Result]:
    """Convert in worker processes, results in the jobs' order; in this process if just one."""
    if processes <= 1:
        keep_freed_memory()
        return map(convert, jobs)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Forked from this process (not a forkserver's child), so that they die with it.
    pool = ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("fork"),
        initializer=setup_worker,
        initargs=(os.getpid(),),
    )
    # Submit everything now: the workers are forked before a progress bar starts a thread.
    futures = [pool.submit(convert, job) for job in jobs]
    return collect(pool, futures)


def setup_worker(parent: int) -> None:
    """A worker dies with the main process, however that ends (SIGKILL included).

    Ctrl-C reaches the whole process group: the main process handles it and
    stops the workers with SIGTERM, on which a worker removes its temporary file.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop_worker)
    # Not Linux: no prctl, and the main process stops its workers itself when it can.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl: nobody would signal us
        os._exit(1)
    keep_freed_memory()


def stop_worker(signum: int, frame: object) -> None:
    remove_temporaries()
    os._exit(128 + signum)


def keep_freed_memory() -> None:
    """Have glibc keep the memory of one image for the next instead of returning it.

    By default glibc gives the ~50 MB of an image's buffers back to the kernel
    as soon as they are freed, and the next image gets them again page by page:
    some 12,000 page faults per image, a third of the time of a conversion
    (see benchmarks/bench_change_image.py). Not glibc: nothing to do.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20)  # image blocks from the heap, not mmap
        libc.mallopt(M_TRIM_THRESHOLD, 256 * 2**20)  # keep up to 256 MB free in the heap
    except (OSError, AttributeError):
        pass


def collect(pool: Executor, futures: list[Future[Result]]) -> Iterator[Result]:
    try:
        for future in futures:
            yield future.result()
    except BaseException:  # Ctrl-C, SIGTERM: the image in hand is not waited for
        stop_workers(pool)
        raise
    pool.shutdown(cancel_futures=True)


def stop_workers(pool: Executor) -> None:
    """SIGTERM each worker, give them a moment to remove their temporary files, then SIGKILL."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + WORKER_STOP_GRACE
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()


def remove_stale_temporaries(folder: Path, output_names: set[str]) -> None:
    """Delete ``.NAME.XXXXXXXX.tmp`` files left by a killed run for our output names.

    Only with the folder's lock held: then no other run is writing them.
    """
    pattern = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")
    for path in folder.glob(".*.tmp"):
        match = pattern.fullmatch(path.name)
        if match and match.group(1) in output_names:
            log.debug("removing %s, left by an interrupted run", path)
            path.unlink(missing_ok=True)


def parse_size(text: str) -> tuple[int, int]:
    """``600x400`` -> ``(600, 400)``."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or 0 in (size := (int(match[1]), int(match[2]))):
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 600x400")
    return size


def parse_rotation(text: str) -> int:
    """Degrees clockwise, a multiple of 90, as 0, 90, 180 or 270."""
    try:
        degrees = int(text)
    except ValueError:
        degrees = 1
    if degrees % 90:
        raise argparse.ArgumentTypeError(f"{text!r} is not a multiple of 90 degrees")
    return degrees % 360


def parse_quality(text: str) -> int:
    quality = int(text) if text.isdigit() else 0
    if not 1 <= quality <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a JPEG quality from 1 to 100")
    return quality


def at_least_one(what: str) -> Callable[[str], int]:
    """An argparse type: a whole number of ``what``, 1 or more."""

    def parse(text: str) -> int:
        number = int(text) if text.isdigit() else 0
        if number < 1:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {what} (1 or more)")
        return number

    return parse


def available_cpus() -> int:
    """The cores this process may run on (taskset, cgroups), not all the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = make_parser(__doc__)
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        help="folder of images (default: $SUPPLIER_DATA/images, $SUPPLIER_DATA=~/supplier-data)",
    )
    parser.add_argument("--dest", type=Path, help="folder for the JPEGs (default: the source)")
    parser.add_argument(
        "--size", type=parse_size, default=DEFAULT_SIZE, help="WIDTHxHEIGHT of the JPEGs"
    )
    parser.add_argument(
        "--rotate", type=parse_rotation, default="0", help="degrees clockwise, a multiple of 90"
    )
    parser.add_argument(
        "--quality", type=parse_quality, default=str(DEFAULT_QUALITY), help="JPEG quality, 1 to 100"
    )
    parser.add_argument(
        "--max-pixels",
        type=at_least_one("pixels"),
        default=str(DEFAULT_MAX_PIXELS),
        help="refuse images of more pixels than this (Pillow's guard against decompression bombs)",
    )
    parser.add_argument(
        "--keep-name",
        action="store_true",
        help="keep each file's name as it is instead of NAME.jpeg (needs --dest elsewhere)",
    )
    parser.add_argument(
        "--force", action="store_true", help="convert even images whose JPEG is up to date"
    )
    parser.add_argument(
        "--jobs",
        type=at_least_one("processes"),
        default=available_cpus(),
        help="worker processes (1: no worker, all in this process)",
    )
    add_wait_argument(parser)
    return parser.parse_args(argv)


def check_folders(args: argparse.Namespace) -> tuple[Path, Path]:
    """The source and destination folders, made absolute; UsageError if unusable."""
    source = (args.source or supplier_data_dir() / "images").expanduser().absolute()
    dest = (args.dest or source).expanduser().absolute()
    try:
        if not source.is_dir():
            why = "not a folder" if source.exists() else "no such folder"
            raise UsageError(f"{source}: {why}; give the images folder or set SUPPLIER_DATA")
        dest.is_dir()  # noqa: B018 - raises PermissionError for a folder we may not look in
    except PermissionError as error:
        raise UsageError(
            f"{error.filename}: cannot look in it ({error.strerror}); check its permissions"
        ) from None
    if args.keep_name and dest.exists() and os.path.samefile(source, dest):
        raise UsageError("--keep-name would overwrite the sources: give --dest another folder")
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest}: not a folder")
    if not args.dry_run:
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"{dest}: cannot create it ({error.strerror})") from None
        if not os.access(dest, os.W_OK | os.X_OK):
            raise UsageError(f"{dest}: cannot write there; check its permissions or use --dest")
    return source, dest


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    try:
        source, dest = check_folders(args)
        if args.dry_run:
            plan = make_plan(source, dest, args.keep_name, args.force)
            report_plan(plan)
            for path, output in plan.todo:
                print(f"{path} -> {output}")
            return finish(
                len(plan.todo), len(plan.skipped), len(plan.refused), "images", dry_run=True
            )
        # One run at a time writes to a folder: a second one exits (75), or waits with --wait.
        with single_run("changeImage.py", dest, args.wait):
            plan = make_plan(source, dest, args.keep_name, args.force)
            report_plan(plan)
            outputs = {output.name for _, output in plan.todo + plan.skipped}
            remove_stale_temporaries(dest, outputs)
            try:
                return convert_all(plan, args)
            finally:  # a worker stopped mid-image may have left its temporary file
                remove_stale_temporaries(dest, outputs)
    except UsageError as error:
        log.error("%s", error)
        return EXIT_USAGE


def report_plan(plan: Plan) -> None:
    for path, why in plan.refused:
        log.error("%s: %s", path, why)
    for path, _ in plan.skipped:
        log.debug("%s: up to date, skipped", path)


def convert_all(plan: Plan, args: argparse.Namespace) -> int:
    """Convert what the plan says, report each failure, and return the exit status."""
    jobs = (
        Job(path, output, args.size, args.rotate, args.quality, args.max_pixels)
        for path, output in plan.todo
    )
    outputs = dict(plan.todo)
    done = failed = 0
    # Ctrl-C or SIGTERM: cli.py says so in one line and exits 130 or 143.
    results = run_jobs(jobs, min(args.jobs, len(plan.todo)))
    for result in progress(results, len(plan.todo), "images"):
        if result.error:
            failed += 1
            log.error("%s: %s", result.source, result.error)
        else:
            done += 1
            log.debug("%s -> %s", result.source, outputs[result.source])
    return finish(done, len(plan.skipped), failed + len(plan.refused), "images")


if __name__ == "__main__":
    imports_done()
    sys.exit(main())
