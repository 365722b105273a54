"""Read models derived from the case log (oversight counts, reports, audit)."""
