"""Lesson: zero-shot questions and in-context learning from a few-shot prompt (Section 14.3.1)."""

import pandas as pd
import streamlit as st

from fmcore import plots
from fmcore.data.icl_tasks import (
    HIDDEN_SYMBOL,
    MAX_OPERAND,
    OPERATIONS,
    Example,
    Task,
    operation_table,
)
from fmcore.errors import FMError
from fmcore.icl import compare_with_head, prefix_curve
from fmcore.prompts import (
    PromptTemplate,
    assemble,
    check_prompt,
    decode_answer,
    read_examples,
    read_number,
    shown,
)
from ui import cached, state
from ui import prompt_table as table
from ui.charts import plot
from ui.widgets import columns, init_state

CURVE_QUERIES = 48  # fresh prompts per number of examples in the curve
ss = st.session_state

init_state({"ic_op": "add", "ic_secret": "add", "ic_revealed": False, "ic_k": 3,
            "ic_rows": [], "ic_version": 0, "ic_round": 0, "ic_qa": "15", "ic_qb": "2",
            "ic_template": "Q: {a} {op} {b} = ? A: ", "ic_z_op": "add", "ic_z_a": "23",
            "ic_z_b": "45", "ic_head": None, "ic_wrong": None, "ic_all": None,
            "ic_link_error": None, "ic_tau": 0.0, "ic_draw": 0})
large = state.classroom()
st.title("Few-shot prompting and in-context learning")
st.markdown("**Can a model learn a task from a few examples in its prompt, without changing a "
            "single weight?** The examples below use a hidden operation “~”; the model has to "
            "work out from them what ~ means, then answer the last question.")
st.info("Try this: choose **surprise me**, read the three examples and guess the operation "
        "before you look at the model's answer. Then delete examples (select a row, press the "
        "bin) and watch its confidence fall; press **Mislabel one example** and see whether "
        "the model follows the wrong label.", icon=":material/lightbulb:")
loaded = cached.shipped_icl_model()
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
    plot(plots.answer_steps_figure(answer.steps, tokenizer.labels, large=large), "ic_steps")

st.header("3. How many examples does it need?")
fresh = cached.icl_shots_curve(op.name, CURVE_QUERIES, 8, state.seed())
mine = [p for p, _ in prefix_curve(model, tokenizer, task, template)]
plot(plots.accuracy_curve_figure(
    {f"{CURVE_QUERIES} fresh prompts of {table.label()}": fresh,
     "your prompt cut to its first k examples: p(right answer)": mine},
    title=f"Accuracy against the number of examples: {table.label()}", marker=len(examples),
    marker_label=f"your prompt: {len(examples)}", large=large), "ic_curve")
st.caption(f"Blue: {CURVE_QUERIES} new prompts for each k, correctly labelled. One forward "
           "pass scores every k: in a prompt of 8 examples the answer to example j is a j-shot "
           "question. With no example the model can only guess which operation is meant.")
if st.button("Compare all 12 operations", key="btn_ic_all"):
    bar = st.progress(0.0, text="Scoring fresh prompts")
    ss.ic_all = {}
    for i, name in enumerate(OPERATIONS):
        ss.ic_all[name] = cached.icl_shots_curve(name, 24, 8, state.seed())
        bar.progress((i + 1) / len(OPERATIONS), text=f"Scored {name}")
    bar.empty()
if ss.ic_all:
    plot(plots.accuracy_curve_figure(ss.ic_all, title="Accuracy against k, every operation "
                                     "(24 fresh prompts each)", large=large), "ic_all_curve")
    st.dataframe(pd.DataFrame(ss.ic_all, index=[f"k = {k}" for k in range(9)]).T
                 .style.format("{:.0%}"), width="stretch")

st.header("4. Misleading examples")
st.markdown("Give some of 8 examples a wrong answer: does the model follow the labels or the "
            "majority?")
if st.button("Score 16 prompts for each number of wrong labels", key="btn_ic_wrong"):
    with st.spinner("Scoring 144 prompts"):
        ss.ic_wrong = (op.name, cached.icl_wrong_curve(op.name, 16, 8, state.seed()))
if ss.ic_wrong and ss.ic_wrong[0] == op.name:
    # the x axis counts wrong labels among 8: the student's count is marked only when their
    # prompt has 8 examples too, and otherwise reported under the chart
    told = bool(wrong) and not table.secret()
    same_scale = told and len(examples) == 8
    plot(plots.accuracy_curve_figure(
        {f"8 examples of {table.label()}, some wrongly labelled": ss.ic_wrong[1]},
        title="Does the model follow wrong labels?", x_title="wrongly labelled examples among 8",
        marker=len(wrong) if same_scale else None,
        marker_label=f"your prompt: {len(wrong)} wrong of 8", large=large), "ic_wrong")
    st.caption("Each point is 16 prompts of 8 examples, scored against the true operation, so "
               "accuracy moves in steps of 1/16 (6.25%) and neighbouring points can tie. A few "
               "wrong labels are outvoted by the right ones; with many, the model infers some "
               "other rule.")
    if told and not same_scale:
        st.caption(f"Wrong labels in your prompt: {len(wrong)} of {len(examples)}. The chart "
                   "counts wrong labels among 8 examples, so it marks your prompt only when "
                   "your prompt has 8 examples.")

st.header("5. Zero-shot: say what you want")
st.markdown("With the operation's own symbol no example is needed: the task is written as a "
            "question (zero-shot, Section 14.3.1). The same question with ~ is a guess.")
z1, z2, z3 = columns(3, large)
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
                     f"{zanswer.probability:.1%}, {verdict} ({zop.symbol} gives {zop(za, zb)}).")
except FMError as error:
    st.error(str(error), icon=":material/edit_off:")

st.header("6. A linear head on $c_{T+1}$ instead")
st.markdown("The other way to adapt (first paragraph of Section 14.3.1): freeze θ, read the "
            "representation of the question alone, and fit a linear head on labelled examples.")
# two lines: on one, the equation number is cut off in classroom mode
st.latex(r"\begin{gathered}c_{T+1}=\phi_\theta(x_1,\dots,x_T),\qquad \hat y=w^\top c_{T+1},\\"
         r"\min_w \tfrac1{n}\textstyle\sum_i \big(y^{(i)}-w^\top c^{(i)}_{T+1}\big)^2\quad(14.1)"
         r"\end{gathered}")
if st.button("Compare on 32 fresh questions", key="btn_ic_head"):
    with st.spinner("Fitting the heads and reading the prompts"):
        ss.ic_head = compare_with_head(model, tokenizer, op.name, examples,
                                       state.generator(5000 + ss.ic_round), template=template)
if ss.ic_head:
    st.dataframe(pd.DataFrame({"method": list(ss.ic_head), "accuracy": list(ss.ic_head.values())})
                 .style.format({"accuracy": "{:.0%}"}), hide_index=True, width="stretch")
    st.caption("The head maps $c_{T+1}$ to a number, rounded. It has to find a direction that "
               "computes the answer, which takes many labelled examples; the prompt's examples "
               "only have to say which operation is meant.")
with st.expander("The 12 operations"):
    st.dataframe(pd.DataFrame(operation_table()), hide_index=True, width="stretch")
    st.caption(manifest.get("description", ""))
