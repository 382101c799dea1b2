"""Lesson links: a page's main settings round-trip through the URL's query parameters.

A page lists its settings (:class:`Setting`: the widget's session-state key, which is also
the query parameter) and calls :func:`bind` before drawing its widgets. The first time the
page runs in a session, values found in the URL are checked (with ``fmcore.validate``: NaN,
inf, 1e309, out-of-range numbers and unknown choices are refused with a message, never
applied) and put in the session state, where the widgets pick them up. From then on the
address bar follows the widgets, so copying it shares the lesson as it stands.

``hide=key1,key2`` in a link hides those controls (their values still apply): a teacher
prepares one link per slide with only the control that matters. The sidebar's *Link to this
lesson* box builds such links.

Two settings of the sidebar travel with every lesson's link when they differ from their
defaults: ``seed`` (the same draws for every student) and ``classroom=true`` (presenter
mode survives a reload). :func:`apply_shared` reads them before the sidebar draws its
widgets.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from fmcore.errors import FMError, InvalidTextError, SettingError
from fmcore.validate import bounded_int, finite_float
from ui import state

KINDS = ("choice", "int", "float", "bool", "text")
MAX_PARAM_CHARS = 2000


@dataclass(frozen=True)
class Setting:
    """One setting a link can carry."""

    key: str  # the widget's key in st.session_state, and the query parameter's name
    label: str  # how the share box names it
    kind: str  # one of KINDS
    options: tuple = ()  # "choice": the allowed values (compared as text)
    low: float = -math.inf  # "int" and "float": the allowed range; "text": unused
    high: float = math.inf  # "text": the most characters
    after: Callable[[], None] | None = None  # run after a link sets it (e.g. reset the rest)


# The sidebar's settings, in every lesson's link when not at their defaults (see above)
SHARED = (
    Setting(state.SEED_KEY, "Seed", "int", low=0, high=state.MAX_SEED),
    Setting(state.CLASSROOM_KEY, "Classroom mode", "bool"),
)
SHARED_DEFAULTS = {state.SEED_KEY: 0, state.CLASSROOM_KEY: False}


def apply_shared() -> None:
    """Put a link's seed and classroom mode in the session, once per session, before the
    sidebar's widgets exist (a widget's value cannot be set after it is drawn)."""
    ss = st.session_state
    if ss.get("links_shared_applied"):
        return
    ss["links_shared_applied"] = True
    params = st.query_params.to_dict()
    for setting in SHARED:
        if setting.key in params:
            try:
                ss[setting.key] = parse(setting, params[setting.key])
            except FMError as error:
                ss.setdefault("links_problems", []).append(str(error))


def parse(setting: Setting, raw: object) -> object:
    """The value a link's text stands for, or FMError saying why it cannot be used."""
    text = str(raw)
    if len(text) > MAX_PARAM_CHARS:
        raise InvalidTextError(f"{setting.label}: the value is too long.")
    if setting.kind == "choice":
        for option in setting.options:
            if str(option) == text:
                return option
        if all(isinstance(o, int | float) and not isinstance(o, bool) for o in setting.options):
            # a number written another way ("1" for 1.0, "1e-2" for 0.01) is the same choice
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            for option in setting.options:
                if math.isclose(number, option, rel_tol=1e-9):
                    return option
        options = [str(o) for o in setting.options]
        shown = ", ".join(options) if len(options) <= 8 else (
            f"{', '.join(options[:3])}, ..., {options[-1]}")
        raise SettingError(f"{setting.label}: {text[:40]!r} is not one of {shown}.")
    if setting.kind == "bool":
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise SettingError(f"{setting.label}: {text[:40]!r} is not true or false.")
    if setting.kind == "text":
        if len(text) > setting.high:
            raise InvalidTextError(f"{setting.label}: at most {int(setting.high)} characters.")
        return text
    try:
        number = float(text)
    except ValueError:
        raise SettingError(f"{setting.label}: {text[:40]!r} is not a number.") from None
    if setting.kind == "int":
        if not math.isfinite(number) or number != int(number):
            raise SettingError(f"{setting.label}: {text[:40]!r} is not a whole number.")
        return bounded_int(setting.label, int(number), int(setting.low), int(setting.high))
    return finite_float(setting.label, number, setting.low, setting.high)


def dump(value: object) -> str:
    """How a value is written in a link."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def bind(page: str, settings: list[Setting]) -> None:
    """Apply a link's settings once per session and page (a value that cannot be used is
    left out, with a warning saying why), then keep the URL equal to the settings. Call
    after the page's defaults (``init_state``) and before its widgets."""
    ss = st.session_state
    params = st.query_params.to_dict()
    known = {s.key: s for s in settings}
    problems: list[str] = ss.pop("links_problems", [])  # apply_shared's, shown here once
    applied = ss.setdefault("links_applied", [])
    if page not in applied:
        applied.append(page)
        for key, setting in known.items():
            if key in params:
                try:
                    ss[key] = parse(setting, params[key])
                except FMError as error:
                    problems.append(str(error))
                    continue
                if setting.after is not None:
                    setting.after()
        hide = [k for k in str(params.get("hide", "")).split(",") if k in known]
        ss[f"links_hide_{page}"] = hide
    hidden = ss.get(f"links_hide_{page}", [])
    if hidden:  # Streamlit gives each keyed widget the CSS class st-key-<key>
        st.html("<style>" + ", ".join(f".st-key-{k}" for k in hidden) + " {display: none}</style>")
    wanted = {key: dump(ss[key]) for key in known if key in ss}
    wanted |= {s.key: dump(ss[s.key]) for s in SHARED
               if ss.get(s.key, SHARED_DEFAULTS[s.key]) != SHARED_DEFAULTS[s.key]}
    if hidden:
        wanted["hide"] = ",".join(hidden)
    if params != wanted:
        st.query_params.from_dict(wanted)
    for message in problems:
        st.warning(f"From the link: {message}", icon=":material/link_off:")
    _share_box(page, settings, wanted)


def _share_box(page: str, settings: list[Setting], params: dict[str, str]) -> None:
    """The sidebar's box that builds a link to this lesson, optionally hiding controls."""
    with st.sidebar.expander("Link to this lesson", icon=":material/link:"):
        labels = {s.key: s.label for s in settings}
        hide = st.multiselect("Hide these controls in the link", list(labels),
                              format_func=labels.get, key=f"links_choose_{page}")
        link = {k: v for k, v in params.items() if k != "hide"}
        if hide:
            link["hide"] = ",".join(hide)
        base = st.context.url.split("?")[0] if st.context.url else ""
        st.code(f"{base}?{urlencode(link, safe=',')}", language=None, wrap_lines=True)
        st.caption("The link opens this lesson with these settings. Hidden controls keep "
                   "their values; a student opening the link sees only the rest.")
