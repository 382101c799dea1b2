"""Few-shot prompts as text, and reading the model's answer (Section 14.3.1 of the notes).

In-context learning (Section 14.3.1) writes k labelled examples and the test input as one
document x_1, ..., x_T, the *prompt*, and lets the model continue it: the answer is the
most likely continuation x_{T+1}, x_{T+2}, ... A :class:`PromptTemplate` says how one
example and the query are written; :func:`assemble` concatenates them:

    Q: 2 ~ 3 = ? A: 5
    Q: 6 ~ 7 = ? A: 13
    Q: 15 ~ 2 = ? A:

**Where the answer starts.** The query line ends with "A: " (with its space), so the
model's answer is exactly the characters right after the prompt: the integer written
plainly ("17", "-7") and the newline that ends it. The example template is the query
template followed by ``{answer}`` and a newline, so an example is "a query plus its answer"
and the model sees, in every example, what it has to write after the query.

**The begin token.** The prompt is the text the model reads *after* x_0 = ⊥: the tokenizer
prepends ⊥ itself (:meth:`fmcore.lm.tokenizer.CharTokenizer.encode`), so it is not part of
the string; :func:`shown` writes it in front for the page.

**Training on the answers.** :func:`training_text` is the prompt with the query answered
too, and :func:`loss_mask` marks, character by character, the answers and their newlines:
the characters whose next-token loss (Eq. 14.8) is kept when a model is trained on "the
loss on the answers" only.

**Decoding.** :func:`decode_answer` generates with :func:`fmcore.lm.generate.generate`
(greedy at temperature 0, Eq. 14.13 otherwise) until the newline, and reports each
character's probability under the model and their product, the probability of the whole
answer by the chain rule (Eq. 14.5). :func:`parse_answer` reads the integer.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch

from fmcore.errors import InvalidTextError, SettingError
from fmcore.lm.generate import generate
from fmcore.lm.model import MAX_CONTEXT, TinyGPT
from fmcore.lm.sampling import MAX_TEMPERATURE
from fmcore.lm.tokenizer import (
    BEGIN_SYMBOL,
    MAX_TEXT_CHARS,
    CharTokenizer,
    describe_character,
    visible,
)
from fmcore.prompting.icl_tasks import (
    HIDDEN_SYMBOL,
    MAX_OPERAND,
    MAX_SHOTS,
    OPERATIONS,
    Example,
    Operation,
    Task,
)
from fmcore.validate import bounded_int, check_generator, finite_float

__all__ = [
    "DEFAULT_TEMPLATE",
    "MAX_ANSWER_CHARS",
    "MAX_TEMPLATE_CHARS",
    "MAX_TYPED_ANSWER",
    "Answer",
    "AnswerStep",
    "PromptLink",
    "PromptTemplate",
    "answer_spans",
    "assemble",
    "check_prompt",
    "decode_answer",
    "loss_mask",
    "parse_answer",
    "prompt_alphabet",
    "read_examples",
    "read_number",
    "shown",
    "training_text",
]

MAX_ANSWER_CHARS = 16  # characters decode_answer generates at most (newline included)
MAX_TEMPLATE_CHARS = 200  # one template string
_QUERY_FIELDS = ("a", "op", "b")
_EXAMPLE_FIELDS = ("a", "op", "b", "answer")
_ANSWER_END = "\n"  # ends every answer; generation stops there
_INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits only: no other script's digits


# ============================================================================ template
def _fields(template: str, what: str, allowed: tuple[str, ...]) -> None:
    """Check that ``template`` uses each of ``allowed`` exactly once and nothing else."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        raise SettingError(
            f"The {what} template {template!r} has unmatched braces ({error}); write a literal "
            "brace as {{ or }}."
        ) from None
    seen: list[str] = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed:
            raise SettingError(
                f"The {what} template has a field {{{name}}} that is not allowed; it may use "
                f"only {', '.join('{' + f + '}' for f in allowed)}."
            )
        if spec or conversion:
            raise SettingError(
                f"Write the field {{{name}}} of the {what} template plainly, without a format "
                "or conversion (such as :3 or !r)."
            )
        seen.append(name)
    for name in allowed:
        if seen.count(name) != 1:
            raise SettingError(
                f"The {what} template must use {{{name}}} exactly once; it uses it "
                f"{seen.count(name)} times."
            )


