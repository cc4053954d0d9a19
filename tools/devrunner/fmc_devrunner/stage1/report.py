"""The replay's report: tables in the terminal, and the same as JSON and HTML files."""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fmc_devrunner.stage1.scenario import ReplayRecord
from fmc_devrunner.stage1.world import SIMULATED

Row = list[str]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def outcome_rows(record: ReplayRecord) -> tuple[Row, list[Row]]:
    header = [
        "team",
        "outcome",
        "reason",
        "originality",
        "benchmark acc.",
        "expert",
        "user",
        "rank",
        "registry",
    ]
    rows = [
        [
            team.name,
            team.outcome,
            team.reason or "",
            team.originality,
            _fmt(team.figures.get("benchmark_accuracy")),
            _fmt(team.figures.get("expert"), 1),
            _fmt(team.figures.get("user"), 1),
            _fmt(team.figures.get("rank")),
            team.final_status,
        ]
        for team in sorted(
            record.teams, key=lambda t: (t.outcome != "advance", t.figures.get("rank") or 99, t.name)
        )
    ]
    return header, rows


def announcement_rows(record: ReplayRecord) -> tuple[Row, list[Row]]:
    header = ["event", "team", "outcome", "reason category"]
    rows = []
    for envelope in record.public_announcement:
        for team in envelope["data"].get("teams", []):
            rows.append(
                [
                    envelope["type"],
                    team.get("team_name", ""),
                    team.get("outcome", ""),
                    team.get("reason_category") or "",
                ]
            )
    return header, rows


def timing_rows(record: ReplayRecord) -> tuple[Row, list[Row]]:
    return ["step", "seconds"], [[step, f"{seconds:.1f}"] for step, seconds in record.timings.items()]


