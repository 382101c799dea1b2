"""The live-training runner every lesson with a Train button uses (rule 11 of DESIGN.md).

A training loop in fmcore is a generator of events. ``train`` pulls its events inside the
script run: it waits for a server-wide training slot (showing the queue), then updates a
progress bar and the lesson's live charts as events arrive. The run is kept in
``st.session_state`` and updated in place at every event, so whatever stops it (the Stop
button, a page switch, a closed tab, an error) leaves what was learned in the session. Any
click reruns the script, and Streamlit interrupts the loop at its next call. A ``finally``
clause then marks the run as stopped and frees the slot.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from fmcore.errors import FMError
from ui.slots import TrainingSlots

# Trainings that may run at once in this server process. Each gets an equal share of the
# cores as torch threads: oversubscribed torch threads collapse throughput.
MAX_TRAININGS = max(1, int(os.environ.get("FMLAB_MAX_TRAININGS", "2")))
REDRAW_SECONDS = 0.3  # how often live charts are redrawn: smooth, without flooding the browser


@st.cache_resource
def training_slots() -> TrainingSlots:
    """The one limiter of this server process, shared by every session."""
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) // MAX_TRAININGS))
    return TrainingSlots(MAX_TRAININGS)


@dataclass
class Run:
    """One training as the session remembers it."""

    total_steps: int
    unit: str = "step"  # what one event counts: a training step, or one run of a grid
    status: str = "queued"  # queued -> running -> done | stopped | failed
    events: list = field(default_factory=list)  # every event the loop yielded, in order
    message: str = ""  # why it failed, in words a student can act on
    result: Any = None  # what the lesson keeps (e.g. the model), updated while it trains
    settings: Any = None  # what it was trained with, to label it once the widgets have moved
    started: float = field(default_factory=time.time)

    @property
    def step(self) -> int:
        steps = [e.step for e in self.events if hasattr(e, "step")]
        return max(steps, default=0)

    def of_type(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def current(key: str) -> Run | None:
    """The session's run under ``key``, if it ever trained."""
    run = st.session_state.get(key)
    if run is not None and run.status in ("queued", "running"):
        run.status = "stopped"  # a rerun interrupted it before its own cleanup could say so
    return run


def train(
    key: str,
    events: Callable[[], Iterator],
    *,
    total_steps: int,
    draw: Callable[..., None],
    result: Callable[[Any], Any] | None = None,
    label: str = "Training",
    unit: str = "step",
    settings: Any = None,
) -> Run:
    """Run ``events()`` live under ``key``: queue, progress bar, Stop button, live ``draw``.

    ``result(event)`` picks what to keep from an event (for example the model it carries);
    the run keeps it even when stopped. ``draw(run, final=False)`` draws the lesson's live
    charts; it is called every ``REDRAW_SECONDS``, and once at the end with ``final=True``
    (the charts that need a finished run, e.g. selections, and stable widget keys). ``unit``
    names what a step counts in the progress text ("step", or "run" for a grid of trainings).
    ``settings`` (e.g. the widget values) is kept with the run, so that a page can label a
    kept run with its own settings and tell when the widgets no longer match it.
    """
    run = Run(total_steps=max(1, total_steps), unit=unit, settings=settings)
    st.session_state[key] = run
    slots, ticket = training_slots(), uuid.uuid4().hex
    status = st.empty()
    progress = st.progress(0.0, text=f"{label}: waiting for a free training slot")
    stop = st.empty()  # emptied when the run ends: a finished run has nothing to stop
    stop.button("Stop", key=f"btn_{key}_stop", icon=":material/stop_circle:",
                help="Stop now and keep what was learned so far.")
    live = st.empty()
    try:
        slots.join(ticket)
        while (ahead := slots.try_start(ticket)) > 0:
            status.info(f"Queued: {ahead} ahead of you. Your training starts by itself.",
                        icon=":material/hourglass_top:")
            time.sleep(0.5)
        status.empty()
        run.status = "running"
        last_draw = 0.0
        for event in events():
            run.events.append(event)
            if result is not None and (kept := result(event)) is not None:
                run.result = kept
            if time.monotonic() - last_draw > REDRAW_SECONDS:
                progress.progress(min(run.step / run.total_steps, 1.0),
                                  text=f"{label}: {unit} {run.step} of {run.total_steps}")
                with live.container():
                    draw(run)
                last_draw = time.monotonic()
        run.status = "done"
    except FMError as error:
        run.status, run.message = "failed", str(error)
    finally:
        slots.release(ticket)
        if run.status in ("queued", "running"):
            run.status = "stopped"  # interrupted by Stop, a page switch or a closed tab
    stop.empty()
    progress.progress(min(run.step / run.total_steps, 1.0),
                      text=f"{label}: {run.status} at {unit} {run.step} of {run.total_steps}")
    with live.container():  # the finished run as a later rerun shows it (final=True)
        draw(run, final=True)
    return run


def show_outcome(run: Run) -> None:
    """One line saying how the last run ended."""
    if run.status == "failed":
        st.error(run.message)
    elif run.status == "stopped":
        st.info(f"Stopped at {run.unit} {run.step} of {run.total_steps}; what it learned is kept.",
                icon=":material/pause_circle:")
    elif run.status == "done":
        plural = "" if run.total_steps == 1 else "s"
        st.success(f"Finished {run.total_steps} {run.unit}{plural}.",
                   icon=":material/check_circle:")
