"""Stage results: gates, composite, ranking, proposed result, approval, publication, versions."""