def _table(header: Row, rows: list[Row]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


def terminal(record: ReplayRecord, ok: bool, error: str | None) -> str:
    parts = [
        "",
        "=" * 100,
        "Stage 1 replay: outcome per team (operator view; figures are SIMULATED inputs)",
        "=" * 100,
    ]
    if record.teams and any(t.outcome for t in record.teams):
        parts.append(_table(*outcome_rows(record)))
    parts += _evaluation_lines(record)
    parts += _announcement_lines(record)
    parts += _grievance_lines(record)
    parts += ["", "Timings", _table(*timing_rows(record))]
    if record.stage2_record is not None:
        from fmc_devrunner.stage2 import report as stage2_report  # the continuation, when it ran

        parts.append(stage2_report.terminal(record.stage2_record))
    parts += ["", f"result: {'OK' if ok else 'FAILED'}"]
    if error:
        parts.append(f"error: {error}")
    return "\n".join(parts)


def _evaluation_lines(record: ReplayRecord) -> list[str]:
    parts = []
    result = record.result
    if result:
        parts.append(
            f"\nadvancing {result['advancing']} of {result['advancing_planned']} planned; "
            f"vacancies {result['vacancies']}"
        )
    if record.arena:
        arena = record.arena
        parts.append(
            f"arena: {arena['battles']} battles, votes {arena['votes']}, "
            f"ratings converged: {arena['converged']}"
        )
    if record.panel:
        parts.append(
            f"expert panel: {record.panel['evaluators']} evaluators; refused for conflict of interest: "
            f"{', '.join(record.panel['conflict_refusals']) or 'none'}"
        )
    for lead, judged in record.runs.get("judged", {}).items():
        count, ratings = judged["judgements"], judged["ratings"]
        parts.append(f"judge on {lead}'s open answers: {count} judgements, ratings {ratings}")
    return parts


def _announcement_lines(record: ReplayRecord) -> list[str]:
    parts = []
    if record.public_announcement:
        parts += [
            "",
            "The public announcement as a partner receives it (topic fmc.public.announcements.v1)",
            _table(*announcement_rows(record)),
        ]
        for envelope in record.public_announcement:
            attributes = ", ".join(
                f"{k}={envelope.get(k)}" for k in ("specversion", "type", "source", "time", "id")
            )
            parts.append(f"CloudEvents envelope: {attributes}")
    if record.confidentiality:
        found = record.confidentiality["forbidden_fields_found"]
        parts.append(
            f"\nconfidentiality: {record.confidentiality['public_events_checked']} public events and "
            f"{len(record.confidentiality['public_endpoints_checked'])} public endpoints checked; "
            f"score or rank fields found: {len(found)}"
        )
    return parts


def _grievance_lines(record: ReplayRecord) -> list[str]:
    parts = []
    grievance = record.grievance
    if grievance:
        objection = grievance["objection"]
        parts += [
            "",
            f"grievance: {grievance['notified']} teams notified, window until "
            f"{grievance['window']['deadline']} (Asia/Seoul)",
            f"  objection by {objection['team']} ({objection['grounds']}): {objection['status']}",
            f"  reason: {objection['reason']}",
        ]
    final = record.finalisation
    if final:
        parts.append(
            f"finalisation: stage {final.get('stage_status')}; objections {final.get('objections_by_status')}"
        )
        call = final.get("selection_call")
        if call:
            parts.append(
                f"additional selection: call {call['status']}, {call['vacancies']} vacancy, "
                f"{call['eligible']} eligible teams {call['eligible_by_basis']}"
            )
    return parts


def as_json(record: ReplayRecord, ok: bool, error: str | None) -> dict[str, Any]:
    document = asdict(record)
    if record.stage2_record is not None:
        document["stage2"] = as_json(record.stage2_record, ok, error)
        for key in ("ok", "error", "simulated"):
            document["stage2"].pop(key)
    document.pop("stage2_record", None)
    for team in document["teams"]:
        team["team_id"] = str(team["team_id"])
        team["submission_id"] = str(team["submission_id"]) if team["submission_id"] else None
        team["model"] = {"name": team["model"]["model_name"], "simulated_quality": team["model"]["quality"]}
    return {"ok": ok, "error": error, "simulated": SIMULATED, **document}


def _html_table(header: Row, rows: list[Row]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def as_html(record: ReplayRecord, ok: bool, error: str | None) -> str:
    raw = html.escape(json.dumps(record.public_announcement, indent=2, ensure_ascii=False))
    sections = [
        ("Outcome per team (operator view)", _html_table(*outcome_rows(record))),
        (
            "The public announcement as a partner receives it",
            _html_table(*announcement_rows(record)) + f"<pre>{raw}</pre>",
        ),
        ("Timings", _html_table(*timing_rows(record))),
    ]
    second = record.stage2_record
    if second is not None:
        from fmc_devrunner.stage2 import report as stage2_report  # the continuation, when it ran

        sections += [
            ("Stage 2 (ILLUSTRATIVE continuation): outcome per team", _html_table(*outcome_rows(second))),
            ("Stage 2: the public announcement", _html_table(*announcement_rows(second))),
            ("Stage 2: the versions announced", _html_table(*stage2_report.version_rows(second))),
            ("Stage 2: corrections (ILLUSTRATIVE)", _html_table(*stage2_report.correction_rows(second))),
            ("Stage 2: timings", _html_table(*timing_rows(second))),
        ]
    details = html.escape(
        json.dumps(
            {
                k: v
                for k, v in as_json(record, ok, error).items()
                if k not in ("teams", "public_announcement", "stage2")
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )
    )
    body = "".join(f"<h2>{html.escape(title)}</h2>{table}" for title, table in sections)
    status = "OK" if ok else f"FAILED: {html.escape(error or '')}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stage 1 replay</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:4px 8px;text-align:left}}th{{background:#eee}}</style></head>
<body><h1>Stage 1 replay: {status}</h1>
<p>Models, weights, expert scores and arena votes are SIMULATED ({html.escape(SIMULATED)}).</p>
{body}<h2>Details</h2><pre>{details}</pre></body></html>
"""


def write(record: ReplayRecord, ok: bool, error: str | None, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / "report.json", directory / "report.html"
    json_path.write_text(json.dumps(as_json(record, ok, error), indent=2, ensure_ascii=False, default=str))
    html_path.write_text(as_html(record, ok, error))
    return json_path, html_path
