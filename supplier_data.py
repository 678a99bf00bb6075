"""The supplier's drop: where it is, and the format of its description files.

The drop is a folder (``$SUPPLIER_DATA``, default ``~/supplier-data``) with
``images/`` and ``descriptions/``. This module owns that layout and the format
of the description files; ``run.py`` and ``report_email.py`` read them here
and nowhere else.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, NamedTuple

from catalog import catalog_image_name
from cli import UsageError, env_default, log

DEFAULT_SUPPLIER_DATA = "~/supplier-data"


def supplier_data_dir() -> Path:
    return Path(env_default("SUPPLIER_DATA", DEFAULT_SUPPLIER_DATA)).expanduser()


def add_folder_argument(parser: argparse.ArgumentParser, subfolder: str, what: str) -> None:
    """The optional positional folder every script takes: $SUPPLIER_DATA/<subfolder> by default."""
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=supplier_data_dir() / subfolder,
        help=f"folder of {what} ($SUPPLIER_DATA/{subfolder})",
    )


# --- the files of the drop ---------------------------------------------------------


def supplier_files(
    folder: Path, missing: str = "no such folder", suffixes: tuple[str, ...] = ()
) -> list[Path]:
    """The regular files of ``folder``, sorted by name; hidden ones (``.DS_Store``) left out,
    and with ``suffixes`` (lower case), the files of other kinds, about which nothing is said.

    Every script reads the supplier's files through here. A symbolic link is
    followed only when its target is inside ``folder`` (by real paths): one
    pointing elsewhere (``secret.jpeg -> /etc/shadow``) is skipped with a warning
    and never read. A link loop, a link to nothing, a FIFO or a folder is not a
    file to read either: one warning each for the links, the rest is done.
    UsageError (``FOLDER: missing``, or why it cannot be read) if ``folder`` is unusable.
    """
    folder = Path(folder)
    try:
        root = os.path.realpath(folder)
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except FileNotFoundError:
        raise UsageError(f"{folder}: {missing}") from None
    except NotADirectoryError:
        raise UsageError(f"{folder}: not a folder") from None
    except OSError as error:
        raise UsageError(
            f"{folder}: cannot read the folder ({error.strerror}); check its permissions"
        ) from None
    files = []
    for entry in entries:
        path = folder / entry.name
        if entry.name.startswith(".") or suffixes and path.suffix.lower() not in suffixes:
            continue
        # The listing tells a file from a link (d_type): only a link needs looking at.
        if entry.is_symlink():
            if is_readable_file(path, root):
                files.append(path)
        elif entry.is_file(follow_symlinks=False):
            files.append(path)
    return files


def is_inside(path: Path, root: str) -> bool:
    """Is what ``path`` names (links followed) inside the folder ``root`` (a real path)?"""
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def is_readable_file(path: Path, root: str) -> bool:
    """Is ``path`` a regular file inside the folder ``root`` (a real path)? Warns for bad links."""
    link = path.is_symlink()
    if link and not is_inside(path, root):
        log.warning("%s: a link to %s, outside %s: skipped", path, os.path.realpath(path), root)
        return False
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            log.warning("%s: a loop of symbolic links: skipped", path)
        elif link:
            log.warning("%s: a link to nothing (%s): skipped", path, os.readlink(path))
        else:
            log.warning("%s: cannot read it (%s): skipped", path, error.strerror)
        return False
    return stat.S_ISREG(mode)


class NotInFolder(OSError):
    """A supplier's file that is, when opened, no longer one to read (open_listed)."""


