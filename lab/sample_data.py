"""Generate a sample supplier drop like the one of the course's final lab.

    >>> from pathlib import Path
    >>> from lab.sample_data import make_data
    >>> fruits = make_data(Path("/tmp/supplier-data"), count=3, seed=0)
    >>> [(f.stem, f.name, f.weight) for f in fruits]
    [('001', 'Watermelon', 500), ('002', 'Açaí', 100), ('003', 'Lime', 210)]

This writes ``images/001.tif`` .. ``images/003.tif`` (3000x2000 RGBA TIFF,
LZW-compressed, 2 to 4 MB each, a transparent black margin) and
``descriptions/001.txt`` .. ``descriptions/003.txt`` (UTF-8):

    Watermelon
    Weight: 500 lbs
    Watermelons are large vine fruits ... so it’s refreshing in summer.

The descriptions vary the way real supplier files do: the weight line is
``300 lbs`` or ``Weight: 300 lbs``, some lines end with spaces, some files
have no final newline, some use ``’`` instead of ``'``, and some wrap the
description over two lines. Within every three consecutive files each of
these variations occurs at least once, and Açaí (a non-ASCII name) is
always among the first three files.

Everything is drawn from ``random.Random(seed)``: the same seed and count give
byte-identical files.

``make_feedback(dest, count, seed)`` writes the course's lab 2 customer reviews
instead: ``dest/001.txt`` .. (title, name, date YYYY-MM-DD, then the feedback).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageChops, ImageDraw, ImageFont

WIDTH, HEIGHT = 3000, 2000
MARGIN = 160  # transparent (0, 0, 0, 0) frame around the picture
NOISE_SCALE = 4  # noise is made at 1/NOISE_SCALE resolution, then upscaled
NOISE_AMPLITUDE = 24  # per channel, peak to peak, tuned for 2-4 MB files

Colour = tuple[int, int, int]


class Fruit(NamedTuple):
    """One fruit of the catalog and how to draw it."""

    name: str
    weight: int  # lbs
    description: str  # with ASCII apostrophes; files may use ’ instead
    colour: Colour
    shape: str  # round, oval, cluster, crescent, slice or cone


@dataclass(frozen=True)
class SampleFruit:
    """One generated pair of files and what a parser should read from them."""

    stem: str  # "001"
    name: str  # line 1, without trailing spaces
    weight: int  # lbs, the number on line 2
    description: str  # the description lines joined by one space, stripped
    image_path: Path
    description_path: Path


# Every description contains an apostrophe, so that a file written with
# typographic apostrophes has a ’ in it.
FRUITS: list[Fruit] = [
    Fruit(
        "Apple",
        500,
        "Apples are grown on every continent except Antarctica. "
        "The apple's crisp flesh can be sweet or tart depending on the variety. "
        "They keep for months in cold storage.",
        (200, 30, 40),
        "round",
    ),
    Fruit(
        "Avocado",
        200,
        "The avocado is a large berry with a single big seed. "
        "It's rich in healthy fats and has a buttery texture. "
        "It ripens only after it's picked.",
        (70, 110, 40),
        "oval",
    ),
    Fruit(
        "Banana",
        400,
        "Bananas grow in hanging clusters called hands. "
        "The fruit's peel turns from green to yellow as it ripens.",
        (240, 210, 50),
        "crescent",
    ),
    Fruit(
        "Blackberry",
        150,
        "The blackberry is an aggregate fruit made of many small drupelets. "
        "It's sweet when fully black and tart when red. "
        "Brambles grow wild along hedges and paths.",
        (40, 20, 50),
        "cluster",
    ),
    Fruit(
        "Grape",
        200,
        "Grapes grow in clusters of fifteen to three hundred berries. "
        "They're eaten fresh, dried into raisins or pressed for juice and wine.",
        (110, 40, 120),
        "cluster",
    ),
    Fruit(
        "Kiwifruit",
        250,
        "The kiwifruit has a fuzzy brown skin and bright green flesh. "
        "Its tiny black seeds are edible. "
        "It's named after New Zealand's national bird.",
        (120, 90, 50),
        "oval",
    ),
    Fruit(
        "Lemon",
        300,
        "The lemon is a small evergreen tree native to Asia. "
        "Its juice is sour and it's prized in cooking and baking. "
        "The zest adds a fresh scent to many dishes.",
        (250, 230, 60),
        "oval",
    ),
    Fruit(
        "Mango",
        300,
        "Mangoes are juicy stone fruits from tropical trees. "
        "A ripe mango's skin can be green, yellow, orange or red. "
        "It's the national fruit of India.",
        (250, 160, 40),
        "oval",
    ),
    Fruit(
        "Plum",
        150,
        "Plums are stone fruits with smooth, waxy skin. "
        "Dried plums are sold as prunes. "
        "They're among the first fruits people domesticated.",
        (90, 30, 90),
        "round",
    ),
    Fruit(
        "Strawberry",
        240,
        "The garden strawberry is widely grown for its aroma and sweetness. "
        "Its seeds sit on the outside of the fruit. "
        "It's not a true berry at all.",
        (220, 30, 50),
        "cone",
    ),
    Fruit(
        "Watermelon",
        500,
        "Watermelons are large vine fruits with a hard green rind. "
        "The flesh is about ninety percent water, so it's refreshing in summer.",
        (230, 50, 70),
        "slice",
    ),
    Fruit(
        "Açaí",
        100,
        "The açaí palm grows in the swamps of the Amazon. "
        "Its small dark berries are mashed into a thick purple pulp. "
        "It's a staple food in northern Brazil.",
        (60, 20, 60),
        "cluster",
    ),
    Fruit(
        "Cherry",
        180,
        "Cherries are small round stone fruits on long stems. "
        "Sweet cherries are eaten fresh while sour ones go into pies. "
        "The tree's blossom is celebrated every spring.",
        (170, 10, 30),
        "round",
    ),
    Fruit(
        "Orange",
        450,
        "The orange is the most grown citrus fruit in the world. "
        "It's peeled by hand or squeezed for juice.",
        (250, 140, 20),
        "round",
    ),
    Fruit(
        "Peach",
        220,
        "Peaches have fuzzy skin and sweet, fragrant flesh. "
        "The fruit's stone is deeply grooved. "
        "It's often canned in light syrup.",
        (250, 170, 120),
        "round",
    ),
    Fruit(
        "Pear",
        260,
        "Pears ripen best off the tree, from the inside out. "
        "Their grainy texture comes from stone cells in the flesh. "
        "It's a fruit that bruises easily.",
        (190, 200, 70),
        "oval",
    ),
    Fruit(
        "Pomegranate",
        120,
        "The pomegranate holds hundreds of juicy red seeds called arils. "
        "It's been cultivated around the Mediterranean since ancient times.",
        (180, 30, 40),
        "round",
    ),
    Fruit(
        "Blueberry",
        130,
        "Blueberries are small blue berries with a dusty bloom. "
        "They're native to North America. "
        "The bushes like acid soil.",
        (60, 80, 160),
        "cluster",
    ),
    Fruit(
        "Lime",
        210,
        "Limes are small green citrus fruits, sourer than lemons. "
        "Their juice is essential in many of the world's cocktails.",
        (120, 190, 50),
        "round",
    ),
    Fruit(
        "Coconut",
        350,
        "The coconut is the hard seed of the coconut palm. "
        "Its white flesh and water are both used in food. "
        "It's able to float across oceans and sprout on a new shore.",
        (120, 80, 40),
        "round",
    ),
]


def make_data(dest: Path, count: int = 10, seed: int = 0) -> list[SampleFruit]:
    """Write ``count`` images and descriptions under ``dest``; return what was written.

    Files are ``dest/images/NNN.tif`` and ``dest/descriptions/NNN.txt`` for
    NNN = 001..count (more digits when count > 999). Existing files with the
    same names are overwritten.
    """
    dest = Path(dest)
    images = dest / "images"
    descriptions = dest / "descriptions"
    images.mkdir(parents=True, exist_ok=True)
    descriptions.mkdir(parents=True, exist_ok=True)

    rng = random.Random(seed)
    order = _fruit_order(rng)
    # Each text variation occurs in one file out of three (two out of three
    # for typographic apostrophes), shifted by a seed-chosen offset.
    offsets = [rng.randrange(3) for _ in range(5)]

    written = []
    for index in range(count):
        fruit = order[index % len(order)]
        lap = index // len(order)
        weight = fruit.weight if lap == 0 else fruit.weight + rng.randint(-5, 5) * 10
        stem = file_stem(index + 1, count)
        flags = [(index + offset) % 3 == 0 for offset in offsets]
        labelled, trailing, no_final_newline, ascii_quotes, wrapped = flags

        lines = _description_lines(fruit, weight, labelled, not ascii_quotes, wrapped)
        if trailing:
            line = rng.randrange(len(lines))
            lines[line] += " " * rng.randint(1, 3)
        text = "\n".join(lines) + ("" if no_final_newline else "\n")
        description_path = descriptions / f"{stem}.txt"
        description_path.write_bytes(text.encode("utf-8"))

        image_path = images / f"{stem}.tif"
        draw_image(fruit, rng).save(image_path, "TIFF", compression="tiff_lzw")

        description = " ".join(line.strip() for line in lines[2:])
        written.append(
            SampleFruit(stem, fruit.name, weight, description, image_path, description_path)
        )
    return written


@dataclass(frozen=True)
class SampleReview:
    """One generated review file of the course's lab 2 (``/data/feedback/NNN.txt``)."""

    path: Path
    title: str
    name: str
    date: str  # YYYY-MM-DD
    feedback: str


