"""Lesson: paradigms, and pretext tasks that make pseudolabels from unlabelled data."""

import itertools

import streamlit as st

from fmcore import style
from fmcore.data.shapes import to_pil
from fmcore.errors import FMError
from fmcore.self_supervision import figures, pseudolabels
from fmcore.self_supervision import gallery as pretext_gallery
from fmcore.self_supervision import loop as pretext_loop
from ui import links, models, runner, state
from ui.charts import plot
from ui.widgets import columns, init_state

RUN = "pp_run"
DRAWS = itertools.count()  # live redraws happen in one script run: each needs its own keys
DOMAIN_TITLES = {"images": "Images (Shapes)", "text": "Text (sentences)",
                 "timeseries": "Time series (waveforms)"}
TASK_TITLES = {"rotation": "Rotation prediction", "jigsaw": "Jigsaw (2×2 tiles)",
               "masked_char": "Masked characters", "next_char": "Next character",
               "masked_feature": "Masked time steps"}
DOWNSTREAM = {"images": "which of 10 shapes", "text": "the sentence's topic (4)",
              "timeseries": "the waveform (4 kinds)"}


def draw(run: runner.Run, final: bool = False) -> None:
    tag = "final" if final else next(DRAWS)
    steps, evals = run.of_type(pretext_loop.StepEvent), run.of_type(pretext_loop.EvalEvent)
    x = [e.step for e in evals]
    charts = [({"pretext loss": ([e.step for e in steps], [e.loss for e in steps])},
               "Pretext loss", "loss", True, None)]
    if evals and evals[0].pretext_accuracy is not None:
        charts.append(({"held out": (x, [e.pretext_accuracy for e in evals]),
                        "input-blind guess": (x, [e.guess_baseline for e in evals])},
                       "Pretext accuracy: predicting z", "accuracy", False, (0.0, 1.0)))
    charts.append(({"h<sub>θ*</sub> (pretrained)": (x, [e.transfer_accuracy for e in evals]),
                    "random h<sub>θ</sub>": (x, [e.random_accuracy for e in evals])},
                   "Transfer: h<sub>θ</sub> + a new head g<sub>φ</sub>", "downstream accuracy",
                   False, (0.0, 1.0)))
    for i, (column, (curves, title, y_title, log_y, y_range)) in enumerate(
            zip(columns(len(charts), large), charts, strict=True)):
        with column:
            plot(style.loss_curves_figure(curves, title=title, x_title="step", y_title=y_title,
                                          log_y=log_y, y_range=y_range, large=large),
                 f"pp_chart{i}_{tag}")


def gallery(ex: pretext_gallery.PretextExamples) -> None:
    if ex.domain == "images":
        n = len(ex.batch)
        st.caption("Original x (its label is never read):")
        st.image([to_pil(ex.raw, i) for i in range(n)], width=72, output_format="PNG")
        turn = " (↺: turned counter-clockwise)" if ex.task == "rotation" else ""
        st.caption(f"x′ and the pseudolabel z the model must predict{turn}:")
        st.image([to_pil(ex.batch.inputs, i) for i in range(n)], width=72, output_format="PNG",
                 caption=list(ex.descriptions))
    elif ex.domain == "text":
        st.dataframe([{"x": text, "x′ → z": line}
                      for text, line in zip(ex.texts, ex.descriptions, strict=True)],
                      hide_index=True)
    else:
        plot(figures.masked_series_figure(ex.raw[:4], ex.batch.mask[:4], large=large,
                                        title="Masked time steps: predict the hidden values"),
             "pp_series")
        st.caption(" · ".join(ex.descriptions[:4]))


init_state({"pp_domain": "images", "pp_task": "rotation", "pp_round": 0, "pp_steps": 1500})
large = state.classroom()
ss = st.session_state
st.title("Paradigms and pretext tasks")
st.markdown("**Where do labels come from when nobody labels the data?** Self-supervision "
            r"makes a pseudolabel $z$ from the data $x$ itself, trains "
            r"$k_\gamma(h_\theta(\cdot))$ to predict it, then keeps the feature extractor "
            r"$h_{\theta^*}$ for the task we care about.")
st.info(r"Try this: train **rotation prediction** on images; watch the transferred "
        r"$h_{\theta^*}$ beat a random one on the shape classes. Then try **jigsaw**: it "
        "solves its puzzle well, yet transfers much less. Not every pseudolabel needs the "
        "meaning of the image.",
        icon=":material/lightbulb:")

