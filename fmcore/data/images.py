"""Safe loading of user images: the only way an uploaded picture enters the lab.

``load_image`` takes bytes, a file-like object (such as Streamlit's ``UploadedFile``) or a
path, and returns a ``PIL.Image`` in RGB, or raises ``InvalidImageError`` with a message a
student can act on. Checks happen in order of cost, so that a hostile file is refused before
it is decoded:

1. the byte size (``max_bytes``, 10 MB by default), before anything is parsed;
2. the format, read from the header: PNG, JPEG, WebP, GIF or BMP only;
3. the pixel count from the header (``max_pixels``, 4096 x 4096 by default), before the
   pixels are decompressed; Pillow's own decompression-bomb error and warning count as
   refusals too;
4. the decoding itself (truncated or damaged files are refused);
5. the EXIF orientation, applied when readable and ignored when broken;
6. the conversion of every colour mode to 8-bit RGB (see ``to_rgb``).

Pillow's global settings (``Image.MAX_IMAGE_PIXELS``, ``ImageFile.LOAD_TRUNCATED_IMAGES``)
are never changed: every user of the server shares them.
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from fmcore.errors import InvalidImageError
from fmcore.validate import bounded_int

# The formats the lab accepts, as Pillow names them; anything else is refused.
ACCEPTED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
ACCEPTED_TEXT = "PNG, JPEG, WebP, GIF or BMP"

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # 10 MB: a large phone photo fits
DEFAULT_MAX_PIXELS = 4096 * 4096  # about 16.8 megapixels
MAX_PIXELS_LIMIT = 16384 * 16384  # the largest limit a caller may ask for

# Magic numbers of common formats the lab does not accept, to name them in the message.
_OTHER_FORMATS: tuple[tuple[bytes, int, str], ...] = (
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"\x00\x00\x01\x00", 0, "ICO"),
    (b"%PDF", 0, "PDF"),
    (b"8BPS", 0, "Photoshop (PSD)"),
    (b"ftypheic", 4, "HEIC"),
    (b"ftypheix", 4, "HEIC"),
    (b"ftypmif1", 4, "HEIF"),
    (b"ftypavif", 4, "AVIF"),
    (b"\x00\x00\x00\x0cjP  ", 0, "JPEG 2000"),
    (b"\xff\x4f\xff\x51", 0, "JPEG 2000"),
    (b"<svg", 0, "SVG"),
    (b"<?xml", 0, "SVG/XML"),
)


def _describe(name: str | None) -> str:
    """How messages refer to the file: its (cleaned, shortened) name, or a generic phrase."""
    if not name:
        return "The file"
    name = os.path.basename(str(name))
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if len(name) > 60:
        name = name[:57] + "..."
    return f"'{name}'" if name else "The file"


def _sniff_other_format(data: bytes) -> str | None:
    """The name of a known but refused format, from the first bytes; None if unknown."""
    head = data[:64].lstrip()  # text formats (SVG) may start with blank lines
    for magic, offset, fmt in _OTHER_FORMATS:
        if head[offset : offset + len(magic)] == magic:
            return fmt
    return None


def _human_bytes(count: int) -> str:
    """A byte count the way people say it: 10 MB, 500 KB, 80 bytes (1 MB = 1024 KB)."""
    if count >= 1024**2:
        return f"{count / 1024**2:.3g} MB"
    if count >= 1024:
        return f"{count / 1024:.3g} KB"
    return f"{count} bytes"


def _source_name(source: object) -> str | None:
    """The file name a source carries: a path's, or an upload's ``.name``; else None."""
    if isinstance(source, str | os.PathLike):
        return os.path.basename(os.fspath(source))  # type: ignore[arg-type]
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else None


def _read_source(source: object, max_bytes: int, label: str) -> bytes:
    """The bytes of ``source``, refusing more than ``max_bytes`` before reading them all."""
    too_big = (
        f"{label} is larger than {_human_bytes(max_bytes)}. "
        "Please choose a smaller file or resize the image first."
    )
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise InvalidImageError(f"{label} was not found (or is not a file).")
        if os.path.getsize(path) > max_bytes:
            raise InvalidImageError(too_big)
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    elif hasattr(source, "read"):
        try:
            if hasattr(source, "seek"):
                source.seek(0)  # an upload may have been read before
            data = source.read(max_bytes + 1)  # one byte more tells "too big" apart
        except (OSError, ValueError) as exc:
            raise InvalidImageError(f"{label} could not be read ({exc}).") from exc
        if not isinstance(data, bytes | bytearray):
            raise InvalidImageError(f"{label} could not be read: it did not give bytes.")
        data = bytes(data)
    else:
        raise InvalidImageError(
            f"Expected image bytes, an uploaded file or a path, got {type(source).__name__}."
        )
    if len(data) > max_bytes:
        raise InvalidImageError(too_big)
    return data


def load_image(
    source: bytes | bytearray | memoryview | str | os.PathLike | io.IOBase,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    *,
    name: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> Image.Image:
    """Load a user image as a fully decoded ``PIL.Image`` in RGB mode.

    Args:
        source: the image as bytes, a binary file-like object, or a path.
        max_pixels: the largest width x height accepted, checked on the header before the
            pixels are decoded (default 4096 x 4096).
        name: the file name to use in error messages (defaults to the path's or the file
            object's name).
        max_bytes: the largest file accepted, checked before parsing (default 10 MB).

    Animated GIF and WebP files give their first frame. Transparent pixels are composited
    on white. The EXIF orientation is applied when it can be read.
    Raises ``InvalidImageError`` (a ``ValueError``) with a message for the student.
    """
    max_pixels = bounded_int("max_pixels", max_pixels, 1, MAX_PIXELS_LIMIT)
    max_bytes = bounded_int("max_bytes", max_bytes, 1, 1024**3)
    label = _describe(name if name is not None else _source_name(source))
    data = _read_source(source, max_bytes, label)
    if not data:
        raise InvalidImageError(f"{label} is empty (0 bytes): there is no picture in it.")

    # catch_warnings changes the process-wide filters for a moment; that is harmless here
    # because the pixel count is also checked by hand below, warning or not.
    with warnings.catch_warnings():
        # Pillow warns (rather than fails) between its limit and twice it: fail instead.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # A broken EXIF block is not the student's problem: it is skipped below, quietly.
        warnings.filterwarnings("ignore", message="Corrupt EXIF", category=UserWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InvalidImageError(
                f"{label} declares a picture far larger than the limit of "
                f"{max_pixels / 1e6:.1f} megapixels. Please resize it and try again."
            ) from exc
        except UnidentifiedImageError as exc:
            other = _sniff_other_format(data)
            if other is not None:
                raise InvalidImageError(
                    f"{label} is a {other} file, which the lab does not accept. Please "
                    f"convert it to {ACCEPTED_TEXT}."
                ) from exc
            raise InvalidImageError(
                f"{label} is not an image file: it could not be read as {ACCEPTED_TEXT}."
            ) from exc
        except Exception as exc:  # a malformed header can raise almost anything
            raise InvalidImageError(
                f"{label} looks like a picture but its header is damaged or cut short ({exc})."
            ) from exc

        # The header gives the size: refuse big images before decompressing a single pixel.
        width, height = image.size
        if width < 1 or height < 1:
            raise InvalidImageError(f"{label} has no pixels ({width} x {height}).")
        if width * height > max_pixels:
            raise InvalidImageError(
                f"{label} is {width} x {height} pixels ({width * height / 1e6:.1f} "
                f"megapixels); the limit is {max_pixels / 1e6:.1f} megapixels. Please "
                "resize it and try again."
            )

        try:
            image.seek(0)  # the first frame of an animation (a no-op for still images)
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InvalidImageError(
                f"{label} is too large to decode safely (limit {max_pixels / 1e6:.1f} megapixels)."
            ) from exc
        except Exception as exc:  # corrupt data can raise OSError, ValueError, SyntaxError...
            if "truncated" in str(exc):
                raise InvalidImageError(
                    f"{label} is incomplete: the file ends before the picture does (was the "
                    "upload or download interrupted?)."
                ) from exc
            raise InvalidImageError(
                f"{label} is damaged and could not be decoded ({exc})."
            ) from exc

        try:
            # Phones store photos sideways plus an EXIF tag saying how to turn them.
            oriented = ImageOps.exif_transpose(image)
        except Exception:  # a huge or broken EXIF block: keep the pixels as stored
            oriented = None
        if oriented is not None:
            image = oriented

    try:
        return to_rgb(image)
    except Exception as exc:
        raise InvalidImageError(
            f"{label} uses colour mode {image.mode!r}, which could not be converted to RGB."
        ) from exc


_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def _flatten_alpha(image: Image.Image) -> Image.Image:
    """Composite an image with transparency onto white and return RGB."""
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def to_rgb(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB, whatever its mode.

    - transparency (RGBA, LA, PA, or a palette / grey / RGB image with a transparent colour)
      is composited on **white**, the colour of an empty page;
    - 16-bit grey ("I;16", "I;16B", ...) is scaled by 255 / 65535, so mid-grey stays
      mid-grey (Pillow's own conversion clips everything above 255 to white);
    - 32-bit integer grey ("I") is read as 16-bit data, the convention of 16-bit PNGs;
    - float grey ("F") is read as [0, 1] if its maximum is at most 1, else as [0, 255];
    - 1-bit, grey, palette, CMYK and YCbCr use Pillow's conversion.
    """
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image).astype(np.float64)  # (H, W)
        grey = np.round(np.clip(values, 0, 65535) * (255.0 / 65535.0)).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if mode == "F":
        values = np.asarray(image).astype(np.float64)  # (H, W)
        values = np.nan_to_num(values, nan=0.0, posinf=255.0, neginf=0.0)
        scale = 255.0 if values.size and values.max() <= 1.0 else 1.0
        grey = np.round(np.clip(values * scale, 0, 255)).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if mode in _ALPHA_MODES or "transparency" in image.info:
        return _flatten_alpha(image)
    return image.convert("RGB")


def image_to_tensor(image: Image.Image, size: int) -> torch.Tensor:
    """Centre-crop ``image`` to a square, resize it to ``size`` x ``size`` (Lanczos, which
    keeps detail when shrinking) and return a float32 tensor (3, size, size) in [0, 1]."""
    size = bounded_int("image size", size, 1, 1024)
    image = to_rgb(image)
    square = ImageOps.fit(image, (size, size), method=Image.Resampling.LANCZOS)
    array = np.array(square, dtype=np.uint8)  # (size, size, 3), a writable copy
    return torch.from_numpy(array).permute(2, 0, 1).to(torch.float32) / 255.0
