"""After stage 1: the additional selection and the second evaluation, through the same public APIs.

``fmc demo --through stage-2`` runs this after the stage-1 replay (``fmc_devrunner.stage1``), on
the same stack and programme. A team that took no part in stage 1 (ILLUSTRATIVE: the articles name
no one) registers, applies to the additional-selection call that stage 1's vacancy opened, is
selected and joins stage 2 with the three advancing teams on equal terms; stage 2 (4 -> 3 places) is
then evaluated exactly as stage 1 was, by the same steps (``Replay``'s methods): submissions, the
benchmarks through the gateway on Triton, the panel, the arena, the originality checks, the result
proposed, approved and published, the notifications, the windows closed by the dev clock, the
finalisation.

Corrections plug in at named hook points (``Stage2Replay.hook_*``), each called where its step
belongs in the flow; they do nothing yet. See docs/stage2-replay.md.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from fmc_common.auth import Role
from fmc_devrunner.stack import DevStack
from fmc_devrunner.stage1.scenario import Replay, ReplayFailed, ReplayRecord, Scale, TeamState
from fmc_devrunner.stage2 import world
from fmc_scoring.originality import demo_weights, synthetic

# Corrections the issue asks the replay to show; each has a hook below and is listed in the report.
CORRECTION_HOOKS = {
    "hook_wrong_originality_check": (
        "a wrong originality check corrected by an accepted objection, reversing two outcomes"
    ),
    "hook_vote_after_cutoff": "an arena vote cast after the evidence cut-off, which does not count",
    "hook_answer_key_erratum": "an accepted objection on an answer-key erratum, re-graded for every team",
    "hook_final_stage_refuses_new_version": "the finalised stage refuses a new result version",
}


def write_newcomer_weights(weights_root: Path) -> Path:
    """The newcomer's SIMULATED weights: its own initialisation, nothing from the donor."""
    own = synthetic.random_model(demo_weights.DEMO_ARCH, seed=world.NEWCOMER_WEIGHTS_SEED)
    directory = weights_root / "teams" / demo_weights.team_directory(world.NEWCOMER.lead)
    directory.mkdir(parents=True, exist_ok=True)
    return synthetic.write_model(directory / "model.safetensors", own)


