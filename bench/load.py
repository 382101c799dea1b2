"""Many students on one server: slider latency, the training queue and memory under load.

For each number N of concurrent students (``--sessions``, default 1 10 30) a fresh server
(``streamlit run app.py``, ``FMLAB_MAX_TRAININGS`` from ``--max-trainings``) is started on
this machine and N real browser sessions use it at the same time: one headless Chromium,
one browser context (so one Streamlit session) per student, driven concurrently through
Playwright's async API.

- Slider sessions open the gradient-descent lesson, wait until it is drawn, then move the
  "Learning rate α" slider (focus, ArrowRight / ArrowLeft alternately; ``--presses``
  measured after ``--warmup`` unmeasured ones), with a seeded random think-time between
  moves. A move's latency is the time from the keydown, as the page sees it, until the
  path of the first Plotly chart (trace 1, the predicate of bench/startup.py) has changed,
  both read on the page's clock (``performance.now()``, a MutationObserver watching the
  page, so neither Playwright's round trips nor a busy Python event loop count). The
  session then waits until the script run has ended (the app root's
  ``data-test-script-state`` is ``notRunning``, and no status widget is shown; this app
  never draws the status widget, its toolbar being "minimal") before thinking again. A move
  that does not redraw, or whose run does not end, within ``--move-timeout``, or that
  raises, is lost.
- Every ``--train-every``-th session (the 5th, 10th, ...) is a trainer instead: it opens
  the pretraining lesson, sets "Steps" and "Batch size B" to their smallest settings with
  the keyboard, and presses Train; then it watches the page (only elements of the current
  script run, not stale ones left from the previous run) until the script run has ended
  and the outcome "Finished K steps." is shown. It starts another training while
  slider sessions are still moving, all within ``--budget`` seconds (a training still
  running then is stopped with its Stop button). A training is "seen queued" when its page
  showed the limiter's "... ahead of you" message.
- Memory: the summed VmRSS of the server's process group (it runs in its own session),
  sampled every 0.25 s: the peak, and with all N sessions still open and idle at the end.
- The server's share: the server runs with ``FMLAB_RUN_LOG`` set, so app.py logs how long
  each script run took and how much CPU its thread used; the slider lesson's runs after
  the page opens give "srv p95" (wall clock, still waiting for cores the browsers hold)
  and "cpu p50" (what one move costs the server, whoever shares the machine).
- Nothing lost: no lost move, no Python-side error in any session, and no
  ``[data-testid=stException]`` on any page at the end.

Baseline, measured in the same run on its own fresh server: the slider latency of one
session with no training; each N's p95 is also given as a ratio to the baseline's p95.

Goals (issue: many students on one server): 30 sessions served; p95 slider latency at
most 300 ms while trainings run and queue; nothing lost; server RSS with 30 idle sessions
at most 1 GB (1024 MiB).

The browser, the server and the trainings all share this machine's cores: the figures
include the cost of rendering N pages here, which in a classroom each student's own
computer pays. Read them as an upper bound, and against the baseline.

Run:  python bench/load.py [--quick] [--sessions 1 10 30] [--presses 8] [--max-trainings 2]
``--quick``: sessions 1 and 3, 3 presses, every 3rd session a trainer. Prints a table, then
one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    browser_missing,
    free_port,
    start_server,
    stop_server,
)
from bench.startup import DESCENT_CHANGED  # noqa: E402

SLIDER = "Learning rate α"
# Button names, whatever Material icon text precedes them
TRAIN, STOP = re.compile(r"(^|\s)Train$"), re.compile(r"(^|\s)Stop$")
GOAL_SESSIONS = 30
SLIDER_PAGE = "gradient_descent"  # the page slider sessions use (its url path)
GOAL_P95_MS = 300
GOAL_RSS_MIB = 1024
VIEWPORT = {"width": 1400, "height": 1000}

# Installed in every page before its own scripts: the page's clock at the last keydown, and
# a promise that resolves with performance.now() when a predicate holds (checked at every
# DOM mutation, and every 50 ms), or with null after a timeout.
INIT_JS = """
window.__fmT0 = null;
window.addEventListener('keydown', () => { window.__fmT0 = performance.now(); }, true);
window.__fmUntil = (pred, arg, timeoutMs) => new Promise((resolve) => {
  let finished = false, timer = null, deadline = null;
  const observer = new MutationObserver(() => check());
  const finish = (value) => {
    if (finished) return;
    finished = true;
    observer.disconnect(); clearInterval(timer); clearTimeout(deadline);
    resolve(value);
  };
  const check = () => {
    let ok = false;
    try { ok = pred(arg); } catch (e) { ok = false; }
    if (ok) finish(performance.now());
  };
  observer.observe(document.documentElement,
                   {subtree: true, childList: true, attributes: true, characterData: true});
  timer = setInterval(check, 50);
  deadline = setTimeout(() => finish(null), timeoutMs);
  check();
});
"""
# Whether Streamlit has finished the script run: the app root's data-test-script-state (the
# status widget is never drawn here: .streamlit/config.toml sets toolbarMode = "minimal").
SCRIPT_STATE = ("(document.querySelector('[data-testid=\"stApp\"]')"
                " || {getAttribute: () => null}).getAttribute('data-test-script-state')")
IDLE = (f"(b) => {SCRIPT_STATE} === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')")
SETTLED = IDLE + " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
# The pretraining page as a trainer sees it: only elements of the current script run (a rerun
# marks the previous run's elements data-stale until it ends, then removes them).
TRAIN_STATE = """() => {
  const fresh = [...document.querySelectorAll('[data-testid="stElementContainer"]')]
    .filter(e => !e.closest('[data-stale="true"]'));
  const text = fresh.map(e => e.innerText || '').join('\\n');
  const progress = (text.match(/Pretraining: [^\\n]*/) || [''])[0];
  return {
    running: ${SCRIPT_STATE} !== 'notRunning',
    live: /^Pretraining: (waiting for a free training slot|step \\d+ of \\d+)/.test(progress),
    queued: text.includes('ahead of you'),
    finished: /Finished \\d+ steps\\./.test(text),
    stopped: /Stopped at step \\d+/.test(text),
    failed: fresh.some(e => e.querySelector('[data-testid="stAlertContentError"]')
                            || e.querySelector('[data-testid="stException"]')),
    progress: progress,
  };
}""".replace("${SCRIPT_STATE}", SCRIPT_STATE)


def until_js(predicate: str) -> str:
    """A page function ([arg, timeout_ms]) => ms on the page's clock when ``predicate`` held."""
    return f"([arg, ms]) => window.__fmUntil({predicate}, arg, ms)"


