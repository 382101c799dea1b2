"""Training a character language model (Section 14.3 of the notes) as a generator of events.

The model f_theta (:class:`fmcore.lm.model.TinyGPT`) is trained by minimising the negative
log-likelihood of the training text, the cross-entropy of Eq. 14.8:

    loss(theta) = (1/T) sum_{t=1..T} -log softmax(f_theta(x_0, ..., x_{t-1}))_{x_t}

**Training examples.** The notes take an example to be a document x_1..x_T read after
x_0 = ⊥, the token that marks a document's beginning (Eq. 14.5-14.8); footnote 5 adds that
in practice the text is one long sequence cut into windows anywhere. Both are used here, and
⊥ keeps the meaning the notes give it. Each row of a batch is a window of T = ``context``
target characters w_1..w_T, of one of two kinds:

* **a document's opening**: the window starts where a document starts (a sentence of the
  toy grammar, a help topic, a source file, a pasted text: ``doc_starts``), and the model
  reads ``[⊥, w_1, ..., w_{T-1}]``, exactly as the notes read a document;
* **a window cut anywhere** (footnote 5): the model reads ``[w_0, w_1, ..., w_{T-1}]``, where
  w_0 is the character before the window. No ⊥: nothing begins there.

So ⊥ is only ever followed by a document's first character, and f_theta(⊥) learns how
documents begin. A row is an opening with probability ``min(1/2, D T / N)`` for D documents
in N characters (:func:`begin_share`): each document is read from its ⊥ about once for every
N / T windows, that is once per pass over the text, as if every example were a whole
document, but never more than half the rows (toy sentences are shorter than a window, and a
text of one document would otherwise be read mostly at its opening). The loss of a step is
Eq. 14.8 averaged over the T positions and the B rows. :func:`fmcore.lm.scoring.score_text`
and :func:`fmcore.lm.generate.generate` read a text after ⊥, as a document's beginning, the
way the openings were trained; generation reads the end of a text too long for the context
without ⊥, the way the windows cut anywhere were.

**Optimisation.** AdamW (decoupled weight decay on the weight matrices and embeddings, none
on biases and LayerNorm parameters), a linear warm-up then a cosine decay of the learning
rate to 0, gradient-norm clipping. The forward pass may run in bfloat16 (``precision``,
as in :mod:`fmcore.vision.pretrain`); the loss is always computed in float32.

**Events** (rule 3 of DESIGN.md). :func:`train_lm` yields a :class:`StartEvent`, a
:class:`StepEvent` per optimisation step, an :class:`EvalEvent` (mean loss on fixed
windows of the training and of the validation text) at step 0, every ``eval_every`` steps
and at the end, a :class:`SampleEvent` (a text generated from ⊥ alone) at step 0, every
``sample_every`` steps and at the end, and a :class:`DoneEvent`. It never prints. The
model is trained *in place*: the object in the StartEvent holds the weights learned so far
at every yield, so a caller who stops iterating (a Stop button) keeps what was learned.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from fmcore import optim
from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm.generate import generate_text
from fmcore.lm.model import MAX_CONTEXT, GPTConfig, TinyGPT, make_gpt
from fmcore.lm.sampling import MAX_TEMPERATURE
from fmcore.lm.tokenizer import BEGIN, MAX_CORPUS_CHARS, UNKNOWN, CharTokenizer
from fmcore.optim import check_recipe, take_step, warmup_cosine
from fmcore.validate import bounded_int, finite_float

__all__ = [
    "MAX_ACTIVATION_BYTES",
    "MAX_BATCH",
    "MAX_STEPS",
    "DoneEvent",
    "EvalEvent",
    "Event",
    "LMConfig",
    "SampleEvent",
    "StartEvent",
    "StepEvent",
    "begin_share",
    "draw_windows",
    "evaluate_loss",
    "train_lm",
    "training_rows",
    "uses_bfloat16",
]

# ------------------------------------------------------------------------------ limits
MAX_STEPS = 50_000  # optimisation steps in one run
MAX_BATCH = 512  # rows (windows) per step
MAX_EVAL_BATCHES = 100  # batches of fixed windows per split for each evaluation
MAX_SAMPLE_CHARS = 2000  # characters of each sample
MAX_SEED = 2**31 - 1
MAX_BEGIN_SHARE = 0.5  # at most this share of the rows open a document (read after ⊥)
# What one training step may hold in activations for the backward pass (an estimate, see
# LMConfig.activation_bytes): a classroom server runs several trainings at once.
MAX_ACTIVATION_BYTES = 2**30  # 1 GiB


# ============================================================================ config
@dataclass(frozen=True)
class LMConfig:
    """Settings of a language-model training run, checked on creation (SettingError if not).

    The model's sizes are GPTConfig's fields; its vocabulary size comes from the tokenizer
    (:meth:`model_config`). Presets: :meth:`tiny` (tests, milliseconds per step) and
    :meth:`classroom` (the lesson page: about 30-60 s on one or two cores).
    """

    # --- model (fmcore.lm.model.GPTConfig without the vocabulary)
    context: int = 64  # tokens per training row, ⊥ included = the model's context_length (2..1024)
    width: int = 128  # C, the width of the residual stream (4..512, a multiple of heads)
    layers: int = 4  # Transformer blocks (1..12)
    heads: int = 4  # attention heads per block (1..16)
    dropout: float = 0.0  # drop probability while training (0..0.5); draws from the generator
    # --- optimisation
    batch_size: int = 12  # B: windows per step (1..512)
    steps: int = 1000  # optimisation steps (1..50 000)
    # peak rate of AdamW after the warm-up. Classroom settings, 1000 steps: 3e-3 and 6e-3
    # reached the same validation loss on the toy grammar and English, 1e-3 was behind
    # (English 2.15 vs 2.00 nats/char), 1e-2 stalled on English (2.63)
    learning_rate: float = 3e-3
    warmup_steps: int = 30  # linear warm-up from 0 to learning_rate, then cosine decay to 0
    weight_decay: float = 0.1  # decoupled (AdamW), on weight matrices and embeddings only
    grad_clip: float = 1.0  # largest gradient norm (clipped above it); 0 = no clipping
    # the forward pass: "bfloat16" (autocast) or "float32"; "auto" uses bfloat16 only where
    # the CPU has native bfloat16 arithmetic (bench/lm.py). The loss is always float32.
    precision: str = "auto"
    # --- monitoring
    eval_every: int = 100  # evaluate after every this many steps (and at 0 and the end); 0: never
    eval_batches: int = 4  # fixed windows per split for each evaluation: eval_batches * B
    sample_every: int = 250  # sample after every this many steps (and at 0 and the end); 0: never
    sample_chars: int = 120  # characters per sample (1..2000)
    sample_temperature: float = 0.8  # tau of the samples (Eq. 14.13; 0 is greedy)
    # --- randomness
    seed: int = 0  # seeds the training generator when the loop gets none

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "context", bounded_int("context", self.context, 2, MAX_CONTEXT))
        model = self.model_config(2)  # GPTConfig checks the sizes, width a multiple of heads
        for name in ("width", "layers", "heads", "dropout"):
            set_(self, name, getattr(model, name))
        check_recipe(self, MAX_BATCH, MAX_STEPS)  # the optimiser's settings (fmcore.optim)
        set_(self, "eval_every", bounded_int("eval_every", self.eval_every, 0, MAX_STEPS))
        set_(
            self,
            "eval_batches",
            bounded_int("eval_batches", self.eval_batches, 1, MAX_EVAL_BATCHES),
        )
        set_(self, "sample_every", bounded_int("sample_every", self.sample_every, 0, MAX_STEPS))
        set_(
            self,
            "sample_chars",
            bounded_int("sample_chars", self.sample_chars, 1, MAX_SAMPLE_CHARS),
        )
        tau = finite_float("sample temperature", self.sample_temperature, 0.0, MAX_TEMPERATURE)
        set_(self, "sample_temperature", tau)
        set_(self, "seed", bounded_int("seed", self.seed, 0, MAX_SEED - 1))

    # ----------------------------------------------------------------- presets
    @classmethod
    def tiny(cls, **changes: object) -> LMConfig:
        """For tests: context 16, two layers of width 16, batch 4, 20 steps, float32."""
        base = cls(
            context=16,
            width=16,
            layers=2,
            heads=2,
            batch_size=4,
            steps=20,
            learning_rate=1e-2,
            warmup_steps=2,
            eval_every=10,
            eval_batches=2,
            sample_every=10,
            sample_chars=20,
            precision="float32",
        )
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    @classmethod
    def classroom(cls, **changes: object) -> LMConfig:
        """For the lesson page: 4 layers, 4 heads, width 128, context 64, batch 12 and
        1000 steps: about 45 s on one torch thread of a CPU with native bfloat16 (about 22
        steps/s in bench/lm.py), about 75 s in float32. On the toy grammar it ends about
        0.1 nats/char above the entropy rate (0.04 at positions with 32 or more characters
        of context)."""
        base = cls(steps=1000, eval_every=100, sample_every=250)
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- derived
    def model_config(self, vocab_size: int) -> GPTConfig:
        """The GPTConfig of the model these settings train, for a vocabulary of this size."""
        return GPTConfig(
            vocab_size=vocab_size,
            context_length=self.context,
            width=self.width,
            layers=self.layers,
            heads=self.heads,
            dropout=self.dropout,
        )

    @property
    def tokens_per_step(self) -> int:
        """Characters scored per step: B * context."""
        return self.batch_size * self.context

    def activation_bytes(self, vocab_size: int) -> int:
        """A rough estimate of the float32 activations one step keeps for the backward pass.

        Per block about 18 numbers per position and channel (LayerNorms, q, k, v, the MLP's
        4C hidden layer twice, residuals) plus 3 attention maps (scores, masked scores,
        weights) of B * heads * T^2; then the logits (3 copies of B * T * V)."""
        B, T, C, H = self.batch_size, self.context, self.width, self.heads
        per_block = 18 * B * T * C + 3 * B * H * T * T
        return 4 * (self.layers * per_block + 3 * B * T * vocab_size)

    def to_dict(self) -> dict[str, object]:
        """The settings as plain JSON-able values."""
        return dataclasses.asdict(self)


# ============================================================================ events
@dataclass(frozen=True, eq=False)
class StartEvent:
    """First event: the model being trained (updated in place from now on) and the plan."""

    model: TinyGPT = field(repr=False)  # the very object trained: keep it
    tokenizer: CharTokenizer
    total_steps: int
    train_chars: int  # characters of the training text
    val_chars: int  # characters of the validation text


@dataclass(frozen=True)
class StepEvent:
    """After one optimisation step (step counts from 1)."""

    step: int  # 1..total_steps
    total_steps: int
    loss: float  # the step's loss, Eq. 14.8 averaged over the B * T positions (nats/char)
    learning_rate: float  # the rate used for this step
    tokens_per_s: float  # characters scored per second over the training time so far


@dataclass(frozen=True)
class EvalEvent:
    """Mean loss (Eq. 14.8, nats per character) on fixed windows of each text.

    The windows are drawn once at the start of the run, by the rule of the training rows
    (document openings after ⊥, other windows cut anywhere: :func:`draw_windows`), so every
    evaluation scores the same characters; the training loss is measured on windows of the
    training text the same way (not the running step loss), so the two numbers compare
    like with like. A validation text not longer than the context is scored in windows of
    its length minus one (and the training text then too): fewer characters of context, so
    a higher loss.
    """

    step: int  # optimisation steps done when evaluated (0: before training)
    train_loss: float
    val_loss: float
    window: int  # targets per window: the context, or the validation text's length - 1 if shorter


@dataclass(frozen=True)
class SampleEvent:
    """A text generated from the begin token alone (Eq. 14.13) by the model of this step:
    how the model thinks a document begins.

    Every sample of a run draws from the same random numbers, so the samples differ only
    because the model has changed.
    """

    step: int
    text: str  # sample_chars characters (special tokens shown as · ⊥ �)
    temperature: float


@dataclass(frozen=True, eq=False)
class DoneEvent:
    """Last event, after the final step (not sent when the caller stops early)."""

    step: int  # steps done (= total_steps)
    model: TinyGPT = field(repr=False)  # the trained model, in eval mode
    loss: float  # mean step loss of the last min(20, steps) steps
    train_loss: float | None  # of the final evaluation; None without evaluation
    val_loss: float | None
    seconds: float  # wall-clock time of the run, evaluations and samples included


Event = StartEvent | StepEvent | EvalEvent | SampleEvent | DoneEvent


# ============================================================================ helpers
def uses_bfloat16(config: LMConfig) -> bool:
    """Whether the forward pass runs in bfloat16 (:func:`fmcore.optim.uses_bfloat16`, the
    same rule as pretraining)."""
    return optim.uses_bfloat16(config.precision)


def _autocast(config: LMConfig) -> torch.autocast:
    """Mixed precision for the model's forward pass only (:func:`fmcore.optim.autocast`):
    the loss is taken on ``.float()`` logits; evaluations and samples run in float32."""
    return optim.autocast(config.precision)


def _learning_rate(config: LMConfig, step: int) -> float:
    """Rate for step ``step`` (1-based): linear warm-up, then cosine decay to 0."""
    return warmup_cosine(config.learning_rate, config.warmup_steps, config.steps, step)


def _optimizer(config: LMConfig, model: TinyGPT) -> torch.optim.Optimizer:
    # Weight decay on weight matrices and embeddings (2-D), not on biases and LayerNorms;
    # beta2 = 0.99: small models on small batches (nanoGPT's character-level setting)
    return optim.adamw(model, config.learning_rate, config.weight_decay)


def _encode_text(
    tokenizer: CharTokenizer, text: object, what: str, minimum: int, why: str
) -> torch.Tensor:
    """The ids of ``text`` (no begin token) as an int16 tensor (N,), or a clear error: not a
    string, too long, shorter than ``minimum`` characters (``why`` says what to do), or
    made only of unknown characters."""
    if not isinstance(text, str):
        raise InvalidTextError(f"The {what} must be a string, got {type(text).__name__}.")
    if len(text) > MAX_CORPUS_CHARS:
        raise InvalidTextError(
            f"The {what} has {len(text):,} characters; at most {MAX_CORPUS_CHARS:,} are "
            "allowed. Use a shorter text."
        )
    if len(text) < minimum:
        raise InvalidTextError(f"The {what} has {len(text):,} characters, but {why}.")
    ids = torch.tensor(tokenizer.encode(text, add_begin=False, limit=MAX_CORPUS_CHARS))
    if bool((ids == UNKNOWN).all()):
        raise InvalidTextError(
            f"Every character of the {what} is outside the tokenizer's alphabet, so the "
            "model would only ever read the unknown token. Use a text in the alphabet "
            "(or build the tokenizer from this text)."
        )
    return ids.to(torch.int16)  # (N,): V <= 1003 fits; a 5 MB corpus takes 10 MB


def training_rows(
    ids: torch.Tensor, starts: torch.Tensor, context: int, begins: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets of the windows whose targets start at ``starts`` (B,) in ``ids`` (N,).

    Window b predicts w = ids[s_b : s_b + context] (T = context). Where ``begins[b]`` is
    true the window opens a document and reads ``[⊥, w_1, ..., w_{T-1}]``; elsewhere it is
    cut inside the text and reads ``[ids[s_b - 1], w_1, ..., w_{T-1}]``, the character before
    it in place of ⊥ (so s_b >= 1 there). Both (B, T) long: output s of the model (u_{s+1})
    is scored against target s (x_{s+1}).
    """
    offsets = torch.arange(context)  # (T,)
    targets = ids[starts[:, None] + offsets].long()  # (B, T)
    before = ids[(starts - 1).clamp(min=0)].long()  # (B,): the character before each window
    first = torch.where(begins, torch.full_like(before, BEGIN), before)  # (B,)
    inputs = torch.cat([first[:, None], targets[:, :-1]], dim=1)
    return inputs, targets  # (B, T), (B, T)


