"""Tests for fmcore.data.images: every file is made in memory with Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, features

from fmcore.data.images import (
    DEFAULT_MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    image_to_tensor,
    load_image,
    to_rgb,
)
from fmcore.errors import InvalidImageError, SettingError


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def noise_image(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    """A random RGB image: it compresses badly, so its files are large enough to cut."""
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (height, width, 3), generator=g, dtype=torch.uint8)
    return Image.fromarray(pixels.numpy(), mode="RGB")


def png_with_size(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose IHDR is patched to claim width x height (CRC fixed up)."""
    data = bytearray(encode(Image.new("RGB", (1, 1), "red"), "PNG"))
    # Signature (8 bytes), then length (4) and "IHDR" (4): width and height follow.
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF  # type + 13 bytes of IHDR data
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


# --- valid images ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_accepted_formats_load_as_rgb(fmt):
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    data = encode(Image.new("RGB", (40, 30), (200, 30, 40)), fmt)
    image = load_image(data)
    assert image.mode == "RGB"
    assert image.size == (40, 30)
    r, g, b = image.getpixel((20, 15))
    assert r > 150 and g < 90 and b < 90


def test_sources_bytes_file_and_path(tmp_path):
    data = encode(Image.new("RGB", (10, 10), "blue"), "PNG")
    path = tmp_path / "blue.png"
    path.write_bytes(data)
    stream = io.BytesIO(data)
    stream.read()  # a file already read to the end is rewound
    for source in (data, bytearray(data), memoryview(data), stream, path, str(path)):
        assert load_image(source).getpixel((5, 5)) == (0, 0, 255)


def test_one_pixel_image_is_accepted():
    image = load_image(encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG"))
    assert image.size == (1, 1)
    assert image.getpixel((0, 0)) == (1, 2, 3)


def test_sixteen_bit_grey_keeps_mid_grey():
    grey = np.full((8, 8), 32768, dtype=np.uint16)
    data = encode(Image.fromarray(grey), "PNG")
    image = load_image(data)
    assert image.mode == "RGB"
    assert image.getpixel((4, 4)) == (128, 128, 128)  # not clipped to white


def test_cmyk_jpeg_is_converted():
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    r, g, b = load_image(data).getpixel((8, 8))
    assert r > 200 and g < 60 and b < 60  # cyan 0, magenta and yellow full: red


def test_palette_png_with_transparency_goes_on_white():
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 0, 0, 200, 0] + [0] * (254 * 3))
    image.putpixel((1, 1), 1)
    data = encode(image, "PNG", transparency=0)
    loaded = load_image(data)
    assert loaded.getpixel((0, 0)) == (255, 255, 255)  # transparent index: white
    assert loaded.getpixel((1, 1)) == (0, 200, 0)


def test_rgba_is_composited_on_white():
    image = Image.new("RGBA", (4, 2), (255, 0, 0, 0))
    image.putpixel((1, 0), (255, 0, 0, 255))
    image.putpixel((2, 0), (0, 0, 0, 128))
    loaded = load_image(encode(image, "PNG"))
    assert loaded.getpixel((0, 0)) == (255, 255, 255)
    assert loaded.getpixel((1, 0)) == (255, 0, 0)
    assert all(120 <= c <= 135 for c in loaded.getpixel((2, 0)))  # half black on white


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    assert load_image(data).getpixel((4, 4)) == (255, 0, 0)


def test_animated_webp_gives_first_frame():
    if not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    r, g, b = load_image(data).getpixel((4, 4))
    assert r > 240 and g < 15 and b < 15


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (40, 20), "white")
    image.paste((255, 0, 0), (0, 0, 10, 20))  # red on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    loaded = load_image(encode(image, "JPEG", exif=exif.tobytes(), quality=95))
    assert loaded.size == (20, 40)  # width and height swapped
    r, g, b = loaded.getpixel((10, 3))  # the left edge is now the top
    assert r > 200 and g < 60 and b < 60


@pytest.mark.filterwarnings("error")
def test_broken_exif_is_ignored():
    image = Image.new("RGB", (40, 20), "green")
    junk = b"Exif\x00\x00" + b"MM\x00*" + b"\xff" * 2000  # a header pointing nowhere
    loaded = load_image(encode(image, "JPEG", exif=junk))
    assert loaded.size == (40, 20)


