"""Reading an image file as a drawing, for ``digitgui predict``.

:func:`read_drawing` returns a ``uint8`` raster with the ink high (>= 128 is ink, as
:func:`~digitgui.core.preprocess.raster_to_digit` reads it) or raises :class:`UsageError` with one
sentence saying why the file cannot be read as a drawing:

- the pixel count is capped (:data:`MAX_PIXELS`, checked from the header before anything is
  decoded); a JPEG larger than :data:`DRAFT_SIDE` is decoded at 1/2, 1/4 or 1/8 of its size
  (``Image.draft``), which keeps its longer side at :data:`DRAFT_SIDE` pixels or more: the
  reduction looks at a 512-pixel working copy of the ink at most, so the answer is the same.
  Other formats cannot be decoded smaller; they are read at full size as 8-bit grey (not 64-bit
  floats), which the reduction then sums in blocks;
- an animation or a multi-page file is refused (which frame is "the" drawing is a guess);
- floating-point images (TIFF mode ``F``) hold 0..1 (or 0..255), 16-bit ones 0..65535: both are
  scaled, not clipped to 0..255;
- on an image with a transparent background the opaque pixels are the ink, whatever their colour
  (white ink on transparent is read as well as black); an opaque image's ink is whatever differs
  from its typical (median) pixel, dark on light or light on dark.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ._common import UsageError

__all__ = ["DRAFT_SIDE", "MAX_PIXELS", "read_drawing"]

#: Largest image decoded (width x height, after a JPEG's reduced decoding): 50 megapixels, a
#: full-resolution photo of a modern phone. Decoding costs about 5 bytes a pixel here.
MAX_PIXELS = 50_000_000
#: A JPEG is decoded reduced only as far as its longer side keeps this many pixels.
DRAFT_SIDE = 2048
#: Smallest side :func:`~digitgui.core.preprocess.raster_to_digit` reads.
MIN_SIDE = 32


def read_drawing(path: Path) -> np.ndarray:
    """The image at ``path`` as a ``uint8`` raster ``(h, w)``, ink high, each side >= 32 pixels.
    :class:`UsageError` (one sentence naming the file) when it cannot be read as a drawing."""
    from PIL import Image, UnidentifiedImageError

    try:
        with _open(path) as im:
            _check_one_frame(path, im)
            width, height = im.size
            _draft(im)
            if im.size[0] * im.size[1] > MAX_PIXELS:
                raise UsageError(
                    f"{path}: {width}x{height} pixels is too large to read (at most "
                    f"{MAX_PIXELS // 1_000_000} megapixels); scale the image down first"
                )
            im.load()
            gray, alpha = _channels(path, im)  # the decoded image is let go here
        ink = _ink(gray, alpha)
    except UsageError:
        raise
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder, not an image") from None
    except UnidentifiedImageError:
        raise UsageError(f"{path}: not a readable image (not a format Pillow knows)") from None
    except MemoryError:
        raise UsageError(f"{path}: too large to read in the memory available") from None
    except Image.DecompressionBombError as e:  # only if Pillow's own limit is lower than ours
        raise UsageError(f"{path}: too large to read ({e})") from None
    except OSError as e:
        raise UsageError(f"{path}: not a readable image ({e.strerror or e})") from None
    except Exception as e:  # a damaged file: Pillow raises SyntaxError, ValueError, EOFError...
        raise UsageError(f"{path}: not a readable image ({e or type(e).__name__})") from None
    return _at_least_min_side(ink)


def _open(path: Path):
    """``Image.open`` without Pillow's decompression-bomb limit (about 179 megapixels refused,
    89 warned about): :data:`MAX_PIXELS`, lower, is checked instead, before decoding."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _check_one_frame(path: Path, im) -> None:
    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        kind = "an animation" if im.format in ("GIF", "PNG", "WEBP") else "a multi-page image"
        raise UsageError(
            f"{path}: {kind} of {frames} frames; predict reads a single picture (save the "
            "frame you mean as its own PNG)"
        )


