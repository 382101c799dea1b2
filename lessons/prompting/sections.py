"""Sections of the prompting lesson: the zero-shot question, and three ways to adapt
(Section 14.3.1): in context, the linear probe (Eq. 14.1) and finetuning (Eq. 14.2-14.4),
the finetuning run live with the runner."""

from __future__ import annotations

import itertools

import pandas as pd
import streamlit as st

from fmcore import style
from fmcore.errors import FMError
from fmcore.prompting import figures
from fmcore.prompting.icl import (
    CompareDone,
    CompareStart,
    FinetuneConfig,
    FinetuneStep,
    compare_adaptations,
    describe_wrong_curve,
)
from fmcore.prompting.icl_tasks import HIDDEN_SYMBOL, MAX_OPERAND, OPERATIONS
from fmcore.prompting.prompts import decode_answer, read_number, shown
from lessons.prompting import cache
from ui import runner, state
from ui.charts import plot
from ui.widgets import columns

RUN = "ic_cmp"
EXAMPLES = (8, 16, 32, 64, 128)  # labelled examples for the probe and finetuning
STEPS = (20, 40, 60, 100, 150)  # finetuning steps (each on all n examples)
SHOWN_QUESTIONS = 8  # questions listed one by one under the summary
METHODS = {  # what each row is, in the words the page uses (the browser test reads them)
    "in_context": "in-context: θ̂ as shipped, the examples in the prompt",
    "probe": "linear probe (Eq. 14.1): θ frozen at θ̂, only w fitted",
    "finetune": "finetuning (Eq. 14.2-14.4): w and θ trained from θ̂",
}
DRAWS = itertools.count()  # live redraws happen in one script run: each needs its own keys


def run(model, tokenizer, operation: str, examples, config: FinetuneConfig, generator,
        template, large: bool) -> runner.Run:
    """Run the comparison live under the runner (queue, progress, Stop)."""
    return runner.train(
        RUN, lambda: compare_adaptations(model, tokenizer, operation, examples, config,
                                         generator, template),
        total_steps=config.steps, draw=lambda r, final=False: draw(r, large, final),
        label="Finetuning", unit="step")


def _row(name: str, labelled: str, result, status: str = "") -> dict:
    if result is None:
        return {"method": METHODS[name], "labelled examples": labelled,
                "exact answers": status, "mean |error|": "", "fit to its examples": ""}
    error = "" if result.mean_abs_error is None else f"{result.mean_abs_error:.1f}"
    fit = "" if result.train_accuracy is None else f"{result.train_accuracy:.0%}"
    return {"method": METHODS[name], "labelled examples": labelled,
            "exact answers": f"{result.accuracy:.0%}", "mean |error|": error,
            "fit to its examples": fit}


def draw(run: runner.Run, large: bool, final: bool = False) -> None:
    """The three results so far (a table), the finetuning loss, and at the end the first
    questions answer by answer."""
    starts, steps = run.of_type(CompareStart), run.of_type(FinetuneStep)
    if not starts:
        return
    start, done = starts[0], (run.of_type(CompareDone) or [None])[0]
    n = len(start.labelled)
    status = "training…" if not final else f"stopped at step {run.step}"
    rows = [_row("in_context", f"{start.shots} in the prompt", start.in_context),
            _row("probe", f"{n}", start.probe),
            _row("finetune", f"{n}, {start.total_steps} steps",
                 done.finetuned if done else None, status)]
    # st.table: HTML, so the classroom type reaches it (a dataframe's canvas it does not)
    st.table(pd.DataFrame(rows).set_index("method"))
    if done:
        st.caption(f"{len(start.queries)} fresh questions, the same for all three. Finetuning "
                   f"moved θ by {done.theta_change:.1%} of its size (the probe and the prompt "
                   f"by 0) in {done.seconds:.1f} s.")
    tag = "final" if final else next(DRAWS)
    if steps:
        plot(style.loss_curves_figure(
            {"finetuning loss": ([e.step for e in steps], [e.loss for e in steps])},
            title="Finetuning: squared error on the labelled examples", x_title="step",
            y_title="mean squared error (standardised)", large=large), f"ic_cmp_loss_{tag}",
            table=False)
    if final and done:
        with st.expander(f"The first {SHOWN_QUESTIONS} questions, answer by answer"):
            st.table(pd.DataFrame(answers(start, done)).set_index("question"))