def test_other_modes_convert_to_rgb():
    one_bit = Image.new("1", (2, 1), 0)
    one_bit.putpixel((1, 0), 1)
    assert load_image(encode(one_bit, "PNG")).getpixel((1, 0)) == (255, 255, 255)
    assert load_image(encode(Image.new("LA", (2, 2), (0, 0)), "PNG")).getpixel((0, 0)) == (
        255,
        255,
        255,
    )
    as_int = Image.fromarray(np.full((2, 2), 65535, dtype=np.int32), mode="I")
    assert to_rgb(as_int).getpixel((0, 0)) == (255, 255, 255)
    as_float = Image.fromarray(np.full((2, 2), 0.5, dtype=np.float32), mode="F")
    assert to_rgb(as_float).getpixel((0, 0)) == (128, 128, 128)
    big_endian = Image.frombytes("I;16B", (1, 1), struct.pack(">H", 65535 // 4))
    assert to_rgb(big_endian).getpixel((0, 0)) == (64, 64, 64)


def test_image_to_tensor_crops_and_resizes():
    image = Image.new("RGB", (60, 30), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 10, 30))  # the left sixth is cut by the crop
    tensor = image_to_tensor(image, 16)
    assert tensor.shape == (3, 16, 16)
    assert tensor.dtype == torch.float32
    assert 0.0 <= tensor.min() and tensor.max() <= 1.0
    assert torch.allclose(tensor[:, 8, 8], torch.tensor([0.0, 0.0, 1.0]), atol=0.02)
    assert tensor[0].max() < 0.05  # no red left after the centre crop
    with pytest.raises(SettingError):
        image_to_tensor(image, 0)


# --- refused inputs --------------------------------------------------------------------


def refused(source, *, match: str, **kwargs) -> str:
    with pytest.raises(InvalidImageError, match=match) as info:
        load_image(source, **kwargs)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_text_file_named_png():
    message = refused(
        b"Dear diary, today I learned about SimCLR.\n", name="notes.png", match="not an image"
    )
    assert "'notes.png'" in message
    assert "PNG, JPEG, WebP, GIF or BMP" in message


def test_empty_input():
    refused(b"", match="empty")
    refused(io.BytesIO(b""), name="blank.jpg", match="'blank.jpg' is empty")


def test_truncated_png():
    data = encode(noise_image(), "PNG")
    refused(data[: len(data) // 2], name="cut.png", match="incomplete")


def test_truncated_jpeg():
    data = encode(noise_image(), "JPEG")
    refused(data[: len(data) // 2], match="incomplete|damaged")


@pytest.mark.parametrize(
    "width, height",
    [
        (30000, 30000),  # beyond twice Pillow's limit: DecompressionBombError
        (10000, 10000),  # between Pillow's limit and twice it: the warning, as an error
        (5000, 5000),  # under Pillow's limit, over the lab's own
    ],
)
def test_decompression_bomb_header(width, height):
    assert width * height > DEFAULT_MAX_PIXELS
    pillow_limit = Image.MAX_IMAGE_PIXELS
    message = refused(png_with_size(width, height), name="bomb.png", match="megapixels")
    assert "'bomb.png'" in message
    assert Image.MAX_IMAGE_PIXELS == pillow_limit  # the global setting is left alone


def test_bomb_warning_does_not_leak():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning escaping load_image fails the test
        refused(png_with_size(10000, 10000), match="larger than the limit")


def test_own_pixel_limit():
    data = encode(Image.new("RGB", (100, 100)), "PNG")
    refused(data, max_pixels=5000, match="100 x 100")
    assert load_image(data, max_pixels=10000).size == (100, 100)
    with pytest.raises(SettingError):
        load_image(data, max_pixels=0)


def test_oversized_bytes():
    refused(b"\x89PNG" + bytes(MAX_UPLOAD_BYTES), match="larger than 10 MB")
    data = encode(noise_image(), "PNG")
    refused(data, max_bytes=1000, match="larger than 1000 bytes")
    refused(io.BytesIO(data), max_bytes=1000, name="big.png", match="'big.png' is larger")


def test_oversized_path_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(encode(noise_image(), "PNG"))
    refused(path, max_bytes=1000, match="'huge.png' is larger")


def test_missing_path(tmp_path):
    refused(tmp_path / "nowhere.png", match="'nowhere.png' was not found")
    refused(tmp_path, match="not found")


@pytest.mark.parametrize("fmt, shown", [("TIFF", "TIFF"), ("ICO", "ICO")])
def test_unsupported_format(fmt, shown):
    data = encode(Image.new("RGB", (16, 16), "red"), fmt)
    message = refused(data, name=f"scan.{fmt.lower()}", match=f"is a {shown} file")
    assert "PNG, JPEG, WebP, GIF or BMP" in message


def test_wrong_source_type():
    refused(12345, match="Expected image bytes")


def test_name_is_cleaned_in_messages():
    message = refused(b"nope", name="a\nb" + "x" * 200 + ".png", match="not an image")
    assert "\n" not in message
    assert len(message) < 200
