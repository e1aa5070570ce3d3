"""The Textual TUI: imported only when `clinic-desk tui` (or `demo`) starts it."""
