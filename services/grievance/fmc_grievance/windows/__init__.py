"""Objection windows: when a team may object, computed in Asia/Seoul (pure deadline maths)."""
