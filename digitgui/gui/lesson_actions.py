"""File > Save lesson / Open lesson / Export handout / Copy as command line, for the window ``w``.

A lesson file (:mod:`digitgui.core.lesson_file`) keeps the training settings, the drawing, the
plot's axis and scale and the tab shown, so a class reopens to the same screen and a run from it
gives identical numbers. A handout is one page (PNG or PDF): the plot as shown, each shown run's
settings and accuracies, and the command line that reproduces the latest run; the curves go
beside it as CSV.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import QApplication, QFileDialog

from digitgui.core.lesson_file import (
    LessonFile,
    LessonFileError,
    load_lesson,
    save_lesson,
    train_command,
)
from digitgui.core.runs import write_curves_csv

from .window_files import last_folder, remember_folder

__all__ = [
    "ask_export_handout",
    "ask_open_lesson",
    "ask_save_lesson",
    "copy_command",
    "current_lesson",
    "export_handout",
    "open_lesson",
    "save_lesson_as",
]

LESSON_FILTER = "digitgui lessons (*.digitgui-lesson.json *.json);;All files (*)"
#: A handout page at 150 dpi (A4: 1240 x 1754 px).
PAGE_PX = (1240, 1754)


def current_lesson(w) -> LessonFile:
    """The window's state as a lesson (``ValueError`` if the training form is invalid)."""
    config = w.training_panel.config()
    tabs = w.insight_tabs
    return LessonFile(
        config=config,
        preset=w.training_panel.preset_name(),
        strokes=w.canvas.strokes(),
        tab=tabs.tabText(tabs.currentIndex()),
        x_axis=w.cost_plot.x_axis,
        log_y=w.cost_plot.log_y(),
    )


def save_lesson_as(w, path: str | Path) -> bool:
    try:
        save_lesson(current_lesson(w), path)
    except ValueError as e:
        w.show_error("Cannot save the lesson", f"The training settings are not valid: {e}")
        return False
    except OSError as e:
        w.show_error("Cannot save the lesson", f"{path}: {e.strerror or e}")
        return False
    w.statusBar().showMessage(f"Saved the lesson to {path}", 5000)
    return True


def open_lesson(w, path: str | Path) -> bool:
    """Show a lesson file's settings, drawing and view; a bad file gets one sentence and
    changes nothing."""
    if w.controller.is_busy():
        w.show_error("Cannot open a lesson", "Stop training before opening a lesson.")
        return False
    try:
        lesson = load_lesson(path)
    except LessonFileError as e:
        w.show_error("Cannot open the lesson", str(e))
        return False
    w.training_panel.set_config(lesson.config, lesson.preset)
    w.canvas.set_strokes(lesson.strokes)
    w.training_tab.set_x_axis(lesson.x_axis)
    w.log_action.setChecked(lesson.log_y)
    tabs = w.insight_tabs
    for i in range(tabs.count()):
        if tabs.tabText(i) == lesson.tab:
            tabs.setCurrentIndex(i)
    w.statusBar().showMessage(f"Opened the lesson {Path(path).name}", 5000)
    return True


def _latest_config(w):
    run = w.controller.latest
    return run.config if run is not None else w.training_panel.config()


def copy_command(w) -> str:
    """Put the ``digitgui train`` line of the latest run (or of the form) on the clipboard."""
    try:
        command = train_command(_latest_config(w))
    except ValueError as e:
        w.statusBar().showMessage(f"No command line: the settings are not valid ({e})", 8000)
        return ""
    QApplication.clipboard().setText(command)
    w.statusBar().showMessage(f"Copied: {command}", 10000)
    return command


def _page_lines(w) -> list[str]:
    lines = []
    for run in w.cost_plot.shown_runs():
        acc = ", ".join(
            f"{name} {100 * v:.1f}%"
            for name, v in (
                ("training", run.train_acc),
                ("validation", run.val_acc),
                ("test", run.test_acc),
                ("handwriting", run.handwriting_acc),
            )
            if v is not None
        )
        what = run.difference or "as the preset"
        lines.append(f"• {run.name} ({run.config.name}: {what}): {run.outcome}; {acc}")
    with contextlib.suppress(ValueError):  # an invalid form: no command line to give
        lines += ["", "To train it again:", train_command(_latest_config(w))]
    return lines


