"""DEMO DATA written for this project (see manifest.json): not a real benchmark."""
