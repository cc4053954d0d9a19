"""The stage-2 section of the replay's report (terminal tables; report.json's ``stage2`` key)."""

from __future__ import annotations

import textwrap
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
    if record.public_announcement:
        parts += ["", "Versions announced on the public topic", stage1_report._table(*version_rows(record))]
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
    if final.get("corrections"):
        parts += ["", "Corrections (ILLUSTRATIVE; hooks in fmc_devrunner.stage2.scenario)"]
        for hook, replayed, seen in correction_rows(record)[1]:
            parts.append(f"  {hook} ({'replayed' if replayed == 'yes' else 'not replayed yet'}):")
            parts.append(textwrap.fill(seen, width=100, initial_indent="    ", subsequent_indent="    "))
    parts += ["", "Stage-2 timings", stage1_report._table(*stage1_report.timing_rows(record))]
    return "\n".join(parts)


def version_rows(record: ReplayRecord) -> tuple[list[str], list[list[str]]]:
    """Each StageResultAnnounced of the stage: its version and what it corrects."""
    header = ["version", "corrects", "correction", "announced at", "teams advanced"]
    rows = []
    for envelope in record.public_announcement:
        data = envelope["data"]
        if "stage-result-announced" not in envelope.get("type", ""):
            continue
        advanced = sorted(t["team_name"] for t in data["teams"] if t["outcome"] == "advanced")
        corrects = data.get("corrects_version")
        rows.append(
            [
                str(data["version"]),
                "" if corrects is None else f"version {corrects}",
                data.get("correction") or "",
                str(data.get("announced_at", "")),
                ", ".join(advanced),
            ]
        )
    return header, rows


def correction_rows(record: ReplayRecord) -> tuple[list[str], list[list[str]]]:
    header = ["hook", "replayed", "what the platform did"]
    corrections: list[dict[str, Any]] = record.finalisation.get("corrections") or []
    return header, [[c["hook"], "yes" if c["replayed"] else "not yet", _seen(c)] for c in corrections]


def _outcomes(outcomes: dict[str, Any]) -> str:
    return ", ".join(f"{lead} {o}{f' ({r})' if r else ''}" for lead, (o, r) in sorted(outcomes.items()))


def _seen(c: dict[str, Any]) -> str:
    """One line of what the hook saw (the full record is in report.json's stage2.finalisation)."""
    hook = c["hook"]
    if not c["replayed"]:
        return str(c["what"])
    try:
        if hook == "hook_wrong_originality_check":
            v2, told = c["version_2"], c["notified_again"]
            windows = ", ".join(f"{lead}: {t['after'][0]} until {t['after'][3]}" for lead, t in told.items())
            public = c["public_announcement"]
            return (
                f"wrong donor {c['wrong_donor']['name']} ({c['wrong_donor']['actually']}); version 1: "
                f"{_outcomes(c['version_1'])}; objection ({c['objection']['grounds']}) "
                f"{c['objection']['status']}, donor retired, re-check {c['recheck']['verdict']}; version "
                f"{v2['version']} corrects {v2['corrects_version']} ({v2['correction']}): "
                f"{_outcomes(v2['outcomes'])}; notified again with fresh windows: {windows}; public topic: "
                f"version {public['version']} corrects {public['corrects_version']} ({public['correction']})"
            )
        if hook == "hook_vote_after_cutoff":
            return (
                f"vote at {c['vote']['voted_at']} after the cut-off {c['cutoff']}: in_window "
                f"{c['vote']['in_window']}; counted votes {c['counted_votes_before']} -> "
                f"{c['counted_votes_after']} (version 1 counted {c['version_1_votes']})"
            )
        if hook == "hook_answer_key_erratum":
            v3 = c["version_3"]
            return (
                f"{c['suite']} key revision {c['key_revision']} ({', '.join(c['item_ids'])}); objection by "
                f"{c['objection']['team']} ({c['objection']['grounds']}) {c['objection']['status']}; version "
                f"{v3['version']} corrects {v3['corrects_version']} ({v3['correction']}): "
                f"{len(c['key_revision_by_team']['version_3'])} teams graded under it; outcomes unchanged"
            )
        if hook == "hook_final_stage_refuses_new_version":
            return (
                f"public final {c['public_final']} (version {c['public_version']}), registry stage "
                f"{c['registry_stage']}; proposing a version: {c['propose_status']} {c['propose_code']}"
            )
    except KeyError as missing:  # a hook that failed half-way: say what it got to
        return f"{c['what']} (incomplete: {missing} not reached)"
    return str(c["what"])
