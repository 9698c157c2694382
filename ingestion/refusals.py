"""The error for a file refused as a whole, in its own module so that every reader of files (the
inbox's, the extracts', the shared CSV text helpers) can raise it without importing one another."""

from __future__ import annotations

from pathlib import Path

__all__ = ["FileRefused"]


class FileRefused(ValueError):
    """The whole file is refused; the message starts with the file's path."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
