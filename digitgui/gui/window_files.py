"""File dialogs and file operations of the main window ``w``: open and save models, export the
drawing, the runs' curves (CSV) and the plot (PNG/SVG). Each reports a failure in a dialog, in
one sentence, and success in the status bar; dialogs start in the folder last used."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog

from digitgui.core.model_io import DigitClassifier, ModelFileError, load_default
from digitgui.core.runs import write_curves_csv

from .model_text import plural

__all__ = [
    "ask_export_curves",
    "ask_export_drawing",
    "ask_export_plot",
    "ask_open_model",
    "ask_save_model",
    "export_curves",
    "export_drawing",
    "export_plot",
    "open_model",
    "save_model",
    "use_shipped_model",
]


def open_model(w, path: str | Path) -> bool:
    """Load a model file; on failure a dialog says why and the current model stays."""
    path = Path(path)
    if w.controller.is_busy():
        w.show_error("Cannot open a model", "Stop training before opening a model.")
        return False
    try:
        model = DigitClassifier.load(path)
    except ModelFileError as e:
        w.show_error("Cannot open the model", str(e))
        return False
    w.set_model(model, path.name)
    w.statusBar().showMessage(f"Opened {path}", 5000)
    return True


def save_model(w, path: str | Path) -> bool:
    """Write the current model to ``path`` (atomically); a dialog reports failures."""
    path = Path(path)
    if w.model() is None:
        w.show_error("Nothing to save", "There is no model yet: train one first.")
        return False
    try:
        w.model().save(path)
    except OSError as e:
        w.show_error("Cannot save the model", f"{path}: {e.strerror or e}")
        return False
    w.statusBar().showMessage(f"Saved the model to {path}", 5000)
    return True


def export_drawing(w, path: str | Path) -> bool:
    """Save the drawing as a 256x256 PNG (dark ink on white)."""
    path = Path(path)
    if w.canvas.is_empty():
        w.show_error("Nothing to export", "The canvas is empty: draw a digit first.")
        return False
    if not w.canvas.to_image().save(str(path), "PNG"):
        w.show_error("Cannot export the drawing", f"{path}: the file cannot be written.")
        return False
    w.statusBar().showMessage(f"Saved the drawing to {path}", 5000)
    return True


def last_folder(w) -> str:
    """The folder a file dialog opens in: the last one used, else the user's documents folder
    (else home), never the folder the app was started from."""
    folder = w._settings.value("files/last_folder", "")
    if isinstance(folder, str) and folder and Path(folder).is_dir():
        return folder
    for location in (
        QStandardPaths.StandardLocation.DocumentsLocation,
        QStandardPaths.StandardLocation.HomeLocation,
    ):
        found = QStandardPaths.writableLocation(location)
        if found and Path(found).is_dir():
            return found
    return str(Path.home())


def remember_folder(w, path: str) -> None:
    w._settings.setValue("files/last_folder", str(Path(path).parent))


def ask_open_model(w) -> None:
    path, _ = QFileDialog.getOpenFileName(
        w, "Open model", last_folder(w), "digitgui models (*.npz);;All files (*)"
    )
    if path:
        remember_folder(w, path)
        open_model(w, path)


def ask_save_model(w) -> None:
    start = str(Path(last_folder(w)) / "model.npz")
    path, _ = QFileDialog.getSaveFileName(w, "Save model", start, "digitgui models (*.npz)")
    if path:
        if not path.endswith(".npz"):
            path += ".npz"
        remember_folder(w, path)
        save_model(w, path)


def ask_export_drawing(w) -> None:
    start = str(Path(last_folder(w)) / "drawing.png")
    path, _ = QFileDialog.getSaveFileName(w, "Export drawing", start, "PNG images (*.png)")
    if path:
        if not path.lower().endswith(".png"):
            path += ".png"
        remember_folder(w, path)
        export_drawing(w, path)


def ask_export_curves(w, runs: list) -> None:
    start = str(Path(last_folder(w)) / "runs.csv")
    path, _ = QFileDialog.getSaveFileName(w, "Export curves", start, "CSV files (*.csv)")
    if path:
        remember_folder(w, path)
        export_curves(w, runs, path)


def export_curves(w, runs: list, path: str | Path) -> bool:
    """Write the curves of ``runs`` to a CSV file; a dialog reports failures."""
    try:
        write_curves_csv(runs, path)
    except OSError as e:
        w.show_error("Cannot export the curves", f"{path}: {e.strerror or e}")
        return False
    w.statusBar().showMessage(f"Saved the curves of {plural(len(runs), 'run')} to {path}", 5000)
    return True


def ask_export_plot(w) -> None:
    start = str(Path(last_folder(w)) / "runs.png")
    path, _ = QFileDialog.getSaveFileName(
        w, "Export plot", start, "PNG images (*.png);;SVG images (*.svg)"
    )
    if path:
        if not path.lower().endswith((".png", ".svg")):
            path += ".png"
        remember_folder(w, path)
        export_plot(w, path)


def export_plot(w, path: str | Path) -> bool:
    """Save the runs plot as a PNG or SVG image (by the suffix)."""
    try:
        w.cost_plot.export(path)
    except (OSError, ValueError) as e:
        w.show_error("Cannot export the plot", str(e))
        return False
    w.statusBar().showMessage(f"Saved the plot to {path}", 5000)
    return True


def use_shipped_model(w) -> bool:
    """Read with the shipped model again (after File > Open or a run)."""
    if w.controller.is_busy():
        w.show_error("Cannot switch models", "Stop training before switching models.")
        return False
    try:
        model = load_default()
    except ModelFileError as e:
        w.show_error("The shipped model is unavailable", str(e))
        return False
    w.set_model(model, w.SHIPPED)
    w.statusBar().showMessage("Reading with the shipped model again", 5000)
    return True
