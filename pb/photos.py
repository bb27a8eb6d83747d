"""Proposal photos: checked, decoded and re-encoded with Pillow, stored as files, never served as sent.

Re-encoding drops every piece of metadata (EXIF, including the GPS position a phone writes, XMP,
comments) and anything hidden after the image data; the orientation a phone records is applied to
the pixels first so the photo still stands the right way up. Images over ``MAX_PIXELS`` (the
decompression bombs among them) and files that are not JPEG, PNG or WebP images are refused with a
clear message before they are decoded. Stored files are named by the SHA-256 of their content.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from pb.services.errors import DomainError

# Format → (file extension, content type). Output keeps the input's format.
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
CONTENT_TYPES = {extension: content_type for extension, content_type in FORMATS.values()}
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; anything larger is refused before decoding
LONGEST_SIDE = 2000  # stored photos are scaled down to this
NAME = re.compile(r"^[0-9a-f]{64}\.(?:jpg|png|webp)$")
FIELD = "photo"


@dataclass(frozen=True)
class Photo:
    data: bytes
    extension: str

    @property
    def name(self) -> str:
        return f"{hashlib.sha256(self.data).hexdigest()}.{self.extension}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]


def _refuse(message) -> DomainError:
    return DomainError(message, field=FIELD)


def clean(data: bytes, max_bytes: int) -> Photo:
    """The photo re-encoded without metadata, or a :class:`DomainError` on the ``photo`` field."""
    if not data:
        raise _refuse(_l("The photo file is empty."))
    if len(data) > max_bytes:
        raise _refuse(
            _l("The photo is too large: at most %(size)s MB.", size=f"{max_bytes / 1_000_000:.0f}")
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _refuse(_l("The photo has too many pixels: at most 40 megapixels."))
            source_format = image.format
            image.load()
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(_l("The photo has too many pixels: at most 40 megapixels.")) from None
    except UnidentifiedImageError:
        raise _refuse(_l("This file is not a JPEG, PNG or WebP photo, or it is damaged.")) from None
    except (OSError, ValueError, SyntaxError, EOFError):  # truncated or corrupt data
        raise _refuse(_l("This file is not a JPEG, PNG or WebP photo, or it is damaged.")) from None
    return _reencode(image, source_format)


def _reencode(image: Image.Image, source_format: str) -> Photo:
    image = ImageOps.exif_transpose(image)  # apply the recorded orientation before dropping it
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        image = image.convert("RGBA" if has_alpha else "RGB")
    if source_format == "JPEG" and image.mode == "RGBA":
        image = image.convert("RGB")
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    fresh = Image.new(image.mode, image.size)  # a new image carries no info, EXIF or ICC from the upload
    fresh.paste(image)
    out = io.BytesIO()
    options = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True}, "WEBP": {"quality": 85}}
    fresh.save(out, format=source_format, **options[source_format])
    return Photo(out.getvalue(), FORMATS[source_format][0])


def store(folder: str | os.PathLike, photo: Photo) -> str:
    """Write the photo under ``folder`` (atomically; the same photo twice is one file) and return its name."""
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / photo.name
    if target.exists():
        os.utime(target)  # in use again: :func:`prune` leaves recent files alone
    else:
        temporary = directory / f".{photo.name}.{os.getpid()}.tmp"
        temporary.write_bytes(photo.data)
        os.replace(temporary, target)
    return photo.name


# A photo is written before the proposal that names it is committed, so a file nobody names yet may
# belong to a request still running: only files untouched for this long are pruned.
PRUNE_GRACE_SECONDS = 24 * 3600


def prune(folder: str | os.PathLike, referenced: set[str], now: float, grace: float = PRUNE_GRACE_SECONDS) -> list[str]:
    """Delete the photos (and stale temporary files) under ``folder`` that no proposal names any more
    (replaced, removed, or left by a request that failed) and that were untouched for ``grace``
    seconds; returns their names."""
    directory = Path(folder)
    if not directory.is_dir():
        return []
    removed = []
    for path in directory.iterdir():
        name = path.name
        stale_temporary = name.startswith(".") and name.endswith(".tmp")
        if not (is_photo_name(name) or stale_temporary) or name in referenced:
            continue
        try:
            if now - path.stat().st_mtime < grace:
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(name)
    return removed


def is_photo_name(name: str) -> bool:
    return bool(NAME.match(name))