@dataclass(frozen=True)
class PromptTemplate:
    """How one labelled example and the query are written (checked on creation).

    ``query`` uses the fields {a} {op} {b} once each and ends where the model's answer
    starts; ``example`` must be exactly ``query + "{answer}\\n"``, so that an example is the
    query followed by its answer and a newline. Literal braces are written {{ and }}.
    """

    example: str = "Q: {a} {op} {b} = ? A: {answer}\n"  # one labelled example, one line
    query: str = "Q: {a} {op} {b} = ? A: "  # the test input; the answer follows directly

    def __post_init__(self) -> None:
        for what, text in (("example", self.example), ("query", self.query)):
            if not isinstance(text, str):
                raise SettingError(f"The {what} template must be a string, got {text!r}.")
            if len(text) > MAX_TEMPLATE_CHARS:
                raise SettingError(
                    f"The {what} template has {len(text)} characters; at most "
                    f"{MAX_TEMPLATE_CHARS} are allowed."
                )
        _fields(self.query, "query", _QUERY_FIELDS)
        _fields(self.example, "example", _EXAMPLE_FIELDS)
        if self.example != self.query + "{answer}" + _ANSWER_END:
            raise SettingError(
                "The example template must be the query template followed by {answer} and a "
                f"newline, so the model learns where its answer goes: with this query it "
                f"would be {self.query + '{answer}' + _ANSWER_END!r}, not {self.example!r}."
            )

    def write_query(self, a: int, op: str, b: int) -> str:
        """The query line for operands a, b and operator op."""
        return self.query.format(a=a, op=op, b=b)

    def write_example(self, a: int, op: str, b: int, answer: int) -> str:
        """One labelled example: the query line, the answer and a newline."""
        return self.example.format(a=a, op=op, b=b, answer=answer)


DEFAULT_TEMPLATE = PromptTemplate()


def _check_task(task: object, template: object) -> tuple[Task, PromptTemplate]:
    if not isinstance(task, Task):
        raise SettingError(
            f"Expected a Task (fmcore.prompting.icl_tasks), got {type(task).__name__}.")
    if not isinstance(template, PromptTemplate):
        raise SettingError(f"Expected a PromptTemplate, got {type(template).__name__}.")
    return task, template


# ============================================================================ assembly
def assemble(task: Task, template: PromptTemplate = DEFAULT_TEMPLATE) -> str:
    """The prompt x_1..x_T of Section 14.3.1: the k examples, each written with
    ``template.example``, then the query written with ``template.query``. The operator is
    the task's symbol ("~" for a hidden task). This is the text the model reads after the
    begin token ⊥, which the tokenizer prepends (see :func:`shown`)."""
    task, template = _check_task(task, template)
    op = task.symbol
    lines = [template.write_example(e.a, op, e.b, e.answer) for e in task.examples]
    return "".join(lines) + template.write_query(task.query.a, op, task.query.b)


def training_text(task: Task, template: PromptTemplate = DEFAULT_TEMPLATE) -> str:
    """:func:`assemble` with the query's correct answer and newline appended: the document
    a model is trained on (k + 1 labelled examples)."""
    task, template = _check_task(task, template)
    return assemble(task, template) + f"{task.query.answer}{_ANSWER_END}"


def answer_spans(task: Task, template: PromptTemplate = DEFAULT_TEMPLATE) -> list[tuple[int, int]]:
    """[start, end) character ranges of the k + 1 answers in :func:`training_text`, each
    answer's newline included, in order (the query's last)."""
    task, template = _check_task(task, template)
    op, spans, position = task.symbol, [], 0
    for e in (*task.examples, task.query):
        start = position + len(template.write_query(e.a, op, e.b))
        position += len(template.write_example(e.a, op, e.b, e.answer))
        spans.append((start, position))
    return spans


