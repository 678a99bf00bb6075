"""/media/ as the course's Apache serves it (``Alias /media/``, mod_autoindex, mod_dir).

- a file: its bytes, with Content-Type, Content-Length and Last-Modified (HEAD too);
- a folder: Apache's "Index of /media/images" page (Ubuntu's autoindex.conf:
  FancyIndexing, HTMLTable, NameWidth=*), one ``<a href="NAME">NAME</a>`` row per
  entry, hrefs escaped as Apache's ap_os_escape_path does; or ``403 Forbidden``
  when the lab runs with ``--no-media-index`` (Apache's ``Options -Indexes``);
- a folder without its trailing slash: ``301`` to the slash (mod_dir); a folder with an
  ``index.html``: that page, not a listing (mod_dir's DirectoryIndex);
- anything missing: Apache's ``404 Not Found`` page.
"""

import fnmatch
import html
import mimetypes
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import http_date

SIGNATURE = "<address>Apache/2.4.41 (Ubuntu) Server at {host} Port {port}</address>"
# Ubuntu's autoindex.conf: IndexIgnore .??* *~ *# RCS CVS *,v *,t
INDEX_IGNORE = (".??*", "*~", "*#", "RCS", "CVS", "*,v", "*,t")
# Characters Apache leaves as they are in a path (gen_test_char.c, T_OS_ESCAPE_PATH).
PATH_SAFE = "$-_.+!*'(),:@&=/~"


def media(request, path: str):
    if request.method not in ("GET", "HEAD"):
        text = f"The requested method {request.method} is not allowed for this URL."
        return _apache_error(request, 405, "Method Not Allowed", text)
    root = Path(settings.MEDIA_ROOT).resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.exists():
        text = "The requested URL was not found on this server."
        return _apache_error(request, 404, "Not Found", text)
    if target.is_dir() and path and not path.endswith("/"):
        return HttpResponseRedirect(request.path + "/", status=301)
    if target.is_dir() and (target / "index.html").is_file():
        target = target / "index.html"  # mod_dir's DirectoryIndex: the page, not a listing
    if target.is_dir():
        if settings.NO_MEDIA_INDEX:
            text = "You don't have permission to access this resource."
            return _apache_error(request, 403, "Forbidden", text)
        return HttpResponse(
            directory_index(request.path, target), content_type="text/html;charset=UTF-8"
        )
    content_type, encoding = mimetypes.guess_type(target.name)
    response = FileResponse(target.open("rb"), content_type=content_type or "text/plain")
    del response["Content-Disposition"]  # Django's addition; Apache sends none
    response["Last-Modified"] = http_date(target.stat().st_mtime)
    if encoding:
        response["Content-Encoding"] = encoding
    return response


def directory_index(url_path: str, folder: Path) -> str:
    """Apache's listing of a folder, entries sorted by name."""
    title = html.escape(url_path.rstrip("/") or "/")
    rows = []
    parent = url_path.rstrip("/").rpartition("/")[0] + "/"
    rows.append(
        '<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td>'
        f'<td><a href="{html.escape(parent)}">Parent Directory</a></td><td>&nbsp;</td>'
        '<td align="right">  - </td><td>&nbsp;</td></tr>'
    )
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        name = entry.name
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in INDEX_IGNORE):
            continue
        info = entry.stat()
        is_dir = entry.is_dir()
        shown = name + "/" if is_dir else name
        href = html.escape(quote(shown, safe=PATH_SAFE))
        if is_dir:
            icon, alt = "/icons/folder.gif", "[DIR]"
        elif (mimetypes.guess_type(name)[0] or "").startswith("image/"):
            icon, alt = "/icons/image2.gif", "[IMG]"
        else:
            icon, alt = "/icons/unknown.gif", "[   ]"
        modified = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.st_mtime))
        size = "  - " if is_dir else apr_strfsize(info.st_size)
        rows.append(
            f'<tr><td valign="top"><img src="{icon}" alt="{alt}"></td>'
            f'<td><a href="{href}">{html.escape(shown)}</a></td>'
            f'<td align="right">{modified}  </td><td align="right">{size}</td>'
            "<td>&nbsp;</td></tr>"
        )
    return (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n'
        f"<html>\n <head>\n  <title>Index of {title}</title>\n </head>\n <body>\n"
        f"<h1>Index of {title}</h1>\n  <table>\n"
        '   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th>'
        '<th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th>'
        '<th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>\n'
        '   <tr><th colspan="5"><hr></th></tr>\n'
        + "\n".join(rows)
        + '\n   <tr><th colspan="5"><hr></th></tr>\n</table>\n'
        + SIGNATURE.format(host="localhost", port=80)
        + "\n</body></html>\n"
    )


def apr_strfsize(size: int) -> str:
    """A size in four characters, as APR's apr_strfsize writes it for Apache's listings."""
    if size < 973:
        return f"{size:3d} "
    for unit in "KMGTPE":
        remain = size & 1023
        size >>= 10
        if size >= 973:
            continue
        if size < 9 or (size == 9 and remain < 973):
            remain = (remain * 5 + 256) // 512
            if remain >= 10:
                size, remain = size + 1, 0
            return f"{size}.{remain}{unit}"
        if remain >= 512:
            size += 1
        return f"{size:3d}{unit}"
    return "****"


def _apache_error(request, status: int, reason: str, text: str) -> HttpResponse:
    host, _, port = request.get_host().partition(":")
    body = (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n'
        f"<html><head>\n<title>{status} {reason}</title>\n</head><body>\n"
        f"<h1>{reason}</h1>\n<p>{html.escape(text)}</p>\n<hr>\n"
        + SIGNATURE.format(host=html.escape(host), port=html.escape(port or "80"))
        + "\n</body></html>\n"
    )
    response = HttpResponse(body, status=status, content_type="text/html; charset=iso-8859-1")
    if status == 405:
        response["Allow"] = "GET,POST,OPTIONS,HEAD"
    return response
