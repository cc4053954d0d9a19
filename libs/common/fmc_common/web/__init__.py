"""FastAPI adapters shared by the services: problems, auth dependencies, health, metrics."""
