"""Lesson: pretrain an encoder with SimCLR and watch its representation organise itself."""

import streamlit as st

from fmcore import style
from fmcore.data.shapes import CLASS_NAMES, to_pil
from fmcore.errors import FMError
from fmcore.vision import figures
from fmcore.vision.augment import AugmentConfig
from fmcore.vision.pretrain import (
    DoneEvent,
    EvalEvent,
    SimCLRConfig,
    StartEvent,
    StepEvent,
    evaluation_data,
    pretrain_simclr,
)
from ui import latex, links, models, runner, state
from ui.charts import plot
from ui.widgets import init_state

RUN = "pt_run"
LEARNING_RATES = (3e-4, 1e-3, 3e-3, 6e-3, 1e-2)
LOSSES = {"notes": "The notes' loss", "nt_xent": "NT-Xent (paper)"}
NAMES = {"notes": "the notes' loss", "nt_xent": "NT-Xent"}  # in titles and labels
LOSS_AXES = {"notes": "notes' loss L_pre(θ)/B", "nt_xent": "NT-Xent loss"}
SETTINGS = ("pt_preset", "pt_strength", "pt_batch", "pt_steps", "pt_lr", "pt_loss", "pt_tau")


def make_config(v: dict) -> SimCLRConfig:
    """The run that the settings ``v`` (widget values and seed) ask for."""
    s = v["pt_strength"]
    return SimCLRConfig.classroom(
        shapes_preset=v["pt_preset"], batch_size=v["pt_batch"], steps=v["pt_steps"],
        learning_rate=v["pt_lr"], loss=v["pt_loss"], temperature=v["pt_tau"], seed=v["seed"],
        augment=AugmentConfig(crop_strength=0.5 * s, flip_strength=min(s, 1.0),
                              color_strength=s, grayscale_strength=min(2 * s, 2.0),
                              blur_strength=0.0))  # at strength 1: the SimCLRConfig defaults


def describe(v: dict) -> str:
    return (f"{NAMES[v['pt_loss']]}, τ = {v['pt_tau']:g}, B = {v['pt_batch']}, "
            f"{v['pt_steps']} steps, learning rate {v['pt_lr']:g}, {v['pt_preset']} shapes, "
            f"augmentation strength {v['pt_strength']:g}, seed {v['seed']}")


def keep_model(event):
    return event.model if isinstance(event, StartEvent | DoneEvent) else None


def draw(run: runner.Run, final: bool = False) -> None:
    v = run.settings
    steps, evals = run.of_type(StepEvent), run.of_type(EvalEvent)
    tag = "final" if final else len(run.events)  # live redraws happen in one script run
    if final and v != current:
        st.warning(f"The charts below show the run trained with: {describe(v)}. The settings "
                   "above differ; press **Train** to train with them.", icon=":material/history:")
    else:
        st.caption(f"This run: {describe(v)}.")
    left, right = st.columns(2) if not large else (st.container(), st.container())
    with left:
        curve = {"loss": ([e.step for e in steps], [e.loss for e in steps])}
        plot(style.loss_curves_figure(
            curve, title=f"Pretraining loss ({NAMES[v['pt_loss']]}, τ = {v['pt_tau']:g})",
            x_title="step", y_title=LOSS_AXES[v["pt_loss"]], log_y=False, large=large),
            f"pt_loss_{tag}")
    with right:
        accuracy = {"linear probe": ([e.step for e in evals], [e.probe_accuracy for e in evals]),
                    "k-NN": ([e.step for e in evals], [e.knn_accuracy for e in evals])}
        plot(style.loss_curves_figure(accuracy, title="Monitored accuracy (held-out labels)",
                                      x_title="step", y_title="accuracy", log_y=False,
                                      y_range=(0.0, 1.0), large=large), f"pt_acc_{tag}")
    if not evals:
        return
    last = evals[-1]
    names = [CLASS_NAMES[int(k)] for k in last.labels]
    scatter = figures.scatter_2d_figure(last.pca, last.labels, CLASS_NAMES, large=large,
                                      title=f"φ(x) of held-out images, PCA, step {last.step}",
                                      hover=[f"{n} (image {int(i)})" for n, i in
                                             zip(names, last.indices, strict=True)])
    if not final:
        plot(scatter, f"pt_pca_{tag}")
        return
    picked = st.plotly_chart(scatter, key="sel_pt_pca", theme=None, on_select="rerun",
                             selection_mode=("box", "lasso", "points"))
    chosen = [p["point_index"] for p in picked.selection.points] if picked else []
    if chosen:
        order = [i for k in range(len(CLASS_NAMES)) for i, y in enumerate(last.labels) if y == k]
        test = evaluation_data(make_config(v))[1]  # the run's own images, whatever moved since
        rows = [int(last.indices[order[c]]) for c in chosen[:24]]
        st.image([to_pil(test.images, r) for r in rows], width=64,
                 caption=[CLASS_NAMES[int(test.labels[r])] for r in rows])
    else:
        st.caption("Select points (box or lasso) to see their images.")
    marks = [(e.step, sum(s.loss for s in steps if e.step - 10 < s.step <= e.step) /
              max(1, sum(1 for s in steps if e.step - 10 < s.step <= e.step)), e.probe_accuracy)
             for e in evals if e.step > 0]
    if len(marks) > 1:
        plot(figures.interface_figure([m[1] for m in marks], [m[2] for m in marks],
                                    [m[0] for m in marks], loss_name=LOSS_AXES[v["pt_loss"]],
                                    large=large), "pt_interface")