# ------------------------------------------------------------------------- measures
def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between the closest ranks; None if empty."""
    if not values:
        return None
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def group_rss_mib(pgid: int) -> float:
    """Summed VmRSS (MiB) of every process in process group ``pgid``."""
    total_kib = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[2]) != pgid:  # state ppid pgrp
                    continue
            with open(f"/proc/{entry.name}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total_kib += int(line.split()[1])
                        break
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return total_kib / 1024


async def sample_rss(pgid: int, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], group_rss_mib(pgid))
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except TimeoutError:
            pass


# ------------------------------------------------------------------------- sessions
@dataclass
class Session:
    index: int
    trainer: bool
    rng: random.Random
    page: object = None
    opened: bool = False
    latencies_ms: list = field(default_factory=list)  # on the page's clock
    wall_ms: list = field(default_factory=list)  # from Python, Playwright's trips included
    moves: int = 0
    timeouts: int = 0
    errors: list = field(default_factory=list)
    started: int = 0
    completed: int = 0
    queued: int = 0  # trainings seen queued
    stopped_at_budget: int = 0
    exceptions: int = 0
    settings: dict = field(default_factory=dict)  # a trainer's run settings, as set


async def settle(page, timeout_ms: int) -> None:
    """bench.harness.settle, async: the run finished, the skeletons replaced, charts drawn."""
    await page.wait_for_selector("h1", timeout=timeout_ms)
    await page.wait_for_function(IDLE.replace("(b) =>", "() =>"), timeout=timeout_ms,
                                 polling=100)
    await page.wait_for_timeout(600)
    await page.wait_for_function(SETTLED.replace("(b) =>", "() =>"), timeout=timeout_ms,
                                 polling=100)
    await page.wait_for_timeout(400)


async def until(page, predicate: str, arg, timeout_s: float) -> float | None:
    """The page's clock (ms) when ``predicate(arg)`` first held, or None after timeout_s."""
    return await asyncio.wait_for(
        page.evaluate(until_js(predicate), [arg, int(timeout_s * 1000)]), timeout_s + 10
    )