class Stage2Replay(Replay):
    """Stage 2 of the seed programme, after ``first`` (a finished stage-1 replay on the same stack)."""

    def __init__(self, stack: DevStack, scale: Scale, first: Replay, say: Any = print) -> None:
        super().__init__(stack, scale, say)
        assert first.seed is not None
        self.first = first
        self.seed = first.seed
        self.stage_number = 2
        self.stage_id = first.seed.stage_ids[2]
        self.places = world.STAGE2_PLACES
        self.record.programme = {"programme_id": str(first.seed.programme_id), "stage_id": str(self.stage_id)}
        self.selection: dict[str, Any] = {}
        self.corrections: list[dict[str, Any]] = []

    def operator(self) -> dict[str, str]:
        # The stage-2 committee's operator: its idempotency keys never meet stage 1's.
        return self.token(Role.OPERATOR, "operator-ministry-stage2")

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        headers: dict[str, str],
        body: Any = None,
        expect: tuple[int, ...] = (200, 201),
    ) -> Any:
        if (method, service, path) == ("POST", "scoring", "/v1/originality/donors"):
            # The reference library keeps stage 1's donor: registering it again is 409, as it should be.
            expect = (*expect, 409)
        return await super().call(method, service, path, headers, body, expect)

    async def team_weights(self) -> dict[str, Any]:
        weights = await super().team_weights()
        root = self.stack.weights_root
        weights[world.NEWCOMER.lead] = await asyncio.to_thread(write_newcomer_weights, root)
        return weights

    async def run(self) -> ReplayRecord:
        try:
            await self.step("6. additional selection: a newcomer applies, is selected", self.additional_team)
            await self.step("7. stage 2 opens; the four teams submit their models", self.submissions)
            await self.step("   every team is in stage 2, the newcomer on equal terms", self.joined)
            await self.step("8a. stage-2 evaluation; benchmark runs through the gateway", self.benchmarks)
            await self.step("8b. expert panel scores", self.expert_panel)
            await self.step("8c. arena battles voted by simulated users", self.arena)
            await self.step("8d. originality check of every team's weights", self.originality)
            await self.hook_wrong_originality_check()
            await self.step("9. stage-2 result proposed, approved and published", self.results)
            await self.step("   the public announcement as a partner receives it", self.partner_view)
            await self.hook_vote_after_cutoff()
            await self.step("10a. every team notified; objection windows open", self.notifications)
            await self.hook_answer_key_erratum()
            await self.step("10b. the windows close (clock advanced); finalisation", self.closing)
            await self.hook_final_stage_refuses_new_version()
        finally:
            await self.client.aclose()
        self.record.finalisation["selection"] = self.selection
        self.record.finalisation["corrections"] = self.corrections
        return self.record

    # -- hooks for the corrections (called in place; each does nothing yet) ------------------------
    # A hook that does something runs its own ``await self.step(name, action)`` (timed, printed),
    # raises ReplayFailed when the platform does not do what the rules promise, and appends to
    # ``self.corrections`` with ``"replayed": True`` and what it saw instead of ``_not_replayed``.

    async def hook_wrong_originality_check(self) -> None:
        """After 8d, before the result: a check on the wrong weights eliminates a team; after the
        notifications an objection is accepted, the re-check on the bound weights clears it, and the
        re-evaluation reverses two outcomes (both teams notified, both get fresh windows)."""
        self._not_replayed("hook_wrong_originality_check")

    async def hook_vote_after_cutoff(self) -> None:
        """After the publication: a simulated user votes after the evidence cut-off; the vote is
        kept, marked out of window, and no team's user figure moves in a re-evaluation."""
        self._not_replayed("hook_vote_after_cutoff")

    async def hook_answer_key_erratum(self) -> None:
        """While the windows are open: an objection on a wrong answer key is accepted, an erratum
        revision of the suite's key is published and every team's stored responses are re-graded."""
        self._not_replayed("hook_answer_key_erratum")

    async def hook_final_stage_refuses_new_version(self) -> None:
        """After the finalisation: proposing a new result version is refused with 409 stage-final."""
        self._not_replayed("hook_final_stage_refuses_new_version")

    def _not_replayed(self, hook: str) -> None:
        self.corrections.append({"hook": hook, "what": CORRECTION_HOOKS[hook], "replayed": False})

    # -- 6. the additional selection --------------------------------------------------------------

    async def additional_team(self) -> None:
        call_id = self.first.record.finalisation["selection_call"]["id"]
        body = {
            "name": world.NEWCOMER_NAME,
            "lead_organisation": world.NEWCOMER.lead,
            "programme_id": str(self.seed.programme_id) if self.seed else None,
        }
        registered = await self.call(
            "POST", "registry", "/v1/teams", self.operator() | {"Idempotency-Key": "stage2-newcomer"}, body
        )
        team = TeamState(world.NEWCOMER.lead, registered["name"], uuid.UUID(registered["id"]), world.NEWCOMER)
        self.say(f"  {team.name} registers (a company that took no part in the first call; ILLUSTRATIVE)")
        applied = await self.call(
            "POST",
            "registry",
            f"/v1/selection-calls/{call_id}/applications",
            self.as_team(team),
            {"team_id": str(team.team_id)},
        )
        self.say(f"  it applies to call {call_id}: eligible as {applied['basis']}")
        chosen = await self.call(
            "POST",
            "registry",
            f"/v1/selection-calls/{call_id}/selection",
            self.operator(),
            {"team_id": str(team.team_id), "reason": world.NEWCOMER_SELECTION_REASON},
        )
        call = await self.call("GET", "registry", f"/v1/selection-calls/{call_id}", self.operator())
        gpu = chosen["gpu_allocation_id"] or f"refused: {chosen['gpu_refusal']}"
        self.say(f"  selected: team {chosen['team_status']}, GPU allocation {gpu}; call {call['status']}")
        if applied["basis"] != "new-applicant" or chosen["team_status"] != "selected":
            raise ReplayFailed(f"the newcomer was not selected as a new applicant: {applied} {chosen}")
        if call["status"] != "closed":
            raise ReplayFailed(f"the call did not close when its vacancy was filled: {call['status']}")
        self.selection = {
            "call_id": call_id,
            "call_status": call["status"],
            "team": team.name,
            "team_id": str(team.team_id),
            "basis": applied["basis"],
            "gpu_allocation_id": chosen["gpu_allocation_id"],
            "gpu_refusal": chosen["gpu_refusal"],
            "illustrative": "the articles name no added team",
        }
        advancing = [t for t in self.first.teams.values() if t.outcome == "advance"]
        for previous in advancing:
            self.teams[previous.lead] = TeamState(
                previous.lead, previous.name, previous.team_id, previous.model
            )
        self.teams[team.lead] = team
        self.record.teams = list(self.teams.values())

    async def joined(self) -> None:
        """The registry: all four in stage 2; the newcomer's GPU terms are the advancing teams'."""
        statuses = {}
        for team in self.teams.values():
            row = await self.call("GET", "registry", f"/v1/teams/{team.team_id}", self.operator())
            statuses[team.name] = f"{row['status']} {row['stage_number']}"
        if set(statuses.values()) != {"in-stage 2"}:
            raise ReplayFailed(f"not every team is in stage 2: {statuses}")
        newcomer = self.teams[world.NEWCOMER.lead]
        terms = {}
        for team in self.teams.values():
            support = await self.call("GET", "registry", f"/v1/teams/{team.team_id}/support", self.operator())
            latest = max(support["gpu_allocations"], key=lambda a: a["period_starts_at"], default=None)
            keys = ("package_id", "period_starts_at", "period_ends_at")
            terms[team.name] = {k: latest[k] for k in keys} if latest else None
        peers = [terms[t.name] for t in self.teams.values() if t is not newcomer and terms[t.name]]
        equal = terms[newcomer.name] in peers
        self.selection["teams_in_stage_2"] = statuses
        self.selection["gpu_terms"] = terms
        self.selection["equal_gpu_terms"] = equal
        self.say(
            f"  {len(statuses)} teams in stage 2; the newcomer's GPU package and period equal a peer's: "
            f"{equal}"
        )
        if not equal:
            raise ReplayFailed(f"the newcomer's GPU terms differ from the advancing teams': {terms}")

    # -- 10a. notifications ------------------------------------------------------------------------

    async def notifications(self) -> None:
        async def notified() -> list[dict[str, Any]] | None:
            page = await self.call(
                "GET", "grievance", f"/v1/notifications?stage_id={self.stage_id}&limit=100", self.operator()
            )
            return page["items"] if len(page["items"]) == len(self.teams) else None

        notified_teams = await self.eventually("every stage-2 team notified", notified, timeout=60)
        window = notified_teams[0]["window"]
        self.say(
            f"  {len(notified_teams)} teams notified; objections until {window['deadline']} "
            f"({window['objection_days']} days, Asia/Seoul)"
        )
        self.record.grievance = {"notified": len(notified_teams), "window": window, "objection": None}


def check_outcome(record: ReplayRecord) -> None:
    """The ILLUSTRATIVE stage-2 outcome of the simulated figures; anything else fails the replay."""
    outcomes = {t.lead: (t.outcome, t.reason) for t in record.teams}
    expected: dict[str, tuple[str, str | None]] = {
        lead: ("advance", None) for lead in world.EXPECTED_ADVANCING
    }
    expected |= {lead: ("eliminate", reason) for lead, reason in world.EXPECTED_ELIMINATED.items()}
    if outcomes != expected:
        raise ReplayFailed(f"the stage-2 outcome differs from the expected (ILLUSTRATIVE) one: {outcomes}")
    statuses = {t.lead: t.final_status for t in record.teams}
    if any(statuses[lead] != "advanced" for lead in world.EXPECTED_ADVANCING):
        raise ReplayFailed(f"the registry did not record the stage-2 advance: {statuses}")
