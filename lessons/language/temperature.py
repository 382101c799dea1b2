"""Lesson: what temperature does to the next-token distribution (Eq. 14.9-14.16)."""

import streamlit as st

from fmcore.errors import FMError
from fmcore.lm import figures
from fmcore.lm.explain import TEMPERATURES, group_counts
from fmcore.lm.generate import generate, sample_many
from lessons.language import cache
from ui import links, lm_models, state
from ui.charts import plot
from ui.widgets import columns, init_state

DRAWS = (100, 1000, 10000)


def tau_index(tau: float) -> int:
    return min(range(len(TEMPERATURES)), key=lambda i: abs(TEMPERATURES[i] - tau))


def sampling_text(tau: float, top_k: int | None, top_p: float | None) -> str:
    """The sampling distribution in words: its τ, and the filters when they are on."""
    parts = ["τ = 0, greedy" if tau == 0 else f"τ = {tau:g}"]
    parts += [f"top-k {top_k}"] if top_k else []
    parts += [f"top-p {top_p:g}"] if top_p is not None else []
    return ", ".join(parts)


def extend(n: int) -> None:
    """Sample n more characters (a button's callback: it runs before the page is drawn, so
    the bars below already show the distribution of the character after them). Each
    character's probability is kept twice: in the distribution it was drawn from, and in
    the model's own (τ = 1)."""
    model, tokenizer, _ = lm_models.available()[ss.tp_model]
    ss.tp_round += 1
    top_k, top_p = ss.tp_top_k or None, ss.tp_top_p if ss.tp_top_p < 1.0 else None
    steps = []
    try:
        for step in generate(model, tokenizer, ss.tp_prompt + ss.tp_generated, n, ss.tp_tau,
                             state.generator(ss.tp_round), top_k=top_k, top_p=top_p):
            ss.tp_generated += step.text
            steps.append((tokenizer.token_label(step.token), step.probability, step.entropy,
                          step.model_probability, step.model_entropy))
    except FMError as error:
        ss.tp_last = str(error)
        return
    ss.tp_last = {"sampling": sampling_text(ss.tp_tau, top_k, top_p), "steps": steps}


init_state({"tp_model": None, "tp_prompt": "the cat ", "tp_tau": 1.0, "tp_top_k": 0,
            "tp_top_p": 1.0, "tp_generated": "", "tp_n": 20, "tp_round": 0, "tp_draws": 1000,
            "tp_counts": None, "tp_last": None, "tp_draw_round": 0})
large = state.classroom()
ss = st.session_state
st.title("Sampling and temperature")
st.markdown("**What does temperature do to the next character?** The model gives a score "
            "u for every character; sampling draws from softmax(u / τ).")
st.info("Try this: drag the τ slider under the bars from 1 down to 0 and watch the mass pile "
        "onto one character (greedy); then up to 3, where even unlikely characters get a "
        "chance. Then set **Temperature τ for generating** to 0 and press **Next character** "
        "a few times: the sampler gives each character probability 1, the model itself less. "
        "Then again at τ = 2.",
        icon=":material/lightbulb:")

links.bind("temperature", [
    links.Setting("tp_prompt", "Prompt", "text", high=2000),
    links.Setting("tp_tau", "Temperature τ", "float", low=0.0, high=3.0),
    links.Setting("tp_top_k", "top-k", "int", low=0, high=1000),
    links.Setting("tp_top_p", "top-p", "float", low=0.05, high=1.0),
])
found = lm_models.available()
if not found:
    st.error("No language model is available: run `python scripts/train_assets.py lm-toy`.")
    st.stop()
if ss.tp_model not in found:
    ss.tp_model = next(iter(found))
c1, c2, c3 = columns(3, large)
c1.selectbox("Model", list(found), key="tp_model")
model, tokenizer, about = found[ss.tp_model]
c1.caption(about)
c2.text_input("Prompt x₁…x_t after ⊥ (empty: ⊥ alone)", key="tp_prompt", max_chars=2000,
              help="⊥ marks the beginning of a document: the prompt is read as the start of one.")
