"""Tests of the scoring service (a package: its service fixtures live as long as its tests)."""
