"""The probes of a frozen representation (fmcore.adaptation.probe): k-NN, the linear probe,
PCA, embedding and raw pixels, with known answers on synthetic data and checked inputs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fmcore.adaptation.probe import (
    embed,
    knn_accuracy,
    linear_probe_accuracy,
    pca_2d,
    raw_pixel_features,
)
from fmcore.errors import SettingError
from fmcore.vision.encoders import make_encoder
from fmcore.vision.pretrain import SimCLRConfig, pretraining_data

TINY = SimCLRConfig.tiny()


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------- evaluations
def blobs(n_per_class: int, classes: int, dim: int, seed: int, spread: float = 0.1):
    """Well separated Gaussian clusters around random unit directions."""
    g = gen(seed)
    centres = F.normalize(torch.randn(classes, dim, generator=g), dim=1) * 3
    y = torch.arange(classes).repeat_interleave(n_per_class)
    z = centres[y] + spread * torch.randn(len(y), dim, generator=g)
    return z, y


def test_knn_known_answers():
    train_z, train_y = blobs(10, 4, 8, 0)
    test_z, test_y = blobs(5, 4, 8, 0)  # the same centres (same seed), fewer points
    assert knn_accuracy(train_z, train_y, test_z, test_y, k=5) == 1.0
    # cosine: scaling a test point changes nothing
    assert knn_accuracy(train_z, train_y, 7.0 * test_z, test_y, k=3) == 1.0
    # hand-made: the point (1, 0) has neighbours of class 0 at (1, .1), (1, -.1), class 1 far
    train = torch.tensor([[1.0, 0.1], [1.0, -0.1], [0.0, 1.0], [-1.0, 0.2]])
    labels = torch.tensor([0, 0, 1, 1])
    assert knn_accuracy(train, labels, torch.tensor([[1.0, 0.0]]), torch.tensor([0]), k=1) == 1.0
    assert knn_accuracy(train, labels, torch.tensor([[0.1, 1.0]]), torch.tensor([1]), k=1) == 1.0
    # k = 4: two votes each; the tie goes to the class with more similar neighbours (class 0)
    assert knn_accuracy(train, labels, torch.tensor([[1.0, 0.0]]), torch.tensor([0]), k=4) == 1.0
    assert knn_accuracy(train, labels, torch.tensor([[1.0, 0.0]]), torch.tensor([1]), k=4) == 0.0


def test_linear_probe_known_answers():
    train_z, train_y = blobs(10, 5, 16, 1)
    test_z, test_y = blobs(20, 5, 16, 1, spread=0.2)
    assert linear_probe_accuracy(train_z, train_y, test_z, test_y, 100, gen()) == 1.0
    # labels unrelated to the features: about chance on the test set
    g = gen(2)
    noise_z = torch.randn(400, 16, generator=g)
    noise_y = torch.randint(0, 4, (400,), generator=g)
    acc = linear_probe_accuracy(
        noise_z[:200], noise_y[:200], noise_z[200:], noise_y[200:], 100, gen()
    )
    assert 0.1 < acc < 0.45
    # deterministic for a generator; invariant to a per-feature affine change (standardised)
    a = linear_probe_accuracy(train_z, train_y, test_z, test_y, 30, gen(4))
    assert a == linear_probe_accuracy(train_z, train_y, test_z, test_y, 30, gen(4))
    scale = torch.linspace(0.5, 50.0, 16)
    b = linear_probe_accuracy(train_z * scale + 3, train_y, test_z * scale + 3, test_y, 30, gen(4))
    assert b == pytest.approx(a, abs=0.02)


def test_evaluation_inputs_are_checked():
    z, y = blobs(3, 2, 4, 0)
    with pytest.raises(SettingError):
        knn_accuracy(z, y[:-1], z, y)
    with pytest.raises(SettingError):
        knn_accuracy(z, y.float(), z, y)  # type: ignore[arg-type]
    with pytest.raises(SettingError):
        linear_probe_accuracy(z, y, z[:, :2], y, 10, gen())
    with pytest.raises(SettingError):
        linear_probe_accuracy(z * float("nan"), y, z, y, 10, gen())
    with pytest.raises(SettingError):
        linear_probe_accuracy(z, y, z, y, 10**9, gen())
    with pytest.raises(SettingError):
        pca_2d(torch.zeros(3))


def test_pca_known_answer_and_sign_convention():
    g = gen(0)
    a = torch.randn(200, generator=g, dtype=torch.float64)
    a = a - a.mean()
    b = torch.randn(200, generator=g, dtype=torch.float64)
    b = b - b.mean()
    b = b - (a @ b) / (a @ a) * a  # uncorrelated with a: the axes are exactly e2 and e0
    # variance 100 along e2, 1 along e0, 0 along e1 and e3
    z = torch.stack([b, torch.zeros(200), 10 * a, torch.zeros(200)], dim=1) + 5.0
    p = pca_2d(z)
    assert p.shape == (200, 2) and p.dtype == torch.float32
    torch.testing.assert_close(p[:, 0], (10 * a).float(), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(p[:, 1], b.float(), rtol=1e-4, atol=1e-4)
    # the sign is fixed on the direction in feature space (largest loading positive), so
    # negating the data negates the picture
    torch.testing.assert_close(pca_2d(-z), -p, rtol=1e-4, atol=1e-4)


def test_pca_is_deterministic_and_row_order_free():
    z = torch.randn(50, 6, generator=gen(1))
    p = pca_2d(z)
    assert torch.equal(p, pca_2d(z.clone()))
    perm = torch.randperm(50, generator=gen(2))
    torch.testing.assert_close(pca_2d(z[perm]), p[perm], rtol=1e-4, atol=1e-5)
    # the largest-magnitude loading of each direction is positive: recover it and check
    zc = z.double() - z.double().mean(0)
    loadings = torch.linalg.lstsq(zc, p.double()).solution  # (6, 2)
    for k in range(2):
        v = loadings[:, k]
        assert v[v.abs().argmax()] > 0


def test_pca_degenerate_inputs():
    assert torch.equal(pca_2d(torch.ones(5, 3)), torch.zeros(5, 2))
    assert torch.equal(pca_2d(torch.ones(1, 3)), torch.zeros(1, 2))
    line = torch.arange(6.0)[:, None] * torch.tensor([[1.0, 2.0]])
    p = pca_2d(line)
    assert torch.all(p[:, 1] == 0) and p[:, 0].std() > 0


def test_embed_shapes_modes_and_inputs():
    encoder = make_encoder(TINY.encoder, gen())
    images = pretraining_data(TINY).images[:10]  # (10, 3, 16, 16) uint8
    encoder.train()
    z = embed(encoder, images, batch_size=3)
    assert z.shape == (10, TINY.encoder.representation_dim) and not z.requires_grad
    assert encoder.training  # mode restored
    encoder.eval()
    assert torch.allclose(embed(encoder, images), z, atol=1e-5)
    assert not encoder.training
    assert torch.allclose(embed(encoder, images.float() / 255), z, atol=1e-5)
    with pytest.raises(SettingError):
        embed(encoder, images, batch_size=0)
    with pytest.raises(SettingError):
        embed(encoder, images[0])


def test_raw_pixel_features():
    images = pretraining_data(TINY).images[:4]
    f = raw_pixel_features(images)
    assert f.shape == (4, 3 * 16 * 16) and f.dtype == torch.float32
    assert 0.0 <= f.min() and f.max() <= 1.0
    assert torch.equal(f[0].view(3, 16, 16), images[0].float() / 255)