def _paint_page(painter: QPainter, width: float, height: float, w) -> None:
    margin = width * 0.06
    y = margin
    title = QFont(painter.font())
    title.setPixelSize(int(width * 0.028))
    title.setBold(True)
    painter.setFont(title)
    painter.setPen(QColor("black"))
    painter.drawText(QRectF(margin, y, width - 2 * margin, width * 0.05), "digitgui: training runs")
    y += width * 0.05
    body = QFont(painter.font())
    body.setBold(False)
    body.setPixelSize(int(width * 0.014))
    painter.setFont(body)
    painter.drawText(
        QRectF(margin, y, width - 2 * margin, width * 0.03),
        datetime.now().strftime("%Y-%m-%d %H:%M"),
    )
    y += width * 0.04
    plot = w.cost_plot.grab().toImage()
    scale = (width - 2 * margin) / max(1, plot.width())
    target = QRectF(margin, y, plot.width() * scale, plot.height() * scale)
    painter.drawImage(target, plot)
    y += target.height() + width * 0.03
    text = "\n".join(_page_lines(w))
    painter.drawText(
        QRectF(margin, y, width - 2 * margin, height - y - margin),
        int(Qt.TextFlag.TextWordWrap),
        text,
    )


def export_handout(w, path: str | Path) -> bool:
    """One page (PNG or PDF, by the suffix) and the shown runs' curves as CSV beside it
    (same name, ``.csv``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".pdf"):
        w.show_error("Cannot export the handout", f"{path.name}: save the handout as .png or .pdf")
        return False
    if not path.parent.is_dir():
        w.show_error("Cannot export the handout", f"{path.parent}: no such folder")
        return False
    try:
        if suffix == ".png":
            image = QImage(*PAGE_PX, QImage.Format.Format_RGB32)
            image.fill(QColor("white"))
            painter = QPainter(image)
            try:
                _paint_page(painter, *PAGE_PX, w)
            finally:
                painter.end()
            if not image.save(str(path), "PNG"):
                raise OSError(f"{path}: the file cannot be written")
        else:
            writer = QPdfWriter(str(path))
            writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
            writer.setPageMargins(QMarginsF(0, 0, 0, 0))
            writer.setResolution(150)
            painter = QPainter(writer)
            try:
                _paint_page(painter, writer.width(), writer.height(), w)
            finally:
                painter.end()
        csv = write_curves_csv(w.cost_plot.shown_runs(), path.with_suffix(".csv"))
    except OSError as e:
        w.show_error("Cannot export the handout", str(e))
        return False
    w.statusBar().showMessage(f"Saved the handout to {path} and the curves to {csv.name}", 8000)
    return True


def ask_save_lesson(w) -> None:
    start = str(Path(last_folder(w)) / "lesson.digitgui-lesson.json")
    path, _ = QFileDialog.getSaveFileName(w, "Save lesson", start, LESSON_FILTER)
    if path:
        if not path.endswith(".json"):
            path += ".digitgui-lesson.json"
        remember_folder(w, path)
        save_lesson_as(w, path)


def ask_open_lesson(w) -> None:
    path, _ = QFileDialog.getOpenFileName(w, "Open lesson", last_folder(w), LESSON_FILTER)
    if path:
        remember_folder(w, path)
        open_lesson(w, path)


def ask_export_handout(w) -> None:
    start = str(Path(last_folder(w)) / "handout.pdf")
    path, _ = QFileDialog.getSaveFileName(
        w, "Export handout", start, "PDF documents (*.pdf);;PNG images (*.png)"
    )
    if path:
        if not path.lower().endswith((".pdf", ".png")):
            path += ".pdf"
        remember_folder(w, path)
        export_handout(w, path)
