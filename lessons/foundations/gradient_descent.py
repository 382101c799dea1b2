"""Lesson: learning is minimising a loss by gradient descent (slides: "Gradient descent")."""

import streamlit as st

from fmcore.errors import FMError
from fmcore.foundations import figures
from fmcore.foundations.descent import (
    MAX_STEPS,
    DescentConfig,
    learning_rate_choices,
    snap_learning_rate,
    stable_learning_rate,
)
from fmcore.foundations.points import SPECS
from lessons.foundations import cache
from ui import links, state
from ui.charts import plot
from ui.latex import num, vec
from ui.widgets import columns, init_state

START_STEPS = 10  # a visible path the moment the page opens


def reset_for_dataset() -> None:
    spec = SPECS[st.session_state.gd_dataset]
    st.session_state.gd_alpha = snap_learning_rate(spec.default_learning_rate)
    st.session_state.gd_theta1, st.session_state.gd_theta2 = spec.default_start
    st.session_state.gd_steps = START_STEPS


def limit_text(alpha: float, limit: float, kind: str) -> str:
    """The step-size limit 2/λ_max on the page, and why it is one (see
    fmcore.foundations.descent)."""
    hessian = (r"$2\sum_k x_k x_k^\top$, the same at every θ" if kind == "regression"
               else r"at most $\tfrac14\sum_k x_k x_k^\top$")
    past = ("each step overshoots further and GD diverges" if kind == "regression" else
            "a step can overshoot (the logistic loss flattens far from its minimum, so it "
            "need not blow up)")
    return (rf"**Step-size limit:** α = {alpha:g}, $2/\lambda_{{\max}}$ = {limit:.3g}. "
            r"$\lambda_{\max}$ is the largest curvature of l: the largest eigenvalue of its "
            rf"Hessian $\nabla^2 l(\theta)$ ({hessian}). At a distance u from the minimum "
            r"along that direction l rises like $\tfrac{\lambda_{\max}}{2}u^2$, and a step "
            r"turns u into $(1-\alpha\lambda_{\max})\,u$: it shrinks only while "
            rf"$\alpha < 2/\lambda_{{\max}}$. Past it, {past}.")


def take_steps(n: int) -> None:
    st.session_state.gd_steps = min(max(st.session_state.gd_steps + n, 0), MAX_STEPS - 1)


init_state({"gd_dataset": "cats_dogs", "gd_n": 10, "gd_sgd": False, "gd_batch": 4,
            "gd_shuffle": True, "gd_cmp_batch": 4, "gd_cmp_epochs": 10})
if "gd_alpha" not in st.session_state:
    reset_for_dataset()
LINK = [
    links.Setting("gd_dataset", "Dataset", "choice", tuple(SPECS), after=reset_for_dataset),
    links.Setting("gd_alpha", "Learning rate α", "choice", tuple(learning_rate_choices())),
    links.Setting("gd_theta1", "Start θ1", "float", low=-1e3, high=1e3),  # clamped to the view
    links.Setting("gd_theta2", "Start θ2", "float", low=-1e3, high=1e3),
    links.Setting("gd_sgd", "Mini-batches (SGD)", "bool"),
    links.Setting("gd_batch", "Batch size", "int", low=1, high=10_000),
    links.Setting("gd_shuffle", "Shuffle", "bool"),
    links.Setting("gd_steps", "Steps taken", "int", low=0, high=MAX_STEPS - 1),
]
large = state.classroom()

st.title("Gradient descent")
st.markdown("**How does a model learn?** It walks downhill on its loss l(θ): each step moves "
            "θ against the gradient, θ ← θ − α∇l(θ).")
st.info("Try this: press **+N steps**, then ▶ Play under the chart. Then choose *House prices* "
        r"and drag α just past the limit $2/\lambda_{\max}$ given under the update: the path "
        "overshoots and the loss blows up.", icon=":material/lightbulb:")
links.bind("gradient_descent", LINK)
st.session_state.gd_batch = min(st.session_state.gd_batch, SPECS[st.session_state.gd_dataset]
                                .n_examples)  # a link's batch may exceed this dataset's size
v1, w1, v2, w2 = SPECS[st.session_state.gd_dataset].view  # and its start the sliders' range
st.session_state.gd_theta1 = min(max(float(st.session_state.gd_theta1), v1), w1)
st.session_state.gd_theta2 = min(max(float(st.session_state.gd_theta2), v2), w2)

controls, picture = columns([1, 2.2], large, gap="large")
with controls:
    st.selectbox("Dataset", list(SPECS), format_func=lambda k: SPECS[k].title,
                 key="gd_dataset", on_change=reset_for_dataset)
    key = st.session_state.gd_dataset
    spec = SPECS[key]
    st.select_slider("Learning rate α", options=learning_rate_choices(), key="gd_alpha")
    a1, b1, a2, b2 = spec.view
    st.slider("Start θ1", a1, b1, step=0.1, key="gd_theta1")
    st.slider("Start θ2", a2, b2, step=0.1, key="gd_theta2")
    sgd = st.toggle("Mini-batches (SGD)", key="gd_sgd",
                    help="Estimate the gradient from a few examples at a time.")
    if sgd:
        st.slider("Batch size", 1, spec.n_examples, key="gd_batch")
        st.toggle("Shuffle the examples each epoch", key="gd_shuffle",
                  help="Off: visit them in the stored order (all cats, then all dogs).")
    step_col, n_col = st.columns(2)
    step_col.button("Step", key="btn_gd_step", on_click=take_steps, args=(1,), width="stretch")
    n = n_col.number_input("N", 1, 500, key="gd_n", label_visibility="collapsed")
    step_col.button(f"+{n} steps", key="btn_gd_n", on_click=take_steps, args=(n,),
                    width="stretch")
    n_col.button("Reset", key="btn_gd_reset", on_click=take_steps, args=(-MAX_STEPS,),
                 width="stretch")

