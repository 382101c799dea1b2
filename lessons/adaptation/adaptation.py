"""Lesson: adapt a pretrained encoder with a linear probe or by finetuning (Eq. 14.1-14.4)."""

import itertools

import streamlit as st

from fmcore import style
from fmcore.adaptation import figures
from fmcore.adaptation.adapt import (
    GRID_REPEATS,
    GRID_SHOTS,
    METHODS,
    NUM_CLASSES,
    TASKS,
    AdaptConfig,
    AdaptEval,
    AdaptStart,
    AdaptStep,
    CellEvent,
    adapt,
    label_efficiency,
    metric_name,
    summarise,
)
from fmcore.errors import FMError
from lessons.adaptation import cache
from lessons.vision import cache as vision_cache
from ui import links, models, runner, state
from ui.charts import plot
from ui.widgets import columns, init_state

RUN, GRID = "ad_run", "ad_grid"
DRAWS = itertools.count()  # live redraws happen in one script run: each needs its own keys
SHOTS = (1, 2, 5, 10, 25, 50, 500)
RANDOM = "random (untrained)"  # short: it is a chip in a multiselect
TASK_LABELS = {"class": "shape class (10 classes)", "size": "shape size (regression)",
               "x": "x position (regression)"}
N_TASK_HELP = ("Per class. The notes' n_task counts every labelled example, so n_task = 10 × "
               "this: 1 per class is n_task = 10, 10 per class is n_task = 100, 50 per class "
               "n_task = 500. The notes call n_task from 1 to 50 few-shot: 1 to 5 per class.")
LOOK_FOR = rf"""The defaults: SimCLR and a random encoder, {", ".join(map(str, GRID_SHOTS))}
labelled images per class
($n_{{\text{{task}}}}$ = {", ".join(str(NUM_CLASSES * k) for k in GRID_SHOTS)}),
{GRID_REPEATS} repeats. What they show (seed 0; another seed moves the numbers by a few points,
most at 1 per class):

- **The random encoder stays at chance** (the dotted line), with the probe and from scratch
  alike, even with 50 per class: 100 steps on at most 500 images teach a network little.
- **SimCLR is far above it at every $n_{{\text{{task}}}}$**: its probe scores about 0.27 with
  1 image per class, 0.70 with 10 and 0.86 with 50. The gap between the two encoders' lines
  is what pretraining saves in labels.
- **SimCLR's probe (solid) and finetuning (dashed) lie together, then part**: within each
  other's error bars up to 10 per class, while at 50 finetuning is ahead (about 0.89 against
  0.86). With few labels, moving all of θ gains nothing over the frozen features; with more,
  it pays."""
EQUATIONS = {
    "probe": r"\min_{w\in\mathbb{R}^m}\ \frac{1}{n_{task}}\sum_{i=1}^{n_{task}}"
             r"\ell_{task}\big(y^{(i)}_{task},\, w^\top\phi_{\hat\theta}(x^{(i)}_{task})\big)"
             r"\qquad(14.1)",
    "finetune": r"\min_{w,\theta}\ \frac{1}{n_{task}}\sum_{i=1}^{n_{task}}"
                r"\ell_{task}\big(y^{(i)}_{task},\, w^\top\phi_{\theta}(x^{(i)}_{task})\big)"
                r"\ (14.2),\quad w\leftarrow\text{random}\ (14.3),\quad \theta\leftarrow\hat\theta"
                r"\ (14.4)",
}


def encoders() -> dict:
    """{name: (encoder, description)}: shipped, trained in this session, and random."""
    found = dict(cache.shipped_encoders())
    for name, item in models.offered().items():
        if item.get("kind") is None:  # image encoders (language models carry a kind)
            found[name] = (getattr(item["model"], "encoder", item["model"]), item["description"])
    random = vision_cache.random_simclr_model(state.seed()).encoder
    found[RANDOM] = (random, "the same network, freshly initialised: finetuning it is "
                             "training from scratch")
    return found


