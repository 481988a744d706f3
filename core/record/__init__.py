"""The JSONL run file: its format, step records and typed lines, thinning, and the readers and writers."""