def open_listed(path: Path) -> BinaryIO:
    """Open a file of the supplier's folder, listed by supplier_files or named (run.py's
    local picture), for reading, as it is now (NotInFolder if not one to read).

    It may have been replaced since it was listed: by a link out of the folder (followed,
    a private file would be sent to the catalog) or by a FIFO (the run would wait for a
    writer). What was opened is looked at, not the name again, so no swap can come between.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO: no wait
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotInFolder(errno.EINVAL, "it is no longer a regular file: not read")
        try:  # the file opened, every link followed
            opened = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # no /proc: the name, looked at once more
            opened = os.path.realpath(path)
        root = os.path.realpath(Path(path).parent)
        if os.path.commonpath([root, opened]) != root:  # both real paths already
            raise NotInFolder(errno.EPERM, f"it is now a link to {opened}, outside {root}")
        return open(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# --- description files -----------------------------------------------------------
#
# One fruit per ``descriptions/NNN.txt``, positional as on the course's lab:
#
#     Watermelon                  line 1: the name
#     Weight: 500 lbs             line 2: the weight in pounds
#     Watermelons are large ...   line 3 and after: the description
#
# Everything the catalog would refuse is found here, before anything is sent,
# and reported as ``FILE:LINE: what is wrong (what to do)``.

# The catalog's limits (its Django model), in characters.
NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 5000
# What is read of a text file at most: a description is 5000 characters, 20 KB in UTF-8; a
# file of 400 MB read whole took 1.5 GB of memory and ended the run.
TEXT_FILE_MAX_BYTES = 2**20
# The largest weight every database's integer column holds.
WEIGHT_MAX = 2**31 - 1
WEIGHT_EXAMPLE = "write it like '500 lbs'"

_WEIGHT_LABEL = re.compile(r"^weight\s*:?\s*", re.IGNORECASE)
# [0-9], not \d: \d also takes Arabic or Devanagari digits.
_WEIGHT = re.compile(r"(-?)\s*([0-9]+)\s*(?:lbs?|pounds?)?", re.IGNORECASE)
_GROUPED_WEIGHT = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+\s*(?:lbs?|pounds?)?", re.IGNORECASE)


class Description(NamedTuple):
    """One fruit read from a description file, as the catalog stores it."""

    path: Path
    name: str
    weight: int  # pounds
    description: str
    image_name: (
        str  # its picture's catalog name: 001.txt -> 001.jpeg, my fruit.txt -> my_fruit.jpeg
    )

    def as_json(self) -> dict:
        """The JSON object POSTed to ``/fruits/``."""
        return {
            "name": self.name,
            "weight": self.weight,
            "description": self.description,
            "image_name": self.image_name,
        }


def fruit_key(fruit: dict) -> tuple[str, str]:
    """A fruit's name and image name (``as_json()``, or a row of ``GET /fruits/``): what a
    POST whose answer was lost is looked up by. Whether a row is this very fruit, weight
    and description too, is catalog_entry's."""
    return fruit["name"], fruit["image_name"]


def catalog_entry(fruit: dict) -> tuple[object, object, object, str]:
    """A fruit as the catalog keeps it (``as_json()``, or a row of ``GET /fruits/``): its
    picture, name, weight, and description with its spaces as the server may trim them."""
    description = " ".join(str(fruit.get("description", "")).split())
    return fruit.get("image_name"), fruit.get("name"), fruit.get("weight"), description


def fruits_by_picture(entries: Iterable[tuple]) -> dict[object, set[tuple]]:
    """The catalog's fruits (their catalog_entry) by the picture they show."""
    pictures: dict[object, set[tuple]] = {}
    for entry in entries:
        pictures.setdefault(entry[0], set()).add(entry)
    return pictures


def same_fruit(fruit: Description, pictures: dict[object, set[tuple]]) -> list[tuple]:
    """The catalog's fruits (catalog_entry) of ``fruit``'s name with its picture, sorted."""
    return sorted((e for e in pictures.get(fruit.image_name, ()) if e[1] == fruit.name), key=str)


def other_fruit_with_picture(fruit: Description, pictures: dict[object, set[tuple]]) -> str:
    """Why ``fruit`` cannot go in the catalog: another fruit of it, by another name, shows
    the same picture (the file was renamed after it was sent, or an earlier delivery used
    the name); "" when none does."""
    others = pictures.get(fruit.image_name, set())
    if not others or same_fruit(fruit, pictures):
        return ""
    _, name, weight, _ = sorted(others, key=str)[0]
    return (
        f"the catalog has another fruit with {fruit.image_name} ({name}, {weight} lbs), from an "
        "earlier delivery or version of this file: change or remove it there first"
    )


# What to do about a fruit the catalog has otherwise than its file says now.
CHANGE_IT = "change it in the catalog if the file is right"