ss.tp_top_k = min(ss.tp_top_k, tokenizer.vocab_size)  # a link may ask for more than V
c3.number_input("top-k (0 = off)", 0, tokenizer.vocab_size, key="tp_top_k")
c3.slider("top-p (1 = off)", 0.05, 1.0, step=0.05, key="tp_top_p")
top_k = ss.tp_top_k or None
top_p = ss.tp_top_p if ss.tp_top_p < 1.0 else None
try:
    context = ss.tp_prompt + ss.tp_generated  # the prompt and what was generated so far
    sweep, truncated = cache.temperature_sweep(lm_models.key(ss.tp_model, model), context,
                                                top_k, top_p, model, tokenizer)
except FMError as error:
    st.error(str(error))
    st.stop()
lm_models.report_text(tokenizer, context, truncated, model)
st.latex(r"x_{t+1}\sim\mathrm{softmax}\big(f_\theta(x_0,x_1,\dots,x_t)/\tau\big)\qquad(14.13)")
st.caption("τ → 0 is greedy decoding (the argmax; τ = 0 here means exactly that); τ = 1 is the "
           "model's own distribution, Eq. 14.9.")
plot(figures.next_token_figure(sweep, start=tau_index(ss.tp_tau), large=large,
                             title="Next character, "), "tp_bars")
st.caption("The slider under the chart runs in your browser: the bars follow it at once. It "
           "starts at the τ for generating (below) and goes back to it when the page redraws. "
           "Outlined bars: the model's own distribution (τ = 1, no top-k or top-p).")

st.header("Generate")
g1, g2 = columns([2, 1], large)
g1.slider("Temperature τ for generating (0 = greedy)", 0.0, 3.0, step=0.05, key="tp_tau")
g2.select_slider("Characters at once", [1, 5, 20, 50, 200], key="tp_n")
b1, b2, b3 = st.columns(3)
b1.button("Next character", key="btn_tp_next", icon=":material/skip_next:", on_click=extend,
          args=(1,))
b2.button(f"Generate {ss.tp_n}", key="btn_tp_many", icon=":material/fast_forward:",
          on_click=extend, args=(ss.tp_n,))
if b3.button("Clear", key="btn_tp_clear", icon=":material/backspace:"):
    ss.tp_generated, ss.tp_last = "", None
    st.rerun()
st.caption("Prompt + generated text (the bars above show what may come next):")
st.code(context or " ", language=None, wrap_lines=True)  # dark on light: readable projected
if isinstance(ss.tp_last, str):
    st.error(ss.tp_last)
elif ss.tp_last is not None and ss.tp_last["steps"]:
    sampling, steps = ss.tp_last["sampling"], ss.tp_last["steps"]
    char, probability, entropy, own, own_entropy = steps[-1]
    st.markdown(f"The last character, “{lm_models.markdown_text(char)}”, had probability "
                f"**{probability:.3f}** in the distribution it was drawn from ({sampling}; "
                f"entropy {entropy:.2f} nats).  \nThe model's own probability for it (τ = 1, "
                f"Eq. 14.6) was **{own:.3f}** (entropy {own_entropy:.2f} nats): how sure the "
                "model itself was.")
    if len(steps) > 1:
        plot(figures.generated_figure([s[0] for s in steps], [s[1] for s in steps],
                                    [s[3] for s in steps], sampling=sampling, large=large),
             "tp_generated_chart")

st.header("Draw many samples")
d1, d2 = columns([2, 1], large)
d2.select_slider("Samples", DRAWS, key="tp_draws")
if d1.button(f"Draw {ss.tp_draws} next characters at τ = {ss.tp_tau:g}", key="btn_tp_draw",
             icon=":material/casino:"):
    logits, _ = cache.next_logits(lm_models.key(ss.tp_model, model), context, model,
                                   tokenizer)
    ss.tp_draw_round += 1  # each press a new draw; the seed and the count make it repeatable
    counts = sample_many(logits, ss.tp_tau, ss.tp_draws,
                         state.generator(100_000 + ss.tp_draw_round), top_k=top_k, top_p=top_p)
    ss.tp_counts = (context, ss.tp_tau, group_counts(counts, sweep))
if ss.tp_counts is not None and ss.tp_counts[0] == context:
    _, tau, counts = ss.tp_counts
    plot(figures.sample_histogram_figure(sweep, tau_index(tau), counts, large=large), "tp_hist")
