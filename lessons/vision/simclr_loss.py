"""Lesson: augmentations make positive pairs, and the SimCLR loss scores them (notes 14.2)."""

import streamlit as st

from fmcore.errors import FMError
from fmcore.vision import figures
from fmcore.vision.augment import AugmentConfig
from fmcore.vision.contrastive import MAX_BATCH, chance_term, same_class_negatives, to_pil
from fmcore.vision.scenes import SCENE_TITLES
from lessons.vision import cache
from ui import latex, links, state
from ui.charts import plot
from ui.uploads import IMAGE_TYPES, read_images
from ui.widgets import columns, init_state

TEMPERATURES = (0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)
START = TEMPERATURES.index(0.2)  # the temperature the shipped encoder was trained with
PRESETS = {"SimCLR (paper)": AugmentConfig.simclr(), "Weak": AugmentConfig.weak(),
           "None": AugmentConfig.none()}
STRENGTHS = ("crop", "flip", "color", "grayscale", "blur")
SOURCES = {"shapes": "Shapes", "photos": "Sample photos", "uploads": "Your images"}
METHODS = {"notes": "The notes' loss (Section 14.2)", "nt_xent": "NT-Xent (SimCLR paper)"}


def apply_preset() -> None:
    preset = PRESETS[st.session_state.cl_preset]
    for name in STRENGTHS:
        st.session_state[f"cl_{name}"] = getattr(preset, f"{name}_strength")


def new_views() -> None:
    st.session_state.cl_round += 1


init_state({"cl_source": "shapes", "cl_b": 6, "cl_preset": "SimCLR (paper)", "cl_round": 0,
            "cl_models": "both", "cl_method": "notes"})
if "cl_crop" not in st.session_state:
    apply_preset()
large = state.classroom()

st.title("Augmentations and the SimCLR loss")
st.markdown("**When are two pictures “the same”?** When they are two random augmentations of "
            "one image: a *positive pair*. SimCLR pulls positives together and pushes every "
            "other pair apart.")
st.info("Try this: compare the two heatmaps. The pretrained encoder lights up the diagonal "
        "(positives), the random one does not. Then press **New views**, raise the crop "
        "strength, or move τ under a chart.", icon=":material/lightbulb:")

links.bind("simclr_loss", [
    links.Setting("cl_source", "Images", "choice", tuple(SOURCES)),
    links.Setting("cl_b", "Batch size B", "int", low=2, high=MAX_BATCH),
    links.Setting("cl_preset", "Augmentations", "choice", tuple(PRESETS), after=apply_preset),
    links.Setting("cl_models", "Encoder", "choice", ("both", "pretrained", "random")),
    links.Setting("cl_method", "Loss", "choice", tuple(METHODS)),
])

c1, c2, c3, c4 = columns(4, large)
c1.radio("Images", list(SOURCES), format_func=SOURCES.get, key="cl_source")
c2.slider("Batch size B", 2, MAX_BATCH, key="cl_b")
c3.selectbox("Augmentations", list(PRESETS), key="cl_preset", on_change=apply_preset)
c4.button("New views", key="btn_cl_new", icon=":material/casino:", on_click=new_views,
          width="stretch")
with st.expander("Augmentation strengths (0 = off, 1 = SimCLR, 2 = stronger)"):
    for column, name in zip(st.columns(len(STRENGTHS)), STRENGTHS, strict=True):
        column.slider(name, 0.0, 2.0, step=0.1, key=f"cl_{name}")
uploads = ()
if st.session_state.cl_source == "uploads":
    files = st.file_uploader("Your images (PNG, JPEG, WebP, GIF, BMP)", type=IMAGE_TYPES,
                             accept_multiple_files=True, key="upload_cl_files")
    good, errors = read_images(files)
    for message in errors:
        st.error(message)
    uploads = tuple(good)
m1, m2 = columns(2, large)
m1.radio("Encoder", ["both", "pretrained", "random"], key="cl_models", horizontal=True,
         format_func={"both": "Pretrained vs random", "pretrained": "Pretrained",
                      "random": "Random (untrained)"}.get)
m2.radio("Loss", list(METHODS), format_func=METHODS.get, key="cl_method", horizontal=True)

