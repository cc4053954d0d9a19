"""What the stage-2 continuation simulates beyond stage 1: the newcomer, and the second evaluation.

The articles say that one team will be added by an additional selection, open to the teams
eliminated in the first evaluation, the ten preliminary-review consortia and companies that did not
take part at all, and that it will "compete on equal terms with the 3 companies that advanced to the
second stage" (same project period, same government-supported GPUs); that stage 2 takes 4 teams to 3;
and that the criteria stay the same (benchmarks, expert evaluation, real-user evaluation). They say
nothing about who the added team is, nor about any stage-2 figure or outcome. Everything below is
therefore ILLUSTRATIVE (the team) or SIMULATED (its model and its figures).
"""

from __future__ import annotations

from fmc_devrunner.stage1.world import TeamModel

# ILLUSTRATIVE: a company that took no part in the first call; the articles name no one.
NEWCOMER_NAME = "Newcomer AI Lab consortium (illustrative)"
# Its SIMULATED model is clearly the weakest of the four (above the benchmark threshold, below the
# others on every part), so that the ILLUSTRATIVE outcome does not hang on the arena's noise.
NEWCOMER = TeamModel("Newcomer AI Lab", "newcomer-ai-lab-lm", 0.66, 70.0, "B200")
NEWCOMER_SELECTION_REASON = (
    "Selected in the additional selection for the vacancy left by the first evaluation; joins the "
    "second stage on the same project period and GPU terms as the three advancing teams "
    "(ILLUSTRATIVE choice of team)."
)
NEWCOMER_WEIGHTS_SEED = 3100  # its simulated weights: its own initialisation, no donor

STAGE2_PLACES = 3  # the articles: 4 -> 3 after the second evaluation

# ILLUSTRATIVE outcome the simulated figures lead to under the unchanged criteria: the three teams
# that advanced from stage 1 advance again; the newcomer, having competed on equal terms, ranks
# fourth and leaves on rank (a reason category the first evaluation did not use).
EXPECTED_ADVANCING = ("Upstage", "SK Telecom", "LG AI Research")
EXPECTED_ELIMINATED = {"Newcomer AI Lab": "rank"}

# -- the corrections of stage 2 (issue 16), every one ILLUSTRATIVE: the articles report none ----------

# A wrong originality check. Before stage 2's checks an operator registers, as if it were another
# company's public model, what is in fact LG AI Research's own earlier public release (its stage-1
# weights, published openly: SIMULATED). The check then finds LG's stage-2 weights "reused" and
# eliminates it for originality; with three places and only three teams passing the gates, the
# newcomer advances in its place. The accepted objection reverses both outcomes. Nothing hangs on the
# arena: in version 1 the three passing teams fill the three places whatever their figures; in the
# corrected versions the newcomer is last on every part (benchmark, panel and users) by a wide margin.
WRONG_DONOR_TEAM = "LG AI Research"
WRONG_DONOR_NAME = "simulated-exaone-public-release"
WRONG_DONOR_REVISION = "sim-public-2025"
WRONG_DONOR_PATH = "donors-registered-in-stage-2/exaone-public-release/model.safetensors"
V1_ADVANCING = ("Upstage", "SK Telecom", "Newcomer AI Lab")
V1_ELIMINATED = {"LG AI Research": "originality"}
ORIGINALITY_OBJECTION = (
    "Our model was found to reuse a reference model registered as a third party's, "
    "'simulated-exaone-public-release'. That model is our own earlier public release, not another "
    "company's: building on it is our own work. We ask for the originality check to be corrected. "
    "(Simulated objection for the replay.)"
)
DONOR_RETIREMENT_REASON = (
    "Registered by mistake as a third party's model: it is LG AI Research's own earlier public "
    "release, so it cannot show that the team reused another's work (ILLUSTRATIVE)."
)
RECHECK_REASON = (
    "Re-check on the bound weights after the wrong reference model was retired, for the objection "
    "of LG AI Research on the originality judgement (ILLUSTRATIVE)."
)
ORIGINALITY_ACCEPTANCE = (
    "The reference model that matched was the team's own earlier public release, registered by "
    "mistake as another company's. It has been retired and the team's bound weights checked again: "
    "original. The objection is accepted; the result is re-evaluated on the originality gate."
)
# Days the committee takes to decide the originality objection (dev clock): the reversed teams'
# fresh windows then end after everybody else's, and the finalisation has to wait for them.
REVIEW_DAYS = 3

# An answer-key erratum (ILLUSTRATIVE: the demo suites' keys are right, so the erratum restates one
# numeric item's key with a looser tolerance, 0.1 % instead of the default; no team's grade of that
# item changes, every team's grades move to the new key revision). Applied to every team alike.
ERRATUM_SUITE = "demo-en-arithmetic"
ERRATUM_ITEM = {"item_id": "en-ar-004", "answer": 1.5, "rel_tol": 0.001}
ERRATUM_REASON = (
    "Erratum (ILLUSTRATIVE): the key of item en-ar-004 is restated with a tolerance of 0.1 %, as a "
    "team's objection pointed out; it applies to every team's responses alike."
)
ERRATUM_OBJECTING_TEAM = "SK Telecom"
ERRATUM_OBJECTION = (
    "The key of item en-ar-004 of the arithmetic suite is stated with too strict a tolerance. We ask "
    "for the responses of every team to be graded again under a corrected key. (Simulated objection "
    "for the replay.)"
)
ERRATUM_ACCEPTANCE = (
    "The key was corrected by an erratum published to every team (a new key revision of the suite). "
    "The objection is accepted: every team's stored responses are graded again under it."
)
LATE_VOTER = "arena-user-late"

# The newcomer, eliminated by the correction, objects in its fresh window after everybody else's
# windows have closed (ILLUSTRATIVE); the committee rejects it.
NEWCOMER_OBJECTION = (
    "We were told we advance, then that we are eliminated on rank. We ask for our benchmark grades "
    "to be checked again. (Simulated objection for the replay.)"
)
NEWCOMER_REJECTION = (
    "The corrected result only removed a wrong originality verdict of another team; the grades of "
    "every team's stored responses are those of the published rules, and the newcomer ranks fourth "
    "of four on them. The objection is rejected."
)
