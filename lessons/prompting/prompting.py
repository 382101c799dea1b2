"""Lesson: zero-shot questions and in-context learning from a few-shot prompt (Section 14.3.1)."""

import pandas as pd
import streamlit as st

from fmcore.errors import FMError
from fmcore.prompting import figures
from fmcore.prompting.icl import prefix_curve
from fmcore.prompting.icl_tasks import (
    MAX_OPERAND,
    OPERATIONS,
    Example,
    Task,
    operation_table,
)
from fmcore.prompting.prompts import (
    PromptTemplate,
    assemble,
    check_prompt,
    decode_answer,
    read_examples,
    read_number,
    shown,
)
from lessons.prompting import cache, sections, table
from ui import state
from ui.charts import plot
from ui.widgets import columns, init_state

CURVE_QUERIES = 48  # fresh prompts per number of examples in the curve
ss = st.session_state

init_state({"ic_op": "add", "ic_secret": "add", "ic_revealed": False, "ic_k": 3,
            "ic_rows": [], "ic_version": 0, "ic_round": 0, "ic_qa": "15", "ic_qb": "2",
            "ic_template": "Q: {a} {op} {b} = ? A: ", "ic_z_op": "add", "ic_z_a": "23",
            "ic_z_b": "45", "ic_wrong": None, "ic_all": None, "ic_link_error": None,
            "ic_tau": 0.0, "ic_draw": 0, "ic_ft_n": 32, "ic_ft_steps": 60, "ic_cmp_for": None})
large = state.classroom()
st.title("Few-shot prompting and in-context learning")
st.markdown("**Can a model learn a task from a few examples in its prompt, without changing a "
            "single weight?** The examples below use a hidden operation “~”; the model has to "
            "work out from them what ~ means, then answer the last question.")
st.info("Try this: delete the examples one at a time (select a row, press the bin) and "
        "watch the probability of the answer: with add, one example is enough for the model "
        "to be sure; with none left its confidence falls and it can only guess. Then press "
        "**Fresh examples** and **Mislabel one example**: does the model follow the wrong "
        "label? Last, choose **surprise me** and guess the operation before the model does.",
        icon=":material/lightbulb:")
loaded = cache.shipped_icl_model()
if loaded is None:
    st.error("The few-shot model is missing: run `python scripts/train_assets.py icl`.")
    st.stop()
model, tokenizer, manifest = loaded
table.start()
if ss.ic_link_error:
    st.warning(ss.ic_link_error, icon=":material/link_off:")
# The notes' example prompt (Section 14.3.1, ~ is addition), on two lines so that it fits
# the page with its equation number, in classroom mode too. In LaTeX a bare ~ is a space
# (and \~{} an accent): the operator is \sim, a relation outside \text (its own spaces).
st.latex(r"\begin{aligned}x_1,\dots,x_T&=\text{“}\underbrace{\text{Q: 2}\sim\text{3 = ? A: 5}}"
         r"_{x^{(1)}_{task},\,y^{(1)}_{task}}\ \dots\ \underbrace{\text{Q: 15}\sim"
         r"\text{2 = ? A: }}_{x_{test}}\text{”}\\ x_{T+1}&=\arg\max_{x}\,p_\theta(x\mid x_1,"
         r"\dots,x_T)\quad(14.13,\ \tau\to0)\end{aligned}")
st.caption("The notes' example (Section 14.3.1), in which ~ means addition; you build your own "
           "prompt below. The prompt concatenates the labelled examples and the test input; "
           "the answer is what the model writes next, one character at a time (greedy "
           "decoding, the τ → 0 limit of Eq. 14.13), until the newline.")

st.header("1. Build a prompt")
c1, c2, c3 = columns([2, 1, 1], large)
c1.selectbox("Hidden operation", [table.SURPRISE, *OPERATIONS], key="ic_op",
             on_change=table.on_operation, format_func=lambda n: n if n == table.SURPRISE
             else f"{n}: {OPERATIONS[n].describe}")
if ss.ic_op == table.SURPRISE and ss.ic_revealed:
    c1.success(f"It was **{ss.ic_secret}**: {OPERATIONS[ss.ic_secret].describe}.")
elif ss.ic_op == table.SURPRISE:
    c1.button("Reveal the operation", key="btn_ic_reveal", on_click=table.reveal)
    c1.caption("Secret until you reveal it: guess along with the model.")
c2.number_input("Examples to draw", 0, 8, key="ic_k")
c2.button("Fresh examples", key="btn_ic_fresh", on_click=table.new_examples,
          help="Replace the table with this many correctly labelled examples.")
c3.button("Shuffle the order", key="btn_ic_shuffle", on_click=table.shuffle)
c3.button("Mislabel one example", key="btn_ic_mislabel", on_click=table.mislabel)
st.caption("The examples: edit any cell, add a row at the bottom, select rows and press the "
           "bin to delete them, change **order** to move a row. a and b are 0..99.")
table.editor()
problems, examples = read_examples(table.rows_in_order())
q1, q2 = columns(2, large)
q1.text_input("Test question: a", key="ic_qa", max_chars=8)
q2.text_input("Test question: b", key="ic_qb", max_chars=8)
with st.expander("Prompt format (the template)"):
    st.text_input("How each question is written: {a}, {op} and {b} are filled in; an example "
                  "adds its answer and a newline", key="ic_template", max_chars=200)
    st.caption("The shipped model was trained on “Q: {a} {op} {b} = ? A: ” only: change the "
               "format and see how much of its skill was tied to it.")
