"""In-context learning (Section 14.3.1 of the notes): a tiny Transformer trained on few-shot
prompts, its accuracy against the number of examples, and a linear head on c_{T+1}.

**Training.** A training document is one task of :mod:`fmcore.prompting.icl_tasks` written out
by :func:`fmcore.prompting.prompts.training_text`: ``shots`` labelled examples of one operation and
the query, answered. The model f_theta (:class:`fmcore.lm.model.TinyGPT`) is trained with
the next-token loss of Eq. 14.8 kept only on the answer characters (and the newline ending
each): the mask of :func:`fmcore.prompting.prompts.loss_mask`. The questions are given, never
predicted, so every unit of capacity goes to answering.

**Two choices that make it learnable in an hour on two cores.** Positions by ALiBi
(:class:`fmcore.lm.model.GPTConfig`, ``alibi=True``) instead of learned embeddings: lines
differ in length (1- or 2-digit operands, answers of 1 to 3 characters), so "the operands
of this line" sit at varying distances, and a recency bias finds the latest "Q:" at any
distance. And a curriculum (:meth:`ICLConfig.operations_at`): the first tenth of the steps
use only the operations that copy or compare operands, so the model first learns to find
them. In short probes on 2-digit operands, learned positions had learnt nothing in 750
steps, where ALiBi reached 0.60 zero-shot accuracy in 500.

**Every answer is a lesson.** In a document with examples e_0, ..., e_{k-1} and the query,
the answer to e_j is predicted from the j examples before it: the model reads exactly the
prompt "e_0 ... e_{j-1} then e_j's question", a j-shot prompt. So one document trains (and
one forward pass scores) every number of shots from 0 to k at once.

**Accuracy.** An answer counts as correct when greedy decoding (the argmax of Eq. 14.13
at every character) writes exactly the right characters and the newline. With the correct
characters fed back in (teacher forcing), that is "the argmax at every answer character is
the right character": :func:`answers_correct` checks it for every answer of a batch of
documents in one forward pass, which is what :func:`fmcore.prompting.prompts.decode_answer` would
find one prompt at a time (tested).

**Three ways to adapt.** The first paragraph of Section 14.3.1 is finetuning: a linear
head w on the representation c_{T+1} = phi_theta(x_1, ..., x_T) of the task input, theta
initialised at theta-hat and optimised with w (Eq. 14.2-14.4). :func:`compare_adaptations`
sets it beside the linear probe (Eq. 14.1: theta frozen, only w fitted; :func:`linear_head`)
and in-context answers (:func:`in_context_answers`), all three on the same fresh questions,
the probe and finetuning on the same labelled examples. Finetuning trains a copy: the
shipped model is never changed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from fmcore import optim
from fmcore.errors import SettingError
from fmcore.lm.model import MAX_CONTEXT, GPTConfig, TinyGPT, make_gpt
from fmcore.lm.tokenizer import PAD, CharTokenizer
from fmcore.optim import check_recipe, take_step, warmup_cosine
from fmcore.prompting.icl_tasks import (
    MAX_SHOTS,
    OPERATIONS,
    Example,
    Task,
    corrupt,
    get_operation,
    make_task,
    sample_tasks,
)
from fmcore.prompting.prompts import (
    DEFAULT_TEMPLATE,
    PromptTemplate,
    answer_spans,
    assemble,
    decode_answer,
    prompt_alphabet,
    training_text,
)
from fmcore.validate import bounded_int, check_generator, finite_float

__all__ = [
    "IGNORE",
    "MAX_EVAL_ROWS",
    "Batch",
    "DoneEvent",
    "EvalEvent",
    "Event",
    "CompareDone",
    "CompareEvent",
    "CompareStart",
    "FinetuneConfig",
    "FinetuneStep",
    "FinetunedHead",
    "HeadResult",
    "ICLConfig",
    "StartEvent",
    "StepEvent",
    "accuracy_by_shots",
    "accuracy_with_wrong",
    "answers_correct",
    "compare_adaptations",
    "describe_wrong_curve",
    "encode_tasks",
    "icl_tokenizer",
    "in_context_answers",
    "linear_head",
    "prefix_curve",
    "train_icl",
]

IGNORE = -100  # target of a position whose loss is not kept (cross_entropy's ignore_index)
MAX_STEPS = 200_000
MAX_BATCH = 256
MAX_EVAL_ROWS = 4096  # documents scored by one accuracy call
MAX_HEAD_EXAMPLES = 4096
MAX_FINETUNE_EXAMPLES = 256  # labelled examples (and questions) of one finetuning run
MAX_FINETUNE_STEPS = 1000
MAX_SEED = 2**31 - 1


def icl_tokenizer(template: PromptTemplate = DEFAULT_TEMPLATE) -> CharTokenizer:
    """The tokenizer of the in-context model: every character a prompt of the template and
    the operations of :data:`OPERATIONS` can hold
    (:func:`fmcore.prompting.prompts.prompt_alphabet`)."""
    return CharTokenizer(prompt_alphabet(template))


# ============================================================================ config
@dataclass(frozen=True)
class ICLConfig:
    """Settings of an in-context training run, checked on creation (SettingError if not)."""

    # --- model (fmcore.lm.model.GPTConfig without the vocabulary)
    context: int = 256  # positions, ⊥ included: 8 examples and a query always fit (<= 252)
    width: int = 128
    layers: int = 4
    heads: int = 4
    alibi: bool = True  # ALiBi positions (fmcore.lm.model.GPTConfig): lines vary in length
    # --- data
    shots: int = 8  # labelled examples before the query in each training document
    explicit_fraction: float = 0.3  # documents written with the operation's own symbol
    operations: tuple[str, ...] = tuple(OPERATIONS)  # drawn uniformly per document
    # A curriculum on the operations: the first easy_until of the steps (a fraction) use
    # only easy_operations, which copy or compare the operands; then every operation. A
    # small model learns to find the operands of a line quickly on these alone, but slowly
    # when the arithmetic operations' larger errors drown their signal (bench/icl.py notes).
    easy_operations: tuple[str, ...] = ("first", "second", "max", "min", "pair_last_digits")
    easy_until: float = 0.1
    # --- optimisation
    batch_size: int = 32
    steps: int = 2000
    learning_rate: float = 3e-3
    warmup_steps: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    precision: str = "auto"  # as fmcore.lm.train.LMConfig: bfloat16 forward where native
    # --- monitoring
    eval_every: int = 500  # steps between accuracy evaluations (and at 0 and the end); 0: never
    eval_tasks: int = 16  # fixed documents per operation and format for each evaluation
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "context", bounded_int("context", self.context, 2, MAX_CONTEXT))
        model = self.model_config(2)  # checks the sizes
        for name in ("width", "layers", "heads"):
            set_(self, name, getattr(model, name))
        set_(self, "shots", bounded_int("shots", self.shots, 0, MAX_SHOTS))
        set_(
            self,
            "explicit_fraction",
            finite_float("explicit fraction", self.explicit_fraction, 0.0, 1.0),
        )
        if isinstance(self.operations, str) or not isinstance(self.operations, Iterable):
            raise SettingError("operations must be a list of operation names.")
        ops = tuple(get_operation(o).name for o in self.operations)
        if not ops:
            raise SettingError(f"Choose at least one operation of: {', '.join(OPERATIONS)}.")
        set_(self, "operations", ops)
        set_(self, "easy_until", finite_float("easy_until", self.easy_until, 0.0, 1.0))
        if isinstance(self.easy_operations, str) or not isinstance(self.easy_operations, Iterable):
            raise SettingError("easy_operations must be a list of operation names.")
        easy = tuple(get_operation(o).name for o in self.easy_operations)
        if self.easy_until > 0 and not easy:
            raise SettingError("Name at least one easy operation, or set easy_until to 0.")
        set_(self, "easy_operations", easy)
        check_recipe(self, MAX_BATCH, MAX_STEPS)  # the optimiser's settings (fmcore.optim)
        set_(self, "eval_every", bounded_int("eval_every", self.eval_every, 0, MAX_STEPS))
        set_(self, "eval_tasks", bounded_int("eval_tasks", self.eval_tasks, 1, 256))
        set_(self, "seed", bounded_int("seed", self.seed, 0, MAX_SEED - 1))

    @classmethod
    def tiny(cls, **changes: object) -> ICLConfig:
        """For tests: two layers of width 16, 2 examples per document, 10 steps, float32."""
        base = cls(
            context=96,
            width=16,
            layers=2,
            heads=2,
            shots=2,
            batch_size=4,
            steps=10,
            warmup_steps=2,
            eval_every=5,
            eval_tasks=2,
            precision="float32",
        )
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    def operations_at(self, step: int) -> tuple[str, ...]:
        """The operations the documents of step ``step`` (1-based) are drawn from: the easy
        ones among ``operations`` early in the curriculum, then all of ``operations``."""
        easy = tuple(o for o in self.easy_operations if o in self.operations)
        return easy if easy and step <= self.easy_until * self.steps else self.operations

    def model_config(self, vocab_size: int) -> GPTConfig:
        """The GPTConfig of the model these settings train."""
        return GPTConfig(
            vocab_size=vocab_size,
            context_length=self.context,
            width=self.width,
            layers=self.layers,
            heads=self.heads,
            alibi=self.alibi,
        )

    def to_dict(self) -> dict[str, object]:
        """The settings as plain JSON-able values."""
        values = dataclasses.asdict(self)
        values["operations"] = list(self.operations)
        return values


# ============================================================================ batches
@dataclass(frozen=True, eq=False)
class Batch:
    """Documents as model inputs, padded to one length T (at most the context).

    ``inputs`` (B, T) holds ⊥ and the document (PAD after its end); ``targets`` (B, T) the
    next character at each position where it is an answer character, IGNORE elsewhere;
    ``answer`` (B, T) the index j of the answer (0..k: j examples precede it) a target
    belongs to, -1 elsewhere.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    answer: torch.Tensor
    answers: int  # answers per document: the largest k + 1


