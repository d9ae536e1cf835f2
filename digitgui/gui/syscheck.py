"""Can Qt start here? Names the missing system library instead of letting Qt abort.

Qt's own message for a missing library of its X11 plugin ("xcb-cursor0 ... is needed") is often
wrong about which one is missing (shared/notes/qt-and-environment.md), so this asks the dynamic
linker directly (``ldd``) about the platform plugin Qt is going to load, and opens the X display
in a child process before Qt does (Qt aborts when it cannot). It never imports a Qt module into
the calling process. ``python -m digitgui.gui.syscheck`` runs the whole check: exits 0 when Qt can
start, else prints what is wrong and exits 3.

The app runs :func:`startup_problem` on every launch instead, which costs a few milliseconds:
the library check's answer is kept in a stamp file in the Python environment
(:func:`stamp_path`) with what it depended on (the interpreter, the PySide6 version, the Qt
platform and the environment variables that steer Qt's loading, and the size and modification
time of every library ``ldd`` resolved, and of the dynamic linker's cache), and is redone when
any of that changed; a local X display is checked by connecting to its socket. When Qt then
fails to start anyway, :mod:`digitgui.gui.app` forgets the stamp and runs the whole check.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = [
    "DEBIAN_PACKAGES",
    "cached_missing_libraries",
    "display_problem",
    "forget_checks",
    "missing_libraries",
    "platform_name",
    "problems",
    "stamp_path",
    "startup_problem",
]

NOT_INSTALLED = "PySide6 is not installed in this Python environment (pip install -e .)"

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


def _ldd_targets(qt: Path, platform: str) -> list[Path]:
    """The Qt GUI modules and the platform plugin: what Qt loads to open a window."""
    targets = [*qt.glob("QtGui.abi3.so"), *qt.glob("QtWidgets.abi3.so")]
    plugin_dir = qt / "Qt" / "plugins" / "platforms"
    targets += list(plugin_dir.glob(f"libq{platform}.so"))
    if platform == "xcb":
        targets += list((qt / "Qt" / "lib").glob("libQt6XcbQpa.so*"))
    return targets


def _check_libraries(platform: str) -> tuple[list[str], list[Path]]:
    """The shared libraries the dynamic linker cannot find for Qt and ``platform``'s plugin, and
    every file that answer depends on (the checked modules, the libraries found, the linker's
    cache). Nothing to check (not Linux, no ldd, no PySide6): ``([], [])``."""
    if not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return [], []
    qt = _qt_folder()
    if qt is None:
        return [], []
    missing: list[str] = []
    files: list[Path] = [LD_CACHE]
    for target in _ldd_targets(qt, platform):
        try:
            out = subprocess.run(
                ["ldd", str(target)], capture_output=True, text=True, timeout=30, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        files.append(target)
        for lib in re.findall(r"^\s*(\S+)\s+=>\s+not found", out, flags=re.M):
            if lib not in missing:
                missing.append(lib)
        for found in re.findall(r"^\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x", out, flags=re.M):
            if Path(found) not in files:
                files.append(Path(found))
    return missing, files


def missing_libraries(platform: str | None = None) -> list[str]:
    """Shared libraries that the Qt GUI modules and the platform plugin cannot find (Linux)."""
    return _check_libraries(platform or platform_name())[0]


# --- the cached check -----------------------------------------------------------------------------

#: The stamp's file name in the Python environment (``sys.prefix``, the venv).
STAMP_NAME = ".digitgui-qt-check.json"
#: Names another stamp file (the tests use one of their own).
STAMP_VARIABLE = "DIGITGUI_QT_CHECK_STAMP"
#: The dynamic linker's cache: ldconfig rewrites it whenever a package adds or removes a library.
LD_CACHE = Path("/etc/ld.so.cache")
#: Environment variables that change which Qt plugin and which libraries get loaded.
QT_VARIABLES = (
    "QT_QPA_PLATFORM",
    "QT_PLUGIN_PATH",
    "QT_QPA_PLATFORM_PLUGIN_PATH",
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
)


def stamp_path() -> Path:
    """Where the library check's answer is kept: in the Python environment (it goes with it), or
    when that is read-only (a system Python), in the user's cache folder."""
    explicit = os.environ.get(STAMP_VARIABLE)
    if explicit:
        return Path(explicit)
    prefix = Path(sys.prefix)
    if os.access(prefix, os.W_OK):
        return prefix / STAMP_NAME
    import hashlib

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(str(prefix).encode()).hexdigest()[:16]
    return cache / "digitgui" / f"qt-check-{key}.json"


