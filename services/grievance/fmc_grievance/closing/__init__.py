"""Closing windows at their deadlines, and announcing when a decision's grievances are over."""
