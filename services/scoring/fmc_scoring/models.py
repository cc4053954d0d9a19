"""Every table of scoring, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from fmc_scoring.arena.models import ArenaSetting, Battle, Vote, VoteExclusion
from fmc_scoring.audit.models import ScoringAuditEntry, ScoringAuditHead
from fmc_scoring.base import PLATFORM, Base
from fmc_scoring.criteria.models import StageCriteria, StageSuite
from fmc_scoring.experts.models import ExpertPanel, ExpertScore, PanelEvaluator, ScoreAmendment
from fmc_scoring.grading.models import ItemGradeRow, ItemSample, RunGrade
from fmc_scoring.judging.models import Judgement, JudgeRun, SuiteJudge
from fmc_scoring.originality.models import DonorModel, DonorTensor, OriginalityCheck
from fmc_scoring.participants.models import Participant
from fmc_scoring.planning.models import EvaluatedSubmission, Evaluation, PlannedRun, SampleRun
from fmc_scoring.results.models import (
    StageFinality,
    StageFinalization,
    StageReopening,
    StageResult,
    TeamResult,
)
from fmc_scoring.suites.models import Suite, SuiteAnswerKey, SuiteItem, SuiteKeyRevision

__all__ = [
    "PLATFORM",
    "ArenaSetting",
    "Base",
    "Battle",
    "DonorModel",
    "DonorTensor",
    "EvaluatedSubmission",
    "Evaluation",
    "ExpertPanel",
    "ExpertScore",
    "ItemGradeRow",
    "ItemSample",
    "JudgeRun",
    "Judgement",
    "OriginalityCheck",
    "PanelEvaluator",
    "Participant",
    "PlannedRun",
    "RunGrade",
    "SampleRun",
    "ScoreAmendment",
    "ScoringAuditEntry",
    "ScoringAuditHead",
    "StageCriteria",
    "StageFinality",
    "StageFinalization",
    "StageReopening",
    "StageResult",
    "StageSuite",
    "Suite",
    "SuiteAnswerKey",
    "SuiteItem",
    "SuiteJudge",
    "SuiteKeyRevision",
    "TeamResult",
    "Vote",
    "VoteExclusion",
]