ss = st.session_state
config = AugmentConfig(**{f"{n}_strength": ss[f"cl_{n}"] for n in STRENGTHS})
# B beyond the images there are: use them all and say so, rather than hide the lesson
have = {"photos": len(SCENE_TITLES), "uploads": len(uploads)}.get(ss.cl_source, ss.cl_b)
b = min(ss.cl_b, have) if have >= 2 else ss.cl_b  # fewer than 2: fmcore says what to do
if b < ss.cl_b:
    st.warning(f"There are {have} images here, so B = {have} (the slider asks for {ss.cl_b}).",
               icon=":material/photo_library:")
args = (ss.cl_source, b, config, state.seed(), ss.cl_round, uploads)
try:
    batch, views = cache.simclr_views(*args)
except FMError as error:
    st.error(str(error))
    st.stop()

st.subheader("The 2B views: x̂(i) and x̃(i) are a positive pair")
st.image(to_pil(views.x_hat), width=96,
         caption=[f"x̂({i + 1}): {name}" for i, name in enumerate(batch.names)])
st.image(to_pil(views.x_tilde), width=96,
         caption=[f"x̃({i + 1}): {name}" for i, name in enumerate(batch.names)])
if not large:
    with st.expander("What was sampled for each view"):
        st.dataframe([{"view": f"{v}({i + 1})", **p.describe(i)}
                      for v, p in (("x̂", views.params_hat), ("x̃", views.params_tilde))
                      for i in range(b)], hide_index=True)

st.subheader("The loss, pair by pair")
st.latex(latex.loss_formula(ss.cl_method, lines=large))
if ss.cl_method == "notes":
    st.caption("Section 14.2 of the notes. As in the SimCLR paper, the network here is the "
               "encoder φθ followed by a small projection head g (dropped after pretraining) "
               "and a normalisation to length 1/√τ, so each dot product is cos/τ, as the "
               "shipped encoder was trained. Each row's term is −log p/(p+q): it falls as the "
               "positive p grows, rises as the negatives q grow (footnote 4).")
else:
    st.caption("NT-Xent (Chen et al. 2020), the loss the shipped encoder was trained with: "
               "v₁…v₂B are the 2B views, and every view is an anchor with 2B−1 candidates, "
               "its positive v_k⁺ and 2B−2 negatives, views of its own side included. The "
               "heatmap shows the x̂·x̃ block only; each bar is the term of anchor x̂(i), whose "
               "negatives also include the B−1 other first views x̂(k) (not drawn), and the "
               "loss is the mean over all 2B anchors, the x̃ ones too.")
pairs = same_class_negatives(batch.labels)
shown = ["pretrained", "random"] if ss.cl_models == "both" else [ss.cl_models]
sweeps = {}
for model in shown:
    try:
        sweeps[model] = cache.simclr_sweep(*args, model, ss.cl_method, TEMPERATURES)
    except FMError as error:
        st.error(str(error))
chance = chance_term(ss.cl_method, b)  # a row whose candidates all look alike
name = {"notes": "L<sub>pre</sub>", "nt_xent": "NT-Xent"}[ss.cl_method]
for column, model in zip(columns(len(sweeps), large), sweeps, strict=True):
    with column:
        plot(figures.similarity_figure(
            sweeps[model], TEMPERATURES, start=START, same_class=pairs, loss_name=name,
            chance=chance, term_max=figures.row_term_limit(*sweeps.values()),
            title=f"{model.capitalize()} encoder: ", large=large), f"cl_sim_{model}")
if sweeps:
    level = (f"B·log B = {b * chance:.2f}" if ss.cl_method == "notes"
             else f"log(2B−1) = {chance:.2f}")
    st.caption("The loss is in each chart's title and follows its τ slider. Dashed line: the "
               f"term of a row whose candidates all look alike; a loss near {level} means the "
               "encoder cannot tell its positives from its negatives."
               + (" Both charts share one scale for the bars." if len(sweeps) > 1 else "")
               + (" The random encoder is freshly initialised from the seed; its BatchNorm "
                  "layers normalise with the statistics of Shapes images, as at the first "
                  "training step." if "random" in sweeps else ""))
if pairs:
    i, j = pairs[0]
    st.warning(f"x̂({i + 1}) and x̃({j + 1}) are both *{batch.names[i]}s*, yet the loss treats "
               "them as a negative pair. The notes call negatives “random pairs” for this "
               "reason (footnote 2): without labels, SimCLR cannot know. Ringed on the charts.",
               icon=":material/info:")
