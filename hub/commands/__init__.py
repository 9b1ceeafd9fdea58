"""Command handlers: each takes the command's `Changes` and its validated arguments, changes
rows, records one audit event per changed key, and returns a small JSON-ready result."""