def loss_mask(
    text: str,
    task: Task,
    template: PromptTemplate = DEFAULT_TEMPLATE,
    *,
    query_only: bool = False,
) -> list[bool]:
    """One flag per character of ``text``, which must be ``training_text(task, template)``:
    True exactly on the characters of the answers and the newline ending each one (only the
    query's answer with ``query_only``), False on the questions.

    With the tokenizer's ids [⊥, x_1, ..., x_T], flag i belongs to x_{i+1}, which the model
    predicts at position i (from x_0..x_i); the loss of Eq. 14.8 summed only where the flag
    is True is "the loss on the answers". Wrong answers of a corrupted task are flagged too:
    they are what the document says.
    """
    expected = training_text(task, template)
    if text != expected:
        raise InvalidTextError(
            "loss_mask needs the training text of this task (training_text(task, template)); "
            f"the text given differs from it at character {_first_difference(text, expected)}."
        )
    if not isinstance(query_only, bool):
        raise SettingError(f"query_only must be True or False, got {query_only!r}.")
    spans = answer_spans(task, template)
    mask = [False] * len(text)
    for start, end in spans[-1:] if query_only else spans:
        mask[start:end] = [True] * (end - start)
    return mask


def _first_difference(text: object, expected: str) -> int:
    if not isinstance(text, str):
        return 0
    for i, (x, y) in enumerate(zip(text, expected, strict=False)):
        if x != y:
            return i
    return min(len(text), len(expected))


def shown(prompt: str) -> str:
    """The prompt as the model reads it, for the page: "⊥" (the begin token x_0, which the
    tokenizer adds) followed by the prompt."""
    if not isinstance(prompt, str):
        raise InvalidTextError(f"The prompt must be a string, got {type(prompt).__name__}.")
    return BEGIN_SYMBOL + prompt


def prompt_alphabet(
    template: PromptTemplate = DEFAULT_TEMPLATE,
    operations: Iterable[Operation] | None = None,
) -> str:
    """Every character a prompt or answer of these operations can contain, sorted: the
    template's text, the digits, "-", "~" and the operations' symbols. A tokenizer with
    this alphabet (``CharTokenizer(prompt_alphabet())``) can read every prompt."""
    if not isinstance(template, PromptTemplate):
        raise SettingError(f"Expected a PromptTemplate, got {type(template).__name__}.")
    ops = list(OPERATIONS.values()) if operations is None else list(operations)
    literal = "".join(text for text, *_ in string.Formatter().parse(template.example))
    symbols = "".join(op.symbol for op in ops)
    return "".join(sorted(set(literal + string.digits + "-" + HIDDEN_SYMBOL + symbols)))


# ============================================================================ checks
def check_prompt(
    text: str,
    tokenizer: CharTokenizer,
    context_length: int,
    template: PromptTemplate = DEFAULT_TEMPLATE,
) -> str:
    """``text`` if a model with this tokenizer and context can read it whole, else
    InvalidTextError: characters outside the tokenizer's alphabet are named, and a prompt
    longer than ``context_length - 1`` characters (⊥ takes one position) gets a message
    saying how many of its last examples would fit with the query."""
    if not isinstance(text, str):
        raise InvalidTextError(f"The prompt must be a string, got {type(text).__name__}.")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidTextError(
            f"The prompt has {len(text):,} characters; at most {MAX_TEXT_CHARS:,} are allowed."
        )
    if not isinstance(tokenizer, CharTokenizer):
        raise SettingError(f"tokenizer must be a CharTokenizer, got {type(tokenizer).__name__}.")
    context = bounded_int("context_length", context_length, 1, MAX_CONTEXT)
    unknown = tokenizer.unknown_characters(text)
    if unknown:
        chars = list(dict.fromkeys(u.char for u in unknown))
        names = ", ".join(f"{visible(c)!r} ({describe_character(c)})" for c in chars[:10])
        more = f" and {len(chars) - 10} more" if len(chars) > 10 else ""
        raise InvalidTextError(
            f"The prompt has characters the model does not know: {names}{more}. "
            "Remove or replace them."
        )
    room = context - 1
    if len(text) > room:
        per_example = max(1, template.example.count(_ANSWER_END))
        lines = text.split(_ANSWER_END)  # examples end with a newline; the query comes last
        query = _ANSWER_END.join(lines[-(template.query.count(_ANSWER_END) + 1) :])
        body = text[: len(text) - len(query)]
        pieces = body.split(_ANSWER_END)[:-1] if body else []
        examples = [
            _ANSWER_END.join(pieces[i : i + per_example]) + _ANSWER_END
            for i in range(0, len(pieces), per_example)
        ]
        used, fit = len(query), 0
        for example in reversed(examples):
            if used + len(example) > room:
                break
            used, fit = used + len(example), fit + 1
        advice = (
            f"only the query fits; even it is {len(query)} characters long."
            if len(query) > room
            else f"keep at most {fit} example{'s' if fit != 1 else ''} (of {len(examples)})."
        )
        raise InvalidTextError(
            f"The prompt has {len(text)} characters, but the model reads at most {room} after "
            f"the begin token ⊥ (context length {context}): {advice}"
        )
    return text


