"""Photos: re-encoded without metadata, the right way up, bombs and non-images refused clearly."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from pb import photos
from pb.services.errors import DomainError

LIMIT = 5_000_000


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG claiming huge dimensions: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_gps_and_camera_metadata_are_removed():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (45.0, 30.0, 12.0)
    data = encoded(Image.new("RGB", (40, 30), "orange"), "JPEG", exif=exif, comment=b"secret note")
    photo = photos.clean(data, LIMIT)
    assert photo.extension == "jpg" and photo.content_type == "image/jpeg"
    image = Image.open(io.BytesIO(photo.data))
    assert not image.getexif() and "comment" not in image.info
    assert b"PhoneMaker" not in photo.data and b"secret note" not in photo.data


def test_the_recorded_orientation_is_applied_before_it_is_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = encoded(Image.new("RGB", (40, 30), "blue"), "JPEG", exif=exif)
    image = Image.open(io.BytesIO(photos.clean(data, LIMIT).data))
    assert image.size == (30, 40)


def test_png_keeps_its_transparency_and_webp_its_format():
    png = photos.clean(encoded(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), "PNG"), LIMIT)
    assert png.extension == "png" and Image.open(io.BytesIO(png.data)).mode == "RGBA"
    webp = photos.clean(encoded(Image.new("RGB", (10, 10), "green"), "WEBP"), LIMIT)
    assert webp.extension == "webp" and webp.content_type == "image/webp"


def test_large_photos_are_scaled_down():
    data = encoded(Image.new("RGB", (4000, 1000), "grey"), "JPEG")
    assert Image.open(io.BytesIO(photos.clean(data, LIMIT).data)).size == (2000, 500)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"x" * (LIMIT + 1), "too large"),
        (png_header_only(100_000, 100_000), "too many pixels"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a JPEG, PNG or WebP"),
        (encoded(Image.new("RGB", (10, 10)), "GIF"), "not a JPEG, PNG or WebP"),
        (encoded(Image.new("RGB", (50, 50), "red"), "JPEG")[:150], "not a JPEG, PNG or WebP"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 100, "not a JPEG, PNG or WebP"),
    ],
    ids=["empty", "too-large", "bomb", "svg", "gif", "truncated", "fake-header"],
)
def test_what_is_not_a_safe_photo_is_refused_on_the_photo_field(data, message):
    with pytest.raises(DomainError, match=message) as caught:
        photos.clean(data, LIMIT)
    assert caught.value.field == "photo"


def test_a_stored_photo_is_named_by_its_content_and_stored_once(tmp_path):
    photo = photos.clean(encoded(Image.new("RGB", (8, 8), "white"), "PNG"), LIMIT)
    name = photos.store(tmp_path / "photos", photo)
    assert photos.is_photo_name(name) and photos.store(tmp_path / "photos", photo) == name
    assert (tmp_path / "photos" / name).read_bytes() == photo.data
    assert [p.name for p in (tmp_path / "photos").iterdir()] == [name]


@pytest.mark.parametrize("name", ["../x.jpg", "a.jpg", "0" * 64 + ".gif", "0" * 64 + ".jpg/..", "0" * 63 + ".jpg"])
def test_only_stored_names_are_photo_names(name):
    assert not photos.is_photo_name(name)


def test_prune_deletes_only_unnamed_photos_untouched_for_the_grace_period(tmp_path):
    import os

    named, orphan, recent = ("a" * 64 + ".jpg"), ("b" * 64 + ".png"), ("c" * 64 + ".webp")
    temporary, other = f".{'d' * 64}.jpg.123.tmp", "notes.txt"
    for name in (named, orphan, recent, temporary, other):
        (tmp_path / name).write_bytes(b"x")
    now = 1_000_000.0
    for name in (named, orphan, temporary, other):
        os.utime(tmp_path / name, (now - 2 * photos.PRUNE_GRACE_SECONDS,) * 2)
    os.utime(tmp_path / recent, (now - 60,) * 2)
    removed = photos.prune(tmp_path, {named}, now)
    assert sorted(removed) == sorted([orphan, temporary])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([named, recent, other])
    assert photos.prune(tmp_path / "missing", set(), now) == []


def test_storing_a_photo_again_protects_it_from_pruning(tmp_path):
    import os

    photo = photos.clean(encoded(Image.new("RGB", (20, 20), "red"), "PNG"), 10**6)
    name = photos.store(tmp_path, photo)
    os.utime(tmp_path / name, (1.0, 1.0))
    photos.store(tmp_path, photo)  # the same photo uploaded again for a new proposal
    assert (tmp_path / name).stat().st_mtime > 1.0
    assert photos.prune(tmp_path, set(), (tmp_path / name).stat().st_mtime + 60) == []
