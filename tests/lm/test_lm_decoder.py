"""Tests of fmcore.lm.decoder: the packed forward pass that generation uses gives the logits
of TinyGPT.forward (learned positions and ALiBi, LayerNorm scale and shift folded into the
products), keeps its keys and values across reads, starts over on reset, is a snapshot of
the weights, and refuses what does not fit."""

from __future__ import annotations

import pytest
import torch

from fmcore.errors import SettingError
from fmcore.lm.decoder import Decoder
from fmcore.lm.model import GPTConfig, TinyGPT, make_gpt

V, CONTEXT = 13, 12
ATOL = 1e-5  # float32 products summed in another order


def _model(alibi: bool = False) -> TinyGPT:
    """Every parameter random and large, LayerNorm scales and shifts included: at their
    initial values (1 and 0) folding them into the products would not be tested."""
    config = GPTConfig(V, CONTEXT, width=16, layers=2, heads=4, alibi=alibi)
    model = make_gpt(config, torch.Generator().manual_seed(1)).eval()
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.5, generator=g)
    return model


def _ids(n: int, seed: int = 3) -> list[int]:
    return torch.randint(0, V, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.mark.parametrize("alibi", [False, True])
@pytest.mark.parametrize("first", [1, 5, CONTEXT])
def test_reads_give_the_logits_of_a_full_forward(alibi, first):
    model = _model(alibi)
    ids = _ids(CONTEXT)
    with torch.no_grad():
        full = model(torch.tensor([ids]))[0]  # (T, V): row s is u_{s+1}
    decoder = Decoder(model, CONTEXT)
    got = [decoder.read(ids[:first])]  # a block of positions, then one at a time
    got += [decoder.read([token]) for token in ids[first:]]
    assert decoder.length == CONTEXT
    torch.testing.assert_close(torch.stack(got), full[first - 1 :], atol=ATOL, rtol=0)


def test_reset_reads_a_new_window_from_position_zero():
    model = _model()
    ids = _ids(CONTEXT)
    decoder = Decoder(model, CONTEXT)
    decoder.read(ids[:7])
    decoder.reset()
    assert decoder.length == 0
    with torch.no_grad():
        expected = model(torch.tensor([ids[3:8]]))[0, -1]
    torch.testing.assert_close(decoder.read(ids[3:8]), expected, atol=ATOL, rtol=0)


def test_the_logits_are_float32_plain_tensors_even_inside_autocast():
    model = _model()
    ids = _ids(6)
    with torch.no_grad():
        expected = model(torch.tensor([ids]))[0, -1]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = Decoder(model, CONTEXT).read(ids)
    assert logits.dtype == torch.float32 and logits.shape == (V,)
    assert not logits.is_inference() and not logits.requires_grad
    logits += 0  # a normal tensor: the caller may change it in place
    torch.testing.assert_close(logits, expected, atol=ATOL, rtol=0)


def test_a_decoder_is_a_snapshot_of_the_weights():
    model = _model()
    ids = _ids(4)
    decoder = Decoder(model, CONTEXT)
    with torch.no_grad():
        before = model(torch.tensor([ids]))[0, -1]
        for p in model.parameters():  # training goes on: every weight changes in place
            p.mul_(0.5)
    torch.testing.assert_close(decoder.read(ids), before, atol=ATOL, rtol=0)


def test_what_does_not_fit_is_refused():
    model = _model()
    with pytest.raises(SettingError, match="1..12 positions"):
        Decoder(model, CONTEXT + 1)
    with pytest.raises(SettingError, match="1..12 positions"):
        Decoder(model, 0)
    decoder = Decoder(model, 4)
    decoder.read(_ids(3))
    with pytest.raises(SettingError, match="1..1 more fit, got 2"):
        decoder.read(_ids(2))
    with pytest.raises(SettingError, match="got 0"):
        decoder.read([])
    assert decoder.length == 3  # a refused read changes nothing
