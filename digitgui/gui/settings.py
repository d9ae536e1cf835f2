"""Where the app keeps its settings (window geometry, last training settings, pen width).

Tests must never read or write a developer's real settings: ``DIGITGUI_SETTINGS`` names an
explicit ini file (the GUI tests point it into their temporary folder), and ``DIGITGUI_TESTING``
without it uses a private temporary file that is removed when the process exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings

__all__ = ["APPLICATION", "ORGANIZATION", "open_settings"]

ORGANIZATION = "digitgui"
APPLICATION = "digitgui"

_testing_folder: Path | None = None


def _private_test_file() -> Path:
    global _testing_folder
    if _testing_folder is None:
        _testing_folder = Path(tempfile.mkdtemp(prefix="digitgui-settings-"))
        atexit.register(shutil.rmtree, _testing_folder, True)
    return _testing_folder / "settings.ini"


def open_settings() -> QSettings:
    """The settings store: an ini file under the user's config folder (Qt's choice per platform),
    or a test location when ``DIGITGUI_SETTINGS`` / ``DIGITGUI_TESTING`` say so."""
    explicit = os.environ.get("DIGITGUI_SETTINGS")
    if explicit:
        return QSettings(explicit, QSettings.Format.IniFormat)
    if os.environ.get("DIGITGUI_TESTING"):
        return QSettings(str(_private_test_file()), QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )
