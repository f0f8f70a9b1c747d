"""The run record: folders and files that are the truth about every run."""
