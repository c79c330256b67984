"""The embedded local provider: a directory kept in one JSON file, no credentials needed."""

from reconciler.providers.local.directory import FILE_FORMAT, TABLES, LocalProvider, Refused, empty_directory

__all__ = ["FILE_FORMAT", "TABLES", "LocalProvider", "Refused", "empty_directory"]
