"""Uploaded images: real decoding, size limits, resizing, metadata stripped; both backends."""

from __future__ import annotations

import io

import pytest
from botocore.stub import Stubber
from PIL import Image

from app.integrations.storage import (
    COVER,
    SPEAKER_PHOTO,
    ImageRejected,
    LocalStorage,
    S3Storage,
    is_media_key,
    prepare_image,
    store_image,
)


def image_bytes(size=(2400, 1600), fmt="PNG", exif: bool = False) -> bytes:  # noqa: ANN001
    out = io.BytesIO()
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", size, (200, 30, 30))
    if exif:
        info = Image.Exif()
        info[0x010F] = "SecretCam"  # Make
        image.save(out, fmt, exif=info)
    else:
        image.save(out, fmt)
    return out.getvalue()


def test_cover_is_resized_and_reencoded_without_metadata() -> None:
    encoded = prepare_image(image_bytes(fmt="JPEG", exif=True), COVER)
    result = Image.open(io.BytesIO(encoded))
    assert result.format == "JPEG" and result.size[1] == 675 and result.size[0] in (1012, 1013)
    assert not result.getexif() and b"SecretCam" not in encoded


def test_speaker_photo_is_cropped_square() -> None:
    result = Image.open(io.BytesIO(prepare_image(image_bytes(), SPEAKER_PHOTO)))
    assert result.size == (320, 320) and result.mode == "RGB"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 not an image", "not an image"),
        (b"<script>alert(1)</script>", "not an image"),
        (image_bytes(fmt="PNG")[:200], "not an image"),  # truncated
        (b"\x89PNG" + b"0" * (5 * 1024 * 1024), "larger than 5 MB"),
        (image_bytes(fmt="BMP", size=(10, 10)), "JPEG, PNG, WebP or GIF"),
    ],
)
def test_bad_uploads_are_rejected(data: bytes, message: str) -> None:
    with pytest.raises(ImageRejected, match=message):
        prepare_image(data, COVER)


def test_decompression_bomb_is_rejected() -> None:
    with pytest.raises(ImageRejected):
        prepare_image(image_bytes(size=(9000, 9000), fmt="PNG"), COVER)


def test_local_storage_round_trip_and_content_keys(tmp_path) -> None:  # noqa: ANN001
    storage = LocalStorage(tmp_path)
    key = store_image(storage, image_bytes(), COVER)
    assert is_media_key(key) and key.startswith("covers/")
    assert store_image(storage, image_bytes(), COVER) == key  # same content, same key
    assert storage.read(key)[:2] == b"\xff\xd8"
    assert storage.read("covers/" + "0" * 40 + ".jpg") is None
    assert not is_media_key("../secret_key") and not is_media_key("covers/../../x.jpg")


def test_s3_storage_puts_and_gets_objects() -> None:
    import boto3

    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    storage = S3Storage(client, "media")
    with Stubber(client) as stub:
        stub.add_response(
            "put_object",
            {},
            {
                "Bucket": "media",
                "Key": "covers/a.jpg",
                "Body": b"data",
                "ContentType": "image/jpeg",
            },
        )
        stub.add_response(
            "get_object",
            {"Body": io.BytesIO(b"data")},
            {"Bucket": "media", "Key": "covers/a.jpg"},
        )
        stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
        storage.save("covers/a.jpg", b"data", "image/jpeg")
        assert storage.read("covers/a.jpg") == b"data"
        assert storage.read("covers/missing.jpg") is None
        stub.assert_no_pending_responses()


def test_truncated_uploads_stay_refused_once_the_ticket_pdfs_are_loaded() -> None:
    import app.domain.tickets.pdf  # noqa: F401 - WeasyPrint, imported with it, loosens Pillow

    with pytest.raises(ImageRejected, match="not an image"):
        prepare_image(image_bytes(fmt="PNG")[:200], COVER)