def _draft(im) -> None:
    """Let a large JPEG decode at 1/2, 1/4 or 1/8 scale, its longer side kept >= DRAFT_SIDE."""
    w, h = im.size
    if im.format != "JPEG" or max(w, h) <= 2 * DRAFT_SIDE:
        return
    r = max(w, h) / DRAFT_SIDE
    im.draft(im.mode, (int(w / r), int(h / r)))


def _channels(path: Path, im) -> tuple[np.ndarray, np.ndarray | None]:
    """The decoded image as ``uint8`` grey levels and its alpha channel (None if opaque),
    upright (a phone photo taken sideways carries that in its EXIF orientation)."""
    from PIL import ImageOps

    if im.getexif().get(0x0112, 1) != 1:
        im = ImageOps.exif_transpose(im)
    mode = im.mode
    if mode == "F" or mode.startswith("I"):
        return _scaled_numbers(path, im), None
    if mode == "P" or "transparency" in im.info:
        im = im.convert("RGBA" if "transparency" in im.info else "L")
        mode = im.mode
    if mode in ("PA", "RGBa", "La"):
        im = im.convert("RGBA")
        mode = im.mode
    alpha = np.asarray(im.getchannel("A")) if mode in ("RGBA", "LA") else None
    try:
        return np.asarray(im.convert("L")), alpha
    except ValueError as e:  # a colour mode Pillow cannot turn grey (LAB, HSV...)
        raise UsageError(f"{path}: cannot read its colours (mode {mode}: {e})") from None


def _ink(gray: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Grey levels (and alpha) as ``uint8`` with the ink high."""
    if alpha is not None:
        if np.count_nonzero(alpha >= 128) * 2 < alpha.size and alpha.max() >= 128:
            # Drawn on a transparent background: the opaque pixels are the ink, whatever their
            # colour (white ink on transparent would vanish against a white backdrop).
            return np.array(alpha)
        # An opaque picture, perhaps with transparent holes: those are background, on white.
        a = alpha.astype(np.uint16)
        gray = ((gray * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)
    # Most of any drawing is background: if the typical pixel is bright, the ink is dark.
    if np.count_nonzero(gray >= 128) * 2 > gray.size:
        return np.subtract(255, gray, dtype=np.uint8)
    return np.array(gray, dtype=np.uint8)


def _scaled_numbers(path: Path, im) -> np.ndarray:
    """A floating-point or 16/32-bit integer image scaled to ``uint8`` 0..255."""
    a = np.asarray(im)
    if a.ndim != 2:
        raise UsageError(f"{path}: cannot read its pixels (mode {im.mode}, shape {a.shape})")
    if im.mode == "F":
        if not np.isfinite(a).all():
            raise UsageError(f"{path}: the image holds NaN or infinite values")
        ranges = ((1.0, "0..1"), (255.0, "0..255"))
        kind = "a floating-point image"
    elif im.mode.startswith("I;16"):
        ranges = ((65535.0, "0..65535"),)
        kind = "a 16-bit image"
    else:
        ranges = ((255.0, "0..255"), (65535.0, "0..65535"))
        kind = "an integer image"
    lo, hi = float(a.min()), float(a.max())
    for top, _ in ranges:
        if lo >= 0 and hi <= top:
            return np.rint(a.astype(np.float32) * np.float32(255.0 / top)).astype(np.uint8)
    allowed = " or ".join(text for _, text in ranges)
    raise UsageError(f"{path}: {kind} must hold values {allowed}; this one holds {lo:g} to {hi:g}")


def _at_least_min_side(ink: np.ndarray) -> np.ndarray:
    """A raster with a side under 32 pixels, enlarged by a whole factor (each pixel repeated),
    or padded with background when enlarging would make it huge (a 10x100000 strip)."""
    h, w = ink.shape
    if min(h, w) >= MIN_SIDE:
        return ink
    factor = -(-MIN_SIDE // max(1, min(h, w)))
    if h * w * factor * factor <= 4_000_000:
        return np.repeat(np.repeat(ink, factor, axis=0), factor, axis=1)
    pad_h, pad_w = max(0, MIN_SIDE - h), max(0, MIN_SIDE - w)
    return np.pad(ink, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)))
