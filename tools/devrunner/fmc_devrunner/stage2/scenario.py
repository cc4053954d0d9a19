"""After stage 1: the additional selection and the second evaluation, through the same public APIs.

``fmc demo --through stage-2`` runs this after the stage-1 replay (``fmc_devrunner.stage1``), on
the same stack and programme. A team that took no part in stage 1 (ILLUSTRATIVE: the articles name
no one) registers, applies to the additional-selection call that stage 1's vacancy opened, is
selected and joins stage 2 with the three advancing teams on equal terms; stage 2 (4 -> 3 places) is
then evaluated exactly as stage 1 was, by the same steps (``Replay``'s methods): submissions, the
benchmarks through the gateway on Triton, the panel, the arena, the originality checks, the result
proposed, approved and published, the notifications, the windows closed by the dev clock, the
finalisation.

The corrections of issue 16 are replayed at named hook points (``Stage2Replay.hook_*``), each
called where its step belongs in the flow, through the REST APIs only (ILLUSTRATIVE, every one): a
wrong originality check eliminates LG AI Research in version 1 and lets the newcomer in; LG's
accepted objection reverses both outcomes in version 2 (both notified again, with fresh windows;
the public topic carries the correction); a vote after the evidence cut-off counts in no version;
an answer-key erratum, on an accepted objection, re-grades every team in version 3; the final stage
refuses a new version. See docs/stage2-replay.md.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fmc_common.auth import Role
from fmc_devrunner.stack import DevStack
from fmc_devrunner.stage1.scenario import (
    Replay,
    ReplayFailed,
    ReplayRecord,
    Scale,
    TeamState,
    _deliver,
    compare_outcomes,
)
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
        self.wrong_donor_id = ""
        self.v1_outcomes: dict[str, TeamState] = {}
        self.arena_by_version: dict[int, dict[str, Any]] = {}

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
            await self.hook_wrong_originality_check()
            await self.step("8d. originality check of every team's weights", self.originality)
            await self.step("9. stage-2 result proposed, approved and published", self.results)
            await self.step("   the public announcement as a partner receives it", self.partner_view)
            await self.hook_vote_after_cutoff()
            await self.step("10a. every team notified; objection windows open", self.notifications)
            await self.step(
                "10b. the originality objection accepted; the re-evaluation reverses two outcomes",
                self.originality_corrected,
            )
            await self.hook_answer_key_erratum()
            await self.step(
                "10d. the first windows close; the reversed teams' windows keep the phase open",
                self.first_windows_close,
            )
            await self.step("10e. the last windows close (clock advanced); finalisation", self.closing)
            await self.hook_final_stage_refuses_new_version()
        finally:
            await self.client.aclose()
        self.record.finalisation["selection"] = self.selection
        self.record.finalisation["corrections"] = self.corrections
        return self.record

    # -- the corrections (issue 16), each through the REST APIs only ------------------------------
    # Each hook runs its own ``await self.step(name, action)`` (timed, printed), raises ReplayFailed
    # when the platform does not do what the rules promise, and appends what it saw to
    # ``self.corrections`` (``"replayed": True``).

    async def hook_wrong_originality_check(self) -> None:
        """Before 8d: a wrong donor (LG AI Research's own earlier release, ILLUSTRATIVE) enters the
        reference library, so 8d eliminates LG for originality and the newcomer advances in version 1.
        Corrected in 10b (``originality_corrected``)."""
        await self.step("8c'. a wrong reference model is registered (ILLUSTRATIVE)", self.wrong_donor)

    async def hook_vote_after_cutoff(self) -> None:
        """After the publication: a user votes after the evidence cut-off; the vote is kept, marked
        out of window, and the counted votes do not move (now, nor in any re-evaluation)."""
        await self.step("9b. a vote cast after the evidence cut-off", self.late_vote)

    async def hook_answer_key_erratum(self) -> None:
        """While the windows are open: an erratum revision of a suite's key; an objection on it is
        accepted (benchmark-suite) and every team's stored responses are re-graded under it."""
        await self.step(
            "10c. an answer-key erratum; the objection accepted; every team re-graded", self.erratum
        )

    async def hook_final_stage_refuses_new_version(self) -> None:
        """After the finalisation: proposing a new result version is refused with 409 stage-final."""
        await self.step("11. the final stage refuses a new result version", self.final_refuses)

    def _replayed(self, hook: str, **seen: Any) -> None:
        self.corrections.append({"hook": hook, "what": CORRECTION_HOOKS[hook], "replayed": True, **seen})

    def _correction(self, hook: str) -> dict[str, Any]:
        return next(c for c in self.corrections if c["hook"] == hook)

    # -- 8c'. the wrong donor ----------------------------------------------------------------------

    async def wrong_donor(self) -> None:
        lg = self.teams[world.WRONG_DONOR_TEAM]
        root = self.stack.weights_root
        source = root / "teams" / demo_weights.team_directory(lg.lead) / "model.safetensors"
        await asyncio.to_thread(_deliver, source, root / world.WRONG_DONOR_PATH)
        donor = await self.call(
            "POST",
            "scoring",
            "/v1/originality/donors",
            self.operator(),
            {
                "name": world.WRONG_DONOR_NAME,
                "revision": world.WRONG_DONOR_REVISION,
                "weights_path": world.WRONG_DONOR_PATH,
            },
            expect=(201,),
        )
        self.wrong_donor_id = donor["id"]
        self.say(
            f"  donor registered: {donor['name']} as a third party's model; it is in fact "
            f"{lg.name}'s own earlier public release (ILLUSTRATIVE mistake)"
        )
        self._replayed(
            "hook_wrong_originality_check",
            wrong_donor={"id": donor["id"], "name": donor["name"], "actually": f"{lg.lead}'s own release"},
        )

    # -- 9b. the late vote -------------------------------------------------------------------------

    async def late_vote(self) -> None:
        base = f"/v1/stages/{self.stage_id}"
        before = await self.call("GET", "scoring", f"{base}/arena/standings", self.operator())
        headers = self.token(Role.EVALUATOR, world.LATE_VOTER)
        battle = await self.call(
            "POST", "scoring", f"{base}/arena/battles", headers, {"prompt": "Who wrote Romeo and Juliet?"}
        )
        vote = await self.call(
            "POST", "scoring", f"/v1/arena/battles/{battle['battle_id']}/vote", headers, {"choice": "a"}
        )
        after = await self.call("GET", "scoring", f"{base}/arena/standings", self.operator())
        kept = await self.call("GET", "scoring", f"{base}/arena/votes", self.operator())
        [recorded] = [v for v in kept if v["battle_id"] == battle["battle_id"]]
        self.say(
            f"  {world.LATE_VOTER} votes after the cut-off: in_window {vote['in_window']}; "
            f"counted votes {before['votes']} -> {after['votes']}; {len(kept)} votes kept"
        )
        if vote["in_window"] or recorded["in_window"] or after["votes"] != before["votes"]:
            raise ReplayFailed(
                f"a vote after the cut-off counted: {vote} {recorded} {before['votes']} {after['votes']}"
            )
        v1 = await self.version(1)
        self._replayed(
            "hook_vote_after_cutoff",
            vote={
                "battle_id": battle["battle_id"],
                "voted_at": recorded["voted_at"],
                "in_window": recorded["in_window"],
            },
            cutoff=v1["inputs"]["evidence"]["cutoff"],
            counted_votes_before=before["votes"],
            counted_votes_after=after["votes"],
            votes_kept=len(kept),
            version_1_votes=v1["inputs"]["evidence"]["arena"]["votes"],
            version_1_votes_sha256=v1["inputs"]["evidence"]["arena"]["votes_sha256"],
        )
        self.arena_by_version[1] = self.arena_evidence(v1)

    # -- 10b. the originality correction -----------------------------------------------------------

    async def version(self, number: int) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "GET", "scoring", f"/v1/stages/{self.stage_id}/results/{number}", self.operator()
        )
        return result

    async def approved_version(self, number: int) -> dict[str, Any]:
        async def approved() -> dict[str, Any] | None:
            versions = await self.call(
                "GET", "scoring", f"/v1/stages/{self.stage_id}/results", self.operator()
            )
            found = [v for v in versions if v["version"] == number and v["approved_at"]]
            return found[0] if found else None

        return await self.eventually(f"result version {number} approved", approved, timeout=60)

    async def object(self, team: TeamState, grounds: str, statement: str, key: str) -> dict[str, Any]:
        """The team files an objection in its window; the committee opens the review."""
        body = {
            "grounds": grounds,
            "statement": statement,
            "decision": {"kind": "stage-result", "id": str(self.stage_id)},
        }
        filed = await self.call(
            "POST", "grievance", "/v1/objections", self.as_team(team) | {"Idempotency-Key": key}, body
        )
        self.say(f"  {team.name} objects ({grounds}): {filed['status']}")
        await self.call(
            "POST",
            "grievance",
            f"/v1/objections/{filed['id']}/review",
            self.operator(),
            {"note": "review opened by the stage-2 evaluation committee"},
        )
        return dict(filed)

    async def current_notifications(self) -> dict[str, dict[str, Any]]:
        page = await self.call(
            "GET",
            "grievance",
            f"/v1/notifications?stage_id={self.stage_id}&current=true&limit=100",
            self.operator(),
        )
        by_id = {str(t.team_id): t.lead for t in self.teams.values()}
        return {by_id[n["team_id"]]: n for n in page["items"]}

    async def originality_corrected(self) -> None:
        lg, newcomer = self.teams[world.WRONG_DONOR_TEAM], self.teams[world.NEWCOMER.lead]
        first = await self.current_notifications()
        filed = await self.object(
            lg, "originality-judgement", world.ORIGINALITY_OBJECTION, "stage2-objection-lg-originality"
        )
        self.stack.advance_clock(timedelta(days=world.REVIEW_DAYS))
        self.say(f"  the committee reviews it: dev clock advanced by {world.REVIEW_DAYS} days")
        retired = await self.call(
            "POST",
            "scoring",
            f"/v1/originality/donors/{self.wrong_donor_id}/retirement",
            self.operator(),
            {"reason": world.DONOR_RETIREMENT_REASON},
        )
        self.say(f"  donor {retired['name']} retired by {retired['retired_by']}")
        recheck = await self.call(
            "POST",
            "scoring",
            "/v1/originality/checks",
            self.operator() | {"Idempotency-Key": "originality-recheck-lg"},
            {
                "stage_id": str(self.stage_id),
                "submission_id": str(lg.submission_id),
                "reason": world.RECHECK_REASON,
            },
        )
        lg.originality, lg.originality_summary = recheck["verdict"], recheck["summary"]
        self.say(f"  {lg.name} re-checked on its bound weights: {recheck['verdict']} ({recheck['summary']})")
        decided = await self.decide(filed, "accepted", world.ORIGINALITY_ACCEPTANCE)
        self.say(f"  decided: {decided['status']}; scoring re-evaluates (originality)")
        v2 = await self.approved_version(2)
        self.apply_version(v2)
        self.arena_by_version[2] = self.arena_evidence(v2)
        announced = await self.public_announcement(version=2)
        public = (
            await self.client.get(self.url("scoring", f"/v1/public/stages/{self.stage_id}/results"))
        ).json()

        async def renotified() -> dict[str, dict[str, Any]] | None:
            now = await self.current_notifications()
            changed = {lead: n for lead, n in now.items() if n["id"] != first[lead]["id"]}
            return now if set(changed) == {lg.lead, newcomer.lead} else None

        current = await self.eventually("the two reversed teams notified again", renotified, timeout=60)
        told = {}
        for lead in (lg.lead, newcomer.lead):
            n, old = current[lead], first[lead]
            told[lead] = {
                "before": (old["outcome"], old["reason_code"], old["round"], old["window"]["deadline"]),
                "after": (n["outcome"], n["reason_code"], n["round"], n["window"]["deadline"]),
                "result_version": n["result_version"],
                "supersedes_first": n["supersedes_notification_id"] == old["id"],
                "fresh_window_opens_at": n["window"]["opens_at"],
            }
            self.say(
                f"  {self.teams[lead].name} notified again (round {n['round']}): {n['outcome']} "
                f"{n['reason_code'] or ''}; window until {n['window']['deadline']} "
                f"(was {old['outcome']} {old['reason_code'] or ''} until {old['window']['deadline']})"
            )
        unchanged = sorted(lead for lead in current if current[lead]["id"] == first[lead]["id"])
        data = announced["data"]
        self.say(
            f"  public topic: StageResultAnnounced version {data['version']} corrects version "
            f"{data.get('corrects_version')} ({data.get('correction')})"
        )
        self.record.grievance["latest_windows"] = {lead: n["window"] for lead, n in current.items()}
        correction = self._correction("hook_wrong_originality_check")
        correction.update(
            version_1={lead: (t.outcome, t.reason) for lead, t in self.v1_outcomes.items()},
            objection={"team": lg.name, "grounds": filed["grounds"], "status": decided["status"]},
            donor_retired={"reason": retired["retirement_reason"], "retired_at": retired["retired_at"]},
            recheck={"verdict": recheck["verdict"], "recheck_of": recheck.get("recheck_of")},
            version_2={
                "version": v2["version"],
                "cause": v2["cause"],
                "corrects_version": v2["corrects_version"],
                "correction": v2["correction"],
                "concerns": v2["inputs"].get("concerns"),
                "changes": sorted(
                    f"{c['part']} {self.lead_of(c['team_id'])}" for c in v2["inputs"]["changes"]
                ),
                "outcomes": {lead: (t.outcome, t.reason) for lead, t in self.teams.items()},
            },
            notified_again=told,
            unchanged_notifications=unchanged,
            public_announcement={
                "version": data["version"],
                "corrects_version": data.get("corrects_version"),
                "correction": data.get("correction"),
                "teams": {t["team_name"]: (t["outcome"], t["reason_category"]) for t in data["teams"]},
            },
            public_view={k: public.get(k) for k in ("version", "corrects_version", "correction", "final")},
        )
        expected = {lead: ("advance", None) for lead in world.EXPECTED_ADVANCING}
        if correction["version_2"]["outcomes"] != expected | {world.NEWCOMER.lead: ("eliminate", "rank")}:
            raise ReplayFailed(
                f"the re-evaluation did not reverse the two outcomes: {correction['version_2']}"
            )
        if (v2["corrects_version"], v2["correction"]) != (1, "re-evaluation"):
            raise ReplayFailed(
                f"version 2 is not a correction of version 1: {v2['corrects_version']} {v2['correction']}"
            )
        if not all(t["supersedes_first"] and t["after"][2] == 2 for t in told.values()):
            raise ReplayFailed(f"the reversed teams were not notified again with fresh windows: {told}")

    def lead_of(self, team_id: str | None) -> str:
        """The team's lead organisation (a change of the whole stage has no team: "stage")."""
        by_id = {str(t.team_id): t.lead for t in self.teams.values()}
        return by_id.get(str(team_id), "stage") if team_id else "stage"

    def arena_evidence(self, version: dict[str, Any]) -> dict[str, Any]:
        """The votes a version counted (count, hash of their ids) and each team's user figure."""
        by_id = {str(t.team_id): t.lead for t in self.teams.values()}
        arena = version["inputs"]["evidence"]["arena"]
        users = {by_id[row["team_id"]]: row["user"] for row in version["teams"]}
        return {"votes": arena["votes"], "votes_sha256": arena["votes_sha256"], "user": users}

    def apply_version(self, version: dict[str, Any]) -> None:
        """Each team's outcome, reason and figures as the version decides them (operators' view)."""
        by_id = {t.team_id: t for t in self.teams.values()}
        for row in version["teams"]:
            team = by_id[uuid.UUID(row["team_id"])]
            team.outcome, team.reason = row["outcome"], row["reason"]
            team.figures |= {k: row[k] for k in ("rank", "composite", "benchmark", "expert", "user")}
        self.record.result |= {
            "version": version["version"],
            "status": version["status"],
            "advancing": version["advancing"],
            "vacancies": version["vacancies"],
        }

    async def results(self) -> None:
        await super().results()
        self.v1_outcomes = {
            lead: TeamState(t.lead, t.name, t.team_id, t.model) for lead, t in self.teams.items()
        }
        for lead, team in self.teams.items():
            self.v1_outcomes[lead].outcome, self.v1_outcomes[lead].reason = team.outcome, team.reason
        seen = {lead: (t.outcome, t.reason) for lead, t in self.teams.items()}
        expected: dict[str, tuple[str, str | None]] = {lead: ("advance", None) for lead in world.V1_ADVANCING}
        expected |= {lead: ("eliminate", reason) for lead, reason in world.V1_ELIMINATED.items()}
        if seen != expected:
            raise ReplayFailed(f"version 1 is not the wrong check's outcome: {seen}")

    async def public_announcement(self, version: int) -> dict[str, Any]:
        """The stage's StageResultAnnounced of ``version`` on the public topic, read from the start."""
        found = await self.public_events(lambda e: _is(e, "stage-result-announced", version))
        self.record.public_announcement.append(found[-1])
        return found[-1]

    # -- 10c. the erratum ------------------------------------------------------------------------

    async def erratum(self) -> None:
        suite_id = self.suite_ids[world.ERRATUM_SUITE]
        team = self.teams[world.ERRATUM_OBJECTING_TEAM]
        filed = await self.object(team, "scoring-error", world.ERRATUM_OBJECTION, "stage2-objection-erratum")
        revision = await self.call(
            "POST",
            "scoring",
            f"/v1/suites/{suite_id}/key-revisions",
            self.operator(),
            {"reason": world.ERRATUM_REASON, "items": [world.ERRATUM_ITEM]},
        )
        published = await self.call(
            "GET", "scoring", f"/v1/suites/{suite_id}/key-revisions", self.as_team(team)
        )
        self.say(
            f"  erratum: {world.ERRATUM_SUITE} key revision {revision['revision']} "
            f"(items {revision['item_ids']}), listed to the teams: {[r['revision'] for r in published]}"
        )
        decided = await self.decide(filed, "accepted", world.ERRATUM_ACCEPTANCE, concerns=["benchmark-suite"])
        self.say(f"  decided: {decided['status']}; scoring re-grades every team's runs (benchmark-suite)")
        before = await self.version(2)
        v3 = await self.approved_version(3)
        self.apply_version(v3)
        self.arena_by_version[3] = self.arena_evidence(v3)
        late = self._correction("hook_vote_after_cutoff")
        late["arena_by_version"] = {str(k): v for k, v in sorted(self.arena_by_version.items())}
        if len({json.dumps(v, sort_keys=True) for v in self.arena_by_version.values()}) != 1:
            raise ReplayFailed(f"the counted votes moved between versions: {self.arena_by_version}")
        by_id = {str(t.team_id): t.lead for t in self.teams.values()}

        def revisions(version: dict[str, Any]) -> dict[str, dict[str, int]]:
            """Each team's answer-key revision per suite (``key@version``) in the version's evidence."""
            found: dict[str, dict[str, int]] = {}
            for grade in version["inputs"]["evidence"]["grades"]:
                found.setdefault(by_id[grade["team_id"]], {})[grade["suite"]] = grade["key_revision"]
            return found

        def detail_revisions(version: dict[str, Any]) -> dict[str, int | None]:
            """Each team's erratum suite as its row's detail shows it (``detail.inputs.suites``)."""
            found: dict[str, int | None] = {}
            for row in version["teams"]:
                suites = row["detail"]["inputs"]["suites"]
                found[by_id[row["team_id"]]] = next(
                    (
                        s.get("key_revision")
                        for k, s in suites.items()
                        if k.split("@")[0] == world.ERRATUM_SUITE
                    ),
                    None,
                )
            return found

        regraded = {"version_2": revisions(before), "version_3": revisions(v3)}
        self.say(
            f"  version 3 (corrects {v3['corrects_version']}, {v3['correction']}): {world.ERRATUM_SUITE} "
            f"graded under the key revisions {regraded['version_3']}"
        )
        outcomes = {lead: (t.outcome, t.reason) for lead, t in self.teams.items()}
        self._replayed(
            "hook_answer_key_erratum",
            suite=world.ERRATUM_SUITE,
            key_revision=revision["revision"],
            item_ids=revision["item_ids"],
            reason=revision["reason"],
            revisions_listed_to_teams=[r["revision"] for r in published],
            objection={"team": team.name, "grounds": filed["grounds"], "status": decided["status"]},
            version_3={
                "version": v3["version"],
                "cause": v3["cause"],
                "corrects_version": v3["corrects_version"],
                "correction": v3["correction"],
                "concerns": v3["inputs"].get("concerns"),
                "outcomes": outcomes,
            },
            key_revision_by_team=regraded,
            detail_key_revision=detail_revisions(v3),
            changes=sorted(f"{c['part']} {self.lead_of(c['team_id'])}" for c in v3["inputs"]["changes"]),
            based_on_version=v3["inputs"].get("based_on_version"),
        )
        erratum_suite = [
            [rev for suite, rev in by_suite.items() if suite.split("@")[0] == world.ERRATUM_SUITE]
            for by_suite in regraded["version_3"].values()
        ]
        if len(regraded["version_3"]) != len(self.teams) or any(
            revs != [revision["revision"]] for revs in erratum_suite
        ):
            raise ReplayFailed(f"not every team was re-graded under the erratum: {regraded}")

    # -- 10d, 10e. the windows close ---------------------------------------------------------------

    async def first_windows_close(self) -> None:
        """Past the first round's windows, before the reversed teams' fresh ones: the phase stays open."""
        first = datetime.fromisoformat(self.record.grievance["window"]["closes_at"])
        self.stack.advance_clock(first - self.stack.now() + timedelta(minutes=1))
        current = await self.current_notifications()
        unchanged = sorted(lead for lead, n in current.items() if n["round"] == 1)

        async def closed_first() -> dict[str, Any] | None:
            now = await self.current_notifications()
            return now if all(now[lead]["window_closed"] for lead in unchanged) else None

        await self.eventually("the first round's windows closed", closed_first, timeout=60)
        phase = await self.call(
            "GET", "grievance", f"/v1/decisions/stage-result/{self.stage_id}/grievance", self.operator()
        )
        public = (
            await self.client.get(self.url("scoring", f"/v1/public/stages/{self.stage_id}/results"))
        ).json()
        self.say(
            f"  first windows closed ({', '.join(unchanged)}); phase closed: {phase['closed']}; "
            f"public final: {public['final']}"
        )
        if phase["closed"] or public["final"]:
            raise ReplayFailed(f"the stage closed while reversed teams' windows were open: {phase} {public}")
        # The windows are real: a team whose window closed is refused; the newcomer, eliminated by the
        # correction, objects in its fresh window (ILLUSTRATIVE objection, rejected with a reason).
        late_team = self.teams[unchanged[0]]
        body = {
            "grounds": "other",
            "statement": "A late objection after our window closed (simulated for the replay).",
            "decision": {"kind": "stage-result", "id": str(self.stage_id)},
        }
        refused = await self.client.post(
            self.url("grievance", "/v1/objections"),
            json=body,
            headers=self.as_team(late_team) | {"Idempotency-Key": "stage2-objection-after-window"},
        )
        newcomer = self.teams[world.NEWCOMER.lead]
        filed = await self.object(
            newcomer, "scoring-error", world.NEWCOMER_OBJECTION, "stage2-objection-newcomer-fresh-window"
        )
        decided = await self.decide(filed, "rejected", world.NEWCOMER_REJECTION)
        self.say(
            f"  {late_team.name} objects after its window: {refused.status_code} "
            f"{refused.json().get('code')}; {newcomer.name} objects in its fresh window: "
            f"{filed['status']}, then {decided['status']}"
        )
        if (refused.status_code, refused.json().get("code")) != (409, "objection-window-closed"):
            raise ReplayFailed(f"an objection after the window was not refused: {refused.text[:400]}")
        self._correction("hook_wrong_originality_check")["while_fresh_windows_open"] = {
            "phase_closed": phase["closed"],
            "public_final": public["final"],
            "objection_after_closed_window": [
                late_team.lead,
                refused.status_code,
                refused.json().get("code"),
            ],
            "objection_in_fresh_window": [newcomer.lead, filed["grounds"], decided["status"]],
        }

    async def windows_close_at(self) -> datetime:
        current = await self.current_notifications()
        return max(datetime.fromisoformat(n["window"]["closes_at"]) for n in current.values())

    # -- 11. the final stage ---------------------------------------------------------------------

    async def final_refuses(self) -> None:
        public = (
            await self.client.get(self.url("scoring", f"/v1/public/stages/{self.stage_id}/results"))
        ).json()
        stage = await self.call("GET", "registry", f"/v1/stages/{self.stage_id}", self.operator())
        response = await self.client.post(
            self.url("scoring", f"/v1/stages/{self.stage_id}/results"), headers=self.operator()
        )
        problem = response.json()
        self.say(
            f"  public final: {public['final']} (version {public['version']}); "
            f"registry stage {stage['status']}; a new version: {response.status_code} {problem.get('code')}"
        )
        versions = await self.call("GET", "scoring", f"/v1/stages/{self.stage_id}/results", self.operator())
        events = await self.public_events(lambda e: _is(e, "stage-final-announced", public["version"]))
        topic = [
            [
                e["type"].removeprefix("fmc.scoring.").removesuffix(".v1"),
                e["data"]["version"],
                e["data"].get("corrects_version"),
                e["data"].get("correction"),
            ]
            for e in events
        ]
        self.say(f"  the stage on the public topic: {topic}")
        if (response.status_code, problem.get("code")) != (409, "stage-final"):
            raise ReplayFailed(f"the final stage took a new version: {response.status_code} {problem}")
        self._replayed(
            "hook_final_stage_refuses_new_version",
            public_final=public["final"],
            public_version=public["version"],
            registry_stage=stage["status"],
            propose_status=response.status_code,
            propose_code=problem.get("code"),
            public_topic=topic,
            versions=[
                [v["version"], v["status"], v["cause"], v["corrects_version"], v["finalized_at"] is not None]
                for v in versions
            ],
        )

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
    compare_outcomes(
        record, world.EXPECTED_ADVANCING, world.EXPECTED_ELIMINATED, "the expected (ILLUSTRATIVE) stage 2"
    )
    statuses = {t.lead: t.final_status for t in record.teams}
    if any(statuses[lead] != "advanced" for lead in world.EXPECTED_ADVANCING):
        raise ReplayFailed(f"the registry did not record the stage-2 advance: {statuses}")


def _is(envelope: dict[str, Any], kind: str, version: int) -> bool:
    return kind in envelope.get("type", "") and (envelope.get("data") or {}).get("version") == version