# ============================================================================ answers
def parse_answer(text: str) -> int | None:
    """The integer the model wrote before the first newline ("-12\\n" -> -12, " 7" -> 7),
    spaces around it allowed; None when that line is not a plain integer ("", "1 2", "x")."""
    if not isinstance(text, str):
        raise InvalidTextError(f"parse_answer takes a string, got {type(text).__name__}.")
    line = text.split(_ANSWER_END, 1)[0].strip(" ")
    if len(line) > 20 or not _INTEGER.fullmatch(line):
        return None
    return int(line)


@dataclass(frozen=True, eq=False)
class AnswerStep:
    """One generated character of an answer and the model's distribution it came from."""

    text: str  # the character (tokenizer.token_text: specials shown as · ⊥ �)
    token: int  # its id
    probability: float  # p_theta(this character | prompt, earlier ones), temperature 1
    probs: torch.Tensor  # (V,) float64: softmax of the model's logits (temperature 1)


@dataclass(frozen=True, eq=False)
class Answer:
    """What the model wrote after a prompt, up to and including the newline."""

    text: str  # the generated characters, the newline included if one was written
    value: int | None  # parse_answer(text): the integer, or None if not one
    probability: float  # product of the steps' probabilities (Eq. 14.5's chain rule)
    steps: tuple[AnswerStep, ...]  # one per generated character
    finished: bool  # True if the answer ended with a newline within max_chars


def decode_answer(
    model: TinyGPT,
    tokenizer: CharTokenizer,
    prompt: str,
    generator: torch.Generator | None = None,
    temperature: float = 0.0,
    max_chars: int = 6,
) -> Answer:
    """The model's answer to ``prompt``: characters generated one at a time by
    :func:`fmcore.lm.generate.generate` (greedy, the argmax of Eq. 14.13, at temperature 0;
    drawn at the given temperature otherwise, which needs a ``generator``) until a newline
    or ``max_chars`` (1..16) characters.

    Each step's probability is the model's own p_theta(x_{t+1} | x_0..x_t) (softmax of its
    logits, temperature 1, whatever temperature chose the character), and the answer's
    probability is their product: the probability that the model writes exactly this text,
    by the chain rule (Eq. 14.5). The prompt is checked with :func:`check_prompt` first, so
    it is never silently cut to the context.
    """
    if not isinstance(model, TinyGPT):
        raise SettingError(f"model must be a TinyGPT, got {type(model).__name__}.")
    check_prompt(prompt, tokenizer, model.config.context_length)
    tau = finite_float("temperature", temperature, 0.0, MAX_TEMPERATURE)
    n = bounded_int("max_chars", max_chars, 1, MAX_ANSWER_CHARS)
    if generator is None:
        if tau > 0:
            raise SettingError(
                "Sampling at a temperature above 0 needs a torch.Generator (for example "
                "torch.Generator().manual_seed(0)); greedy decoding (temperature 0) does not."
            )
        generator = torch.Generator()  # greedy draws nothing from it
    g = check_generator(generator)
    steps: list[AnswerStep] = []
    for event in generate(model, tokenizer, prompt, n, tau, g):
        probs = torch.softmax(event.logits.double(), dim=-1)  # (V,) the model's own p_theta
        steps.append(AnswerStep(event.text, event.token, float(probs[event.token]), probs))
        if event.text == _ANSWER_END:
            break
    text = "".join(s.text for s in steps)
    probability = math.prod(s.probability for s in steps)
    finished = text.endswith(_ANSWER_END)
    return Answer(text, parse_answer(text), probability, tuple(steps), finished)


# ============================================================================ typed examples
MAX_TYPED_ANSWER = 999_999  # an answer typed by hand (the operations' answers are -99..198)
_LINK_MAX = 2000  # characters of one query parameter of a shared prompt


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or not str(value).strip()


