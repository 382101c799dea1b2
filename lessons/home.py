"""Home: the foundation-model paradigm at a glance, each stage linked to its lesson.

Imports neither torch nor plotly, so the app is interactive within a couple of seconds.
"""

import streamlit as st

from ui import state
from ui.pages import lesson_for_stage

# (stage key, name, one line, Material icon): left to right, as in Section 14.1 of the notes.
STAGES = (
    ("data", "Unlabeled data", "Images or text, no labels: x⁽¹⁾ … x⁽ⁿ⁾.",
     ":material/photo_library:"),
    ("loss", "Pretraining loss", r"A self-supervised $L_{\text{pre}}(\theta)$: contrast "
     "augmented views, or predict the next token.", ":material/functions:"),
    ("minimise", "Minimise it", "Gradient descent: θ ← θ − α∇L(θ).", ":material/trending_down:"),
    ("model", "Pretrained model", r"$\hat\theta$ and its representation $\phi_{\hat\theta}(x)$.",
     ":material/memory:"),
    ("adapt", "Adaptation", "Linear probe, finetuning, zero-shot, in-context.", ":material/tune:"),
    ("task", "Downstream task", r"Few labels ($n_{\text{task}}$ from 0 to 50) or none at all.",
     ":material/flag:"),
)

# Graphviz source drawn in the browser; colours from the Okabe-Ito palette. Plain text with
# the notes' own inline notation (φθ̂): the browser's Graphviz spaces HTML <SUB> badly.
PARADIGM_DOT = """
digraph paradigm {
  rankdir=LR; bgcolor="transparent"; nodesep=0.25; ranksep=0.45;
  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=13,
        color="#333333", fillcolor="#FFFFFF", penwidth=1.4];
  edge [color="#333333", penwidth=1.4, fontname="Helvetica", fontsize=11];
  data  [label="Unlabeled data\\nx⁽¹⁾ … x⁽ⁿ⁾", fillcolor="#56B4E9"];
  loss  [label="Pretraining loss\\nLₚᵣₑ(θ)", fillcolor="#F0E442"];
  model [label="Pretrained model\\nθ̂,  φθ̂(x)", fillcolor="#E69F00"];
  probe [label="Linear probe\\nwᵀφθ̂(x), θ̂ fixed"];
  fine  [label="Finetuning\\nw and θ from θ̂"];
  zero  [label="Zero-shot\\nask a question"];
  icl   [label="In-context\\nexamples in the prompt"];
  task  [label="Downstream task\\nfew or no labels", fillcolor="#009E73", fontcolor="white"];
  data -> loss [label="self-supervision"];
  loss -> model [label="minimise by\\ngradient descent"];
  model -> probe; model -> fine; model -> zero; model -> icl;
  probe -> task; fine -> task; zero -> task; icl -> task;
}
"""

st.title("Foundation models lab")
st.markdown(
    "**How does a model learn from data nobody labelled, then solve a new task with few or no "
    "labels?** Follow the picture from left to right; each stage opens a lesson you can play "
    "with."
)
st.graphviz_chart(PARADIGM_DOT, width="stretch")

# two rows of three, or three of two in classroom type: room for each link's whole label
per_row = 2 if state.classroom() else 3
columns = [c for _ in range(6 // per_row) for c in st.columns(per_row)]
for column, (stage, name, blurb, icon) in zip(columns, STAGES, strict=True):
    with column.container(border=True, height="stretch"):
        st.markdown(f"**{name}**")
        if not state.classroom():
            st.caption(blurb)
        lesson = lesson_for_stage(stage)
        if lesson is not None:
            st.page_link(lesson.path, label=lesson.title, icon=icon)

st.info(
    "Try this: open **Gradient descent**, press **+N steps**, then ▶ Play on the chart. "
    "The seed and classroom mode in the sidebar apply to every page.",
    icon=":material/lightbulb:",
)
