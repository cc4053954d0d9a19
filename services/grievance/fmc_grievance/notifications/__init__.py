"""Notifications of a decision to a team; each opens the team's objection window."""
