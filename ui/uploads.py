"""Reading user uploads: every file goes through fmcore's safe loader, one message per
bad file, and the good ones are kept (rule 8: a clear message, never a traceback)."""

from __future__ import annotations

from fmcore.data.images import load_image
from fmcore.errors import InvalidImageError

IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "gif", "bmp"]


def read_images(files) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(name, bytes) of each readable image, and a message for each file that is not."""
    good, errors = [], []
    for file in files or []:
        data = file.getvalue()
        try:
            load_image(data, name=file.name)  # checked now, so a bad file is named at once
        except InvalidImageError as error:
            errors.append(str(error))
        else:
            good.append((file.name, data))
    return good, errors
