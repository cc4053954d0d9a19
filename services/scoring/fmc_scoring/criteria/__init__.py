"""Stage criteria: suites and weights, thresholds, part weights, advancing count, tie-break; frozen
once the stage's evaluation starts."""
