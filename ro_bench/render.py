"""Rendering support: a small numpy rasterizer for 2-D envs, and MuJoCo's OpenGL backend.

The rasterizer draws the ``rgb_array`` frames of Particle Gather without matplotlib or a window:
``[size, size, 3]`` uint8 arrays on a white background, with disks and rings whose edges are
anti-aliased by pixel coverage. ``View`` maps world coordinates (x right, y up) to pixels.

``prefer_headless_mujoco_gl`` lets MaMuJoCo render on a machine without a display (see there).
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable, Sequence

import numpy as np

WHITE = (255, 255, 255)


class View:
    """The square of half-width ``half_width`` around ``centre`` (world units), seen in a
    ``size`` x ``size`` frame."""

    def __init__(self, centre: Sequence[float], half_width: float, size: int) -> None:
        self.centre = np.asarray(centre, dtype=np.float64)
        self.half_width = float(half_width)
        self.size = size
        self.scale = size / (2 * self.half_width)  # pixels per world unit

    def __call__(self, point: Sequence[float]) -> tuple[float, float]:
        """Pixel ``(column, row)`` of a world point; pixel ``(i, j)`` covers
        ``[i, i + 1) x [j, j + 1)``."""
        x, y = np.asarray(point, dtype=np.float64) - self.centre
        return (x + self.half_width) * self.scale, (self.half_width - y) * self.scale


def blank(size: int) -> np.ndarray:
    """A white ``[size, size, 3]`` uint8 frame."""
    return np.full((size, size, 3), WHITE, dtype=np.uint8)


def disk(image: np.ndarray, centre: tuple[float, float], radius: float,
         colour: Sequence[int]) -> None:
    """Paint a filled disk of ``radius`` pixels around pixel ``centre`` (column, row) in place."""
    _paint(image, centre, radius + 1, lambda d: np.clip(radius + 0.5 - d, 0.0, 1.0), colour)


def ring(image: np.ndarray, centre: tuple[float, float], radius: float, width: float,
         colour: Sequence[int]) -> None:
    """Paint a circle of ``radius`` pixels, ``width`` pixels thick, in place."""
    _paint(image, centre, radius + width,
           lambda d: np.clip(width / 2 + 0.5 - np.abs(d - radius), 0.0, 1.0), colour)


def _paint(image: np.ndarray, centre: tuple[float, float], extent: float,
           coverage: Callable[[np.ndarray], np.ndarray], colour: Sequence[int]) -> None:
    """Blend ``colour`` into the pixels within ``extent`` of ``centre``, by their ``coverage``
    (0 to 1) as a function of their centres' distance to ``centre``. Only the bounding box is
    computed; shapes partly or wholly outside the frame are clipped."""
    col, row = centre
    height, width = image.shape[:2]
    r0, r1 = max(int(row - extent), 0), min(int(row + extent) + 2, height)
    c0, c1 = max(int(col - extent), 0), min(int(col + extent) + 2, width)
    if r0 >= r1 or c0 >= c1:
        return
    rows = np.arange(r0, r1)[:, None] + 0.5 - row
    cols = np.arange(c0, c1)[None, :] + 0.5 - col
    alpha = coverage(np.sqrt(rows * rows + cols * cols))[..., None]
    patch = image[r0:r1, c0:c1]
    patch[...] = np.rint(patch * (1.0 - alpha) + np.asarray(colour, dtype=np.float64) * alpha)


def prefer_headless_mujoco_gl() -> None:
    """Choose EGL as MuJoCo's OpenGL backend on a Linux machine without a display.

    MuJoCo reads ``MUJOCO_GL`` once, when it is first imported. Unset, it means GLFW, which needs
    an X11 or Wayland display and fails on a headless machine (a server, CI). EGL renders
    offscreen, on a GPU or on Mesa's software rasterizer (Debian packages ``libegl1`` and
    ``libgl1-mesa-dri``). Nothing changes when ``MUJOCO_GL`` is set, a display is present,
    MuJoCo or PyOpenGL is already imported, ``PYOPENGL_PLATFORM`` names another platform (MuJoCo's
    EGL backend would refuse it), or no EGL library is installed (``import mujoco`` itself would
    then fail under ``MUJOCO_GL=egl``, while GLFW fails only when asked to render).
    """
    env = os.environ
    if (
        sys.platform.startswith("linux")
        and "MUJOCO_GL" not in env
        and not env.get("DISPLAY")
        and not env.get("WAYLAND_DISPLAY")
        and env.get("PYOPENGL_PLATFORM", "egl") == "egl"
        and "mujoco" not in sys.modules
        and "OpenGL" not in sys.modules
        and ctypes.util.find_library("EGL") is not None
    ):
        env["MUJOCO_GL"] = "egl"