def read_number(value: object, what: str, low: int, high: int) -> int:
    """A whole number typed by a person (a table cell, a text box, a link), or
    InvalidTextError saying exactly what is wrong: empty, characters other than the digits
    and "-" (named), not a number, or outside low..high."""
    if _blank(value):
        raise InvalidTextError(f"{what} is empty.")
    text = str(value).strip()
    unknown = list(dict.fromkeys(c for c in text if c not in "-0123456789"))
    if unknown:
        names = ", ".join(f"{visible(c)!r}" for c in unknown[:5])
        raise InvalidTextError(
            f"{what} is {visible(text[:20])!r}: only the digits 0-9 and '-' can be read there, "
            f"not {names}."
        )
    if len(text) > 12 or not _INTEGER.fullmatch(text):
        raise InvalidTextError(f"{what} is {text[:20]!r}, which is not a whole number.")
    number = int(text)
    if not low <= number <= high:
        raise InvalidTextError(f"{what} is {number}; it must be between {low} and {high}.")
    return number


def read_examples(rows: Iterable[Mapping[str, object]]) -> tuple[list[str], list[Example]]:
    """Labelled examples from table rows with keys "a", "b" and "answer" (strings or
    numbers, as typed): (one message per bad cell, the examples read). Rows left wholly
    empty are skipped (a new row not filled in yet); operands must be 0..99."""
    problems, examples = [], []
    for n, row in enumerate(rows, start=1):
        if all(_blank(row.get(c)) for c in ("a", "b", "answer")):
            continue
        try:
            a = read_number(row.get("a"), f"Example {n}: a", 0, MAX_OPERAND)
            b = read_number(row.get("b"), f"Example {n}: b", 0, MAX_OPERAND)
            y = read_number(
                row.get("answer"), f"Example {n}: the answer", -MAX_TYPED_ANSWER, MAX_TYPED_ANSWER
            )
            examples.append(Example(a, b, y))
        except InvalidTextError as error:
            problems.append(str(error))
    return problems, examples


# ============================================================================ shared links
@dataclass(frozen=True)
class PromptLink:
    """A few-shot prompt as it travels in a link's query parameters:
    ``op=max&ex=2,3,3;9,4,9&q=15,2`` (and ``h=<index>`` for a secret operation)."""

    operation: str  # a name of OPERATIONS, or SECRET
    secret: str | None  # the hidden operation's name when operation is SECRET
    examples: tuple[Example, ...]
    query: tuple[int, int]

    SECRET = "surprise me"

    def to_params(self) -> dict[str, str]:
        """The query parameters of this prompt."""
        params = {
            "op": self.operation,
            "ex": ";".join(f"{e.a},{e.b},{e.answer}" for e in self.examples),
            "q": f"{self.query[0]},{self.query[1]}",
        }
        if self.operation == self.SECRET and self.secret is not None:
            params["h"] = str(list(OPERATIONS).index(self.secret))
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> PromptLink:
        """Read a link's parameters, all or nothing: InvalidTextError names the first
        problem (an unknown operation, a malformed or out-of-range example, too many)."""
        for key in ("op", "ex", "q", "h"):
            if len(str(params.get(key, ""))) > _LINK_MAX:
                raise InvalidTextError(f"The link's {key} is too long.")
        op = str(params.get("op", "add"))
        secret = None
        if op == cls.SECRET:
            index = read_number(params.get("h", "0"), "The link's h", 0, len(OPERATIONS) - 1)
            secret = list(OPERATIONS)[index]
        elif op not in OPERATIONS:
            raise InvalidTextError(f"The link names an unknown operation {visible(op[:30])!r}.")
        rows = []
        for i, item in enumerate(filter(None, str(params.get("ex", "")).split(";")), start=1):
            if i > MAX_SHOTS:
                raise InvalidTextError(f"The link has more than {MAX_SHOTS} examples.")
            parts = item.split(",")
            if len(parts) != 3:
                raise InvalidTextError(
                    f"Example {i} of the link is {visible(item[:30])!r}, not a,b,answer."
                )
            rows.append(dict(zip(("a", "b", "answer"), parts, strict=True)))
        problems, examples = read_examples(rows)
        if problems:
            raise InvalidTextError(problems[0])
        q = str(params.get("q", "15,2")).split(",")
        if len(q) != 2:
            raise InvalidTextError("The link's query q must be two numbers a,b.")
        qa = read_number(q[0], "The link's query a", 0, MAX_OPERAND)
        qb = read_number(q[1], "The link's query b", 0, MAX_OPERAND)
        return cls(op, secret, tuple(examples), (qa, qb))
