"""The app's pages, in course order: the single list ``app.py`` navigates and tests discover.

The scripts live in ``lessons/``, not ``pages/``: Streamlit treats a ``pages/`` folder beside
the entry point as an old-style multipage app and, for a link opened directly, runs the page
without ``app.py`` (no navigation, no sidebar). A page's URL is its file's stem.

Only lessons that work are listed here (no placeholders). Each lesson also names the stage of
the foundation-model paradigm it teaches, so the home page can link each stage to its lesson.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    path: str  # the script, relative to the project root
    title: str
    icon: str  # a Material icon (no emoji font is guaranteed on classroom machines)
    section: str  # the navigation section, following the course
    stage: str | None = None  # the paradigm stage of the home figure this lesson teaches


HOME = PageInfo("lessons/home.py", "Home", ":material/home:", "")

LESSONS: tuple[PageInfo, ...] = (
    PageInfo(
        "lessons/foundations/gradient_descent.py",
        "Gradient descent",
        ":material/trending_down:",
        "Foundations",
        stage="minimise",
    ),
    PageInfo(
        "lessons/self_supervision/pretext_tasks.py",
        "Paradigms and pretext tasks",
        ":material/extension:",
        "Self-supervision",
        stage="data",
    ),
    PageInfo(
        "lessons/vision/simclr_loss.py",
        "Augmentations and the SimCLR loss",
        ":material/compare:",
        "Contrastive learning",
        stage="loss",
    ),
    PageInfo(
        "lessons/vision/pretraining.py",
        "Pretraining live",
        ":material/model_training:",
        "Contrastive learning",
        stage="model",
    ),
    PageInfo(
        "lessons/adaptation/adaptation.py",
        "Linear probe vs finetuning",
        ":material/tune:",
        "Adaptation",
        stage="adapt",
    ),
    PageInfo(
        "lessons/language/language_model.py",
        "What a language model computes",
        ":material/text_fields:",
        "Language models",
    ),
    PageInfo(
        "lessons/language/temperature.py",
        "Sampling and temperature",
        ":material/thermostat:",
        "Language models",
    ),
    PageInfo(
        "lessons/prompting/prompting.py",
        "Few-shot prompting",
        ":material/quiz:",
        "Prompting",
    ),
)

# Sections in course order; a section appears in the navigation only when it has a lesson.
SECTIONS = (
    "Foundations",
    "Self-supervision",
    "Contrastive learning",
    "Adaptation",
    "Language models",
    "Prompting",
)


def all_pages() -> tuple[PageInfo, ...]:
    return (HOME, *LESSONS)


def sections() -> dict[str, list[PageInfo]]:
    """{section: lessons}, in course order, leaving out sections with no lesson yet."""
    grouped = {name: [p for p in LESSONS if p.section == name] for name in SECTIONS}
    return {name: pages for name, pages in grouped.items() if pages}


def lesson_for_stage(stage: str) -> PageInfo | None:
    return next((p for p in LESSONS if p.stage == stage), None)