def encode_tasks(
    tasks: Sequence[Task],
    tokenizer: CharTokenizer,
    context: int,
    template: PromptTemplate = DEFAULT_TEMPLATE,
) -> Batch:
    """The :class:`Batch` of these tasks' training texts
    (:func:`fmcore.prompting.prompts.training_text`): the loss mask of
    :func:`fmcore.prompting.prompts.loss_mask` on every answer, the query's last. A document
    longer than ``context - 1`` characters raises SettingError."""
    if not tasks:
        raise SettingError("encode_tasks needs at least one task.")
    rows, spans = [], []
    for task in tasks:
        text = training_text(task, template)
        if len(text) > context - 1:
            raise SettingError(
                f"A document of {len(text)} characters does not fit in the context of "
                f"{context} (⊥ takes one position): use fewer examples."
            )
        rows.append(tokenizer.encode(text))  # [⊥, x_1, ..., x_T]
        spans.append(answer_spans(task, template))
    T = max(len(r) for r in rows) - 1
    B, n_answers = len(rows), max(len(s) for s in spans)
    inputs = torch.full((B, T), PAD, dtype=torch.long)
    targets = torch.full((B, T), IGNORE, dtype=torch.long)
    answer = torch.full((B, T), -1, dtype=torch.long)
    for b, (ids, row_spans) in enumerate(zip(rows, spans, strict=True)):
        ids_t = torch.tensor(ids)
        inputs[b, : len(ids) - 1] = ids_t[:-1]
        for j, (start, end) in enumerate(row_spans):
            # character i of the text is x_{i+1}: predicted at position i (from x_0..x_i)
            targets[b, start:end] = ids_t[start + 1 : end + 1]
            answer[b, start:end] = j
    return Batch(inputs, targets, answer, n_answers)


