"""Objection windows: when a team may object (pure deadline maths, in Asia/Seoul), and when windows closed."""
