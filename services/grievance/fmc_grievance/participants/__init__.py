"""Teams as grievance knows them, recorded from the registry's events."""