def begin_share(n_documents: int, n_chars: int, context: int) -> float:
    """The probability that a row opens a document: min(1/2, D T / N) for D documents
    beginning in N characters, windows of T. N / T windows cover the text once; D of them
    then open a document, so each document is read from ⊥ about once per pass."""
    if n_documents <= 0 or n_chars <= 0:
        return 0.0
    return min(MAX_BEGIN_SHARE, n_documents * context / n_chars)


def draw_windows(
    n_chars: int, doc_starts: torch.Tensor, window: int, n: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` windows of ``window`` targets in a text of ``n_chars`` characters: their starts
    (n,) and whether each opens a document (n,) bool (see the module docstring).

    Each row is an opening with probability :func:`begin_share` (of the documents that
    have ``window`` characters before the text ends), then starts at one of them drawn
    uniformly; otherwise it starts uniformly in 1..n_chars - window (a character before
    it, ``window`` after). The generator is drawn from the same number of times whatever
    the outcome (three tensors, two without documents)."""
    docs = doc_starts[doc_starts + window <= n_chars]  # (D,): openings that fit
    share = begin_share(docs.shape[0], n_chars, window)
    cut = torch.randint(1, n_chars - window + 1, (n,), generator=generator)  # (n,)
    if share == 0.0:
        return cut, torch.zeros(n, dtype=torch.bool)
    begins = torch.rand(n, generator=generator) < share  # (n,)
    opening = docs[torch.randint(0, docs.shape[0], (n,), generator=generator)]  # (n,)
    return torch.where(begins, opening, cut), begins


def _loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Eq. 14.8 averaged over every position of every row, in float32: (B, T, V), (B, T)."""
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())


@torch.no_grad()
def evaluate_loss(
    model: TinyGPT,
    ids: torch.Tensor,
    starts: torch.Tensor,
    begins: torch.Tensor,
    batch_size: int,
    window: int | None = None,
) -> float:
    """Mean loss (Eq. 14.8) of the windows of ``window`` targets (None: the model's
    context) starting at ``starts`` in ``ids``, read after ⊥ where ``begins`` (see
    :func:`training_rows`): float32, eval mode (no dropout), ``batch_size`` rows at a time;
    the model's mode is put back."""
    context = model.config.context_length if window is None else window
    was_training = model.training
    model.eval()
    try:
        total = 0.0
        for i in range(0, starts.shape[0], batch_size):
            rows = slice(i, i + batch_size)
            x, y = training_rows(ids, starts[rows], context, begins[rows])
            total += float(_loss(model(x), y)) * x.shape[0]
    finally:
        model.train(was_training)
    return total / starts.shape[0]


def _diverged(step: int) -> SettingError:
    return SettingError(
        f"Training diverged at step {step}: the loss became NaN or infinite. Lower the "
        "learning rate and train again."
    )


def _check_model(model: object, expected: GPTConfig) -> TinyGPT:
    if not isinstance(model, TinyGPT):
        raise SettingError(f"model must be a TinyGPT, got {type(model).__name__}.")
    if model.config != expected:
        raise SettingError(
            f"The model was built for {model.config}, but the settings and the tokenizer ask "
            f"for {expected}."
        )
    if not all(p.requires_grad for p in model.parameters()):
        raise SettingError(
            "This model is frozen (a loaded checkpoint, possibly shared by every user of the "
            "server): train a copy instead, copy.deepcopy(model).requires_grad_(True)."
        )
    return model


# ============================================================================ the loop
def train_lm(
    config: LMConfig,
    tokenizer: CharTokenizer,
    train_text: str,
    val_text: str,
    generator: torch.Generator | None = None,
    model: TinyGPT | None = None,
    *,
    doc_starts: tuple[Sequence[int], Sequence[int]] = ((0,), ()),
) -> Iterator[Event]:
    """Train a character language model on ``train_text`` (Eq. 14.8), one event at a time.

    Each step draws B windows of the training text with :func:`draw_windows` (document
    openings read after ⊥, other windows cut anywhere, see the module docstring), builds
    the rows of :func:`training_rows` (``context`` characters in, ``context`` targets out),
    and takes one AdamW step on the mean cross-entropy.

    Args:
        config: the settings (:class:`LMConfig`).
        tokenizer: characters <-> ids; the model's vocabulary is ``tokenizer.vocab_size``.
        train_text, val_text: the texts (at most 5 000 000 characters each; the training
            text at least ``context + 1``, the validation text at least 2: one not longer
            than the context is evaluated in shorter windows, see :class:`EvalEvent`);
            characters outside the alphabet are read as UNKNOWN.
        generator: all randomness of the run comes from it, in this order: the initial
            weights (when ``model`` is None), one seed for the evaluation windows and one
            for the samples, then per step the window starts (and dropout, if any). None
            uses ``torch.Generator().manual_seed(config.seed)``. The same generator state
            and settings give the same losses step by step (same machine and threads).
        model: a TinyGPT to continue training (built for ``config.model_config(V)``; the
            optimiser starts afresh); None creates one with :func:`make_gpt`.
        doc_starts: where documents begin in the training and in the validation text
            (character offsets, :func:`fmcore.lm.corpora.split_starts`): only windows
            starting there read ⊥. The default: the training text is one document, and
            the validation text continues it (a pasted text cut in two).

    Returns an iterator of events; the inputs are checked on the call (SettingError or
    InvalidTextError), before any event. It yields StartEvent; EvalEvent and SampleEvent
    at step 0; per step a StepEvent, with an EvalEvent every ``eval_every`` steps and a
    SampleEvent every ``sample_every`` steps (both also after the last step); a DoneEvent.
    Evaluations and samples draw from their own generators, seeded once at the start, so
    how often one evaluates or samples does not change the training trajectory. The model
    is updated in place: stopping the iteration keeps the weights learned so far, and the
    model is left in eval mode when the loop ends or is closed.
    """
    if not isinstance(config, LMConfig):
        raise SettingError(f"config must be an LMConfig, got {type(config).__name__}.")
    if not isinstance(tokenizer, CharTokenizer):
        raise SettingError(f"tokenizer must be a CharTokenizer, got {type(tokenizer).__name__}.")
    V = tokenizer.vocab_size
    memory = config.activation_bytes(V)
    if memory > MAX_ACTIVATION_BYTES:
        raise SettingError(
            f"One training step with these settings would hold about {memory / 2**30:.1f} GB "
            f"of activations; at most {MAX_ACTIVATION_BYTES / 2**30:.0f} GB is allowed. Lower "
            "the batch size, the context or the width."
        )
    T = config.context
    why = (
        f"one training window needs {T + 1} (the context and the character before it). "
        "Give a longer text or a smaller context"
    )
    train_ids = _encode_text(tokenizer, train_text, "training text", T + 1, why)
    why = "at least 2 characters are needed to validate on"  # shorter than T is fine
    val_ids = _encode_text(tokenizer, val_text, "validation text", 2, why)
    starts = {
        split: _check_starts(doc_starts, i, split, ids.shape[0])
        for i, (split, ids) in enumerate((("training", train_ids), ("validation", val_ids)))
    }
    if generator is None:
        g = torch.Generator().manual_seed(config.seed)
    elif isinstance(generator, torch.Generator):
        g = generator
    else:
        raise SettingError(f"generator must be a torch.Generator, got {generator!r}.")
    expected = config.model_config(V)
    model = make_gpt(expected, g) if model is None else _check_model(model, expected)
    return _train_loop(config, tokenizer, model, train_ids, val_ids, starts, g)


def _check_starts(doc_starts: object, i: int, split: str, n_chars: int) -> torch.Tensor:
    """Part ``i`` of ``doc_starts`` as an increasing long tensor of offsets in 0..n_chars - 1,
    or a SettingError that says what is wrong."""
    ok = isinstance(doc_starts, tuple | list) and len(doc_starts) == 2
    part = doc_starts[i] if ok else None
    if not isinstance(part, Sequence | torch.Tensor) or isinstance(part, str):
        raise SettingError(
            "doc_starts must be a pair (training starts, validation starts) of sequences of "
            f"character offsets, got {doc_starts!r:.80}."
        )
    starts = torch.as_tensor(list(part) if not isinstance(part, torch.Tensor) else part)
    if starts.numel() == 0:
        return torch.zeros(0, dtype=torch.long)
    bad = starts.dtype.is_floating_point or starts.dtype == torch.bool or starts.ndim != 1
    if bad or int(starts.min()) < 0 or int(starts.max()) >= n_chars:
        raise SettingError(
            f"The {split} document starts must be whole character offsets from 0 to "
            f"{n_chars - 1} (the {split} text has {n_chars:,} characters)."
        )
    if starts.numel() > 1 and not bool((starts[1:] > starts[:-1]).all()):
        raise SettingError(f"The {split} document starts must increase, each given once.")
    return starts.long()


def _train_loop(
    config: LMConfig,
    tokenizer: CharTokenizer,
    model: TinyGPT,
    train_ids: torch.Tensor,
    val_ids: torch.Tensor,
    doc_starts: dict[str, torch.Tensor],
    g: torch.Generator,
) -> Iterator[Event]:
    B, T = config.batch_size, config.context
    eval_seed, sample_seed = torch.randint(0, MAX_SEED, (2,), generator=g).tolist()
    eval_g = torch.Generator().manual_seed(eval_seed)
    n_eval = config.eval_batches * B
    # Fixed evaluation windows, drawn once by the training's rule. A validation text not
    # longer than the context is scored in windows of one character fewer (a window cut
    # inside it reads the character before it), and then so is the training text.
    window = min(T, val_ids.shape[0] - 1)
    eval_windows = {
        split: draw_windows(ids.shape[0], doc_starts[name], window, n_eval, eval_g)
        for split, name, ids in (("train", "training", train_ids), ("val", "validation", val_ids))
    }
    train_starts = doc_starts["training"]
    optimizer = _optimizer(config, model)
    parameters = list(model.parameters())  # in the model's order: the clipped norm's sum
    start = time.perf_counter()
    train_seconds = 0.0
    recent: list[float] = []
    last_eval: EvalEvent | None = None

    def evaluate(step: int) -> EvalEvent:
        return EvalEvent(
            step=step,
            train_loss=evaluate_loss(model, train_ids, *eval_windows["train"], B, window),
            val_loss=evaluate_loss(model, val_ids, *eval_windows["val"], B, window),
            window=window,
        )

    def sample(step: int) -> SampleEvent:
        text = generate_text(
            model,
            tokenizer,
            "",
            config.sample_chars,
            config.sample_temperature,
            torch.Generator().manual_seed(sample_seed),
        )
        return SampleEvent(step=step, text=text, temperature=config.sample_temperature)

    try:
        yield StartEvent(model, tokenizer, config.steps, train_ids.shape[0], val_ids.shape[0])
        if config.eval_every:
            last_eval = evaluate(0)
            yield last_eval
        if config.sample_every:
            yield sample(0)
        for step in range(1, config.steps + 1):
            t0 = time.perf_counter()
            model.train()
            starts, begins = draw_windows(train_ids.shape[0], train_starts, T, B, g)  # (B,) each
            x, y = training_rows(train_ids, starts, T, begins)  # (B, T) each
            with _autocast(config):
                logits = model(x, generator=g)  # (B, T, V); g feeds dropout, if any
            loss = _loss(logits, y)
            if not bool(torch.isfinite(loss)):
                raise _diverged(step)
            lr = _learning_rate(config, step)
            value = take_step(optimizer, loss, lr, config.grad_clip, parameters)
            train_seconds += time.perf_counter() - t0
            recent = (recent + [value])[-20:]
            yield StepEvent(
                step=step,
                total_steps=config.steps,
                loss=value,
                learning_rate=lr,
                tokens_per_s=step * B * T / max(train_seconds, 1e-9),
            )
            last = step == config.steps
            if config.eval_every and (step % config.eval_every == 0 or last):
                last_eval = evaluate(step)
                yield last_eval
            if config.sample_every and (step % config.sample_every == 0 or last):
                yield sample(step)
        model.eval()
        yield DoneEvent(
            step=config.steps,
            model=model,
            loss=sum(recent) / len(recent),
            train_loss=None if last_eval is None else last_eval.train_loss,
            val_loss=None if last_eval is None else last_eval.val_loss,
            seconds=time.perf_counter() - start,
        )
    finally:
        model.eval()