async def open_session(session: Session, url: str, args) -> None:
    page = session.page
    timeout_ms = int(args.open_timeout * 1000)
    path = "pretraining" if session.trainer else SLIDER_PAGE
    await page.goto(f"{url}/{path}", timeout=timeout_ms)
    await settle(page, timeout_ms)
    if session.trainer:
        await page.get_by_role("button", name=TRAIN).wait_for(timeout=timeout_ms)
        for name in ("Steps", "Batch size B"):  # the shortest run the page allows
            session.settings[name] = await set_to_minimum(page, name, args)
    else:
        await page.wait_for_function(f"() => ({DESCENT_CHANGED})(null)", timeout=timeout_ms,
                                     polling=100)
    session.opened = True


async def set_to_minimum(page, name: str, args) -> str:
    """Press ArrowLeft on slider ``name`` until it is at its minimum; its value as shown."""
    slider = page.get_by_role("slider", name=name)  # its accessible name also holds its value
    for _ in range(20):
        value, lowest, shown = await slider.evaluate(  # an <input type=range>
            "e => [e.value, e.min, e.getAttribute('aria-valuetext')]")
        if value == lowest:
            return shown
        await slider.focus()
        await slider.press("ArrowLeft")
        await page.wait_for_function("([e, v]) => e.value !== v",
                                     arg=[await slider.element_handle(), value],
                                     timeout=int(args.move_timeout * 1000), polling=100)
        await page.wait_for_timeout(300)  # then the rerun it asks for
        if await until(page, IDLE, None, args.move_timeout) is None:
            raise TimeoutError(f"the rerun after moving {name!r} did not end")
    raise RuntimeError(f"slider {name!r} did not reach its minimum")


async def think(session: Session, args) -> None:
    await asyncio.sleep(session.rng.uniform(*args.think_ms) / 1000)


async def move_slider(session: Session, args) -> None:
    page = session.page
    control = page.get_by_role("slider", name=SLIDER)
    await think(session, args)  # students do not all start in the same millisecond
    for i in range(args.warmup + args.presses):
        measured = i >= args.warmup
        try:
            before = await page.evaluate(f"() => ({DESCENT_CHANGED})('__value__')")
            await control.focus()
            t0 = time.perf_counter()
            await control.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            changed = await until(page, DESCENT_CHANGED, before, args.move_timeout)
            wall = (time.perf_counter() - t0) * 1e3
            session.moves += measured
            if changed is None:
                session.timeouts += 1
            else:
                pressed = await page.evaluate("() => window.__fmT0")
                if measured:
                    session.latencies_ms.append(changed - pressed)
                    session.wall_ms.append(wall)
                if await until(page, IDLE, None, args.move_timeout) is None:
                    session.timeouts += 1  # the rerun never ended
        except Exception as error:  # counted as a lost move, and reported
            session.moves += measured
            session.errors.append(f"move {i}: {type(error).__name__}: {error}"[:300])
        await think(session, args)