REVIEWS = [
    ("Great Customer Service", "John",
     "The car dealership was great, the salesman was very helpful and friendly."),
    ("Crème de la crème", "José Núñez",
     "Service impeccable, café offert pendant l'attente. Très satisfait de ma voiture."),
    ("Not impressed", "Anonymous",
     "The car was fine but the paperwork took three hours. I expected better."),
    ("Would buy again", "Priya",
     "Second car from this dealer. Fair price, no pressure, and a full tank at pickup."),
    ("Good value", "Mark",
     "The price was right and the test drive was long enough to decide."),
    ("Fast and friendly", "Zoë Müller",
     "Signed in the morning, drove home at noon. The staff’s advice was spot on."),
    ("Average", "Sam",
     "Nothing to complain about, nothing to rave about either."),
    ("Excellent repair shop", "Li Wei",
     "They fixed the brakes the same day and explained every line of the bill."),
]  # fmt: skip


def make_feedback(dest: Path, count: int = 10, seed: int = 0) -> list[SampleReview]:
    """Write ``count`` customer reviews as ``dest/NNN.txt``; return what was written.

    Each file, as in the course's lab 2: line 1 the title, line 2 the reviewer's
    name, line 3 the date (YYYY-MM-DD), then the feedback (UTF-8; the second
    review is always non-ASCII). The same seed gives the same files.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    written = []
    for index in range(count):
        title, name, feedback = REVIEWS[index % len(REVIEWS)]
        date = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        path = dest / f"{file_stem(index + 1, count)}.txt"
        path.write_bytes(f"{title}\n{name}\n{date}\n{feedback}\n".encode())
        written.append(SampleReview(path, title, name, date, feedback))
    return written


def file_stem(number: int, count: int) -> str:
    """The file name without extension: 3 digits, more when count > 999."""
    return f"{number:0{max(3, len(str(count)))}d}"


def _fruit_order(rng: random.Random) -> list[Fruit]:
    """Shuffle the fruits, keeping Açaí among the first three."""
    order = FRUITS[:]
    rng.shuffle(order)
    acai = next(fruit for fruit in order if fruit.name == "Açaí")
    order.remove(acai)
    order.insert(rng.randrange(3), acai)
    return order


def _description_lines(
    fruit: Fruit, weight: int, labelled: bool, typographic: bool, wrapped: bool
) -> list[str]:
    """The lines of one description file, without line ends."""
    weight_line = f"Weight: {weight} lbs" if labelled else f"{weight} lbs"
    description = fruit.description
    if typographic:
        description = description.replace("'", "\u2019")
    if wrapped:
        # Break after the first sentence, as a supplier's editor might.
        first, rest = description.split(". ", 1)
        return [fruit.name, weight_line, first + ".", rest]
    return [fruit.name, weight_line, description]


def draw_image(fruit: Fruit, rng: random.Random) -> Image.Image:
    """A 3000x2000 RGBA picture of the fruit and its name, with grain.

    The frame outside a rounded rectangle is fully transparent with black
    colour channels, (0, 0, 0, 0), as in images exported from some editors.
    """
    background = _jitter(rng, (225, 235, 215), 15)
    picture = Image.new("RGB", (WIDTH, HEIGHT), background)
    draw = ImageDraw.Draw(picture)
    colour = _jitter(rng, fruit.colour, 12)
    _draw_fruit(draw, fruit.shape, colour, rng)

    # Pillow's built-in font covers ASCII only: "Açaí" is drawn as "Acai".
    label = unicodedata.normalize("NFKD", fruit.name).encode("ascii", "ignore").decode()
    font = ImageFont.load_default(size=240)
    draw.text((WIDTH // 2, HEIGHT - 300), label, font=font, fill=(40, 40, 40), anchor="ms")

    picture = ImageChops.add(picture, _noise(rng), offset=-NOISE_AMPLITUDE // 2)

    alpha = Image.new("L", (WIDTH, HEIGHT), 0)
    inner = (MARGIN, MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN)
    ImageDraw.Draw(alpha).rounded_rectangle(inner, radius=200, fill=255)
    image = Image.composite(picture, Image.new("RGB", (WIDTH, HEIGHT)), alpha)
    image.putalpha(alpha)
    return image


def _noise(rng: random.Random) -> Image.Image:
    """Grey grain in 0..NOISE_AMPLITUDE, made small and upscaled (fast).

    Grey rather than colour grain: colour grain triples the file size.
    """
    size = (WIDTH // NOISE_SCALE, HEIGHT // NOISE_SCALE)
    table = [value * (NOISE_AMPLITUDE + 1) // 256 for value in range(256)]
    grain = Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).point(table)
    grain = grain.resize((WIDTH, HEIGHT), Image.Resampling.NEAREST)
    return Image.merge("RGB", (grain, grain, grain))


def _jitter(rng: random.Random, colour: Colour, amount: int) -> Colour:
    r, g, b = (max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)
    return (r, g, b)


def _shade(colour: Colour, factor: float) -> Colour:
    """Darker (factor < 1) or lighter (factor > 1) version of a colour."""
    r, g, b = (max(0, min(255, int(c * factor + (factor > 1) * 40))) for c in colour)
    return (r, g, b)


def _draw_fruit(draw: ImageDraw.ImageDraw, shape: str, colour: Colour, rng: random.Random) -> None:
    """Draw a simple fruit of the given shape around the centre of the picture."""
    cx, cy = WIDTH // 2 + rng.randint(-150, 150), 860 + rng.randint(-40, 40)
    outline = _shade(colour, 0.6)
    leaf = (60, 140, 50)
    stem = (100, 70, 40)
    if shape in ("round", "oval"):
        rx, ry = (500, 500) if shape == "round" else (600, 440)
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=colour, outline=outline, width=18)
        draw.ellipse(
            (cx - rx // 2, cy - ry // 2, cx - rx // 5, cy - ry // 5), fill=_shade(colour, 1.3)
        )
        draw.line((cx, cy - ry + 20, cx + 40, cy - ry - 160), fill=stem, width=34)
        draw.ellipse((cx + 50, cy - ry - 170, cx + 330, cy - ry - 60), fill=leaf)
    elif shape == "cluster":
        radius = 110
        for row in range(5):
            for col in range(5 - row):
                x = cx + (col - (4 - row) / 2) * 2 * radius
                y = cy - 300 + row * 1.8 * radius
                box = (x - radius, y - radius, x + radius, y + radius)
                draw.ellipse(box, fill=colour, outline=outline, width=10)
                draw.ellipse((x - 60, y - 60, x - 20, y - 20), fill=_shade(colour, 1.4))
        draw.line((cx, cy - 400, cx + 30, cy - 580), fill=stem, width=30)
        draw.ellipse((cx + 40, cy - 580, cx + 300, cy - 480), fill=leaf)
    elif shape == "crescent":
        box = (cx - 700, cy - 900, cx + 700, cy + 500)
        draw.arc(box, start=20, end=160, fill=colour, width=300)
        draw.arc(box, start=20, end=160, fill=outline, width=16)
        draw.ellipse((cx + 560, cy + 150, cx + 640, cy + 230), fill=stem)
    elif shape == "slice":
        box = (cx - 750, cy - 900, cx + 750, cy + 600)
        draw.pieslice(box, start=0, end=180, fill=(60, 140, 60))
        inner = (box[0] + 70, box[1] + 70, box[2] - 70, box[3] - 70)
        draw.pieslice(inner, start=0, end=180, fill=colour)
        for _ in range(25):
            x, y = cx + rng.randint(-500, 500), cy - 150 + rng.randint(50, 450)
            if (x - cx) ** 2 + (y - cy + 150) ** 2 < 560**2:
                draw.ellipse((x - 18, y - 30, x + 18, y + 30), fill=(20, 20, 20))
    elif shape == "cone":
        top, bottom = cy - 400, cy + 550
        points = [(cx - 520, top), (cx + 520, top), (cx + 300, cy + 250), (cx, bottom)]
        points += [(cx - 300, cy + 250)]
        draw.polygon(points, fill=colour, outline=outline, width=16)
        for _ in range(40):
            x, y = cx + rng.randint(-380, 380), rng.randint(top + 60, cy + 300)
            if abs(x - cx) < 440 - (y - top) * 0.35:
                draw.ellipse((x - 14, y - 20, x + 14, y + 20), fill=(250, 220, 90))
        for dx in (-300, -100, 100, 300):
            draw.polygon(
                [(cx, top + 20), (cx + dx - 90, top - 170), (cx + dx + 90, top - 130)], fill=leaf
            )
    else:
        raise ValueError(f"unknown fruit shape {shape!r}")
