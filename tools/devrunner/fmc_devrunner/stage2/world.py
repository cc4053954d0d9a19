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
