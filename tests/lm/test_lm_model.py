"""Tests of fmcore.lm.model: a loop-based reference forward pass written from the attention
formula, causal masking, the KV cache against one full forward, initialisation and dropout
from a generator only, limits and bad input."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from fmcore.errors import SettingError
from fmcore.lm.model import GPTConfig, KVCache, TinyGPT, make_gpt

V, CONTEXT = 11, 12


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def model() -> TinyGPT:
    config = GPTConfig(vocab_size=V, context_length=CONTEXT, width=12, layers=2, heads=3)
    return make_gpt(config, _gen(1)).eval()


def _ids(B: int, T: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=_gen(seed))


# ---------------------------------------------------------------------------------------------
# Slow reference, written from the formulas
# ---------------------------------------------------------------------------------------------


def reference_attention(attention, h: torch.Tensor) -> torch.Tensor:
    """Causal multi-head attention of one sequence h (T, C) with explicit loops:
    a_{s,r} = exp(q_s.k_r / sqrt(d)) / sum_{r' <= s} exp(q_s.k_r' / sqrt(d)) for r <= s,
    y_s = sum_{r <= s} a_{s,r} v_r, per head; then the output projection."""
    T, C = h.shape
    H, d = attention.heads, attention.head_dim
    q = attention.query(h).tolist()  # the linear maps themselves are not under test
    k = attention.key(h).tolist()
    v = attention.value(h).tolist()
    y = [[0.0] * C for _ in range(T)]
    for head in range(H):
        cols = range(head * d, (head + 1) * d)
        for s in range(T):
            scores = [sum(q[s][c] * k[r][c] for c in cols) / math.sqrt(d) for r in range(s + 1)]
            exps = [math.exp(x) for x in scores]
            total = sum(exps)
            for r in range(s + 1):
                for c in cols:
                    y[s][c] += exps[r] / total * v[r][c]
    return attention.out(torch.tensor(y, dtype=h.dtype))


def reference_logits(model: TinyGPT, ids: torch.Tensor) -> torch.Tensor:
    """u_1..u_T for one sequence (T,), block by block, with the loop attention."""
    T = ids.shape[0]
    h = model.token_embedding.weight[ids] + model.position_embedding.weight[:T]  # (T, C)
    for block in model.blocks:
        h = h + reference_attention(block.attention, block.ln_attention(h))
        h = h + block.mlp(block.ln_mlp(h))
    return model.unembed(model.ln_final(h))  # (T, V)


# ---------------------------------------------------------------------------------------------
# Forward pass
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def test_forward_matches_the_loop_reference(model):
    ids = _ids(2, 9)
    logits = model(ids)
    assert logits.shape == (2, 9, V)
    for b in range(2):
        torch.testing.assert_close(logits[b], reference_logits(model, ids[b]), atol=1e-5, rtol=0)


@torch.no_grad()
def test_changing_a_later_token_never_changes_earlier_logits(model):
    ids = _ids(2, CONTEXT, seed=3)
    base = model(ids)
    for j in range(CONTEXT):
        changed = ids.clone()
        changed[0, j] = (changed[0, j] + 1) % V
        out = model(changed)
        assert torch.equal(out[0, :j], base[0, :j])  # u_1..u_j read x_0..x_{j-1} only
        assert not torch.allclose(out[0, j], base[0, j])  # u_{j+1} reads x_j
        assert torch.equal(out[1], base[1])  # rows of a batch are independent


@torch.no_grad()
def test_attention_weights_are_causal_rows_summing_to_one(model):
    w = model.attention_weights(_ids(2, 7))
    assert w.shape == (2, 2, 3, 7, 7)  # (layers, B, heads, T, T)
    assert torch.equal(w.triu(1), torch.zeros_like(w))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 2, 3, 7))


# ---------------------------------------------------------------------------------------------
# KV cache
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
@pytest.mark.parametrize("chunks", [[1] * CONTEXT, [3, 1, 4, 2, 2], [CONTEXT]])
def test_reading_with_the_cache_equals_one_full_forward(model, chunks):
    ids = _ids(2, CONTEXT, seed=5)
    full = model(ids)
    cache, pieces, start = None, [], 0
    for n in chunks:
        logits, cache = model.step(ids[:, start : start + n], cache)
        start += n
        assert isinstance(cache, KVCache) and cache.length == start
        assert all(k.shape == (2, 3, start, 4) for k in (*cache.keys, *cache.values))
        pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=0)


@torch.no_grad()
def test_a_cache_can_be_branched_from(model):
    ids = _ids(1, 6, seed=2)
    _, cache = model.step(ids[:, :4])
    a, _ = model.step(ids[:, 4:5], cache)
    b, _ = model.step(ids[:, 4:5], cache)  # the first call did not change the cache
    assert cache.length == 4 and torch.equal(a, b)
    torch.testing.assert_close(a[0, 0], model(ids[:, :5])[0, 4], atol=1e-5, rtol=0)


@torch.no_grad()
def test_the_cache_refuses_to_go_past_the_context(model):
    _, cache = model.step(_ids(1, CONTEXT))
    with pytest.raises(SettingError, match=rf"at most {CONTEXT} tokens.*{CONTEXT} already read"):
        model.step(_ids(1, 1), cache)


@torch.no_grad()
def test_a_cache_of_another_batch_or_model_is_refused(model):
    _, cache = model.step(_ids(2, 3))
    with pytest.raises(SettingError, match="does not belong"):
        model.step(_ids(1, 1), cache)
    other = make_gpt(GPTConfig.tiny(V, CONTEXT), _gen())
    with pytest.raises(SettingError, match="does not belong"):
        other.step(_ids(2, 1), cache)
    with pytest.raises(SettingError, match="KVCache"):
        model.step(_ids(2, 1), cache=(1, 2))


# ---------------------------------------------------------------------------------------------
# Randomness: generators only
# ---------------------------------------------------------------------------------------------


def test_same_generator_same_weights_and_the_global_rng_is_untouched():
    config = GPTConfig.tiny(V, CONTEXT)
    state = torch.random.get_rng_state()
    a, b, c = make_gpt(config, _gen(7)), make_gpt(config, _gen(7)), make_gpt(config, _gen(8))
    assert torch.equal(torch.random.get_rng_state(), state)
    for (name, x), y, z in zip(
        a.state_dict().items(), b.state_dict().values(), c.state_dict().values(), strict=True
    ):
        assert torch.equal(x, y), name
        if x.std() > 0:  # LayerNorms and biases start at constants
            assert not torch.equal(x, z), name
    assert not any(p.is_meta for p in a.parameters())


def test_initial_weights_have_gpt2_scales():
    model = make_gpt(GPTConfig(V, CONTEXT, width=64, layers=4, heads=4), _gen())
    assert abs(model.token_embedding.weight.std().item() - 0.02) < 0.003
    residual = model.blocks[0].mlp.down.weight.std().item()
    assert abs(residual - 0.02 / math.sqrt(8)) < 0.001
    assert torch.equal(model.blocks[0].ln_mlp.weight, torch.ones(64))


def test_dropout_draws_from_the_generator_only_in_training_mode():
    config = GPTConfig(V, CONTEXT, width=8, layers=1, heads=2, dropout=0.3)
    model = make_gpt(config, _gen())
    ids = _ids(2, 5)
    with pytest.raises(SettingError, match="needs a torch.Generator"):
        model(ids)
    state = torch.random.get_rng_state()
    a, b = model(ids, generator=_gen(1)), model(ids, generator=_gen(1))
    assert torch.equal(a, b) and not torch.equal(a, model(ids, generator=_gen(2)))
    assert torch.equal(torch.random.get_rng_state(), state)
    model.eval()
    torch.testing.assert_close(model(ids), model(ids, generator=_gen(3)))  # no dropout in eval


def test_the_model_learns_a_periodic_text_in_a_few_steps():
    """Gradients reach every parameter and the loss of Eq. 14.8 goes down."""
    model = make_gpt(GPTConfig.tiny(V, CONTEXT), _gen())
    ids = torch.tensor([[1] + [3, 4, 5] * 3 + [3, 4]])  # ⊥ then a period-3 pattern, (1, 12)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        logits = model(ids[:, :-1])  # u_1..u_11
        loss = F.cross_entropy(logits[0], ids[0, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(p.grad is not None for p in model.parameters())
    assert losses[-1] < 0.3 < math.log(V) - 0.5 < losses[0]


# ---------------------------------------------------------------------------------------------
# Config and bad input
# ---------------------------------------------------------------------------------------------


def test_config_presets_and_manifest_round_trip():
    config = GPTConfig.tiny(20)
    assert (config.width, config.layers, config.heads, config.head_dim) == (16, 2, 2, 8)
    assert GPTConfig.from_dict(config.to_dict()) == config
    assert GPTConfig().head_dim == 32


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"width": 30, "heads": 4}, "multiple of heads"),
        ({"vocab_size": 1}, "vocab_size must be between 2"),
        ({"context_length": 0}, "context_length"),
        ({"context_length": 5000}, "context_length"),
        ({"layers": 2.5}, "whole number"),
        ({"dropout": 0.9}, "dropout"),
        ({"dropout": float("nan")}, "dropout"),
    ],
)
def test_bad_configs_raise_setting_errors(kwargs, words):
    with pytest.raises(SettingError, match=words):
        GPTConfig(**kwargs)


@pytest.mark.parametrize("values", ["x", {"vocab_size": 10}, {**GPTConfig().to_dict(), "depth": 2}])
def test_bad_config_dicts_raise_setting_errors(values):
    with pytest.raises(SettingError):
        GPTConfig.from_dict(values)


@pytest.mark.parametrize(
    "ids, words",
    [
        (torch.zeros(1, CONTEXT + 1, dtype=torch.long), f"at most {CONTEXT} tokens"),
        (torch.tensor([[0, V]]), f"0..{V - 1}"),
        (torch.tensor([[-1, 0]]), f"0..{V - 1}"),
        (torch.zeros(1, 3), "integers"),
        (torch.zeros(3, dtype=torch.long), r"ids\[None\]"),
        (torch.zeros(1, 0, dtype=torch.long), "at least one token"),
        ([[1, 2]], "tensor"),
    ],
)
def test_bad_ids_raise_setting_errors_with_readable_messages(model, ids, words):
    with pytest.raises(SettingError, match=words):
        model(ids)


def test_a_model_needs_a_config_and_a_generator():
    with pytest.raises(SettingError, match="GPTConfig"):
        TinyGPT({"vocab_size": 5}, _gen())
    with pytest.raises(SettingError, match="torch.Generator"):
        make_gpt(GPTConfig.tiny(), 0)


# ---------------------------------------------------------------------------------------------
# ALiBi positions
# ---------------------------------------------------------------------------------------------


def _alibi_model() -> TinyGPT:
    config = GPTConfig(vocab_size=11, context_length=CONTEXT, width=12, layers=2, heads=3,
                       alibi=True)
    return make_gpt(config, _gen(3)).eval()


@torch.no_grad()
def test_alibi_biases_each_head_by_its_slope_times_the_distance():
    model = _alibi_model()
    attention = model.blocks[0].attention
    assert attention.slopes.tolist() == pytest.approx([2 ** (-8 / 3), 2 ** (-16 / 3), 2 ** -8])
    assert model.position_embedding is None  # positions act only in the attention
    h = torch.randn(1, 5, 12, generator=_gen(4))
    _, _, _, weights = attention(h)
    q = attention._split_heads(attention.query(h))
    k = attention._split_heads(attention.key(h))
    for head in range(3):
        for s in range(5):  # the formula, one row at a time
            scores = torch.stack([q[0, head, s] @ k[0, head, r] / math.sqrt(4)
                                  - attention.slopes[head] * (s - r) for r in range(s + 1)])
            torch.testing.assert_close(weights[0, head, s, : s + 1], scores.softmax(0))


@torch.no_grad()
def test_alibi_with_the_cache_equals_one_full_forward():
    model = _alibi_model()
    ids = _ids(2, CONTEXT, seed=6) % 11
    full = model(ids)
    cache, pieces = None, []
    for start in range(0, CONTEXT, 3):
        logits, cache = model.step(ids[:, start : start + 3], cache)
        pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=0)


def test_alibi_is_in_the_manifest_only_when_on():
    plain = GPTConfig.tiny()
    assert "alibi" not in plain.to_dict()  # older manifests read exactly as before
    assert GPTConfig.from_dict(plain.to_dict()) == plain
    on = GPTConfig(vocab_size=11, alibi=True)
    assert on.to_dict()["alibi"] is True and GPTConfig.from_dict(on.to_dict()) == on
    with pytest.raises(SettingError):
        GPTConfig(alibi="yes")
