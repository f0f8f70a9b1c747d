"""Designs: which configurations to run (Point, Grid, Sample, Group)."""