def _pyside_version(qt: Path) -> str:
    try:
        text = (qt / "_config.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    match = re.search(r"^version\s*=\s*[\"']([^\"']*)", text, flags=re.M)
    return match.group(1) if match else ""


def _setting(platform: str) -> dict:
    """What the check's answer depends on besides the files: compared as a whole."""
    qt = _qt_folder()
    return {
        "python": sys.executable,
        "python_version": sys.version,
        "pyside6": str(qt) if qt else "",
        "pyside6_version": _pyside_version(qt) if qt else "",
        "platform": platform,
        "environment": {name: os.environ.get(name, "") for name in QT_VARIABLES},
    }


def _file_state(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _read_stamp() -> dict:
    try:
        stamp = json.loads(stamp_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _write_stamp(stamp: dict) -> None:
    path = stamp_path()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(stamp, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # no cache then: the next launch checks again
        tmp.unlink(missing_ok=True)


def _still_valid(entry: object, platform: str) -> bool:
    if not isinstance(entry, dict) or entry.get("setting") != _setting(platform):
        return False
    files = entry.get("files")
    if not isinstance(files, dict) or not files:
        return False
    return all(_file_state(Path(name)) == state for name, state in files.items())


def cached_missing_libraries(platform: str | None = None, *, renew: bool = False) -> list[str]:
    """:func:`missing_libraries`, answered from the stamp when a check passed here before and
    nothing it depended on changed; otherwise (or with ``renew``) checked again, and the stamp
    updated (a passed check is kept, a failed one never is)."""
    platform = platform or platform_name()
    stamp = _read_stamp()
    if not renew and _still_valid(stamp.get(platform), platform):
        return []
    missing, files = _check_libraries(platform)
    if missing:
        if platform in stamp:
            del stamp[platform]
            _write_stamp(stamp)
    elif files:
        stamp[platform] = {
            "setting": _setting(platform),
            "files": {str(f): _file_state(f) for f in files},
        }
        _write_stamp(stamp)
    return missing


def forget_checks() -> None:
    """Drop the stamp: the next check is a whole one (after Qt failed to start)."""
    with contextlib.suppress(OSError):
        stamp_path().unlink()


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


def _local_x_server(display: str) -> bool | None:
    """Whether an X server listens on the local socket of ``display`` (``:0``, ``:1.0``,
    ``unix:0``); None for a display on another host. Connecting costs microseconds, where
    opening the display costs a child interpreter."""
    match = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display.strip())
    if match is None:
        return None
    import socket

    path = f"/tmp/.X11-unix/X{match.group(1)}"
    addresses = ["\0" + path, path] if sys.platform.startswith("linux") else [path]
    for address in addresses:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2.0)
            try:
                s.connect(address)
            except OSError:
                continue
            return True
    return False


def display_problem(quick: bool = False) -> str | None:
    """A sentence if the platform plugin needs a display server and none is reachable.

    ``quick``: a local X display whose socket accepts a connection counts as reachable without
    opening it (the app's start; should Qt still fail, the app runs the whole check)."""
    platform = platform_name()
    if platform == "xcb":
        display = os.environ.get("DISPLAY")
        if not display:
            return NO_DISPLAY
        if quick and _local_x_server(display):
            return None
        if _x_display_opens() is False:
            return DISPLAY_UNREACHABLE.format(display=display)
    if platform == "wayland" and not os.environ.get("WAYLAND_DISPLAY"):
        return NO_DISPLAY.replace("DISPLAY is not set", "WAYLAND_DISPLAY is not set")
    return None


def _libraries_sentence(missing: list[str]) -> str:
    packages = sorted({DEBIAN_PACKAGES.get(m, "?") for m in missing} - {"?"})
    text = f"Qt cannot load: missing system libraries {', '.join(missing)}"
    if packages:
        text += f" (Debian/Ubuntu: sudo apt-get install {' '.join(packages)})"
    return text


def startup_problem() -> str | None:
    """The first reason Qt cannot start here, checked cheaply enough for every launch: the
    display (:func:`display_problem` with ``quick``), then the libraries
    (:func:`cached_missing_libraries`). None: start Qt."""
    if _qt_folder() is None:
        return NOT_INSTALLED
    display = display_problem(quick=True)
    if display:
        return display
    missing = cached_missing_libraries()
    return _libraries_sentence(missing) if missing else None


def problems() -> list[str]:
    """Sentences describing why Qt cannot start here (empty when it can): the whole check, which
    also renews the stamp of :func:`cached_missing_libraries`."""
    if _qt_folder() is None:
        return [NOT_INSTALLED]
    found = []
    display = display_problem()
    if display:
        found.append(display)
    missing = cached_missing_libraries(renew=True)
    if missing:
        found.append(_libraries_sentence(missing))
    return found


def main() -> int:
    found = problems()
    for p in found:
        print(f"digitgui: {p}", file=sys.stderr)
    return 3 if found else 0


if __name__ == "__main__":
    sys.exit(main())
