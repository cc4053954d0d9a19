"""Objections: filing, amendments (every version kept), attachments, review and decisions."""
