"""Grading responses against answer keys; per-suite accuracy with a bootstrap confidence interval.

Pure modules (``normalise``, ``choice``, ``numeric``, ``grader``, ``bootstrap``) import no web,
database or broker code; ``service``, ``repository``, ``models`` and ``consumers`` adapt them.
"""
