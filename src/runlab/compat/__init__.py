"""Compatibility layers: the APIs, folder layouts and commands of the tools runlab replaces."""