def answer_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Eq. 14.8 averaged over the answer characters only (targets IGNORE elsewhere), float32."""
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


@torch.no_grad()
def answers_correct(model: TinyGPT, batch: Batch, rows_per_call: int = 256) -> torch.Tensor:
    """(B, answers) bool: whether greedy decoding writes each answer exactly (see the module
    docstring: the argmax at every answer character is the right one). Float32, eval mode.
    A row with fewer answers (smaller k) is True in the columns past its own: read column
    k of a row for its query."""
    if not isinstance(model, TinyGPT):
        raise SettingError(f"model must be a TinyGPT, got {type(model).__name__}.")
    was_training = model.training
    model.eval()
    try:
        wrong = []
        for i in range(0, batch.inputs.shape[0], rows_per_call):
            logits = model(batch.inputs[i : i + rows_per_call])
            targets = batch.targets[i : i + rows_per_call]
            wrong.append((logits.argmax(-1) != targets) & (targets != IGNORE))
        miss = torch.cat(wrong)  # (B, T)
    finally:
        model.train(was_training)
    counts = torch.zeros(miss.shape[0], batch.answers + 1, dtype=torch.long)
    counts.scatter_add_(1, batch.answer.clamp(min=-1) + 1, miss.long())  # column 0: not answers
    return counts[:, 1:] == 0


def _check_count(name: str, value: object, high: int) -> int:
    return bounded_int(name, value, 1, high)


def accuracy_by_shots(
    model: TinyGPT,
    tokenizer: CharTokenizer,
    operation: str,
    n_queries: int,
    max_shots: int,
    generator: torch.Generator,
    explicit: bool = False,
    template: PromptTemplate = DEFAULT_TEMPLATE,
) -> list[float]:
    """Accuracy at 0, 1, ..., max_shots examples: ``n_queries`` fresh documents of the
    operation with ``max_shots`` examples and a query, every answer scored (answer j is a
    j-shot prompt). Entry j is the fraction of the n_queries j-shot answers that are right."""
    n = _check_count("number of queries", n_queries, MAX_EVAL_ROWS)
    k = bounded_int("number of examples", max_shots, 0, MAX_SHOTS)
    tasks = [make_task(operation, k, check_generator(generator), explicit) for _ in range(n)]
    batch = encode_tasks(tasks, tokenizer, model.config.context_length, template)
    ok = answers_correct(model, batch)
    return ok.float().mean(0).tolist()


def accuracy_with_wrong(
    model: TinyGPT,
    tokenizer: CharTokenizer,
    operation: str,
    n_queries: int,
    shots: int,
    generator: torch.Generator,
    template: PromptTemplate = DEFAULT_TEMPLATE,
) -> list[float]:
    """Accuracy on the query of ``shots``-example hidden prompts when 0, 1, ..., shots of the
    examples carry a wrong answer (:func:`fmcore.prompting.icl_tasks.corrupt`); the query is
    scored against its correct answer. Entry m: m wrong examples."""
    n = _check_count("number of queries", n_queries, MAX_EVAL_ROWS // (MAX_SHOTS + 1))
    k = bounded_int("number of examples", shots, 1, MAX_SHOTS)
    g = check_generator(generator)
    clean = [make_task(operation, k, g) for _ in range(n)]
    tasks = [corrupt(t, m, g) for m in range(k + 1) for t in clean]
    batch = encode_tasks(tasks, tokenizer, model.config.context_length, template)
    ok = answers_correct(model, batch)
    return ok[:, -1].float().reshape(k + 1, n).mean(1).tolist()


@torch.no_grad()
def prefix_curve(
    model: TinyGPT,
    tokenizer: CharTokenizer,
    task: Task,
    template: PromptTemplate = DEFAULT_TEMPLATE,
) -> list[tuple[float, bool]]:
    """For j = 0..k: the probability of the query's correct answer (its characters and the
    newline, a product by the chain rule, Eq. 14.5) when the prompt holds only the first j
    examples of ``task``, and whether greedy decoding writes it. The page's "your prompt,
    example by example"."""
    if not isinstance(task, Task):
        raise SettingError(f"prefix_curve takes a Task, got {type(task).__name__}.")
    tasks = [dataclasses.replace(task, examples=task.examples[:j], wrong=()) for j in
             range(task.k + 1)]
    batch = encode_tasks(tasks, tokenizer, model.config.context_length, template)
    was_training = model.training
    model.eval()
    try:
        logp = torch.log_softmax(model(batch.inputs).double(), dim=-1)  # (k+1, T, V)
    finally:
        model.train(was_training)
    query = batch.answer == torch.arange(task.k + 1)[:, None]  # (k+1, T): the query's answer
    targets = batch.targets.clamp(min=0)
    picked = logp.gather(-1, targets[..., None])[..., 0]  # (k+1, T)
    right = logp.argmax(-1) == batch.targets
    total = (picked * query).sum(1).exp().tolist()
    greedy = (right | ~query).all(1).tolist()
    return list(zip(total, greedy, strict=True))