def draw(run: runner.Run, final: bool = False) -> None:
    tag = "final" if final else next(DRAWS)
    steps, evals = run.of_type(AdaptStep), run.of_type(AdaptEval)
    left, right = columns(2, large)
    with left:
        plot(style.loss_curves_figure({"training loss": ([e.step for e in steps],
                                                         [e.loss for e in steps])},
                                      title="Downstream loss ℓ<sub>task</sub>", x_title="step",
                                      y_title="training loss", log_y=False, large=large),
             f"ad_loss_{tag}")
    with right:
        curves = {f"train ({n_task} labelled)": ([e.step for e in evals],
                                                [e.train_metric for e in evals]),
                  "test (held out)": ([e.step for e in evals], [e.test_metric for e in evals])}
        plot(style.loss_curves_figure(curves, title=f"{metric.capitalize()} while adapting",
                                      x_title="step", y_title=metric, log_y=False,
                                      y_range=(0.0, 1.0) if metric == "accuracy" else None,
                                      large=large), f"ad_metric_{tag}")


def draw_grid(run: runner.Run, final: bool = False) -> None:
    rows = summarise(run.of_type(CellEvent))
    if not rows:
        return
    plot(figures.label_efficiency_figure(rows, large=large),
         "ad_grid_final" if final else f"ad_grid_{next(DRAWS)}")
    st.dataframe([{"encoder": r.init, "method": r.method, "labels per class": r.shots,
                   "n_task": NUM_CLASSES * r.shots, "test accuracy": round(r.mean, 3),
                   "± sd": round(r.sd, 3), "repeats": r.n} for r in rows],
                 hide_index=True)


init_state({"ad_encoder": "SimCLR (shipped)", "ad_task": "class", "ad_shots": 10,
            "ad_method": "probe", "ad_encoder_lr": 1e-3, "ad_steps": 150,
            "ad_grid_inits": ["SimCLR (shipped)", RANDOM], "ad_grid_shots": list(GRID_SHOTS),
            "ad_grid_repeats": GRID_REPEATS})
large = state.classroom()
st.title("Adaptation: linear probe vs finetuning")
st.markdown(r"**How many labelled examples does a pretrained encoder need?** Put a new head "
            r"$w$ on $\phi_{\hat\theta}$ and train it on $n_{\text{task}}$ labelled images: "
            "with θ frozen (linear probe) or trained too (finetuning).")
st.info("Try this: train the **linear probe** of the shipped SimCLR encoder with 1 label per "
        "class, then the same with the **random** encoder. Then run the label-efficiency grid "
        "below as it is set: *What to look for* there says what it shows.",
        icon=":material/lightbulb:")

links.bind("adaptation", [
    links.Setting("ad_task", "Downstream task", "choice", tuple(TASKS)),
    links.Setting("ad_shots", "Labelled images per class", "choice", SHOTS),
    links.Setting("ad_method", "Method", "choice", tuple(METHODS)),
    links.Setting("ad_encoder_lr", "Encoder learning rate", "choice", (1e-4, 3e-4, 1e-3, 3e-3)),
    links.Setting("ad_steps", "Steps", "choice", (50, 100, 150, 300, 600)),
])
found = encoders()
ss = st.session_state
if ss.ad_encoder not in found:
    ss.ad_encoder = next(iter(found))
c1, c2, c3 = columns(3, large)
c1.selectbox("Pretrained model φθ̂", list(found), key="ad_encoder",
             help="Shipped encoders, any you trained in this session, or a random one.")
c1.caption(found[ss.ad_encoder][1])
c2.selectbox("Downstream task", list(TASKS), format_func=TASK_LABELS.get, key="ad_task",
             help="\n\n".join(f"{TASK_LABELS[t]}: {TASKS[t]}" for t in TASKS))
c2.select_slider("Labelled images per class", SHOTS, key="ad_shots",
                 format_func=lambda k: "full (500)" if k == 500 else str(k), help=N_TASK_HELP)
c3.radio("Method", list(METHODS), format_func=lambda m: METHODS[m].split(":")[0],
         key="ad_method", horizontal=True)
