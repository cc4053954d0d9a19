"""The web tier: pages for people, calling the four services with the signed-in person\x27s token."""