seed, steps, alpha = state.seed(), st.session_state.gd_steps, st.session_state.gd_alpha
config = DescentConfig(
    learning_rate=alpha,
    steps=steps + 1,  # one more than shown: the arrow is exactly the next update
    batch_size=st.session_state.gd_batch if sgd else None,
    order="shuffled" if st.session_state.gd_shuffle else "in order",
    start=(st.session_state.gd_theta1, st.session_state.gd_theta2),
)
try:
    data = cache.points(key, seed)
    t1, t2, grid = cache.loss_grid(key, seed)
    path = cache.descent_path(key, seed, config)
except FMError as error:
    st.error(str(error))
    st.stop()

shown = min(steps, path.steps)  # theta_0 .. theta_shown are drawn
theta = path.thetas[shown].tolist()
has_next = path.steps > shown
next_theta = path.thetas[shown + 1].tolist() if has_next else None
with picture:
    if path.diverged is not None:
        st.error(path.diverged.message, icon=":material/warning:")
    elif path.losses[shown] > path.losses[0]:
        st.warning("The loss is now higher than where you started: α may be too large.")
    plot(figures.descent_figure(t1, t2, grid, path.thetas[: shown + 1], next_theta,
                              theta_names=spec.theta_names, large=large), "gd_landscape")

limit = stable_learning_rate(data)
left, right = columns(2, large, gap="large")
with left:
    st.subheader(f"Step {shown}: the update")
    rule = (r"\tfrac{K}{|B|}\textstyle\sum_{k\in B}\nabla d_k(\theta_t)" if sgd
            else r"\nabla l(\theta_t)")
    st.latex(r"\theta_{t+1} = \theta_t - \alpha\," + rule)
    if has_next:
        g = path.gradients[shown].tolist()
        st.latex(vec(next_theta) + " = " + vec(theta) + " - " + num(alpha) + r"\," + vec(g))
    loss_formula = (r"\log\bigl(1+e^{-s_k\,\theta^\top x_k}\bigr)"
                    if spec.kind == "classification" else r"(\theta^\top x_k - y_k)^2")
    st.latex(rf"l(\theta_{{{shown}}}) = \sum_{{k=1}}^{{{data.n}}} {loss_formula} = "
             + num(float(path.losses[shown])))
    st.markdown(limit_text(alpha, limit, spec.kind))
with right:
    curve = {"l(θₜ)": (range(shown + 1), path.losses[: shown + 1].tolist())}
    plot(figures.descent_loss_figure(curve, title="Loss along the path", x_title="step t",
                                   large=large), "gd_curve")
plot(figures.points_figure(data.x, data.y, theta, kind=spec.kind, feature_names=spec.feature_names,
                         target_name=spec.target_name, large=large), "gd_points")

st.subheader("Shuffled or in order?")
st.markdown("The examples are stored in a correlated order (all cats, then all dogs; houses "
            "by size). The lecture notes remark on this at the end of chapter 13 (on ICA, just "
            "before chapter 14): when successive examples are correlated, visiting them in a "
            "random order sometimes makes SGD converge faster.")
c1, c2 = st.columns(2)
cmp_batch = c1.slider("Batch size for the comparison", 1, spec.n_examples, key="gd_cmp_batch")
epochs = c2.slider("Epochs", 1, 30, key="gd_cmp_epochs")
try:
    runs = cache.order_comparison(key, seed, alpha, cmp_batch, epochs, config.start)
except FMError as error:
    st.error(str(error))
    st.stop()
stopped = [name for name, run in runs.items() if run.diverged is not None]
plot(figures.descent_loss_figure(
    {name: (run.epochs.tolist(), run.losses.tolist()) for name, run in runs.items()},
    title=f"Same α = {alpha:g}, same start: shuffled vs in-order SGD",
    x_title="epochs (passes over the K examples)",
    x_range=(-0.02 * epochs, 1.02 * epochs),  # the epochs asked for, even if a run stopped
    stopped=stopped, large=large), "gd_orders")
st.caption(" · ".join(f"{name}: {run.outcome()}" for name, run in runs.items())
           + (". A run whose loss blew up is stopped (✕ on the chart): try a smaller α."
              if stopped else ""))

if not large:
    with st.expander("Numbers behind the picture"):
        st.dataframe({"step t": list(range(shown + 1)),
                      "θ1": path.thetas[: shown + 1, 0].tolist(),
                      "θ2": path.thetas[: shown + 1, 1].tolist(),
                      "l(θ)": path.losses[: shown + 1].tolist()}, hide_index=True)
