"""Teams as scoring knows them, recorded from the registry's events."""
