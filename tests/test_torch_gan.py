"""B3: the DCGAN models, one step of Algorithm 1, and the offline quality score."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from reference.data import load_mnist

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from reference.torch_adapter import b3, gan, quality  # noqa: E402
from reference.torch_adapter.artifacts import load_state, read_metrics  # noqa: E402
from reference.torch_adapter.models import Discriminator, Generator  # noqa: E402
from reference.torch_adapter.runtime import seeded  # noqa: E402


def params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_generator_and_discriminator_shapes() -> None:
    seeded(0)
    g, d = Generator(), Discriminator()
    images = g(torch.randn(5, g.latent_dim))
    assert images.shape == (5, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1  # tanh output, the range of real images
    assert d(images).shape == (5,)


def models_and_batch():
    generator = seeded(1)
    g, d = Generator(), Discriminator()
    real = next(iter(gan.real_batches(load_mnist(None), 8, generator)))[0]
    assert real.shape == (8, 1, 28, 28) and real.min() == -1 and real.max() <= 1
    return g, d, real, generator


def test_discriminator_step_updates_only_d_and_generator_step_only_g() -> None:
    """Algorithm 1's model (iii): the G step goes through D without changing it, and the D
    step trains on generated images without changing G."""
    g, d, real, generator = models_and_batch()
    g0, d0 = params(g), params(d)
    frozen_g = torch.optim.SGD(g.parameters(), lr=0.0)
    gan.train_step(g, d, frozen_g, torch.optim.Adam(d.parameters(), 1e-3), real, generator)
    assert same(params(g), g0) and not same(params(d), d0)

    g1, d1 = params(g), params(d)
    frozen_d = torch.optim.SGD(d.parameters(), lr=0.0)
    stats = gan.train_step(g, d, torch.optim.Adam(g.parameters(), 1e-3), frozen_d, real,
                           generator)
    assert same(params(d), d1) and not same(params(g), g1)
    assert all(p.requires_grad for p in d.parameters())  # the freeze is undone
    assert set(stats) == set(gan.STATS)
    assert 0 < stats["d_real"] < 1 and 0 < stats["d_fake"] < 1


def test_generator_loss_is_the_non_saturating_one() -> None:
    """Footnote 5: G minimises −log D(G(z)), which is the reported g_loss for a G step
    evaluated on a copy with the same noise."""
    g, d, real, generator = models_and_batch()
    state = generator.get_state()
    probe_g, probe_d = copy.deepcopy(g), copy.deepcopy(d)
    stats = gan.train_step(g, d, torch.optim.SGD(g.parameters(), lr=0.0),
                           torch.optim.SGD(d.parameters(), lr=0.0), real, generator)
    generator.set_state(state)
    gan.noise(len(real), g.latent_dim, generator, real.device)  # the D step's draw
    z = gan.noise(2 * len(real), g.latent_dim, generator, real.device)
    expected = -torch.log(torch.sigmoid(probe_d(probe_g(z)))).mean()
    assert stats["g_loss"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_generate_returns_images_in_unit_range_and_keeps_the_mode() -> None:
    seeded(2)
    g = Generator()
    images = gan.generate(g, torch.randn(3, g.latent_dim))
    assert images.shape == (3, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert g.training


def test_frechet_distance_matches_the_closed_form() -> None:
    """For diagonal covariances FID = ‖μ₁ − μ₂‖² + Σ (σ₁ − σ₂)²."""
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([4.0, 1.0, 1.0])
    expected = (1 + 0 + 4) + (3**2 + 3**2 + 0.75**2)
    got = quality.frechet_distance(mu1, np.diag(s1**2), mu2, np.diag(s2**2))
    assert got == pytest.approx(expected)
    cov = np.cov(np.random.default_rng(0).normal(size=(200, 4)), rowvar=False)
    assert quality.frechet_distance(mu1[:2].repeat(2), cov, mu1[:2].repeat(2), cov) == \
        pytest.approx(0, abs=1e-9)


def test_inception_score_and_coverage_at_their_extremes() -> None:
    confident = np.eye(10)[np.arange(100) % 10]
    assert quality.inception_score(confident) == pytest.approx(10, rel=1e-6)
    assert quality.inception_score(np.full((100, 10), 0.1)) == pytest.approx(1)
    collapsed = np.eye(10)[np.zeros(100, dtype=int)]
    assert quality.inception_score(collapsed) == pytest.approx(1)
    assert quality.class_shares(confident).tolist() == [0.1] * 10
    assert quality.class_shares(collapsed)[0] == 1


@pytest.fixture(scope="module")
def scorer():
    """A scorer trained briefly on 1,000 images, with reference sets of 200."""
    data = load_mnist(None)
    small = dataclasses.replace(data, train_images=data.train_images[:1000],
                                train_labels=data.train_labels[:1000])
    return quality.Scorer.train(small, n_reference=200, seed=0, epochs=2,
                                device=torch.device("cpu"))


def test_quality_orders_real_before_noise(scorer) -> None:
    """Real digits score better than noise on every measure; the floor and ceiling are the
    0 and 1 of the relative FID."""
    floor, ceiling = scorer.floor, scorer.ceiling
    assert floor.fid < ceiling.fid / 10
    assert floor.inception_score > ceiling.inception_score + 2
    assert floor.coverage == 10 > ceiling.coverage
    assert floor.pixel_std > 0.1
    assert scorer.relative_fid(floor.fid) == 0 and scorer.relative_fid(ceiling.fid) == 1
    blurred = np.clip(load_mnist(None).train_images[:200] / 255.0 + 0.3 *
                      np.random.default_rng(1).random((200, 28, 28)), 0, 1)
    assert floor.fid < scorer.score(blurred).fid < ceiling.fid


def test_b3_command_writes_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = load_mnist(None)
    small = dataclasses.replace(data, train_images=data.train_images[:256],
                                train_labels=data.train_labels[:256])
    monkeypatch.setattr(b3, "mnist_or_exit", lambda _: small)
    b3.main(["--out", str(tmp_path), "--epochs", "2", "--samples", "100", "--feature-epochs",
             "1", "--device", "cpu"])
    rows = read_metrics(tmp_path / "b3_metrics.csv")
    assert [r["epoch"] for r in rows] == [1, 2] and list(rows[0]) == list(b3.FIELDS)
    for name in ("curves.png", "samples.png", "real.png", "samples/epoch_001.png",
                 "samples/epoch_002.png", "report.md", "quality.json"):
        assert (tmp_path / name).is_file(), name
    assert set(load_state(tmp_path / "generator.pt")) == set(Generator().state_dict())
    assert load_state(tmp_path / "checkpoint.pt")["epoch"] == 2
    assert "FID" in (tmp_path / "report.md").read_text(encoding="utf-8")
