"""``make demo``: replay the first evaluation of the seed articles on the embedded stack.

``fmc demo --through stage-2`` continues on the same stack into the additional selection and the
second evaluation (``fmc_devrunner.stage2``); the default stays the stage-1 replay.

Starts the broker, Triton on the CPU (serving the five teams' SIMULATED models) and the four
services on SQLite; drives the stage through the services' public REST APIs and events
(``fmc_devrunner.stage1.scenario``); prints the report and writes it as JSON and HTML; stops
everything, whatever happened.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from fmc_devrunner.stack import DevStack, StackConfig
from fmc_devrunner.stage1 import models, report, world
from fmc_devrunner.stage1.scenario import (
    FULL,
    SMALL,
    Replay,
    ReplayFailed,
    ReplayRecord,
    Scale,
    compare_outcomes,
)
from fmc_devrunner.stage2 import scenario as stage2
from fmc_devrunner.stage2 import world as world2

SCALES = {"full": FULL, "small": SMALL}
THROUGH = ("stage-1", "stage-2")


def check_outcome(record: ReplayRecord) -> None:
    """The outcome the articles report, with its reasons; anything else fails the replay."""
    compare_outcomes(record, world.EXPECTED_ADVANCING, world.EXPECTED_ELIMINATED, "the articles'")
    call = record.finalisation.get("selection_call")
    if not call or call["vacancies"] != 1:
        raise ReplayFailed(f"expected an additional-selection call for 1 vacancy, got {call}")


class OutputClosed(Exception):
    """Whoever read the replay's output went away (``fmc demo | head``): stop rather than run blind."""


class Console:
    """Progress lines on stdout, flushed at once."""

    def __init__(self) -> None:
        self.closed = False

    def __call__(self, text: str) -> None:
        if self.closed:
            raise OutputClosed("stdout is closed")
        try:
            print(text, flush=True)
        except BrokenPipeError as exc:
            self.closed = True
            # Python would complain again when it flushes stdout at exit: point it at /dev/null.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            raise OutputClosed("stdout was closed") from exc


async def run_demo(var_dir: Path, report_dir: Path, scale: Scale = FULL, through: str = "stage-1") -> int:
    # The replay always starts from an empty embedded stack.
    await asyncio.to_thread(shutil.rmtree, var_dir, ignore_errors=True)
    repository = var_dir / "model_repository"
    questions = models.demo_questions(scale.suites)
    served = world.TEAM_MODELS + ((world2.NEWCOMER,) if through == "stage-2" else ())
    known = await asyncio.to_thread(models.build_repository, repository, served, questions)
    config = StackConfig(
        var_dir,
        model_repository=repository,
        load_models=models.served_models(served),
        service_env={"FMC_SCORING_ARENA_DAILY_VOTES": "200", "FMC_GATEWAY_ARENA_VOTER_LIMIT": "200"},
    )
    say = Console()
    stack = DevStack(config, progress=say)
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if main_task is not None:
        loop.add_signal_handler(signal.SIGTERM, main_task.cancel)
    started = time.perf_counter()
    record = ReplayRecord()
    ok, error = False, None
    try:
        say("Stage 1 replay: the first evaluation of the Independent AI Foundation Model project")
        say(
            "(the teams' models, weights, expert scores and votes are SIMULATED;"
            " the outcome is the articles')"
        )
        say("simulated models: " + ", ".join(f"{lead} knows {n} answers" for lead, n in known.items()))
        say(f"\nstarting the embedded stack (logs in {stack.logs}) ...")
        await stack.start()
        replay = Replay(stack, scale, say)
        record = replay.record
        record.timings.update({f"start {k}": round(v, 2) for k, v in stack.timings.items()})
        await replay.run()
        check_outcome(record)
        if through == "stage-2":
            say("\nStage 2: the additional selection and the second evaluation (ILLUSTRATIVE continuation)")
            second = stage2.Stage2Replay(stack, scale, replay, say)
            record.stage2_record = second.record
            await second.run()
            stage2.check_outcome(second.record)
        ok = True
    except ReplayFailed as failure:
        error = str(failure)
    except OutputClosed as closed:
        error = str(closed)
    except Exception as failure:  # reported, and the stack is stopped below
        error = f"{type(failure).__name__}: {failure}"
        traceback.print_exc()
    finally:
        # First stop everything, whatever happened; only then talk about it.
        await asyncio.to_thread(stack.stop)
    record.timings["total"] = round(time.perf_counter() - started, 2)
    json_path, html_path = await asyncio.to_thread(report.write, record, ok, error, report_dir)
    try:
        if error:
            say(f"\nREPLAY FAILED: {error}")
        say("\nstack stopped.")
        say(report.terminal(record, ok, error))
        say(f"report written to {json_path} and {html_path}")
        say(
            "the same flows in a browser (public arena, results, team portal, operator console): `make dev`, "
            "then http://127.0.0.1:8105 (docs/web.md)"
        )
    except OutputClosed:
        return 1
    return 0 if ok else 1
