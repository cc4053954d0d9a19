"""The expert panel: evaluators, rubric scores, conflicts of interest, trimmed mean, deadline."""