async def train(session: Session, args, deadline: float, sliders_done: asyncio.Event) -> None:
    """Train, again while slider sessions still move, until ``deadline`` (loop clock)."""
    page = session.page
    loop = asyncio.get_running_loop()
    await think(session, args)
    while loop.time() < deadline:
        await page.get_by_role("button", name=TRAIN).click()
        session.started += 1
        started = False  # until the new run shows, the page still shows the last outcome
        seen_queued = False
        while True:
            state = await page.evaluate(TRAIN_STATE)
            started = started or state["running"] or state["live"]
            seen_queued = seen_queued or state["queued"]
            if started and not state["running"]:
                if state["finished"]:
                    session.completed += 1
                else:  # failed, or stopped by something other than this benchmark
                    session.errors.append(f"training {session.started} ended: "
                                          f"{'failed' if state['failed'] else state['progress']}")
                break
            if loop.time() > deadline:
                if started:  # budget spent: stop it, as a student would leave
                    await page.get_by_role("button", name=STOP).click()
                    session.stopped_at_budget += 1
                    await until(page, IDLE, None, args.move_timeout)
                else:
                    session.errors.append(f"training {session.started} never started")
                break
            await asyncio.sleep(0.25)
        session.queued += seen_queued
        if sliders_done.is_set():
            break
        await think(session, args)


async def run_level(browser, n: int, args, train_every: int | None) -> dict:
    """N sessions on a fresh server; trainers every ``train_every``-th (None: none)."""
    os.environ["FMLAB_MAX_TRAININGS"] = str(args.max_trainings)  # the server inherits it
    run_log = Path(tempfile.mkdtemp(prefix="fmlab-load-")) / "runs.txt"
    os.environ["FMLAB_RUN_LOG"] = str(run_log)  # app.py: one line per script run
    port = free_port()
    server_log = run_log.with_name("server.log")
    process = start_server(port, log=server_log)
    url = f"http://127.0.0.1:{port}"
    stop_sampling, peak = asyncio.Event(), [0.0]
    sampler = asyncio.create_task(sample_rss(process.pid, peak, stop_sampling))
    sessions = [Session(i, train_every is not None and (i + 1) % train_every == 0,
                        random.Random(args.seed * 100_003 + n * 101 + i)) for i in range(n)]
    contexts, opened_runs = [], 0
    t_start = time.perf_counter()
    try:
        for session in sessions:
            context = await browser.new_context(viewport=VIEWPORT)
            contexts.append(context)
            await context.add_init_script(INIT_JS)
            session.page = await context.new_page()
        opened = await asyncio.gather(*(open_session(s, url, args) for s in sessions),
                                      return_exceptions=True)
        for session, result in zip(sessions, opened, strict=True):
            if isinstance(result, BaseException):
                session.errors.append(f"open: {type(result).__name__}: {result}"[:300])
        t_opened = time.perf_counter()
        opened_runs = run_log.stat().st_size if run_log.exists() else 0  # page opens: not moves

        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.budget
        sliders_done = asyncio.Event()
        sliders = [s for s in sessions if s.opened and not s.trainer]
        trainers = [s for s in sessions if s.opened and s.trainer]

        async def all_sliders():
            try:
                await asyncio.gather(*(move_slider(s, args) for s in sliders))
            finally:
                sliders_done.set()

        async def guarded(coroutine, session):
            try:
                await coroutine
            except Exception as error:  # reported with the session
                session.errors.append(f"{type(error).__name__}: {error}"[:300])

        await asyncio.gather(all_sliders(),
                             *(guarded(train(s, args, deadline, sliders_done), s)
                               for s in trainers))
        t_acted = time.perf_counter()

        await asyncio.sleep(args.idle_wait)  # all N open, nothing running
        idle = sorted(group_rss_mib(process.pid) for _ in range(3))[1]
        for session in sessions:
            if session.page is not None:
                try:
                    shown = session.page.locator("[data-testid='stException']")
                    session.exceptions = await shown.count()
                    for i in range(session.exceptions):  # what went wrong, for the report
                        text = await shown.nth(i).inner_text()
                        session.errors.append(f"stException on {session.page.url}: "
                                              f"{' '.join(text.split())}"[:400])
                except Exception as error:
                    session.errors.append(f"exception count: {error}"[:300])
    finally:
        stop_sampling.set()
        await sampler
        for context in contexts:
            try:
                await context.close()
            except Exception:  # the browser may be gone already
                pass
        stop_server(process)

    if server_log.exists() and "Traceback" in (text := server_log.read_text("utf-8", "replace")):
        print(f"  [N={n}] the server logged errors:\n{text[text.index('Traceback'):][:3000]}",
              file=sys.stderr)
    latencies = [x for s in sessions for x in s.latencies_ms]
    server, server_cpu = server_runs(run_log, SLIDER_PAGE, opened_runs)
    wall = [x for s in sessions for x in s.wall_ms]
    errors = [f"session {s.index}: {e}" for s in sessions for e in s.errors]
    lost = sum(s.timeouts for s in sessions) + sum(
        1 for s in sessions for e in s.errors if e.startswith("move"))
    level = {
        "sessions": n,
        "slider_sessions": sum(not s.trainer for s in sessions),
        "trainer_sessions": sum(s.trainer for s in sessions),
        "opened": sum(s.opened for s in sessions),
        "served": sum(s.opened and not s.errors and not s.timeouts and not s.exceptions
                      for s in sessions),
        "moves": sum(s.moves for s in sessions),
        "moves_measured": len(latencies),
        "moves_timed_out": sum(s.timeouts for s in sessions),
        "moves_lost": lost,
        "errors": len(errors),
        "exceptions_on_pages": sum(s.exceptions for s in sessions),
        "p50_ms": rounded(percentile(latencies, 50)),
        "p95_ms": rounded(percentile(latencies, 95)),
        "max_ms": rounded(max(latencies, default=None)),
        "wall_p95_ms": rounded(percentile(wall, 95)),
        "server_runs": len(server),
        "server_p50_ms": rounded(percentile(server, 50)),
        "server_p95_ms": rounded(percentile(server, 95)),
        "server_cpu_p50_ms": rounded(percentile(server_cpu, 50)),
        "server_cpu_p95_ms": rounded(percentile(server_cpu, 95)),
        "trainings_started": sum(s.started for s in sessions),
        "trainings_completed": sum(s.completed for s in sessions),
        "trainings_seen_queued": sum(s.queued for s in sessions),
        "trainings_stopped_at_budget": sum(s.stopped_at_budget for s in sessions),
        "trainer_settings": [json.loads(x) for x in
                             sorted({json.dumps(s.settings) for s in sessions if s.settings})],
        "rss_peak_mib": round(peak[0]),
        "rss_idle_mib": round(idle),
        "open_s": round(t_opened - t_start, 1),
        "act_s": round(t_acted - t_opened, 1),
    }
    shown = [e for e in errors if "stException" in e][:10]  # the rarest first
    for line in shown + [e for e in errors if e not in shown][: 10 - len(shown) + 5]:
        print(f"  [N={n}] {line}", file=sys.stderr)
    return level


