"""A row-cursor DataTable whose Enter says in the Footer what it does ("Open", "Book", ...)."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class DeskTable(DataTable):
    """``DeskTable(enter="Open")``: Enter posts ``RowSelected`` and shows as "Enter Open"."""

    DEFAULT_CSS = """
    DeskTable { height: 1fr; }
    """

    def __init__(self, *, enter: str = "Open", **kwargs) -> None:  # noqa: ANN003 - DataTable's options
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._bindings.key_to_bindings["enter"] = [Binding("enter", "select_cursor", enter, show=bool(enter))]

    def _update_dimensions(self, new_rows) -> None:  # noqa: ANN001 - DataTable's row keys
        """Measure the new rows, then drop rows rendered with the old column widths.

        DataTable measures columns when idle but caches rendered rows by its update count, so a
        row drawn between ``add_row`` and that idle kept the old, narrower columns (truncated
        text, seen as flaky screenshots). Bumping the count makes them render again.
        """
        super()._update_dimensions(new_rows)
        self._update_count += 1
        self.refresh()

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
