"""What every training loop of the lab shares: the learning-rate schedule, AdamW's two
parameter groups, the switch to a bfloat16 forward pass, and the check of those settings.

Used by :mod:`fmcore.vision.pretrain` (SimCLR, supervised), :mod:`fmcore.self_supervision.loop`,
:mod:`fmcore.lm.train` and :mod:`fmcore.prompting.icl`, so that the loops a student reads follow one
recipe.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from fmcore.errors import SettingError
from fmcore.validate import bounded_int, finite_float

__all__ = [
    "PRECISIONS",
    "adamw",
    "autocast",
    "check_recipe",
    "decay_groups",
    "uses_bfloat16",
    "warmup_cosine",
]

PRECISIONS = ("auto", "float32", "bfloat16")


def warmup_cosine(
    peak: float, warmup_steps: int, steps: int, step: int, constant: bool = False
) -> float:
    """Learning rate of step ``step`` (1-based) of ``steps``: a linear warm-up from 0 to
    ``peak`` over ``warmup_steps`` steps, then a cosine decay to 0 (or ``peak`` throughout
    when ``constant``)."""
    warm = min(warmup_steps, steps - 1)
    if warm > 0 and step <= warm:
        return peak * step / (warm + 1)
    if constant:
        return peak
    progress = (step - warm - 1) / max(1, steps - warm)  # in [0, 1)
    return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Parameter groups with weight decay on the weight matrices, kernels and embeddings
    (tensors of 2 or more dimensions) and none on biases and normalisation scales (1-D)."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def adamw(model: nn.Module, learning_rate: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW over :func:`decay_groups`, beta2 = 0.99 (nanoGPT's setting for small models on
    small batches): the optimiser of the language-model loops."""
    return torch.optim.AdamW(
        decay_groups(model, weight_decay), lr=learning_rate, betas=(0.9, 0.99)
    )


def check_recipe(config: object, max_batch: int, max_steps: int) -> None:
    """Check, and store back as plain numbers, the settings of :func:`adamw` and
    :func:`warmup_cosine` that a frozen config of a language-model loop carries (batch_size,
    steps, learning_rate, warmup_steps, weight_decay, grad_clip, precision): SettingError
    with the value's name for anything out of range."""
    set_ = object.__setattr__  # the configs are frozen dataclasses
    set_(config, "batch_size", bounded_int("batch size", config.batch_size, 1, max_batch))
    set_(config, "steps", bounded_int("number of steps", config.steps, 1, max_steps))
    set_(config, "learning_rate",
         finite_float("learning rate", config.learning_rate, 1e-6, 1.0))
    set_(config, "warmup_steps",
         bounded_int("warm-up steps", config.warmup_steps, 0, max_steps))
    set_(config, "weight_decay", finite_float("weight decay", config.weight_decay, 0.0, 1.0))
    set_(config, "grad_clip", finite_float("gradient clipping", config.grad_clip, 0.0, 1e6))
    if config.precision not in PRECISIONS:
        raise SettingError(
            f"precision must be one of {', '.join(PRECISIONS)}; got {config.precision!r}."
        )


def uses_bfloat16(precision: str) -> bool:
    """Whether a forward pass runs in bfloat16: asked for, or "auto" on a CPU with native
    bfloat16 arithmetic (elsewhere oneDNN emulates it, which is slower than float32)."""
    if precision == "auto":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return precision == "bfloat16"


def autocast(precision: str) -> torch.autocast:
    """Mixed precision for a model's forward pass: convolutions and matrix products in
    bfloat16, the rest (normalisations, softmax) in float32 by autocast's rules. Callers
    take their loss on ``.float()`` outputs."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=uses_bfloat16(precision))


def take_step(
    optimizer: torch.optim.Optimizer,
    loss: torch.Tensor,
    learning_rate: float,
    grad_clip: float = 0.0,
    parameters: list[torch.Tensor] | None = None,
) -> float:
    """One optimisation step on ``loss`` at ``learning_rate``: set the rate, backpropagate,
    clip the norm of the gradient of ``parameters`` (default: the optimiser's) to
    ``grad_clip`` (0: no clipping), update. Returns the loss."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip > 0:
        if parameters is None:
            parameters = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(parameters, grad_clip)
    optimizer.step()
    return float(loss.detach())
