"""Record commands: show, logs, diff (ls lives in cli/table.py)."""