def server_runs(log: Path, page: str, skip_bytes: int) -> tuple[list[float], list[float]]:
    """The server's own wall-clock and CPU time (ms) of each script run of ``page`` logged
    after the first ``skip_bytes`` (the page opens) of app.py's FMLAB_RUN_LOG. The wall
    time still waits for cores the browsers hold; the CPU time is what one move costs the
    server (its script thread), whoever shares the machine."""
    if not log.exists():
        return [], []
    text = log.read_bytes()[skip_bytes:].decode("utf-8")
    rows = [line.split() for line in text.splitlines()]
    rows = [r for r in rows if r[0] == page]
    return [1e3 * float(r[1]) for r in rows], [1e3 * float(r[2]) for r in rows]


def rounded(x: float | None) -> float | None:
    return None if x is None else round(x)


# ------------------------------------------------------------------------- report
def goals(levels: list[dict]) -> tuple[dict, bool, bool, bool]:
    """The goals met, and whether N >= 30, a trainer and a queued training were seen."""
    at_goal = [lv for lv in levels if lv["sessions"] >= GOAL_SESSIONS]
    loaded = [lv for lv in levels if lv["trainer_sessions"] > 0]
    queued = any(lv["trainings_seen_queued"] > 0 for lv in loaded)
    return {
        "goal_30_sessions_served": bool(at_goal) and all(lv["served"] == lv["sessions"]
                                                         for lv in at_goal),
        "goal_p95_under_load": bool(loaded) and queued and all(
            lv["p95_ms"] is not None and lv["p95_ms"] <= GOAL_P95_MS for lv in loaded),
        "goal_nothing_lost": all(lv["moves_lost"] == 0 and lv["errors"] == 0
                                 and lv["exceptions_on_pages"] == 0 for lv in levels),
        "goal_rss_30_idle": bool(at_goal) and all(lv["rss_idle_mib"] <= GOAL_RSS_MIB
                                                  for lv in at_goal),
    }, bool(at_goal), bool(loaded), queued