def answers(start: CompareStart, done: CompareDone) -> list[dict]:
    """One row per question: the right answer and each method's."""
    rows = []
    for i, q in enumerate(start.queries[:SHOWN_QUESTIONS]):
        said = [r.predictions[i] for r in (start.in_context, start.probe, done.finetuned)]
        rows.append({"question": f"{q.a} ~ {q.b}", "right answer": q.answer,
                     "in-context": "—" if said[0] is None else said[0],
                     "probe": said[1], "finetuned": said[2]})
    return rows


def zero_shot(model, tokenizer, template, large: bool) -> None:
    """A question with the operation's own symbol (zero-shot), beside the same with ~."""
    ss = st.session_state
    st.markdown("With the operation's own symbol no example is needed: the task is written "
                "as a question (zero-shot, Section 14.3.1). The same question with ~ is a guess.")
    z1, z2, z3 = st.columns(3)
    z1.selectbox("Operation", list(OPERATIONS), key="ic_z_op",
                 format_func=lambda n: f"{OPERATIONS[n].symbol}  ({n})")
    z2.text_input("a", key="ic_z_a", max_chars=8)
    z3.text_input("b", key="ic_z_b", max_chars=8)
    try:
        za, zb = (read_number(ss.ic_z_a, "a", 0, MAX_OPERAND),
                  read_number(ss.ic_z_b, "b", 0, MAX_OPERAND))
        zop = OPERATIONS[ss.ic_z_op]
        for col, symbol, kind in zip(columns(2, large), (zop.symbol, HIDDEN_SYMBOL),
                                     ("explicit", "hidden"), strict=True):
            zprompt = template.write_query(za, symbol, zb)
            zanswer = decode_answer(model, tokenizer, zprompt)
            verdict = "right" if zanswer.value == zop(za, zb) else "wrong"
            col.code(shown(zprompt) + zanswer.text.rstrip("\n"), language=None)
            col.markdown(f"{kind}: **{zanswer.text.strip() or '(nothing)'}** with probability "
                         f"{zanswer.probability:.1%}, {verdict} ({zop.symbol} gives "
                         f"{zop(za, zb)}).")
    except FMError as error:
        st.error(str(error), icon=":material/edit_off:")


def three_ways(model, tokenizer, operation: str, examples, template, large: bool) -> None:
    """The comparison: settings, the button, the live run or the last one kept."""
    ss = st.session_state
    st.markdown("Section 14.3.1 first adapts a language model by **finetuning**: a linear head "
                "$w$ on $c_{T+1}$, with θ initialised at θ̂ and trained together with $w$. The "
                "**linear probe** keeps θ frozen and fits $w$ alone. **In context**, no weight "
                "changes. All three answer the same fresh questions; the probe and finetuning "
                "learn from your examples plus fresh ones, n in all.")
    # one equation a line: wider lines lose their numbers in classroom mode
    st.latex(r"\begin{gathered}\text{probe: }\min_w \tfrac1n\textstyle\sum_i \big(y^{(i)}-"
             r"w^\top c^{(i)}_{T+1}(\hat\theta)\big)^2\quad(14.1)\\\text{finetune: }"
             r"\min_{w,\theta}\tfrac1n\textstyle\sum_i\big(y^{(i)}-w^\top c^{(i)}_{T+1}(\theta)"
             r"\big)^2\quad(14.2)\\ w\leftarrow\text{random}\ (14.3),\quad\theta\leftarrow"
             r"\hat\theta\ (14.4)\end{gathered}")
    f1, f2 = st.columns(2)
    f1.select_slider("Labelled examples n (probe and finetuning)", EXAMPLES, key="ic_ft_n")
    f2.select_slider("Finetuning steps (Adam, all n each step)", STEPS, key="ic_ft_steps")
    config = FinetuneConfig(examples=ss.ic_ft_n, steps=ss.ic_ft_steps)
    wanted = (operation, tuple(examples), config, state.seed(), ss.ic_template)
    if st.button(f"Compare the three on {config.queries} fresh questions", key="btn_ic_compare",
                 type="primary", icon=":material/play_arrow:"):
        ss.ic_cmp_for = wanted
        result = run(model, tokenizer, operation, examples, config,
                     state.generator(5000 + ss.ic_round), template, large)
    elif (result := runner.current(RUN)) is not None and ss.ic_cmp_for == wanted:
        draw(result, large, final=True)
    elif result is not None:
        result = None
        st.caption("Your prompt or the settings changed since the last comparison: press the "
                   "button to compare again.")
    if result is not None:
        runner.show_outcome(result)
        st.caption("A head maps $c_{T+1}$ to a number, rounded: it has to compute the answer "
                   "from its n examples, and finetuning can also reshape $c_{T+1}$ to help. The "
                   "prompt's examples only have to say which operation is meant.")


