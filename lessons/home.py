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
    ("task", "Downstream task", r"$n_{\text{task}}$ labelled examples: none (zero-shot), 1 to "
     "50 (few-shot), or, also common, hundreds to tens of thousands (Section 14.1). The "
     "adaptation lesson offers up to 500 per class.", ":material/flag:"),
)

# Graphviz source drawn in the browser; colours from the Okabe-Ito palette. Plain text with
# the notes' own inline notation (φθ̂): the browser's Graphviz spaces HTML <SUB> badly.
# The browser scales the drawing to the page's width. Streamlit sets a drawing's text to
# 0.6rem whatever the source says, which the scaling shrank to 8 px in classroom mode; there
# the sidebar's classroom CSS gives this drawing's text (the container "paradigm") the sizes
# below, which Graphviz laid the boxes out for: larger type against tighter gaps.
PARADIGM_DOT = """
digraph paradigm {
  rankdir=LR; bgcolor="transparent"; nodesep=%(nodesep)s; ranksep=%(ranksep)s;
  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=%(font)s,
        margin="%(margin)s", color="#333333", fillcolor="#FFFFFF", penwidth=1.4];
  edge [color="#333333", penwidth=1.4, fontname="Helvetica", fontsize=%(edge_font)s];
  data  [label="Unlabeled data\\nx⁽¹⁾ … x⁽ⁿ⁾", fillcolor="#56B4E9"];
  loss  [label="Pretraining loss\\nLₚᵣₑ(θ)", fillcolor="#F0E442"];
  model [label="Pretrained model\\nθ̂,  φθ̂(x)", fillcolor="#E69F00"];
  probe [label="Linear probe\\nwᵀφθ̂(x), θ̂ fixed"];
  fine  [label="Finetuning\\nw and θ from θ̂"];
  zero  [label="Zero-shot\\nask a question"];
  icl   [label="In-context\\nexamples in the prompt"];
  task  [label="Downstream task\\nnone, few or many labels", fillcolor="#009E73",
         fontcolor="white"];
  data -> loss [label="self-supervision"];
  loss -> model [label="minimise by\\ngradient descent"];
  model -> probe; model -> fine; model -> zero; model -> icl;
  probe -> task; fine -> task; zero -> task; icl -> task;
}
"""

st.title("Foundation models lab")
st.markdown(
    "**How does a model learn from data nobody labelled, then solve a new task, often with few "
    "or no labels?** Follow the picture from left to right; each stage opens a lesson you can play "
    "with."
)
NORMAL = {"nodesep": 0.25, "ranksep": 0.45, "font": 13, "edge_font": 11, "margin": "0.11,0.055"}
CLASSROOM = {"nodesep": 0.12, "ranksep": 0.3, "font": 20, "edge_font": 18, "margin": "0.08,0.04"}
sizes = CLASSROOM if state.classroom() else NORMAL
with st.container(key="paradigm"):
    st.graphviz_chart(PARADIGM_DOT % sizes, width="stretch")

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