def report(baseline: dict, levels: list[dict], args, train_every: int) -> None:
    base = baseline["p95_ms"]
    for lv in levels:
        lv["p95_vs_baseline"] = (round(lv["p95_ms"] / base, 2)
                                 if lv["p95_ms"] is not None and base else None)
    met, at_goal, loaded, queued = goals(levels)

    def cell(x) -> str:
        return "-" if x is None else str(x)

    head = (f"{'N':>4}{'slid':>5}{'train':>6}{'moves':>7}{'lost':>5}{'p50 ms':>8}"
            f"{'p95 ms':>8}{'x base':>8}{'srv p95':>8}{'cpu p50':>8}{'trainings s/c/q':>17}"
            f"{'RSS peak':>10}"
            f"{'RSS idle':>10}{'exc':>5}{'open s':>8}{'act s':>7}")
    print(head)
    for lv in [dict(baseline, p95_vs_baseline=1.0)] + levels:
        trainings = (f"{lv['trainings_started']}/{lv['trainings_completed']}/"
                     f"{lv['trainings_seen_queued']}")
        print(f"{lv['sessions']:>4}{lv['slider_sessions']:>5}{lv['trainer_sessions']:>6}"
              f"{lv['moves_measured']:>7}{lv['moves_lost']:>5}{cell(lv['p50_ms']):>8}"
              f"{cell(lv['p95_ms']):>8}{cell(lv['p95_vs_baseline']):>8}"
              f"{cell(lv['server_p95_ms']):>8}{cell(lv['server_cpu_p50_ms']):>8}{trainings:>17}"
              f"{lv['rss_peak_mib']:>9}M{lv['rss_idle_mib']:>9}M"
              f"{lv['exceptions_on_pages']:>5}{lv['open_s']:>8}{lv['act_s']:>7}")
    print(f"  first row: the baseline (1 session, no training). Latency: α keypress to the "
          f"descent path redrawn, on the page's clock; {args.presses} presses per slider "
          f"session after {args.warmup} warm-up, think-time {args.think_ms[0]:.0f}-"
          f"{args.think_ms[1]:.0f} ms. srv p95: the server's own script run of the lesson "
          f"(app.py's FMLAB_RUN_LOG), wall clock; cpu p50: the CPU time of that run's "
          f"thread, what one move costs the server whoever shares the cores.")
    who = f"every {train_every}-th session" if train_every else "none"
    print(f"  trainers: {who}, shortest run, s/c/q = trainings "
          f"started / completed within {args.budget:.0f} s / seen queued; at most "
          f"{args.max_trainings} at once. RSS: the server's process group, MiB.")

    def verdict(ok: bool, measured: bool = True, why: str = "") -> str:
        return "met" if ok else ("NOT met" if measured else f"NOT met (not measured: {why})")

    print(f"goal: {GOAL_SESSIONS} sessions served: "
          f"{verdict(met['goal_30_sessions_served'], at_goal, 'no N >= 30 in this run')}")
    print(f"goal: p95 slider latency <= {GOAL_P95_MS} ms while trainings queue: "
          + verdict(met["goal_p95_under_load"], loaded and queued,
                    "no training was seen queued" if loaded else "no trainer session"))
    print(f"goal: nothing lost (no lost move, no error, no stException): "
          f"{verdict(met['goal_nothing_lost'])}")
    print(f"goal: server RSS with {GOAL_SESSIONS} idle sessions <= {GOAL_RSS_MIB} MiB: "
          f"{verdict(met['goal_rss_30_idle'], at_goal, 'no N >= 30 in this run')}")
    figures = {
        "bench": "load",
        "max_trainings": args.max_trainings,
        "train_every": train_every,
        "presses": args.presses,
        "baseline_p50_ms": baseline["p50_ms"],
        "baseline_p95_ms": baseline["p95_ms"],
        "baseline_server_p95_ms": baseline["server_p95_ms"],
        "baseline_server_cpu_p50_ms": baseline["server_cpu_p50_ms"],
        "baseline_moves_lost": baseline["moves_lost"],
        "baseline_rss_idle_mib": baseline["rss_idle_mib"],
        "levels": levels,
        **met,
    }
    print(json.dumps(figures))


