"""The programme of the seed articles, loaded through the registry's REST API.

Data: the ministry's announcement of the five elite teams (selected from 15 applicants; ranks 6-10
kept for follow-up support; 10 consortia passed the preliminary review), the support it described,
and the GPU suppliers excluded from GPU support while they rent GPUs to the programme. The demo and
the acceptance test both use ``load_seed_programme``.

Where the articles are silent, a comment marked ILLUSTRATIVE says so, at every such choice: the
ranks of the five among themselves, the other applicants' names, which ranks were the preliminary-
review consortia, every date and hour except the month of each evaluation and the 15 January
notification, the suppliers' customers, and each team's GPU package.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx

from fmc_common.clock import SEOUL

BN = 1_000_000_000  # won

PROGRAMME_NAME = "Independent AI Foundation Model project"
BUDGET_WON = 200 * BN


@dataclass(frozen=True)
class SeedTeam:
    name: str
    lead: str
    rank: int
    talent: bool = False
    members: tuple[str, ...] = ()


# The five elite teams, in the order of the announcement. Their ranks among themselves are not public:
# the announcement order stands in for them (ILLUSTRATIVE).
SELECTED = (
    SeedTeam("Naver Cloud consortium", "Naver Cloud", 1),
    SeedTeam(
        "Upstage consortium", "Upstage", 2, talent=True
    ),  # the only team that applied for talent support
    SeedTeam("SK Telecom consortium", "SK Telecom", 3),
    SeedTeam("NC AI consortium", "NC AI", 4),
    SeedTeam("LG AI Research consortium", "LG AI Research", 5),
)
# The other ten applicants are not named in the articles (ILLUSTRATIVE names).
OTHERS = tuple(
    SeedTeam(f"Applicant consortium {r:02d}", f"Applicant {r:02d} lead company", r) for r in range(6, 16)
)
APPLICANTS = SELECTED + OTHERS
# 10 consortia took part in the preliminary review and ranks 6-10 are kept for follow-up support;
# that the ten were exactly ranks 1-10 is ILLUSTRATIVE.
PRELIMINARY_REVIEW_RANKS = range(1, 11)


def _kst(year: int, month: int, day: int, hour: int = 0) -> str:
    return datetime(year, month, day, hour, tzinfo=SEOUL).isoformat()


@dataclass(frozen=True)
class SeedStage:
    number: int
    name: str
    planned_advancing: int
    evaluation_starts_at: str
    evaluation_ends_at: str
    notification_at: str


# Stage 1: 5 -> 4 at the end of December, results notified on 15 January, 10 days to object.
# Stage 2: 4 -> 3 in the first half of the next year; final: 2. ILLUSTRATIVE: the evaluation
# periods' first and last days, the 10:00 notification hour, and every date of stages 2 and 3.
STAGES = (
    SeedStage(1, "First evaluation", 4, _kst(2025, 12, 1), _kst(2025, 12, 31), _kst(2026, 1, 15, 10)),
    SeedStage(2, "Second evaluation", 3, _kst(2026, 6, 1), _kst(2026, 6, 30), _kst(2026, 7, 15, 10)),
    SeedStage(3, "Final evaluation", 2, _kst(2026, 12, 1), _kst(2026, 12, 31), _kst(2027, 1, 15, 10)),
)

GPU_PACKAGES = (("B200", 512), ("H100", 1024))
# SK Telecom supplies B200 to two teams, Naver Cloud H100 to one; which teams is ILLUSTRATIVE.
# The rental runs until "the second half of next year": its start (the suppliers' selection) and
# its end on 1 July 2026, when they become eligible, are ILLUSTRATIVE.
RENTAL = (_kst(2025, 8, 4), _kst(2026, 7, 1))
SUPPLIERS = (("SK Telecom", "B200", ("Upstage", "LG AI Research")), ("Naver Cloud", "H100", ("NC AI",)))
# GPU support for the first stage ("this year"): Upstage, NC AI and LG AI Research receive it.
# The period (September to the year's end) and which package each team gets ("either 512 B200s or
# 1,024 H100s", negotiated per team) are ILLUSTRATIVE.
GPU_PERIOD = (_kst(2025, 9, 1), _kst(2026, 1, 1))
GPU_CHOICE = {
    "Upstage": "B200",
    "NC AI": "H100",
    "LG AI Research": "B200",
    "SK Telecom": "B200",
    "Naver Cloud": "H100",
}

POOLS = (
    {"kind": "joint-data-purchase", "amount_won": 10 * BN},
    {"kind": "specialised-datasets", "amount_won": 5 * 28 * BN // 10, "per_team_cap_won": 28 * BN // 10},
    {"kind": "broadcasting-video", "amount_won": 20 * BN},
)
SPECIALISED_PER_TEAM = 28 * BN // 10


class SeedError(RuntimeError):
    """The API refused part of the seed where it should have accepted it."""


@dataclass
class SeedResult:
    programme_id: uuid.UUID
    stage_ids: dict[int, uuid.UUID] = field(default_factory=dict)
    team_ids: dict[str, uuid.UUID] = field(default_factory=dict)  # by lead organisation
    organisation_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    pool_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    package_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    # lead organisation -> (HTTP status, problem code or None) of its GPU allocation request
    gpu_outcomes: dict[str, tuple[int, str | None]] = field(default_factory=dict)


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await client.post(path, json=body, headers=headers)
    if response.status_code not in (200, 201):
        raise SeedError(f"POST {path} -> {response.status_code}: {response.text}")
    return response.json()


async def load_seed_programme(
    client: httpx.AsyncClient, headers: dict[str, str], *, suffix: str = ""
) -> SeedResult:
    """Create the programme, its stages, the 15 applicants, the selection, support and GPU requests.

    ``headers`` must carry an operator's bearer token. ``suffix`` makes names unique (tests, reruns).
    """
    programme = await _post(
        client, "/v1/programmes", {"name": PROGRAMME_NAME + suffix, "budget_won": BUDGET_WON}, headers
    )
    result = SeedResult(programme_id=uuid.UUID(programme["id"]))
    base = f"/v1/programmes/{result.programme_id}"
    for stage in STAGES:
        body = asdict(stage)
        created = await _post(client, f"{base}/stages", body, headers)
        result.stage_ids[stage.number] = uuid.UUID(created["id"])
    await _teams(client, headers, result, suffix)
    await _support(client, headers, result)
    await _gpus(client, headers, result)
    return result


async def _teams(client: httpx.AsyncClient, headers: dict[str, str], result: SeedResult, suffix: str) -> None:
    for applicant in APPLICANTS:
        body = {
            "name": applicant.name + suffix,
            "lead_organisation": applicant.lead + suffix,
            "programme_id": str(result.programme_id),
            "applicant_rank": applicant.rank,
            "preliminary_review": applicant.rank in PRELIMINARY_REVIEW_RANKS,
            "talent_support_applied": applicant.talent,
            "members": list(applicant.members),
        }
        team = await _post(client, "/v1/teams", body, headers)
        result.team_ids[applicant.lead] = uuid.UUID(team["id"])
        result.organisation_ids[applicant.lead] = uuid.UUID(team["lead_organisation_id"])
    for selected in SELECTED:
        change = {
            "to": "selected",
            "reason": "selected as an elite team in the announcement of 4 August 2025",
        }
        await _post(client, f"/v1/teams/{result.team_ids[selected.lead]}/status", change, headers)


async def _support(client: httpx.AsyncClient, headers: dict[str, str], result: SeedResult) -> None:
    base = f"/v1/programmes/{result.programme_id}"
    for pool in POOLS:
        result.pool_ids[str(pool["kind"])] = uuid.UUID(
            (await _post(client, f"{base}/pools", pool, headers))["id"]
        )
    for selected in SELECTED:
        body = {
            "team_id": str(result.team_ids[selected.lead]),
            "amount_won": SPECIALISED_PER_TEAM,
            "purpose": "specialised datasets for the team's own strategy",
        }
        await _post(client, f"/v1/pools/{result.pool_ids['specialised-datasets']}/allocations", body, headers)
    for model, count in GPU_PACKAGES:
        package = await _post(
            client, f"{base}/gpu-packages", {"gpu_model": model, "gpu_count": count}, headers
        )
        result.package_ids[model] = uuid.UUID(package["id"])
    for supplier, model, supplied in SUPPLIERS:
        body = {
            "supplier_organisation_id": str(result.organisation_ids[supplier]),
            "gpu_model": model,
            "supplied_team_ids": [str(result.team_ids[lead]) for lead in supplied],
            "rental_starts_at": RENTAL[0],
            "rental_ends_at": RENTAL[1],
        }
        await _post(client, f"{base}/gpu-supplier-contracts", body, headers)


async def _gpus(client: httpx.AsyncClient, headers: dict[str, str], result: SeedResult) -> None:
    """Ask GPU support for every elite team; the suppliers' requests are expected to be refused."""
    for selected in SELECTED:
        body = {
            "package_id": str(result.package_ids[GPU_CHOICE[selected.lead]]),
            "period_starts_at": GPU_PERIOD[0],
            "period_ends_at": GPU_PERIOD[1],
        }
        response = await client.post(
            f"/v1/teams/{result.team_ids[selected.lead]}/gpu-allocations", json=body, headers=headers
        )
        code = None if response.status_code == 201 else response.json().get("code")
        result.gpu_outcomes[selected.lead] = (response.status_code, code)
