"""airan."""
