"""Real-user evaluation, arena style: battles, votes, caps, and Bradley-Terry ratings."""
