"""changeImage.py: supplier images -> 600x400 RGB JPEGs, and the course's icon exercise.

Scripts run in a subprocess as a user runs them; the image functions are
imported for checks on small hand-made images. Results are read back with Pillow.
"""

import hashlib
import io
import math
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

import changeImage
from changeImage import Job, convert, load_for_catalog, make_plan

ROOT = Path(__file__).resolve().parent.parent
WHITE, RED, BLUE = (255, 255, 255), (255, 0, 0), (0, 0, 255)


# --- helpers -------------------------------------------------------------------------


def read(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every file's content hash, mtime and inode: what a run may not change."""
    return {
        path.name: (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
            path.stat().st_ino,
        )
        for path in sorted(folder.iterdir())
    }


def near(pixel, colour, tolerance=12) -> bool:
    """JPEG changes colours a little."""
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def corner_image(size=(60, 40), corner=RED, background=WHITE, mode="RGB") -> Image.Image:
    """An asymmetric picture: a coloured square in the top-left corner."""
    image = Image.new(mode, size, background)
    side = min(size) // 3
    image.paste(corner, (0, 0, side, side))
    return image


def huge_png(path: Path, width: int, height: int) -> None:
    """A PNG of a few bytes that claims to be width x height: a decompression bomb."""
    buffer = io.BytesIO()
    Image.new("1", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    # After the 8-byte signature: IHDR length, "IHDR", width, height, ..., CRC.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))


def supplier_env(folder: Path) -> dict:
    return {**os.environ, "SUPPLIER_DATA": str(folder)}


def error_lines(stderr: str) -> list[str]:
    """stderr without the summary line."""
    return [line for line in stderr.splitlines() if " images done, " not in line]


# --- the course's job ------------------------------------------------------------------


def test_default_job_converts_every_tif_and_leaves_sources_alone(make_supplier_data, run_script):
    data = make_supplier_data(count=3)
    images = data / "images"
    sources = snapshot(images)

    result = run_script("changeImage.py", env=supplier_env(data))

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == "3 images done, 0 skipped, 0 failed"
    for name in sources:
        output = images / (Path(name).stem + ".jpeg")
        image = read(output)
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (600, 400))
        # The generated TIFFs have a transparent black frame: it must come out white.
        assert near(image.getpixel((3, 3)), WHITE)
        assert not near(image.getpixel((300, 200)), WHITE, tolerance=40)
    after = snapshot(images)
    assert {name: after[name] for name in sources} == sources


def test_rerun_skips_force_rewrites_dry_run_writes_nothing(make_supplier_data, run_script):
    data = make_supplier_data(count=3)
    images = data / "images"
    env = supplier_env(data)
    assert run_script("changeImage.py", env=env).returncode == 0
    first = snapshot(images)

    rerun = run_script("changeImage.py", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stderr.strip() == "0 images done, 3 skipped, 0 failed"
    assert snapshot(images) == first

    dry = run_script("changeImage.py", "--dry-run", "--force", env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        f"{images / name} -> {images / name.replace('.tif', '.jpeg')}"
        for name in sorted(first)
        if name.endswith(".tif")
    ]
    assert snapshot(images) == first

    forced = run_script("changeImage.py", "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    after = snapshot(images)
    for name in first:
        if name.endswith(".jpeg"):
            assert after[name][2] != first[name][2], f"{name} was not written again"
        else:
            assert after[name] == first[name]


def test_icon_exercise_is_one_command(tmp_path, run_script):
    """Icons delivered rotated 90 degrees anticlockwise at 192x192, no extension."""
    images = tmp_path / "images"
    images.mkdir()
    upright = corner_image((192, 192))
    delivered = upright.rotate(90)  # Pillow rotates anticlockwise
    delivered.save(images / "ic_box_black_48dp", "PNG")
    delivered.convert("RGBA").save(images / "ic_edit_location_black_48dp", "TIFF")
    transparent = corner_image((192, 192), (255, 0, 0, 255), background=(0, 0, 0, 0), mode="RGBA")
    transparent.rotate(90).save(images / "ic_local_shipping_black_48dp", "PNG")
    (images / "README").write_text("Icons from the design team.\n")
    (images / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    icons = tmp_path / "opt" / "icons"

    result = run_script(
        "changeImage.py", "images/", "--dest", icons, "--rotate", "90", "--size", "128x128",
        "--keep-name",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in icons.iterdir()) == [
        "ic_box_black_48dp",
        "ic_edit_location_black_48dp",
        "ic_local_shipping_black_48dp",
    ]
    for path in icons.iterdir():
        image = read(path)
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (128, 128))
        assert near(image.getpixel((10, 10)), RED), path.name  # the red corner is back on top
        assert near(image.getpixel((117, 10)), WHITE), path.name
        assert near(image.getpixel((10, 117)), WHITE), path.name


# --- what comes out of each kind of image ------------------------------------------------


def test_transparent_areas_become_white_without_dark_edges(tmp_path):
    image = Image.new("RGBA", (60, 40), (0, 0, 0, 0))  # transparent black, as exported
    image.paste((0, 0, 255, 255), (31, 0, 60, 40))
    image.save(tmp_path / "half.png")

    small = load_for_catalog(tmp_path / "half.png", (30, 20))

    assert small.mode == "RGB"
    assert small.getpixel((2, 10)) == WHITE
    assert small.getpixel((28, 10)) == BLUE
    # Where transparent and blue are mixed, the result lies between white and
    # blue: the transparent pixels' black does not darken the edge.
    for x in range(30):
        assert small.getpixel((x, 10))[2] >= 250


# --- the resize: as Pillow's with the alpha premultiplied at full size, without paying for it --


LANCZOS = getattr(Image, "Resampling", Image).LANCZOS  # Image.Resampling is Pillow 9.1+


def premultiplied_resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The reference: the whole image premultiplied, Pillow's resize, then onto white."""
    premultiplied = image.convert({"LA": "La", "RGBA": "RGBa"}[image.mode])
    small = premultiplied.resize(size, LANCZOS, reducing_gap=changeImage.REDUCING_GAP)
    return changeImage.on_white(small.convert(image.mode))


def largest_difference(a: Image.Image, b: Image.Image) -> int:
    return max(high for _, high in ImageChops.difference(a, b).getextrema())


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of two RGB pictures of one size, in dB."""
    histogram = ImageChops.difference(a, b).histogram()
    squares = sum(count * (index % 256) ** 2 for index, count in enumerate(histogram))
    mse = squares / (a.width * a.height * 3)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def photo(size: tuple[int, int], under: tuple[int, int, int], alpha: Image.Image) -> Image.Image:
    """A picture with some texture, ``under`` where ``alpha`` is 0 (as some editors export)."""
    bands = [
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
        Image.frombytes("L", size, random.Random(0).randbytes(size[0] * size[1])),  # grain
    ]
    transparent = alpha.point(lambda value: 255 if value else 0)
    image = Image.composite(Image.merge("RGB", bands), Image.new("RGB", size, under), transparent)
    image.putalpha(alpha)
    return image


def cut_out(size: tuple[int, int], soft: bool = False) -> Image.Image:
    """The alpha of a rounded rectangle, its edges off the 5x5 grid, hard or soft."""
    alpha = Image.new("L", size, 0)
    ImageDraw.Draw(alpha).rounded_rectangle((33, 27, size[0] - 42, size[1] - 19), 40, fill=255)
    return alpha.filter(ImageFilter.GaussianBlur(6)) if soft else alpha


def one_mixed_block(size: tuple[int, int]) -> Image.Image:
    """Opaque but for two transparent pixels: one block of mixed alpha, alone in its tile."""
    alpha = Image.new("L", size, 255)
    alpha.putpixel((203, 101), 0)
    alpha.putpixel((204, 101), 0)
    return alpha


ALPHAS = {
    "cut out": lambda size: cut_out(size),
    "soft edges": lambda size: cut_out(size, soft=True),
    "gradient": lambda size: Image.linear_gradient("L").rotate(90).resize(size),
    "opaque": lambda size: Image.new("L", size, 255),
    "one mixed block": one_mixed_block,
}


def green_photo(size: tuple[int, int], alpha: str, mode: str) -> Image.Image:
    """A green photo of ``size`` with the alpha band ``ALPHAS[alpha]``, in ``mode``."""
    image = photo(size, (0, 255, 0), ALPHAS[alpha](size))
    return image.convert("LA") if mode == "LA" else image


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_resize_is_the_premultiplied_one(alpha, mode):
    # 400x265 is 5x5 blocks of 80x53 exactly: only rounding may differ.
    image = green_photo((400, 265), alpha, mode)

    small = changeImage.shrink_on_white(image, (80, 53))

    assert (small.mode, small.size) == ("RGB", (80, 53))
    assert largest_difference(small, premultiplied_resize(image, (80, 53))) <= 1


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_pillows_private_reduce_still_reduces_the_bands_as_they_are(mode):
    # reduce_as_stored calls a Pillow function that is not public: a new Pillow
    # must still give with it what reducing the bands one by one gives.
    image = photo((403, 269), (0, 255, 0), cut_out((403, 269), soft=True)).convert(mode)

    reduced = changeImage.reduce_as_stored(image, (5, 3))

    assert reduced == changeImage.reduce_bands(image, (5, 3))
    assert (reduced.mode, reduced.size) == (mode, (81, 90))


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_resize_to_a_size_the_blocks_do_not_divide_keeps_the_picture(alpha, mode):
    # 403x269 is 5x5 blocks of 81x54 (the last ones partial), then Lanczos to 80x53.
    image = green_photo((403, 269), alpha, mode)

    small = changeImage.shrink_on_white(image, (80, 53))

    assert (small.mode, small.size) == ("RGB", (80, 53))
    reference = premultiplied_resize(image, (80, 53))
    assert psnr(small, reference) >= 40
    assert largest_difference(small, reference) <= 4


@pytest.mark.parametrize("size", [(80, 53), (77, 50)])
def test_colour_under_transparent_pixels_never_shows(size):
    alpha = cut_out((400, 265), soft=True)
    on_black = photo((400, 265), (0, 0, 0), alpha)
    on_green = photo((400, 265), (0, 255, 0), alpha)

    small = changeImage.shrink_on_white(on_black, size)

    assert small == changeImage.shrink_on_white(on_green, size)


@pytest.mark.parametrize("size", [(80, 53), (77, 50)])
def test_a_cut_out_has_no_dark_fringe(size):
    blue = Image.new("RGBA", (400, 265), BLUE)
    blue.putalpha(cut_out((400, 265)))  # transparent black around it

    small = changeImage.shrink_on_white(blue, size)

    # Between blue and white only: red and green alike, blue full. Black bleeding
    # in would darken the blue; Lanczos ringing moves red and green together.
    red, green, blue = small.split()
    assert ImageChops.difference(red, green).getbbox() is None
    assert blue.getextrema() == (255, 255)


@pytest.mark.parametrize(
    ("orientation", "red_corner"),
    [(1, "top left"), (3, "bottom right"), (6, "top right"), (8, "bottom left")],
)
def test_exif_orientation_is_applied(tmp_path, orientation, red_corner):
    # A camera's JPEG: stored 240x160 with red top-left, and how to show it upright.
    exif = Image.Exif()
    exif[changeImage.EXIF_ORIENTATION] = orientation
    corner_image((240, 160)).save(tmp_path / "photo.jpg", exif=exif)
    size = (40, 60) if orientation in (6, 8) else (60, 40)  # upright, a quarter of the size

    small = load_for_catalog(tmp_path / "photo.jpg", size)

    assert small.size == size
    red = [name for name, point in corners(size).items() if near(small.getpixel(point), RED, 30)]
    assert red == [red_corner]


def corners(size: tuple[int, int]) -> dict[str, tuple[int, int]]:
    width, height = size
    return {
        "top left": (5, 5),
        "top right": (width - 6, 5),
        "bottom left": (5, height - 6),
        "bottom right": (width - 6, height - 6),
    }


@pytest.mark.parametrize(
    ("mode", "fmt", "make", "expected"),
    [
        ("RGBA", "PNG", lambda: Image.new("RGBA", (40, 40), (255, 0, 0, 255)), RED),
        ("RGBA transparent", "TIFF", lambda: Image.new("RGBA", (40, 40), (0, 0, 0, 0)), WHITE),
        ("P", "GIF", lambda: Image.new("RGB", (40, 40), RED).convert("P"), RED),
        ("P transparent", "PNG", lambda: transparent_palette(), WHITE),
        ("L", "PNG", lambda: Image.new("L", (40, 40), 128), (128, 128, 128)),
        ("LA", "PNG", lambda: Image.new("LA", (40, 40), (128, 0)), WHITE),
        ("I;16", "PNG", lambda: Image.new("I;16", (40, 40), 32768), (128, 128, 128)),
        ("1", "BMP", lambda: Image.new("1", (40, 40), 0), (0, 0, 0)),
        ("CMYK", "JPEG", lambda: Image.new("CMYK", (40, 40), (0, 255, 255, 0)), RED),
        ("CMYK", "TIFF", lambda: Image.new("CMYK", (40, 40), (0, 0, 0, 0)), WHITE),
    ],
)
def test_every_image_mode_gives_an_rgb_jpeg(tmp_path, mode, fmt, make, expected):
    source = tmp_path / f"source.{fmt.lower()}"
    make().save(source, fmt)
    output = tmp_path / "source.jpeg"

    result = convert(Job(source, output, (20, 10), 0, 85))

    assert result.error == ""
    image = read(output)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (20, 10))
    assert near(image.getpixel((10, 5)), expected), image.getpixel((10, 5))


def test_a_source_that_became_a_link_out_of_the_folder_is_not_converted(tmp_path):
    # A private picture elsewhere, linked in after the listing: never converted, so never uploaded.
    private = tmp_path / "private.png"
    Image.new("RGB", (40, 40), RED).save(private)
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "001.tif").symlink_to(private)

    result = convert(Job(folder / "001.tif", folder / "001.jpeg", (20, 10), 0, 85))

    assert result.error == f"it is now a link to {private}, outside {folder}: not converted"
    assert not (folder / "001.jpeg").exists()


def transparent_palette() -> Image.Image:
    image = Image.new("P", (40, 40), 1)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.info["transparency"] = 1  # the red entry is the transparent one
    return image


# --- files that are not images, bad images ------------------------------------------------


def test_bad_files_are_reported_one_line_each_and_the_rest_converted(tmp_path, run_script):
    images = tmp_path / "images"
    images.mkdir()
    corner_image().save(images / "good1.png")
    corner_image().save(images / "good2.tif", compression="tiff_lzw")
    noise = Image.frombytes("RGB", (300, 200), os.urandom(300 * 200 * 3))
    noise.save(images / "whole.tif", compression="tiff_lzw")
    whole = (images / "whole.tif").read_bytes()
    (images / "whole.tif").unlink()
    (images / "cut-tiff.tif").write_bytes(whole[: len(whole) // 2])
    noise.save(images / "whole.png")
    (images / "cut-png.png").write_bytes((images / "whole.png").read_bytes()[:5000])
    (images / "whole.png").unlink()
    (images / "empty.png").write_bytes(b"")
    (images / "letter.png").write_text("Dear supplier,\nthis is not a picture.\n")
    huge_png(images / "bomb.png", 12_000, 12_000)  # 144 Mpx: Pillow only warns
    huge_png(images / "bigger-bomb.png", 20_000, 20_000)  # 400 Mpx: Pillow refuses
    bad = ["bigger-bomb.png", "bomb.png", "cut-png.png", "cut-tiff.tif", "empty.png", "letter.png"]
    dest = tmp_path / "out"

    result = run_script("changeImage.py", images, "--dest", dest)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = error_lines(result.stderr)
    assert len(errors) == len(bad), result.stderr
    for name, line in zip(bad, errors, strict=True):
        assert line.startswith(f"{images / name}: "), line
    assert errors[0].endswith(
        "400000000 pixels, more than --max-pixels 89478485 (a decompression "
        "bomb?): if it is a real picture, raise --max-pixels"
    )
    assert errors[1].endswith(
        ": refused: 144000000 pixels, more than --max-pixels 89478485 (a "
        "decompression bomb?): if it is a real picture, raise --max-pixels"
    )
    assert "not an image" in errors[4] and "not an image" in errors[5]
    assert result.stderr.splitlines()[-1] == "2 images done, 0 skipped, 6 failed"
    assert sorted(path.name for path in dest.iterdir()) == ["good1.jpeg", "good2.jpeg"]
    for path in dest.iterdir():
        assert read(path).size == (600, 400)


def test_max_pixels_sets_the_largest_image_taken(tmp_path, run_script):
    images = tmp_path / "images"
    images.mkdir()
    corner_image((600, 400)).save(images / "001.tif")  # 240,000 pixels
    corner_image((60, 40)).save(images / "002.tif")

    small = run_script("changeImage.py", images, "--max-pixels", "100000", "--jobs", "2")

    assert small.returncode == 1
    [line] = error_lines(small.stderr)
    assert line == (
        f"{images / '001.tif'}: refused: 240000 pixels, more than --max-pixels 100000 "
        "(a decompression bomb?): if it is a real picture, raise --max-pixels"
    )
    assert sorted(os.listdir(images)) == ["001.tif", "002.jpeg", "002.tif"]
    assert run_script("changeImage.py", images).returncode == 0
    assert read(images / "001.jpeg").size == (600, 400)


def test_other_files_hidden_files_and_own_outputs_are_left_alone(tmp_path, run_script):
    images = tmp_path / "images"
    images.mkdir()
    corner_image().save(images / "001.png")
    corner_image().save(images / ".hidden.png")
    (images / "notes.txt").write_text("Delivered on Monday.\n")
    (images / "LICENSE").write_text("Do what you like.\n")
    corner_image().save(images / "lone.jpeg")  # its output would be itself
    corner_image().save(images / "002.gif")  # 002.gif and 002.bmp: both -> 002.jpeg
    corner_image().save(images / "002.bmp")
    before = snapshot(images)

    first = run_script("changeImage.py", images)

    assert first.returncode == 1
    assert "Traceback" not in first.stderr
    errors = error_lines(first.stderr)
    assert [line.split(": ")[0] for line in errors] == [
        str(images / "002.bmp"),
        str(images / "002.gif"),
        str(images / "lone.jpeg"),
    ]
    assert "would overwrite this source" in errors[2]
    assert first.stderr.splitlines()[-1] == "1 images done, 0 skipped, 3 failed"
    after = snapshot(images)
    assert set(after) - set(before) == {"001.jpeg"}
    assert {name: after[name] for name in before} == before

    # 001.jpeg is 001.png's output, not a source whose output would be itself.
    second = run_script("changeImage.py", images)
    assert second.stderr.splitlines()[-1] == "0 images done, 1 skipped, 3 failed"
    assert snapshot(images) == after


def test_a_killed_run_leaves_only_complete_outputs(make_supplier_data, tmp_path, run_script):
    images = make_supplier_data(count=3) / "images"
    dest = tmp_path / "out"
    dest.mkdir()
    # Leftovers of an earlier killed run: ours is removed, another program's is not.
    (dest / ".002.jpeg.a1b2c3d4.tmp").write_bytes(b"half a JPEG")
    (dest / ".someone-else.tmp").write_bytes(b"not ours")
    command = [sys.executable, ROOT / "changeImage.py", images, "--dest", dest, "--jobs", "1"]

    with subprocess.Popen(command, stderr=subprocess.DEVNULL) as process:
        deadline = time.monotonic() + 60
        while not list(dest.glob("*.jpeg")) and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    assert list(dest.glob("*.jpeg")), "no output appeared"
    for path in dest.glob("*.jpeg"):
        assert read(path).size == (600, 400)  # whatever is there is complete

    result = run_script("changeImage.py", images, "--dest", dest)

    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in dest.iterdir()) == [
        ".someone-else.tmp",
        "001.jpeg",
        "002.jpeg",
        "003.jpeg",
    ]
    for path in dest.glob("*.jpeg"):
        assert read(path).size == (600, 400)


# --- usage -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing"], "no such folder"),
        (["images", "--size", "600"], "not WIDTHxHEIGHT"),
        (["images", "--size", "0x400"], "not WIDTHxHEIGHT"),
        (["images", "--rotate", "45"], "not a multiple of 90"),
        (["images", "--quality", "0"], "not a JPEG quality"),
        (["images", "--jobs", "0"], "not a number of processes"),
        (["images", "--keep-name"], "--keep-name would overwrite the sources"),
    ],
)
def test_bad_usage_exits_2_having_done_nothing(tmp_path, run_script, arguments, message):
    (tmp_path / "images").mkdir()
    corner_image().save(tmp_path / "images" / "001.png")

    result = run_script("changeImage.py", *arguments)

    assert result.returncode == 2
    assert message in result.stderr
    assert os.listdir(tmp_path / "images") == ["001.png"]


def test_plan_is_made_from_names_and_mtimes(tmp_path):
    corner_image().save(tmp_path / "001.tif")
    corner_image().save(tmp_path / "002.tif")
    then = time.time_ns() - 10**10
    os.utime(tmp_path / "001.tif", ns=(then, then))
    convert(Job(tmp_path / "001.tif", tmp_path / "001.jpeg", (60, 40), 0, 85))

    plan = make_plan(tmp_path, tmp_path)

    assert plan.todo == [(tmp_path / "002.tif", tmp_path / "002.jpeg")]
    assert plan.skipped == [(tmp_path / "001.tif", tmp_path / "001.jpeg")]
    assert plan.refused == []
    later = time.time_ns() + 10**9
    os.utime(tmp_path / "001.tif", ns=(later, later))  # the supplier sent it again
    assert len(make_plan(tmp_path, tmp_path).todo) == 2
    assert len(make_plan(tmp_path, tmp_path, force=True).todo) == 2


def test_a_replacement_that_keeps_an_older_mtime_is_converted_again(tmp_path):
    corner_image().save(tmp_path / "001.tif")
    convert(Job(tmp_path / "001.tif", tmp_path / "001.jpeg", (60, 40), 0, 85))
    assert make_plan(tmp_path, tmp_path).todo == []
    # The corrected picture, copied in with the supplier's own, older mtime (cp -p, rsync -t,
    # tar, unzip): only its ctime says it came after the JPEG.
    corner_image(corner=(20, 20, 200)).save(tmp_path / "new.tif")
    old = time.time_ns() - 10**11
    os.utime(tmp_path / "new.tif", ns=(old, old))
    shutil.copy2(tmp_path / "new.tif", tmp_path / "001.tif")
    os.unlink(tmp_path / "new.tif")

    assert make_plan(tmp_path, tmp_path).todo == [(tmp_path / "001.tif", tmp_path / "001.jpeg")]


def test_sizes_and_rotations_are_parsed():
    assert changeImage.parse_size("600x400") == (600, 400)
    assert changeImage.parse_size("128X128") == (128, 128)
    assert [changeImage.parse_rotation(d) for d in ("90", "-90", "180", "360")] == [90, 270, 180, 0]