try:
    query = (read_number(ss.ic_qa, "The test question's a", 0, MAX_OPERAND),
             read_number(ss.ic_qb, "The test question's b", 0, MAX_OPERAND))
    template = PromptTemplate(example=ss.ic_template + "{answer}\n", query=ss.ic_template)
    op = OPERATIONS[table.hidden_name()]
    task = Task(op, tuple(examples), Example(*query, op(*query)))
    prompt = assemble(task, template)
except FMError as error:
    problems.append(str(error))
if problems:
    for message in problems:
        st.error(message, icon=":material/edit_off:")
    st.caption("Your table is kept as it is: fix the cells above and the prompt comes back.")
    st.stop()
table.share(examples, query)
try:
    check_prompt(prompt, tokenizer, model.config.context_length, template)
except FMError as error:
    st.code(shown(prompt), language=None)
    st.error(str(error), icon=":material/edit_off:")
    st.stop()
st.markdown(f"**The prompt, exactly as the model reads it** ({len(prompt) + 1} of "
            f"{model.config.context_length} positions; ⊥ is the begin token x₀). The address "
            "bar holds it: copy the link to share this prompt.")
st.code(shown(prompt), language=None)

st.header("2. The model's answer")
d1, d2 = columns([3, 1], large)
tau = d1.slider("Decoding temperature τ (0 = greedy)", 0.0, 2.0, step=0.1, key="ic_tau",
                help="0 writes the most likely character each time (the τ → 0 limit of "
                     "Eq. 14.13); above 0 each character is drawn from the softmax at τ.")
if tau > 0 and d2.button("Draw again", key="btn_ic_draw", icon=":material/casino:"):
    ss.ic_draw += 1
# the draw is reproducible: the sidebar seed plus how many times "Draw again" was pressed
answer = decode_answer(model, tokenizer, prompt, state.generator(ss.ic_draw), tau)
truth = task.query.answer
wrong = [i + 1 for i, e in enumerate(examples) if e.answer != op(e.a, e.b)]
a1, a2 = columns([1, 2], large)
a1.metric("The model writes", answer.text.rstrip("\n") or "(nothing)",
          help=("Greedy decoding: the most likely character each time" if tau == 0 else
                f"Sampled at τ = {tau:g}: each character drawn at random") + ", until the "
          "newline (at most six characters).")
a1.metric("Probability of this answer", f"{answer.probability:.1%}",
          help="The product of each character's probability (chain rule, Eq. 14.5).")
named = "" if table.secret() else f" {op.name} ({op.describe}) gives {truth}."
if answer.value == truth:
    a1.success("Right." + named, icon=":material/check_circle:")
else:
    a1.error("Wrong." + (named or " Reveal the operation to see the right answer."),
             icon=":material/cancel:")
if wrong and not table.secret():
    a1.warning(table.wrong_labels(wrong, op.name))
a2.latex(r"p(x_{T+1..T+m}\mid x_{1..T})=\prod_{i=1}^{m}p_\theta(x_{T+i}\mid x_{1..T+i-1})"
         rf"={answer.probability:.3f}\quad(14.5)")
with a2:
    plot(figures.answer_steps_figure(answer.steps, tokenizer.labels, large=large), "ic_steps")

SECTIONS = ("3. How many examples does it need?", "4. Misleading examples",
            "5. Zero-shot: say what you want", "6. Three ways to adapt: prompt, probe, finetune")
# classroom mode: the secondary sections as tabs (short names: four fit a row), so the
# projected page stays short
TABS = ("3. How many examples?", "4. Wrong labels", "5. Zero-shot", "6. Prompt, probe, finetune")
tabs = st.tabs(TABS) if large else [st.container() for _ in SECTIONS]
for title, tab in zip(SECTIONS, tabs, strict=True):
    if not large:
        tab.header(title)

with tabs[0]:
    fresh = cache.icl_shots_curve(op.name, CURVE_QUERIES, 8, state.seed())
    plot(figures.shots_figure(fresh, prefix_curve(model, tokenizer, task, template),
                            label=table.label(), n_prompts=CURVE_QUERIES, marker=len(examples),
                            large=large), "ic_curve")
    st.caption(f"Left: {CURVE_QUERIES} new prompts for each k, correctly labelled, scored "
               "right or wrong. Right: your prompt cut to its first k examples, and the "
               "probability the model gives the right answer (Eq. 14.5); filled where greedy "
               "decoding writes it. With no example the model can only guess the operation.")
    sections.all_operations(large)

with tabs[1]:
    sections.misleading(op.name, table.label(), table.secret(), len(examples), wrong, large)

with tabs[2]:
    sections.zero_shot(model, tokenizer, template, large)

with tabs[3]:
    sections.three_ways(model, tokenizer, op.name, examples, template, large)

with st.expander("The 12 operations"):
    st.dataframe(pd.DataFrame(operation_table()), hide_index=True, width="stretch")
    st.caption(manifest.get("description", ""))
