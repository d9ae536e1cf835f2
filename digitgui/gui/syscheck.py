"""Can Qt start here? Names the missing system library instead of letting Qt abort.

Qt's own message for a missing library of its X11 plugin ("xcb-cursor0 ... is needed") is often
wrong about which one is missing (shared/notes/qt-and-environment.md), so this asks the dynamic
linker directly (``ldd``) about the platform plugin Qt is going to load, and opens the X display
in a child process before Qt does (Qt aborts when it cannot). It never imports a Qt module into
the calling process. ``python -m digitgui.gui.syscheck`` exits 0 when Qt can start, else prints
what is wrong and exits 3.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["DEBIAN_PACKAGES", "display_problem", "missing_libraries", "platform_name", "problems"]

NO_DISPLAY = (
    "no display found (DISPLAY is not set): run the app under a virtual display with "
    "`xvfb-run -a scripts/run`, or train without a window with `scripts/run train` "
    "(or `.venv/bin/digitgui train`)"
)

#: The display is named but cannot be opened: ``{display}`` is the value of DISPLAY.
DISPLAY_UNREACHABLE = (
    "cannot open the display DISPLAY={display} (no X server answers there, or it refused the "
    "connection): start it, fix DISPLAY, or unset DISPLAY and use `xvfb-run -a scripts/run`"
)

#: Seconds to wait for the X server to answer before calling the display unreachable.
PROBE_TIMEOUT = 10.0

# Run in a child process: opening a display can hang (a remote host that never answers) and Xlib
# may print its own complaints; the exit code says whether XOpenDisplay succeeded.
_PROBE = """
import ctypes, ctypes.util, sys
name = ctypes.util.find_library("X11") or "libX11.so.6"
try:
    x11 = ctypes.CDLL(name)
except OSError:
    sys.exit(2)
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
d = x11.XOpenDisplay(None)
if not d:
    sys.exit(1)
x11.XCloseDisplay(d)
"""

#: Shared libraries Qt needs, and the Debian/Ubuntu package that provides each.
DEBIAN_PACKAGES = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
}


def platform_name() -> str:
    """The Qt platform plugin that will be used: ``QT_QPA_PLATFORM`` or, on Linux, xcb."""
    name = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if name:
        return name
    if sys.platform.startswith("linux"):
        return "wayland" if os.environ.get("WAYLAND_DISPLAY") else "xcb"
    return ""


def _qt_folder() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def missing_libraries(platform: str | None = None) -> list[str]:
    """Shared libraries that the Qt GUI modules and the platform plugin cannot find (Linux)."""
    if not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return []
    qt = _qt_folder()
    if qt is None:
        return []
    platform = platform or platform_name()
    targets = [*qt.glob("QtGui.abi3.so"), *qt.glob("QtWidgets.abi3.so")]
    plugin_dir = qt / "Qt" / "plugins" / "platforms"
    targets += list(plugin_dir.glob(f"libq{platform}.so"))
    if platform == "xcb":
        targets += list((qt / "Qt" / "lib").glob("libQt6XcbQpa.so*"))
    missing: list[str] = []
    for target in targets:
        try:
            out = subprocess.run(
                ["ldd", str(target)], capture_output=True, text=True, timeout=30, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        for lib in re.findall(r"^\s*(\S+)\s+=>\s+not found", out, flags=re.M):
            if lib not in missing:
                missing.append(lib)
    return missing


def _x_display_opens() -> bool | None:
    """Whether the X display named by DISPLAY can be opened (None: cannot tell, no libX11)."""
    try:
        code = subprocess.run(
            [sys.executable, "-c", _PROBE],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=PROBE_TIMEOUT,
            check=False,
        ).returncode
    except subprocess.TimeoutExpired:
        return False
    except OSError:
        return None
    return {0: True, 1: False}.get(code)


def display_problem() -> str | None:
    """A sentence if the platform plugin needs a display server and none is reachable."""
    platform = platform_name()
    if platform == "xcb":
        display = os.environ.get("DISPLAY")
        if not display:
            return NO_DISPLAY
        if _x_display_opens() is False:
            return DISPLAY_UNREACHABLE.format(display=display)
    if platform == "wayland" and not os.environ.get("WAYLAND_DISPLAY"):
        return NO_DISPLAY.replace("DISPLAY is not set", "WAYLAND_DISPLAY is not set")
    return None


def problems() -> list[str]:
    """Sentences describing why Qt cannot start here (empty when it can)."""
    if _qt_folder() is None:
        return ["PySide6 is not installed in this Python environment (pip install -e .)"]
    platform = platform_name()
    found = []
    display = display_problem()
    if display:
        found.append(display)
    missing = missing_libraries(platform)
    if missing:
        packages = sorted({DEBIAN_PACKAGES.get(m, "?") for m in missing} - {"?"})
        text = f"Qt cannot load: missing system libraries {', '.join(missing)}"
        if packages:
            text += f" (Debian/Ubuntu: sudo apt-get install {' '.join(packages)})"
        found.append(text)
    return found


def main() -> int:
    found = problems()
    for p in found:
        print(f"digitgui: {p}", file=sys.stderr)
    return 3 if found else 0


if __name__ == "__main__":
    sys.exit(main())