def describe_wrong_curve(curve: Sequence[float], operation: str) -> str:
    """In words, what a curve of :func:`accuracy_with_wrong` shows (entry m: accuracy with m
    wrong labels among len(curve) - 1): where accuracy falls below half its value with no
    wrong label, and so whether the right labels outvote the wrong ones, the model keeps
    its trained prior for the operation, or a single wrong label already misleads it."""
    ys = [finite_float("accuracy", y, 0.0, 1.0) for y in curve]
    k = len(ys) - 1
    if k < 1:
        raise SettingError("The curve needs at least two points (0 and 1 wrong labels).")
    name, c0 = get_operation(operation).name, ys[0]
    if c0 < 0.5:
        return (f"With every label right the model answers only {c0:.0%} of these prompts of "
                f"{name}, so wrong labels have little to take away.")
    half = next((m for m, y in enumerate(ys) if y < c0 / 2), None)
    if half is None:
        return (f"The model keeps computing {name} whatever the labels say: {ys[-1]:.0%} right "
                f"with all {k} labels wrong. It does not follow labels that fit no rule: what "
                f"it learned about {name} in training (its prior) wins.")
    if half - 1 > k / 2:  # still right with a majority of the labels wrong
        return (f"The model keeps computing {name} even when most labels are wrong: "
                f"{ys[half - 1]:.0%} right with {half - 1} of {k} wrong, and only at {half} "
                f"wrong does accuracy fall below half of {c0:.0%}. The right labels are then "
                f"outnumbered, so this is not a vote: its prior for {name}, learned in "
                "training, wins over labels that fit no rule.")
    if half == 1:
        return (f"A single wrong label among {k} already drops accuracy from {c0:.0%} to "
                f"{ys[1]:.0%}: the {k - 1} right ones do not outvote it: one wrong label is "
                "enough to mislead it.")
    told = (f"One wrong label of {k} leaves {ys[1]:.0%} right; from {half} wrong, accuracy "
            f"falls below half of {c0:.0%} ({ys[half]:.0%})")
    if half < k / 2:
        return told + ", while most labels are still right: they do not outvote the wrong ones."
    return told + ", about where the wrong labels become as many as the right ones."


