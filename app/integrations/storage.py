"""Uploaded images: checked by decoding them, resized, re-encoded, then stored.

Two backends behind one small interface: a local folder (`MEDIA_DIR`, under instance/ by
default) and S3-compatible object storage (`STORAGE_BACKEND=s3`). Keys are derived from the
re-encoded bytes, so an image is immutable: duplicated events share their images, and the
media route can let browsers cache them for good.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from app.domain.base import DomainError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
# Above this the upload is a decompression bomb, whatever its file size.
MAX_IMAGE_PIXELS = 40_000_000
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
KEY_PATTERN = re.compile(r"^(covers|speakers)/[0-9a-f]{40}\.jpg$")


class ImageRejected(DomainError):
    code = "image_rejected"


@dataclass(frozen=True)
class ImageSpec:
    prefix: str
    width: int
    height: int
    crop: bool  # fill the box exactly (speaker photos) instead of fitting inside it (covers)


COVER = ImageSpec("covers", 1200, 675, crop=False)
SPEAKER_PHOTO = ImageSpec("speakers", 320, 320, crop=True)


def prepare_image(data: bytes, spec: ImageSpec) -> bytes:
    """Decode `data` for real, resize it to `spec`, re-encode as JPEG without metadata."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRejected("The image is larger than 5 MB. Please upload a smaller file.")
    if not data:
        raise ImageRejected("The uploaded file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise ImageRejected("Upload a JPEG, PNG, WebP or GIF image.")
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ImageRejected("The image has too many pixels (at most 40 megapixels).")
            image.load()
    except ImageRejected:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
        Warning,
    ) as error:
        raise ImageRejected("That file is not an image we can read.") from error
    image = ImageOps.exif_transpose(image)
    image = _flatten(image)
    if spec.crop:
        image = ImageOps.fit(image, (spec.width, spec.height), Image.Resampling.LANCZOS)
    else:
        image.thumbnail((spec.width, spec.height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A fresh image carries no EXIF/GPS data: nothing from the upload leaks through.
    image.save(out, "JPEG", quality=80, optimize=True, progressive=True)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on a white background (JPEG has no transparency)."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


class Storage(Protocol):
    def save(self, key: str, data: bytes, content_type: str) -> None: ...

    def read(self, key: str) -> bytes | None: ...


class LocalStorage:
    """Files under one folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(path)

    def read(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None


class S3Storage:
    """Objects in one bucket of any S3-compatible service."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def save(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def read(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        return response["Body"].read()


def storage_from_config(config: Mapping[str, Any]) -> Storage:
    """The backend named by STORAGE_BACKEND ("local" or "s3")."""
    backend = config.get("STORAGE_BACKEND", "local")
    if backend == "local":
        return LocalStorage(str(config["MEDIA_DIR"]))
    if backend == "s3":
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
        )
        return S3Storage(client, str(config["S3_BUCKET"]))
    raise ValueError(f"unknown STORAGE_BACKEND {backend!r}")


def store_image(storage: Storage, data: bytes, spec: ImageSpec) -> str:
    """Check, resize and store an uploaded image; return its key."""
    encoded = prepare_image(data, spec)
    key = f"{spec.prefix}/{hashlib.sha1(encoded, usedforsecurity=False).hexdigest()}.jpg"
    storage.save(key, encoded, "image/jpeg")
    return key


def is_media_key(key: str) -> bool:
    """Only keys this module makes can be served (no path tricks)."""
    return bool(KEY_PATTERN.match(key))