def changed_since_sent(fruit: Description, pictures: dict[object, set[tuple]]) -> str:
    """How the catalog's ``fruit`` (its name, its picture) is not as its file says now: a
    weight or description changed since it was sent, which the catalog's API cannot
    change; "" when it is as the file says, or not there."""
    same = same_fruit(fruit, pictures)
    if not same or catalog_entry(fruit.as_json()) in same:
        return ""
    return f"the catalog's {fruit.name} ({same[0][2]} lbs) is not as this file says now"


class DescriptionError(ValueError):
    """A description file (or lab 2's review file) that would be refused: ``PATH:LINE: message``."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line  # None when the problem is the whole file
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def parse_weight(text: str) -> int:
    """``500 lbs``, ``500lbs``, ``500 lb``, ``Weight: 500 lbs``, ``500`` -> 500 (pounds).

    Anything but a whole number of pounds is refused with a ValueError saying
    why: a weight is never guessed or rounded.
    """
    shown = _shorten(text.strip())
    value = _WEIGHT_LABEL.sub("", text.strip(), count=1)
    if not value:
        raise ValueError(f"the weight is missing ({WEIGHT_EXAMPLE})")
    match = _WEIGHT.fullmatch(value)
    if match is None and _GROUPED_WEIGHT.fullmatch(value):
        raise ValueError(f"weight {shown!r}: write it without the thousands separator, like "
                         f"{value.replace(',', '')!r}")  # fmt: skip
    if match is None:
        raise ValueError(f"weight {shown!r} is not a whole number of pounds ({WEIGHT_EXAMPLE})")
    if match[1]:
        raise ValueError(f"weight {shown!r} is negative ({WEIGHT_EXAMPLE})")
    digits = match[2].lstrip("0") or "0"
    # By length first: int() of over 4300 digits is Python's own error, not ours.
    if len(digits) > len(str(WEIGHT_MAX)) or int(digits) > WEIGHT_MAX:
        raise ValueError(f"weight {shown!r} is too large (at most {WEIGHT_MAX} lbs)")
    return int(digits)


def read_description(path: Path) -> Description:
    """Read one description file; DescriptionError (file and line) if the catalog would refuse it.

    Line 1 is the name and line 2 the weight, exactly: a blank line before the
    name is an error, not skipped, since a shifted file may be a broken one.
    The description lines are joined by single spaces; blank lines and the
    spaces around each line are dropped. UTF-8 (with or without BOM) is
    expected; a whole file in Windows-1252 is accepted too; CRLF or CR line ends work.
    """
    path = Path(path)
    lines = read_lines(path, "write the name on line 1, the weight on line 2")
    name = lines[0]
    if not name:
        raise DescriptionError(
            path, 1, "line 1 is blank: the name must be on line 1 (remove the blank lines above it)"
        )
    if len(name) > NAME_MAX_LENGTH:
        raise DescriptionError(
            path,
            1,
            f"the name is {len(name)} characters long; the catalog takes at most "
            f"{NAME_MAX_LENGTH} (shorten it)",
        )
    try:
        weight = parse_weight(lines[1] if len(lines) > 1 else "")
    except ValueError as error:
        raise DescriptionError(path, 2, str(error)) from None
    description = " ".join(line for line in lines[2:] if line)
    if not description:
        raise DescriptionError(
            path,
            3,
            "the description is blank: the catalog refuses a fruit without one "
            "(write it on line 3)",
        )
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise DescriptionError(
            path,
            3,
            f"the description is {len(description)} characters long; the catalog takes at most "
            f"{DESCRIPTION_MAX_LENGTH} (shorten it)",
        )
    try:
        image_name = catalog_image_name(path.stem + ".jpeg")
    except ValueError as error:
        raise DescriptionError(path, None, f"its picture's name {error}") from None
    return Description(path, name, weight, description, image_name)


def read_lines(path: Path, layout: str) -> list[str]:
    """The lines of a text file, each stripped; DescriptionError if it cannot be read or
    decoded, or has nothing but blank lines (``layout`` says what to write in it)."""
    try:
        with open_listed(path) as file:
            data = file.read(TEXT_FILE_MAX_BYTES + 1)
    except OSError as error:
        raise DescriptionError(path, None, f"cannot read the file ({error.strerror})") from None
    if len(data) > TEXT_FILE_MAX_BYTES:
        raise DescriptionError(
            path,
            None,
            f"the file is over {TEXT_FILE_MAX_BYTES // 2**20} MB, far more than the catalog "
            "takes: is it the right file?",
        )
    lines = [line.strip() for line in split_lines(decode_text(path, data))]
    if not any(lines):
        raise DescriptionError(path, None, f"the file is empty ({layout})")
    return lines


def read_descriptions(folder: Path) -> tuple[list[Description], list[DescriptionError]]:
    """Every ``*.txt`` file of ``folder`` (sorted by name): the good ones, and the errors.

    The suffix may be in capitals (``001.TXT``); hidden files (an editor's
    ``.001.txt.swp`` or ``.#001.txt``) are left alone, and so are links out of
    the folder (see supplier_files). UsageError if ``folder`` is not a folder.
    """
    descriptions, errors = [], []
    for path in text_files(folder, "description files"):
        try:
            descriptions.append(read_description(path))
        except DescriptionError as error:
            errors.append(error)
    clashes = same_image_name(descriptions)
    errors += [
        DescriptionError(
            fruit.path,
            None,
            f"its picture's catalog name {fruit.image_name} is also that of "
            f"{', '.join(other.path.name for other in clashes[fruit.image_name] if other != fruit)}"
            ": rename all but one (none of them is sent)",
        )
        for fruit in descriptions
        if fruit.image_name in clashes
    ]
    errors.sort(key=lambda error: error.path)
    return [fruit for fruit in descriptions if fruit.image_name not in clashes], errors


def text_files(folder: Path, what: str) -> list[Path]:
    """The ``*.txt`` (or ``*.TXT``) files of ``folder`` as supplier_files gives them: sorted,
    hidden ones and links out of the folder left out; UsageError naming ``what`` (such as
    "description files") if ``folder`` is unusable."""
    return supplier_files(folder, f"no such folder of {what}", suffixes=(".txt",))


def same_image_name(fruits: list[Description]) -> dict[str, list[Description]]:
    """Fruits whose pictures would have the same name in the catalog, by that name."""
    by_name: dict[str, list[Description]] = {}
    for fruit in fruits:
        by_name.setdefault(fruit.image_name, []).append(fruit)
    return {name: group for name, group in by_name.items() if len(group) > 1}


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 text (a BOM is dropped), else Windows-1252 text unless most of its non-ASCII
    bytes are UTF-8 (a stray byte in a UTF-8 file), else a DescriptionError.

    For every text file a supplier or a customer writes (descriptions, lab 2's reviews).

    Strict decoding both ways: never a replacement character in the catalog.
    """
    if b"\x00" in data:
        # UTF-16 (Notepad's "Unicode") or a binary file: every other byte would be garbage.
        raise DescriptionError(
            path, None, "is not a text file (it has NUL bytes; UTF-16?): save it as UTF-8 text"
        )
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = error.start
    line = data.count(b"\n", 0, bad) + 1
    # Letters written as UTF-8 elsewhere in the file (a line pasted from another one): read
    # as Windows-1252, "Açaí" would be "AÃ§aÃ­", in the catalog for good. In Windows-1252
    # text, bytes that happen to be UTF-8 (E9 A0 BB, "é »") are rarer than those that are not.
    text = data.decode("utf-8", "surrogateescape")  # each byte that is not UTF-8: U+DCxx
    not_utf8 = sum("\udc80" <= char <= "\udcff" for char in text)
    if sum(char >= "\x80" for char in text) - not_utf8 >= not_utf8:
        raise DescriptionError(
            path,
            line,
            f"byte 0x{data[bad]:02x} is not UTF-8, though most of the file is: save the "
            "file as UTF-8",
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise DescriptionError(
            path,
            line,
            f"byte 0x{data[bad]:02x} is neither UTF-8 nor Windows-1252 text (save the file as "
            "UTF-8)",
        ) from None
    log.debug("%s: not UTF-8, read as Windows-1252", path)
    return text


def split_lines(text: str) -> list[str]:
    """Lines as an editor counts them: LF, CRLF or CR ends (not str.splitlines's extra ones)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _shorten(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
