"""Judged answers: a judge model, served through the gateway, grades open-ended answers."""
