"""What the stage-1 replay simulates: the teams' models, the experts, the arena's users, the objection.

The programme itself (applicants, selection, support, GPU suppliers) is the registry's seed
(``fmc_registry.seed``), taken from the articles. Everything in this module is SIMULATED for the
replay and says so: the articles report the outcome of the first evaluation (LG AI Research, SK
Telecom and Upstage advance; NC AI falls below the benchmark threshold; Naver Cloud is eliminated
for reusing a third party's vision encoder), not the models, scores or votes behind it. The
simulation is built so that the platform, evaluating honestly, reaches that outcome by its rules.
"""

from __future__ import annotations

from dataclasses import dataclass

SIMULATED = "simulated for the replay; the articles give the outcome, not these figures"


@dataclass(frozen=True)
class TeamModel:
    lead: str  # the team's lead organisation, as in fmc_registry.seed.SELECTED
    model_name: str  # the Triton model serving the team's submission
    quality: float  # share of the demo questions the simulated model knows (SIMULATED)
    expert_base: float  # the panel's simulated view of the team, 0-100 (SIMULATED)
    gpu_pool: str


TEAM_MODELS = (
    TeamModel("Naver Cloud", "naver-cloud-lm", 0.90, 82.0, "H100"),
    TeamModel("Upstage", "upstage-lm", 0.92, 84.0, "B200"),
    TeamModel("SK Telecom", "sk-telecom-lm", 0.84, 80.0, "B200"),
    TeamModel("NC AI", "nc-ai-lm", 0.12, 70.0, "H100"),
    TeamModel("LG AI Research", "lg-ai-research-lm", 0.80, 79.0, "B200"),
)

EXPECTED_ADVANCING = ("Upstage", "SK Telecom", "LG AI Research")
EXPECTED_ELIMINATED = {"NC AI": "benchmark-threshold", "Naver Cloud": "originality"}


@dataclass(frozen=True)
class Evaluator:
    subject: str
    name: str
    affiliation: str
    offset: float  # how much more generous than the panel's mean this evaluator is (SIMULATED)


# Names and affiliations are ILLUSTRATIVE. One evaluator is affiliated with a team's lead
# organisation: the platform must refuse that evaluator's score for that team.
EVALUATORS = (
    Evaluator("expert-kim", "Prof. Kim (simulated)", "Seoul National University", 1.5),
    Evaluator("expert-lee", "Dr. Lee (simulated)", "KAIST", -2.0),
    Evaluator("expert-park", "Prof. Park (simulated)", "POSTECH", 0.5),
    Evaluator("expert-choi", "Dr. Choi (simulated)", "ETRI", -1.0),
    Evaluator("expert-jung", "Dr. Jung (simulated)", "LG AI Research", 3.0),
)


@dataclass(frozen=True)
class ArenaPrompt:
    prompt: str
    reference: str  # what the simulated user looks for in a good answer


ARENA_PROMPTS = (
    ArenaPrompt("훈민정음이 반포된 해는 언제입니까?", "1446년"),
    ArenaPrompt("대한민국 국기의 이름은 무엇입니까?", "태극기"),
    ArenaPrompt("한국의 화폐 단위는 무엇입니까?", "원"),
    ArenaPrompt("한국에서 가장 긴 강은 무엇입니까?", "낙동강"),
    ArenaPrompt("부산은 어느 나라의 도시입니까?", "대한민국"),
    ArenaPrompt("What is the capital of Japan?", "Tokyo"),
    ArenaPrompt("Who wrote Romeo and Juliet?", "William Shakespeare"),
    ArenaPrompt("What is the chemical symbol for gold?", "Au"),
    ArenaPrompt("At what temperature does water freeze, in degrees Celsius?", "0 degrees Celsius"),
    ArenaPrompt("How many continents are there on Earth?", "Seven continents"),
)

ARENA_NOISE = 0.15  # share of votes a simulated user casts at random (a/b/tie), seeded

OBJECTING_TEAM = "NC AI"
OBJECTION_STATEMENT = (
    "We object to the elimination of our model for the benchmark threshold. We believe the grading of "
    "our short answers was too strict and ask for the responses to be graded again. (Simulated "
    "objection for the replay.)"
)
OBJECTION_REJECTION = (
    "The responses were graded by the published rules, identical for every team; the stored responses "
    "of the model reproduce the same accuracy, below the threshold of the frozen criteria. The "
    "objection is rejected."
)
