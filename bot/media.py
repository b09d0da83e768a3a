"""Keep the photos operators give as files, once each, where Telegram and Zalo fetch them.

Telegram's sendPhoto takes a file id or an http(s) URL; the Zalo Bot Platform and the Zalo
OA take only a URL. A photo given as a file is therefore kept in the media folder
(OUTREACH_MEDIA_DIR), named by the SHA-256 of its bytes (the same photo is kept once, and a
name never changes meaning, so it may be cached for ever), and served by our web server at
``OUTREACH_PUBLIC_URL/m/<name>``: one URL every channel takes.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

MAX_PHOTO = 10 * 1024 * 1024  # Telegram's limit for a photo sent by URL
NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|jpeg|png|webp)$")  # all the web server ever serves
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
PATH = "/m/"
MAX_URL = 500  # what a broadcast's photo column holds
TAKES = "--photo takes an https:// URL, or the path of a JPEG, PNG or WebP image of at most 10 MB"
NEEDS_PUBLIC_URL = (
    "--photo FILE needs OUTREACH_PUBLIC_URL, the address where Telegram and Zalo fetch it; "
    "or give an https:// URL"
)


class PhotoProblem(ValueError):
    """A photo that cannot be sent as given; the message says what is taken."""


def is_web_url(photo: str) -> bool:
    """Tell whether a photo is an http(s) URL (which every channel takes), not a file id."""
    if not re.match(r"^https?://", photo, re.IGNORECASE) or any(c.isspace() for c in photo):
        return False
    return bool(urlsplit(photo).hostname)


def image_kind(head: bytes) -> str | None:
    """Name an image's format by its first bytes, as the extension it is kept with."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def content_type(name: str) -> str:
    """Return the content type of a stored file, by its extension."""
    return CONTENT_TYPES[name.rsplit(".", 1)[1]]


def public_url(base: str, name: str) -> str:
    """Return the address of a stored file on this server (base: OUTREACH_PUBLIC_URL)."""
    return base.rstrip("/") + PATH + name


def read_image(source: Path) -> tuple[bytes, str]:
    """Read an image file and name its format; PhotoProblem unless JPEG, PNG or WebP ≤ 10 MB."""
    size = source.stat().st_size
    if size > MAX_PHOTO:
        raise PhotoProblem(f"--photo {source}: {size / 1024 / 1024:.1f} MB is too big; {TAKES}")
    data = source.read_bytes()
    kind = image_kind(data[:12])
    if kind is None:
        raise PhotoProblem(f"--photo {source} is not a JPEG, PNG or WebP image; {TAKES}")
    return data, kind


def store(folder: Path, data: bytes, kind: str) -> str:
    """Keep an image in the media folder, once by content, and return its name."""
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    target = folder / name
    if not target.exists():  # the same bytes are the same name: kept once
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o644)  # the web server, perhaps run by another user, reads it
            os.replace(temporary, target)  # never half a file under the name
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return name


def accept_photo(given: str, *, folder: Path, base_url: str | None) -> str:
    """Return a photo in the form every channel takes: an http(s) URL.

    A URL is kept as it is; an image file is stored (see `store`) and replaced by its public
    URL, which needs OUTREACH_PUBLIC_URL (`base_url`). Anything else, such as a Telegram
    file id or a missing file, is a PhotoProblem saying what is taken.
    """
    if is_web_url(given):
        if len(given) > MAX_URL:
            raise PhotoProblem(f"--photo: a URL of at most {MAX_URL} characters, please")
        return given
    path = Path(given).expanduser()
    if not path.is_file():
        raise PhotoProblem(f"--photo {given!r} is neither an http(s) URL nor a file here; {TAKES}")
    try:
        data, kind = read_image(path)  # what is wrong with the file is said first, if anything
    except OSError as exc:
        raise PhotoProblem(f"--photo {given}: cannot read it ({exc.strerror or exc})") from None
    if base_url is None:
        raise PhotoProblem(NEEDS_PUBLIC_URL)
    try:
        name = store(folder, data, kind)
    except OSError as exc:
        raise PhotoProblem(
            f"cannot keep the photo in {folder} (OUTREACH_MEDIA_DIR): {exc.strerror or exc}"
        ) from None
    return public_url(base_url, name)
