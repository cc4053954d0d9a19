"""The stage-2 section of the replay's report (terminal tables; report.json's ``stage2`` key)."""

from __future__ import annotations

from typing import Any

from fmc_devrunner.stage1 import report as stage1_report
from fmc_devrunner.stage1.scenario import ReplayRecord


def terminal(record: ReplayRecord) -> str:
    parts = [
        "",
        "=" * 100,
        "Stage 2 (continuation): the additional selection and the second evaluation "
        "(ILLUSTRATIVE: the newcomer and every stage-2 figure)",
        "=" * 100,
    ]
    selection = record.finalisation.get("selection") or {}
    if selection:
        parts.append(
            f"additional selection: {selection['team']} applied as {selection['basis']}, was selected "
            f"(call {selection['call_status']}); equal GPU terms: {selection.get('equal_gpu_terms')}"
        )
    if record.teams and any(t.outcome for t in record.teams):
        parts.append(stage1_report._table(*stage1_report.outcome_rows(record)))
    parts += stage1_report._evaluation_lines(record)
    parts += stage1_report._announcement_lines(record)
    grievance = record.grievance
    if grievance:
        parts += [
            "",
            f"grievance: {grievance['notified']} teams notified, window until "
            f"{grievance['window']['deadline']} (Asia/Seoul)",
        ]
    final = record.finalisation
    if final.get("stage_status"):
        parts.append(
            f"finalisation: stage {final.get('stage_status')}; objections {final.get('objections_by_status')}"
        )
    corrections: list[dict[str, Any]] = final.get("corrections") or []
    if corrections:
        parts.append("\ncorrections (hook points in fmc_devrunner.stage2.scenario):")
        parts += [
            f"  {c['hook']:<40} {'replayed' if c['replayed'] else 'not replayed yet'}: {c['what']}"
            for c in corrections
        ]
    parts += ["", "Stage-2 timings", stage1_report._table(*stage1_report.timing_rows(record))]
    return "\n".join(parts)