def show_formula(run: runner.Run | None) -> None:
    """The loss Train minimises with the settings above; its value over the last 10 steps
    only when the run on the page was trained with exactly these settings."""
    last = run.of_type(StepEvent)[-10:] if run is not None and run.settings == current else []
    value = latex.num(sum(e.loss for e in last) / len(last)) if last else r"\;?"
    st.latex(latex.loss_formula(ss.pt_loss, value, lines=large))
    if ss.pt_loss == "notes":
        what = ("the notes' loss (Section 14.2) divided by B, so that batch sizes compare. As "
                "in the SimCLR paper, φθ is followed by a projection head g (dropped after "
                "training) and a normalisation to length 1/√τ. The previous lesson scores with "
                "this loss too; NT-Xent, the paper's, reaches about the same accuracy here")
    else:
        what = ("NT-Xent (Chen et al. 2020), over the 2B views v₁…v₂B; the shipped encoder "
                "was trained with it. Section 14.2 of the notes gives the idea: positives "
                "close, random pairs apart")
    where = ("its value is the mean of the last 10 steps" if last else
             "its value appears once you train with these settings")
    st.caption(f"The loss Train minimises: {what}; {where}.")


def tip() -> None:
    st.info("Try this: press **Train** and watch the monitored accuracy climb from chance "
            "(0.10) to about 0.35 in under a minute, although no label was used, while points "
            "of one colour begin to gather in the PCA scatter. Then set the augmentation "
            "strength to 0 and train again: two views of an image are then the same picture, "
            "and the accuracy stays near 0.2.", icon=":material/lightbulb:")


# Defaults that show the point within a minute on one core: on clean shapes, 500 steps take
# the monitored probe from chance (0.13) to about 0.35; the notes' loss did as well as NT-Xent
# (seed 0: 0.35 and 0.35; seed 1: 0.37 and 0.29); with augmentation strength 0, to 0.18.
init_state({"pt_preset": "clean", "pt_strength": 1.0, "pt_batch": 128, "pt_steps": 500,
            "pt_lr": 1e-2, "pt_loss": "notes", "pt_tau": 0.2})
large = state.classroom()
st.title("Pretraining live")
st.markdown("**Can a network learn what a star is without ever being told?** SimCLR trains "
            "φθ only to match two views of each image. Watch held-out images sort themselves "
            "by class, although no label is ever used for training.")
if not large:
    tip()

links.bind("pretraining", [
    links.Setting("pt_preset", "Shapes", "choice", ("clean", "standard", "cluttered")),
    links.Setting("pt_strength", "Augmentation strength", "float", low=0.0, high=2.0),
    links.Setting("pt_batch", "Batch size B", "choice", (32, 64, 128, 256)),
    links.Setting("pt_steps", "Steps", "choice", (50, 100, 200, 300, 500, 1000, 2000)),
    links.Setting("pt_lr", "Learning rate", "choice", LEARNING_RATES),
    links.Setting("pt_loss", "Loss", "choice", tuple(LOSSES)),
    links.Setting("pt_tau", "Temperature τ", "float", low=0.05, high=2.0),
])
# The main settings and Train in one row; the rest below (folded away in classroom mode,
# where the row must stay on the first screen)
c1, c2, c3, c4 = st.columns([4, 3, 4, 3] if large else [4, 3, 3, 2],
                            vertical_alignment="bottom")
c1.slider("Augmentation strength", 0.0, 2.0, step=0.1, key="pt_strength")
c2.select_slider("Steps", [50, 100, 200, 300, 500, 1000, 2000], key="pt_steps")
c3.radio("Loss", list(LOSSES), format_func=LOSSES.get, key="pt_loss")
clicked = c4.button("Train", key="btn_pt_train", type="primary", icon=":material/play_arrow:",
                    width="stretch")
more = (st.expander("More settings: shapes, batch size B, learning rate, temperature τ")
        if large else st.container())
e1, e2, e3, e4 = more.columns(4)
e1.selectbox("Shapes", ["clean", "standard", "cluttered"], key="pt_preset",
             help="How much background clutter the images have.")
e2.select_slider("Batch size B", [32, 64, 128, 256], key="pt_batch")
e3.select_slider("Learning rate", LEARNING_RATES, key="pt_lr")
e4.slider("Temperature τ", 0.05, 2.0, step=0.05, key="pt_tau")
if large:
    tip()

ss = st.session_state
current = {**{k: ss[k] for k in SETTINGS}, "seed": state.seed()}
try:
    config = make_config(current)
except FMError as error:
    st.error(str(error))
    st.stop()
st.caption(f"{config.n_images} unlabelled images, {config.epochs:.1f} epochs; labels of "
           f"{config.eval_images} held-out images are used only to monitor.")

formula = st.empty()  # filled once the run is known, so its number is the latest
if clicked:
    run = runner.train(RUN, lambda: pretrain_simclr(config, state.generator()),
                       total_steps=config.steps, draw=draw, result=keep_model,
                       label="Pretraining", settings=current)
elif (run := runner.current(RUN)) is not None:
    draw(run, final=True)
with formula.container():
    show_formula(run)
if run is not None:
    runner.show_outcome(run)
    if run.result is not None and run.step > 0:
        models.offer("SimCLR, trained in this session", run.result,
                     f"{run.step} steps of SimCLR ({NAMES[run.settings['pt_loss']]}) on "
                     f"{config.n_images} shapes")
        st.caption("This encoder is now offered to the adaptation lesson.")
