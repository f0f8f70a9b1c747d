"""Launching sweeps: decide what to run (plan), then run it on slots (launchers)."""
