"""Every table of grievance, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from fmc_grievance.audit.models import AuditEntry, AuditHead
from fmc_grievance.base import PLATFORM, Base
from fmc_grievance.notifications.models import Notification
from fmc_grievance.objections.models import (
    AttachmentBlob,
    Objection,
    ObjectionVersion,
    ReEvaluation,
    VersionAttachment,
)
from fmc_grievance.participants.models import Participant
from fmc_grievance.windows.models import DecisionClosing, WindowClosing

__all__ = [
    "PLATFORM",
    "AttachmentBlob",
    "AuditEntry",
    "AuditHead",
    "Base",
    "DecisionClosing",
    "Notification",
    "Objection",
    "ObjectionVersion",
    "Participant",
    "ReEvaluation",
    "VersionAttachment",
    "WindowClosing",
]