links.bind("pretext_tasks", [
    links.Setting("pp_domain", "Domain", "choice", tuple(pseudolabels.DOMAINS)),
    links.Setting("pp_task", "Pretext task", "choice",
                  tuple(t for d in pseudolabels.DOMAINS for t in pseudolabels.PRETEXT_TASKS[d])),
    links.Setting("pp_steps", "Steps", "choice", (100, 300, 600, 1000, 1500, 3000)),
])
st.graphviz_chart(figures.paradigms_diagram(), width="stretch")

st.header("1. The pretext task: x → (x′, z)")
c1, c2, c3 = columns(3, large)
c1.selectbox("Domain", pseudolabels.DOMAINS, format_func=DOMAIN_TITLES.get, key="pp_domain")
tasks = pseudolabels.PRETEXT_TASKS[ss.pp_domain]
if ss.pp_task not in tasks:
    ss.pp_task = tasks[0]
c2.selectbox("Pretext task", tasks, format_func=TASK_TITLES.get, key="pp_task")
if c3.button("New examples", key="btn_pp_new", icon=":material/casino:"):
    ss.pp_round += 1
try:
    ex = pretext_gallery.examples(ss.pp_domain, ss.pp_task, 8, state.generator(1000 + ss.pp_round))
except FMError as error:
    st.error(str(error))
    st.stop()
gallery(ex)

st.header(r"2. Pretrain $k_\gamma(h_\theta(\cdot))$ on the pseudolabels")
st.latex(r"\min_{\theta,\gamma}\ \frac{1}{n}\sum_{i=1}^{n}"
         r"\ell\big(z^{(i)},\, k_\gamma(h_\theta(x'^{(i)}))\big)"
         r"\qquad\text{(course slides, Figure 2)}")
st.select_slider("Steps", [100, 300, 600, 1000, 1500, 3000], key="pp_steps",
                 help="Images: about 15 s per 1000 steps on two cores; text and series less.")
try:
    config = pretext_loop.PretextConfig.classroom(ss.pp_domain, ss.pp_task, steps=ss.pp_steps,
                                             seed=state.seed())
except FMError as error:
    st.error(str(error))
    st.stop()
st.caption(f"{config.n_unlabelled} unlabelled examples; every {config.eval_every} steps "
           rf"$h_\theta$ is frozen and a new head $g_\phi$ is fitted on "
           f"{config.n_labelled_per_class} labelled "
           f"examples per class of the downstream task ({DOWNSTREAM[config.domain]}).")
if st.button("Train", key="btn_pp_train", type="primary", icon=":material/play_arrow:"):
    run = runner.train(RUN, lambda: pretext_loop.pretrain_pretext(config, state.generator()),
                       total_steps=config.steps, draw=draw, label="Pretext pretraining",
                       result=lambda e: e.model if isinstance(e, pretext_loop.StartEvent) else None)
else:
    run = runner.current(RUN)
    if run is not None:
        draw(run, final=True)

st.header(r"3. Transfer $h_{\theta^*}$ with a new head $g_\phi$")
if run is None:
    st.caption(r"Train first: the transfer is measured while it trains (the chart "
               r"**Transfer: $h_\theta$ + a new head $g_\phi$**).")
else:
    runner.show_outcome(run)
    evals = run.of_type(pretext_loop.EvalEvent)
    if len(evals) > 1:
        last = evals[-1]
        st.metric(rf"Downstream accuracy with $h_{{\theta^*}}$ (step {last.step})",
                  f"{last.transfer_accuracy:.3f}",
                  f"{last.transfer_accuracy - last.random_accuracy:+.3f} vs a random h_θ")
verdict, reason = pseudolabels.TRANSFER_WHY[config.task]
st.markdown(f"**{TASK_TITLES[config.task]}: {verdict}.** {reason}")
if run is not None:
    h = run.result.h if run.result is not None else None
    if h is not None and run.step > 0 and config.domain == "images":
        models.offer(f"{TASK_TITLES[config.task]}, trained in this session", h,
                     f"h_θ* of {run.step} steps of {TASK_TITLES[config.task].lower()}")
        st.caption(r"$k_\gamma$ is dropped; $h_{\theta^*}$ is now offered to the adaptation "
                   "lesson.")