# ------------------------------------------------------------------------- main
async def run(args, train_every: int) -> tuple[dict, list[dict]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=CHROMIUM_ARGS)
        try:
            baseline = await run_level(browser, 1, args, train_every=None)
            print(f"baseline: p50 {baseline['p50_ms']} ms, p95 {baseline['p95_ms']} ms",
                  file=sys.stderr)
            levels = []
            for n in args.sessions:
                levels.append(await run_level(browser, n, args, train_every))
                lv = levels[-1]
                print(f"N={n}: p95 {lv['p95_ms']} ms, lost {lv['moves_lost']}, trainings "
                      f"{lv['trainings_completed']}/{lv['trainings_started']}, "
                      f"RSS idle {lv['rss_idle_mib']} MiB", file=sys.stderr)
        finally:
            await browser.close()
    return baseline, levels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=None,
                        help="numbers of concurrent sessions, 1 to 30 (default 1 10 30)")
    parser.add_argument("--presses", type=int, default=None,
                        help="measured slider moves per session (default 8)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured first moves")
    parser.add_argument("--train-every", type=int, default=None,
                        help="every k-th session trains instead (default 5; 0: none)")
    parser.add_argument("--max-trainings", type=int, default=2,
                        help="FMLAB_MAX_TRAININGS of the server")
    parser.add_argument("--budget", type=float, default=180,
                        help="seconds a trainer session may train for")
    parser.add_argument("--think-ms", type=float, nargs=2, default=(200, 800),
                        metavar=("MIN", "MAX"), help="random think-time between moves")
    parser.add_argument("--move-timeout", type=float, default=30,
                        help="seconds after which a move counts as lost")
    parser.add_argument("--open-timeout", type=float, default=240,
                        help="seconds for a session to open its page")
    parser.add_argument("--idle-wait", type=float, default=3,
                        help="seconds idle before the idle RSS is read")
    parser.add_argument("--seed", type=int, default=0, help="seed of the think-times")
    parser.add_argument("--quick", action="store_true",
                        help="sessions 1 and 3, 3 presses, every 3rd session a trainer")
    args = parser.parse_args()
    args.sessions = args.sessions or ([1, 3] if args.quick else [1, 10, 30])
    args.presses = args.presses or (3 if args.quick else 8)
    every = args.train_every if args.train_every is not None else (3 if args.quick else 5)
    if not all(1 <= n <= 30 for n in args.sessions):
        parser.error("--sessions: each between 1 and 30")
    if args.presses < 1 or args.max_trainings < 1 or every < 0:
        parser.error("--presses and --max-trainings must be positive, --train-every >= 0")
    missing = browser_missing()
    if missing:
        sys.exit(f"bench/load.py needs a browser: {missing}")
    baseline, levels = asyncio.run(run(args, every or None))
    report(baseline, levels, args, every)


if __name__ == "__main__":
    main()