def all_operations(large: bool) -> None:
    """On request: accuracy against k for every operation, a chart and a table."""
    ss = st.session_state
    if st.button("Compare all 12 operations", key="btn_ic_all"):
        bar = st.progress(0.0, text="Scoring fresh prompts")
        ss.ic_all = {}
        for i, name in enumerate(OPERATIONS):
            ss.ic_all[name] = cache.icl_shots_curve(name, 24, 8, state.seed())
            bar.progress((i + 1) / len(OPERATIONS), text=f"Scored {name}")
        bar.empty()
    if ss.ic_all:
        plot(figures.accuracy_curve_figure(ss.ic_all, title="Accuracy against k, every operation "
                                         "(24 fresh prompts each)", large=large), "ic_all_curve")
        st.dataframe(pd.DataFrame(ss.ic_all, index=[f"k = {k}" for k in range(9)]).T
                     .style.format("{:.0%}"), width="stretch")


def misleading(operation: str, label: str, secret: bool, k: int, wrong: list[int],
               large: bool) -> None:
    """Accuracy against the number of wrong labels among 8, and what the curve shows in
    words (:func:`fmcore.prompting.icl.describe_wrong_curve`). ``wrong``: the student's wrong
    rows."""
    ss = st.session_state
    st.markdown("Give some of 8 examples a wrong answer (a random number): does the model "
                "follow the labels or what it learned in training?")
    if st.button("Score 16 prompts for each number of wrong labels", key="btn_ic_wrong"):
        with st.spinner("Scoring 144 prompts"):
            ss.ic_wrong = (operation, cache.icl_wrong_curve(operation, 16, 8, state.seed()))
    if not ss.ic_wrong or ss.ic_wrong[0] != operation:
        return
    # the x axis counts wrong labels among 8: the student's count is marked only when their
    # prompt has 8 examples too, and otherwise reported under the chart
    told = bool(wrong) and not secret
    same_scale = told and k == 8
    plot(figures.accuracy_curve_figure(
        {f"8 examples of {label}, some wrongly labelled": ss.ic_wrong[1]},
        title="Does the model follow wrong labels?", x_title="wrongly labelled examples among 8",
        marker=len(wrong) if same_scale else None,
        marker_label=f"your prompt: {len(wrong)} wrong of 8", large=large), "ic_wrong")
    st.caption(("" if secret else describe_wrong_curve(ss.ic_wrong[1], operation) + " ")
               + "Each point is 16 prompts scored against the true operation, so accuracy "
               "moves in steps of 1/16 (6.25%).")
    if told and not same_scale:
        st.caption(f"Wrong labels in your prompt: {len(wrong)} of {k}. The chart counts wrong "
                   "labels among 8 examples, so it marks your prompt only when your prompt "
                   "has 8 examples.")