c3.select_slider("Encoder learning rate (finetuning)", [1e-4, 3e-4, 1e-3, 3e-3],
                 key="ad_encoder_lr", disabled=ss.ad_method == "probe")
c3.select_slider("Steps", [50, 100, 150, 300, 600], key="ad_steps")
try:
    config = AdaptConfig(task=ss.ad_task, method=ss.ad_method, shots=ss.ad_shots,
                         steps=ss.ad_steps, encoder_lr=ss.ad_encoder_lr, seed=state.seed())
except FMError as error:
    st.error(str(error))
    st.stop()
n_task, metric = config.n_task, metric_name(config.task)
st.latex(EQUATIONS[config.method])
loss_name = "cross-entropy" if config.task == "class" else "squared error"
st.markdown(rf"Here $n_{{\text{{task}}}}$ = **{n_task}** ({config.shots} per class), "
            rf"$\ell_{{\text{{task}}}}$ = {loss_name}, scored by {metric} on "
            f"{config.test_images} held-out images.")
# stretched in classroom mode, where the column is narrow and its text must read from afar
st.graphviz_chart(figures.adaptation_diagram(config.method),
                  width="stretch" if large else "content")

encoder = found[ss.ad_encoder][0]
if st.button("Adapt", key="btn_ad_train", type="primary", icon=":material/play_arrow:"):
    run = runner.train(RUN, lambda: adapt(encoder, config, state.generator()),
                       total_steps=config.steps, draw=draw, label="Adapting",
                       result=lambda e: e.model if isinstance(e, AdaptStart) else None)
else:
    run = runner.current(RUN)
    if run is not None:
        draw(run, final=True)
if run is not None:
    runner.show_outcome(run)
    if (evals := run.of_type(AdaptEval)) and run.step > 0:
        start = run.of_type(AdaptStart)[0]
        st.metric(f"Test {metric}", f"{evals[-1].test_metric:.3f}",
                  f"{evals[-1].test_metric - evals[0].test_metric:+.3f} since step 0")
        st.caption(f"{start.trainable:,} parameters trained, {start.frozen:,} frozen.")

st.header("Label efficiency")
st.markdown(r"Accuracy against $n_{\text{task}}$ for several encoders and both methods, "
            "repeated over draws of the labelled images (error bars: one standard deviation "
            r"over the repeats). Zero-shot ($n_{\text{task}} = 0$) leaves an image encoder "
            "nothing to name the classes with: chance.")
with st.expander("What to look for in the grid as it is set", expanded=True,
                 icon=":material/visibility:"):
    st.markdown(LOOK_FOR)
g1, g2, g3 = columns(3, large)
g1.multiselect("Encoders", list(found), key="ad_grid_inits")
g2.multiselect("Labelled images per class", SHOTS[:-1], key="ad_grid_shots",
               format_func=lambda k: f"{k} (n_task {NUM_CLASSES * k})", help=N_TASK_HELP)
g3.select_slider("Repeats", [1, 2, 3, 5], key="ad_grid_repeats",
                 help="Each repeat draws other labelled images (the same for every encoder and "
                      "method). Error bars are the standard deviation over the repeats: one "
                      "repeat has none.")
chosen = {name: found[name][0] for name in ss.ad_grid_inits if name in found}
cells = len(chosen) * len(ss.ad_grid_shots) * ss.ad_grid_repeats * 2
grid_config = AdaptConfig.grid(seed=state.seed())
if st.button(f"Run the grid ({cells} runs)", key="btn_ad_grid", icon=":material/grid_on:",
             disabled=cells == 0):
    grid = runner.train(GRID, lambda: label_efficiency(chosen, grid_config, ss.ad_grid_shots,
                                                       repeats=ss.ad_grid_repeats,
                                                       seed=state.seed()),
                        total_steps=cells, draw=draw_grid, label="Label-efficiency grid",
                        unit="run")
else:
    grid = runner.current(GRID)
    if grid is not None:
        draw_grid(grid, final=True)
if grid is not None:
    runner.show_outcome(grid)