# ============================================================================ adaptation
@dataclass(frozen=True, eq=False)
class HeadResult:
    """One way of adapting the model, and its answers to the test questions."""

    predictions: list[int | None]  # the answer to each query (None: not a number written)
    correct: list[bool]
    accuracy: float  # fraction of queries answered exactly
    train_accuracy: float | None  # on the labelled examples it learned from (None: in-context)
    mean_abs_error: float | None = None  # mean |answer - truth| over numeric answers


def _score(
    predictions: list[int | None],
    queries: Sequence[Example],
    train_accuracy: float | None = None,
) -> HeadResult:
    correct = [p == q.answer for p, q in zip(predictions, queries, strict=True)]
    errors = [abs(p - q.answer) for p, q in zip(predictions, queries, strict=True)
              if p is not None]
    return HeadResult(list(predictions), correct, sum(correct) / len(correct), train_accuracy,
                      sum(errors) / len(errors) if errors else None)


def _query_ids(
    tokenizer: CharTokenizer, pairs: Sequence[Example], symbol: str, template: PromptTemplate
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each query text "Q: a ~ b = ? A: " read alone: ids (n, T) padded, and the index of
    its last position (n,), where c_{T+1} is read."""
    ids = [tokenizer.encode(template.write_query(e.a, symbol, e.b)) for e in pairs]
    T = max(len(i) for i in ids)
    x = torch.full((len(ids), T), PAD, dtype=torch.long)
    for b, row in enumerate(ids):
        x[b, : len(row)] = torch.tensor(row)
    return x, torch.tensor([len(i) - 1 for i in ids])


def _read_c(model: TinyGPT, x: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """c_{T+1} (n, C) of each row, with gradients to theta when they are enabled (the
    causal mask keeps the padding after a row's last position out of its c_{T+1})."""
    c = torch.cat([model._run(x[i : i + 256], None, None, fused=True)[3]
                   for i in range(0, x.shape[0], 256)])  # (n, T, C)
    return c[torch.arange(x.shape[0]), last]


def _features(
    model: TinyGPT, tokenizer: CharTokenizer, pairs: Sequence[Example], symbol: str,
    template: PromptTemplate,
) -> torch.Tensor:
    """c_{T+1} (n, C) of each query text read alone, theta as it is (float64, no gradient)."""
    x, last = _query_ids(tokenizer, pairs, symbol, template)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return _read_c(model, x, last).double()
    finally:
        model.train(was_training)


def linear_head(
    model: TinyGPT,
    tokenizer: CharTokenizer,
    examples: Sequence[Example],
    queries: Sequence[Example],
    symbol: str = "~",
    ridge: float = 1e-3,
    template: PromptTemplate = DEFAULT_TEMPLATE,
) -> HeadResult:
    """The linear probe of Eq. 14.1 on c_{T+1}: theta stays at theta-hat, and y ~ w^T c_{T+1}
    + b is fitted to the labelled ``examples`` with the squared error (l_task of a regression),
    ridge-regularised so that it is defined for n < C, in closed form. Predicts the queries'
    answers as the nearest whole number. c_{T+1} is the representation after reading one
    question alone (no examples in the prompt)."""
    if not isinstance(model, TinyGPT):
        raise SettingError(f"model must be a TinyGPT, got {type(model).__name__}.")
    n = _check_count("number of labelled examples", len(examples), MAX_HEAD_EXAMPLES)
    _check_count("number of queries", len(queries), MAX_HEAD_EXAMPLES)
    lam = finite_float("ridge", ridge, 0.0, 1e6)
    X = _features(model, tokenizer, examples, symbol, template)
    Q = _features(model, tokenizer, queries, symbol, template)
    y = torch.tensor([float(e.answer) for e in examples], dtype=torch.float64)
    mean_x, mean_y = X.mean(0), y.mean()  # the bias b absorbs the means
    Xc = X - mean_x
    # w = (Xc^T Xc + lam n I)^-1 Xc^T (y - mean): solved in the n-dimensional dual form
    K = Xc @ Xc.T + lam * n * torch.eye(n, dtype=torch.float64)
    alpha = torch.linalg.solve(K, y - mean_y)
    w = Xc.T @ alpha

    def predict(F_: torch.Tensor) -> list[int]:
        return torch.round((F_ - mean_x) @ w + mean_y).long().tolist()

    fit = [p == e.answer for p, e in zip(predict(X), examples, strict=True)]
    return _score(predict(Q), queries, sum(fit) / len(fit))


def in_context_answers(
    model: TinyGPT,
    tokenizer: CharTokenizer,
    examples: Sequence[Example],
    queries: Sequence[Example],
    operation: str,
    template: PromptTemplate = DEFAULT_TEMPLATE,
) -> HeadResult:
    """In-context learning (Section 14.3.1): for each query, the prompt of ``examples`` (their
    answers as given) and the query, and the greedy answer (Eq. 14.13 at tau -> 0) of the
    model, theta unchanged. No training: ``train_accuracy`` is None."""
    op = get_operation(operation)
    _check_count("number of queries", len(queries), MAX_HEAD_EXAMPLES)
    answers = [decode_answer(model, tokenizer, assemble(Task(op, tuple(examples), q), template))
               for q in queries]
    return _score([a.value if a.finished else None for a in answers], queries)


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of the three-way comparison on the page, checked on creation."""

    examples: int = 32  # n labelled examples the probe and finetuning learn from
    queries: int = 32  # test questions every method answers (the same ones)
    steps: int = 60  # finetuning steps, each on all n examples (full batch)
    head_lr: float = 1e-2  # Adam's learning rate for the head w (and its bias)
    theta_lr: float = 1e-3  # Adam's learning rate for theta (0: theta stays at theta-hat)
    ridge: float = 1e-3  # the probe's ridge penalty (Eq. 14.1 in closed form)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "examples", bounded_int("number of labelled examples", self.examples, 1,
                                           MAX_FINETUNE_EXAMPLES))
        set_(self, "queries", bounded_int("number of test questions", self.queries, 1,
                                          MAX_FINETUNE_EXAMPLES))
        set_(self, "steps", bounded_int("number of finetuning steps", self.steps, 1,
                                        MAX_FINETUNE_STEPS))
        set_(self, "head_lr", finite_float("head learning rate", self.head_lr, 1e-6, 1.0))
        set_(self, "theta_lr", finite_float("theta learning rate", self.theta_lr, 0.0, 1.0))
        set_(self, "ridge", finite_float("ridge", self.ridge, 0.0, 1e6))

    @classmethod
    def tiny(cls, **changes: object) -> FinetuneConfig:
        """For tests: 8 examples, 6 questions, 5 steps."""
        return dataclasses.replace(cls(examples=8, queries=6, steps=5), **changes)  # type: ignore[arg-type]


class FinetunedHead(torch.nn.Module):
    """w^T (c_{T+1} - mean) / std + b on phi_theta: a copy of the model (theta) and a head w.

    The features are standardised with the mean and std of theta-hat's c_{T+1} over the
    training examples (fixed, not trained), and the head predicts the standardised answer
    (y - y_mean) / y_std, so that one learning rate suits every operation; ``values`` maps
    it back to the answer's units. Still a linear function of c_{T+1}."""

    def __init__(self, model: TinyGPT, mean: torch.Tensor, std: torch.Tensor, y_mean: float,
                 y_std: float, generator: torch.Generator) -> None:
        super().__init__()
        C = mean.numel()
        self.model = model
        self.register_buffer("mean", mean.reshape(1, C).clone())
        self.register_buffer("std", std.reshape(1, C).clone())
        self.y_mean, self.y_std = float(y_mean), float(y_std)
        self.w = torch.nn.Linear(C, 1)
        bound = 1.0 / C**0.5  # PyTorch's default initialisation, from our generator (Eq. 14.3)
        with torch.no_grad():
            self.w.weight.copy_(torch.rand(1, C, generator=generator) * 2 * bound - bound)
            self.w.bias.zero_()

    def forward(self, x: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """The standardised answer (n,) of each query row."""
        return self.w((_read_c(self.model, x, last) - self.mean) / self.std).squeeze(1)

    @torch.no_grad()
    def values(self, x: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """w^T c_{T+1} + b in the answer's units (n,) float."""
        return self(x, last) * self.y_std + self.y_mean


@dataclass(frozen=True, eq=False)
class CompareStart:
    """First event: the test questions, and the two methods that need no training."""

    queries: tuple[Example, ...]
    shots: int  # examples in the prompt (the first ``shots`` of ``labelled``)
    labelled: tuple[Example, ...]  # the n examples the probe and finetuning learn from
    in_context: HeadResult
    probe: HeadResult
    total_steps: int


@dataclass(frozen=True)
class FinetuneStep:
    step: int
    total_steps: int
    loss: float  # mean squared error of the standardised answers over the n examples


@dataclass(frozen=True, eq=False)
class CompareDone:
    step: int
    finetuned: HeadResult
    head: FinetunedHead = field(repr=False)  # the finetuned copy and its head
    theta_change: float  # ||theta - theta-hat|| / ||theta-hat||: how far finetuning moved theta
    seconds: float  # the finetuning alone


CompareEvent = CompareStart | FinetuneStep | CompareDone


def _flat(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1).double() for p in model.parameters()])


def compare_adaptations(
    model: TinyGPT,
    tokenizer: CharTokenizer,
    operation: str,
    examples: Sequence[Example],
    config: FinetuneConfig,
    generator: torch.Generator,
    template: PromptTemplate = DEFAULT_TEMPLATE,
) -> Iterator[CompareEvent]:
    """Three ways to adapt the model to the operation, answering the same fresh questions:

    - in context (Section 14.3.1): the prompt of ``examples`` and each question, theta-hat
      unchanged, the greedy answer;
    - the linear probe (Eq. 14.1): theta frozen at theta-hat, w fitted to the labelled set
      by least squares on c_{T+1} (:func:`linear_head`);
    - finetuning (Eq. 14.2-14.4; the first option of Section 14.3.1): a copy of the model,
      theta initialised at theta-hat (14.4), w at random (14.3), both optimised with Adam on
      the mean squared error over the labelled set, ``config.steps`` full-batch steps.

    The labelled set is ``examples`` (answers as given) followed by fresh correctly labelled
    examples up to ``config.examples``. The shipped ``model`` is never changed (rule 10).
    ``generator`` draws the questions, the fresh examples, then the head w, in that order.
    Yields CompareStart, a FinetuneStep per step, then CompareDone; stopping early keeps
    what CompareStart carries (the in-context and probe answers) and the losses so far."""
    if not isinstance(model, TinyGPT):
        raise SettingError(f"model must be a TinyGPT, got {type(model).__name__}.")
    if not isinstance(config, FinetuneConfig):
        raise SettingError(f"config must be a FinetuneConfig, got {type(config).__name__}.")
    op = get_operation(operation)
    g = check_generator(generator)
    examples = tuple(examples)
    if len(examples) > MAX_SHOTS:
        raise SettingError(f"A prompt holds at most {MAX_SHOTS} examples, got {len(examples)}.")
    queries = tuple(make_task(op, 0, g).query for _ in range(config.queries))
    more = max(0, config.examples - len(examples))
    labelled = examples + tuple(make_task(op, 0, g).query for _ in range(more))
    in_context = in_context_answers(model, tokenizer, examples, queries, op.name, template)
    probe = linear_head(model, tokenizer, labelled, queries, ridge=config.ridge,
                        template=template)
    yield CompareStart(queries, len(examples), labelled, in_context, probe, config.steps)
    yield from _finetune(model, tokenizer, labelled, queries, config, g, template)


def _finetune(model, tokenizer, labelled, queries, config, g, template) -> Iterator[CompareEvent]:
    start = time.perf_counter()
    theta_hat = _flat(model)
    copy_ = make_gpt(model.config, torch.Generator().manual_seed(0))  # then theta <- theta-hat
    copy_.load_state_dict(model.state_dict())
    copy_.requires_grad_(True).eval()  # eval: no dropout; the shipped model's has none
    x, last = _query_ids(tokenizer, labelled, "~", template)
    xq, lq = _query_ids(tokenizer, queries, "~", template)
    y = torch.tensor([float(e.answer) for e in labelled])
    with torch.no_grad():
        c = _read_c(copy_, x, last)  # (n, C) at theta-hat
    std = c.std(0, unbiased=False).clamp_min(1e-6) if len(labelled) > 1 else torch.ones_like(c[0])
    y_std = max(float(y.std(unbiased=False)), 1.0) if len(labelled) > 1 else 1.0
    head = FinetunedHead(copy_, c.mean(0), std, float(y.mean()), y_std, g)
    target = (y - head.y_mean) / head.y_std  # (n,)
    optimizer = torch.optim.Adam([{"params": list(head.w.parameters()), "lr": config.head_lr},
                                  {"params": list(copy_.parameters()), "lr": config.theta_lr}])
    for step in range(1, config.steps + 1):
        loss = F.mse_loss(head(x, last), target)  # l_task of Eq. 14.2, the squared error
        if not bool(torch.isfinite(loss)):
            raise SettingError(f"Finetuning diverged at step {step}: lower the learning rates.")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        yield FinetuneStep(step, config.steps, float(loss.detach()))
    copy_.requires_grad_(False)

    def answers(ids: torch.Tensor, ends: torch.Tensor) -> list[int]:
        return torch.round(head.values(ids, ends)).long().tolist()

    fit = [p == e.answer for p, e in zip(answers(x, last), labelled, strict=True)]
    finetuned = _score(answers(xq, lq), queries, sum(fit) / len(fit))
    change = float((_flat(copy_) - theta_hat).norm() / theta_hat.norm())
    yield CompareDone(config.steps, finetuned, head, change, time.perf_counter() - start)


# ============================================================================ events
@dataclass(frozen=True, eq=False)
class StartEvent:
    model: TinyGPT = field(repr=False)  # the very object trained: keep it
    tokenizer: CharTokenizer
    total_steps: int


@dataclass(frozen=True)
class StepEvent:
    step: int
    total_steps: int
    loss: float  # Eq. 14.8 averaged over the batch's answer characters (nats/char)
    learning_rate: float
    tokens_per_s: float  # positions read per second (questions included)


@dataclass(frozen=True)
class EvalEvent:
    """Accuracy on fixed documents, by number of examples (index = shots) and operation."""

    step: int
    hidden: list[float]  # mean over operations, hidden-symbol prompts, 0..shots examples
    explicit: list[float]  # the same with each operation's own symbol
    by_operation: dict[str, list[float]]  # hidden prompts, per operation


@dataclass(frozen=True, eq=False)
class DoneEvent:
    step: int
    model: TinyGPT = field(repr=False)
    loss: float  # mean step loss of the last min(20, steps) steps
    seconds: float


Event = StartEvent | StepEvent | EvalEvent | DoneEvent


def _draw_tasks(config: ICLConfig, step: int, g: torch.Generator) -> list[Task]:
    B, ops = config.batch_size, config.operations_at(step)
    n_explicit = int((torch.rand(B, generator=g) < config.explicit_fraction).sum())
    tasks: list[Task] = []
    for n, explicit in ((B - n_explicit, False), (n_explicit, True)):
        if n:
            tasks += sample_tasks(n, config.shots, g, ops, explicit)
    return tasks


def train_icl(
    config: ICLConfig,
    generator: torch.Generator | None = None,
    tokenizer: CharTokenizer | None = None,
) -> Iterator[Event]:
    """Train a TinyGPT on few-shot documents with the loss on the answers only (Eq. 14.8
    under the mask of :func:`fmcore.prompting.prompts.loss_mask`), one event at a time.

    All randomness comes from ``generator`` (None: seeded with ``config.seed``): the
    initial weights, one seed for the fixed evaluation documents, then each step's
    documents. The model is trained in place; stopping keeps what was learned.
    """
    if not isinstance(config, ICLConfig):
        raise SettingError(f"config must be an ICLConfig, got {type(config).__name__}.")
    tok = icl_tokenizer() if tokenizer is None else tokenizer
    g = torch.Generator().manual_seed(config.seed) if generator is None else generator
    g = check_generator(g)
    model = make_gpt(config.model_config(tok.vocab_size), g)
    eval_seed = int(torch.randint(0, MAX_SEED, (1,), generator=g))
    eval_g = torch.Generator().manual_seed(eval_seed)
    fixed = {
        explicit: [
            make_task(op, config.shots, eval_g, explicit)
            for op in config.operations
            for _ in range(config.eval_tasks)
        ]
        for explicit in (False, True)
    }
    return _loop(config, tok, model, fixed, g)


def _loop(config, tok, model, fixed, g) -> Iterator[Event]:
    n_ops, per = len(config.operations), config.eval_tasks
    batches = {e: encode_tasks(t, tok, config.context) for e, t in fixed.items()}
    optimizer = optim.adamw(model, config.learning_rate, config.weight_decay)
    parameters = list(model.parameters())
    start, train_seconds, recent = time.perf_counter(), 0.0, []

    def evaluate(step: int) -> EvalEvent:
        hidden = answers_correct(model, batches[False]).float().reshape(n_ops, per, -1).mean(1)
        explicit = answers_correct(model, batches[True]).float().reshape(n_ops, per, -1).mean(1)
        return EvalEvent(
            step,
            hidden.mean(0).tolist(),
            explicit.mean(0).tolist(),
            {op: hidden[i].tolist() for i, op in enumerate(config.operations)},
        )

    try:
        yield StartEvent(model, tok, config.steps)
        if config.eval_every:
            yield evaluate(0)
        for step in range(1, config.steps + 1):
            t0 = time.perf_counter()
            model.train()
            batch = encode_tasks(_draw_tasks(config, step, g), tok, config.context)
            with optim.autocast(config.precision):
                logits = model(batch.inputs)
            loss = answer_loss(logits, batch.targets)
            if not bool(torch.isfinite(loss)):
                raise SettingError(
                    f"Training diverged at step {step}: lower the learning rate and train again."
                )
            lr = warmup_cosine(config.learning_rate, config.warmup_steps, config.steps, step)
            value = take_step(optimizer, loss, lr, config.grad_clip, parameters)
            train_seconds += time.perf_counter() - t0
            recent = (recent + [value])[-20:]
            speed = step * batch.inputs.numel() / max(train_seconds, 1e-9)
            yield StepEvent(step, config.steps, value, lr, speed)
            if config.eval_every and (step % config.eval_every == 0 or step == config.steps):
                yield evaluate(step)
        model.eval()
        yield DoneEvent(config.steps, model, sum(recent) / len(recent), time.perf_counter() - start)
    finally:
        model.eval()
