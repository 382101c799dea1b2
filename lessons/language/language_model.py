"""Lesson: what a language model computes: the chain rule and the cross-entropy (Eq. 14.5-14.8)."""

import itertools

import streamlit as st

from fmcore.errors import FMError
from fmcore.lm import figures, train
from fmcore.lm.corpora import (
    CORPORA,
    DOCUMENTS,
    load_corpus,
    split_corpus,
    split_starts,
    user_corpus,
)
from fmcore.lm.explain import position_notes, text_grid
from fmcore.lm.scoring import max_text_chars, score_text
from fmcore.lm.tokenizer import CharTokenizer, visible
from ui import links, lm_models, runner, state
from ui.charts import plot
from ui.latex import num
from ui.widgets import columns, init_state

RUN = "lm_run"
DRAWS = itertools.count()  # live redraws happen in one script run: each needs its own keys
EXAMPLES = {"toy grammar (shipped)": "anna sees my baker. the king swims today.",
            "English prose (shipped)": "The function returns a list of strings."}
YOURS = "your text (paste below)"


def draw(run: runner.Run, final: bool = False) -> None:
    tag = "final" if final else next(DRAWS)
    steps, evals = run.of_type(train.StepEvent), run.of_type(train.EvalEvent)
    plot(figures.language_loss_figure(
        ([e.step for e in steps], [e.loss for e in steps]),
        ([e.step for e in evals], [e.train_loss for e in evals]),
        ([e.step for e in evals], [e.val_loss for e in evals]), floor=floor,
        title="Cross-entropy (Eq. 14.8) while training", large=large), f"lm_loss_{tag}")
    samples = run.of_type(train.SampleEvent)
    if samples:
        st.caption(f"Sampled at step {samples[-1].step} (τ = 0.8), from ⊥ alone: how the "
                   "model thinks a document begins.")
        st.code(samples[-1].text, language=None, wrap_lines=True)


init_state({"lm_model": None, "lm_text": "", "lm_corpus": "toy", "lm_steps": 1000,
            "lm_user_text": ""})
large = state.classroom()
ss = st.session_state
st.title("What a language model computes")
st.markdown("**How probable is a text?** By the chain rule, it is the product of the "
            "probabilities of each character given the ones before it: the model gives one "
            "distribution per position, read after the begin token ⊥. ⊥ marks the beginning "
            "of a document, so the text below is scored as a whole document, from its first "
            "character.")
st.info("Try this: type a sentence the toy grammar could say (\"anna sees my fox.\"), then "
        "one it never would (\"fox my sees anna.\"): compare the colours and the total. Then train "
        "a model on the toy grammar below and watch the validation loss (the thick line with "
        "diamonds) fall towards the floor (dotted), the grammar's true entropy rate.",
        icon=":material/lightbulb:")

links.bind("language_model", [
    links.Setting("lm_text", "Text", "text", high=5000),
    links.Setting("lm_corpus", "Corpus", "choice", (*CORPORA, YOURS)),
    links.Setting("lm_steps", "Steps", "choice", (100, 300, 1000, 2000, 4000)),
])
found = lm_models.available()
if found:
    if ss.lm_model not in found:
        ss.lm_model = next(iter(found))
    c1, c2 = columns([1, 2], large)
    c1.selectbox("Model", list(found), key="lm_model")
    model, tokenizer, about = found[ss.lm_model]
    c1.caption(about)
    if not ss.lm_text:
        ss.lm_text = EXAMPLES.get(ss.lm_model, "the cat ")
    c2.text_area(r"Text $x_1\dots x_T$", key="lm_text", max_chars=5000, height=90)
    limit = max_text_chars(model)
    text = ss.lm_text[:limit]
    if len(ss.lm_text) > limit:
        st.info(f"Only the first {limit} characters are scored: the model's context is "
                f"{limit + 1} tokens, ⊥ included.", icon=":material/content_cut:")
    lm_models.report_text(tokenizer, text, False, model)
    try:
        score = score_text(model, tokenizer, text) if text else None
    except FMError as error:
        st.error(str(error))
        score = None
    if score is not None:
        labels = [visible(c) for c in text]  # as typed, even where the model reads �
        # in classroom type the value goes to a second line: one line is wider than the page
        cut = r"\\&=" if large else "="
        st.latex(r"\begin{aligned}\log p(x_1,\dots,x_T)&=\sum_{t=1}^{T}\log p(x_t\mid x_0,"
                 r"\dots,x_{t-1})" + cut + num(score.log_prob)
                 + r"\ \text{nats}\qquad(14.5)\end{aligned}")
        st.latex(r"\begin{aligned}\text{loss}&=\frac{1}{T}\sum_{t=1}^{T}-\log p(x_t\mid x_{<t})"
                 + cut + num(score.mean_loss) + rf"\ \text{{nats/char, }}T={score.length}"
                 r"\qquad(14.8)\end{aligned}")
        grid = text_grid(text, figures.surprise_columns(large))
        plot(figures.surprise_map_figure(labels, score.nll.tolist(), grid,
                                       position_notes(score, tokenizer), large=large,
                                       title="Surprise of each character (hover for the "
                                             "alternatives)"), "lm_map")
        plot(figures.running_loss_figure(labels, score.nll.tolist(), large=large), "lm_running")
else:
    st.warning("No language model is shipped here: train one below.")

st.header("Train a language model live")
t1, t2 = columns(2, large)
t1.selectbox("Corpus", [*CORPORA, YOURS], key="lm_corpus",
             format_func=lambda k: CORPORA.get(k, k))
t2.select_slider("Steps", [100, 300, 1000, 2000, 4000], key="lm_steps")
if ss.lm_corpus == YOURS:
    st.text_area("Your text (at least a few hundred characters)", key="lm_user_text",
                 height=120)
    if not ss.lm_user_text.strip():  # nothing typed yet: a hint, not an error
        st.info("Paste some text above: a model learns its characters from it.",
                icon=":material/edit_note:")
        st.stop()
try:
    corpus = (user_corpus(ss.lm_user_text) if ss.lm_corpus == YOURS
              else load_corpus(ss.lm_corpus))
    train_text, val_text = split_corpus(corpus.text)
    doc_starts = split_starts(corpus.starts, len(train_text))  # where ⊥ goes in each part
    tokenizer_new = CharTokenizer.from_corpus(train_text)
    config = train.LMConfig.classroom(steps=ss.lm_steps, seed=state.seed())
except FMError as error:
    st.error(str(error))
    st.stop()
floor = corpus.entropy_rate
document = DOCUMENTS.get(corpus.name, "document (your text is one)")
st.caption(f"{corpus.description} {len(train_text):,} characters to train on, the last "
           f"{len(val_text):,} held out; {tokenizer_new.vocab_size} tokens. A training window "
           f"that starts where a {document} starts reads ⊥ first "
           f"({len(doc_starts[0]):,} in the training part); the others are cut anywhere and "
           "read no ⊥.")
if st.button("Train", key="btn_lm_train", type="primary", icon=":material/play_arrow:"):
    run = runner.train(RUN, lambda: train.train_lm(config, tokenizer_new, train_text, val_text,
                                                   state.generator(), doc_starts=doc_starts),
                       total_steps=config.steps, draw=draw, label="Training",
                       result=lambda e: e.model if isinstance(e, train.StartEvent) else None)
    if run.result is not None and run.step > 0:
        lm_models.offer(f"trained on {corpus.title.lower()} (this session)", run.result,
                        tokenizer_new, f"{run.step} steps in this session")
else:
    run = runner.current(RUN)
    if run is not None:
        draw(run, final=True)
if run is not None:
    runner.show_outcome(run)
