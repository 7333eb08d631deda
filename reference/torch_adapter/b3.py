"""B3 (§6.6): a DCGAN on MNIST, trained by Algorithm 1, scored offline.

    python -m reference.torch_adapter.b3 --out DIR [--epochs N]

Writes to ``DIR``: ``b3_metrics.csv`` (per epoch: D and G losses, D's mean outputs on
real and generated images, FID of a fixed set of noise vectors, seconds),
``samples/epoch_NNN.png`` (the same 64 noise vectors every epoch), ``checkpoint.pt``
(both models and optimizers, rewritten every epoch), ``generator.pt`` and
``discriminator.pt`` (state dicts), ``quality.json`` (final FID, inception score and
coverage with their real-vs-real floor and noise ceiling), ``curves.png``,
``samples.png``, ``real.png`` and ``report.md``. The defaults finish in well under 15
minutes on two CPU cores with the embedded data.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

from reference.data import Dataset
from reference.torch_adapter import gan, report
from reference.torch_adapter.artifacts import MetricsCsv, read_metrics, save_state
from reference.torch_adapter.cli import add_settings, mnist_or_exit, settings_from
from reference.torch_adapter.models import Discriminator, Generator
from reference.torch_adapter.plots import gan_curves, image_grid
from reference.torch_adapter.quality import Scorer
from reference.torch_adapter.runtime import pick_device, seeded

FIELDS = ("epoch", *gan.STATS, "fid", "seconds")
GRID = 64


@dataclasses.dataclass(frozen=True)
class Settings:
    """Hyper-parameters: B = 128, Adam(2e-4, β₁ = 0.5) as in the DCGAN paper.

    ``max_minutes`` bounds the run on a slow or busy machine: no epoch starts after it
    (30 epochs take about 5 minutes on two idle cores, so it rarely binds; when it does,
    the report's epoch count says so).
    """

    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-4
    seed: int = 0
    samples: int = 500
    feature_epochs: int = 3
    max_minutes: float = 12.0


def train(dataset: Dataset, out: Path, settings: Settings,
          device: torch.device | None = None) -> dict:
    """Train G and D by Algorithm 1, scoring and drawing the fixed noise after every epoch;
    write every file of the run to ``out``; return ``quality.json``'s dict."""
    device = device or pick_device()
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    scorer = Scorer.train(dataset, n_reference=settings.samples, seed=settings.seed,
                          epochs=settings.feature_epochs, device=device)
    print(f"feature net test accuracy {scorer.test_accuracy:.4f}; FID floor "
          f"{scorer.floor.fid:.2f}, noise ceiling {scorer.ceiling.fid:.2f}", file=sys.stderr)
    generator = seeded(settings.seed)
    g, d = Generator().to(device), Discriminator().to(device)
    betas = (0.5, 0.999)  # β₁ = 0.9 makes DCGAN training oscillate (Radford et al.)
    opt_g = torch.optim.Adam(g.parameters(), lr=settings.lr, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=settings.lr, betas=betas)
    grid_z = gan.noise(GRID, g.latent_dim, generator, device)
    score_z = gan.noise(scorer.n, g.latent_dim, generator, device)
    batches = gan.real_batches(dataset, settings.batch_size // 2, generator)
    with MetricsCsv(out / "b3_metrics.csv", FIELDS) as metrics:
        for epoch in range(1, settings.epochs + 1):
            start = time.perf_counter()
            if start - started > settings.max_minutes * 60:
                print(f"stopped before epoch {epoch}: {settings.max_minutes} minutes used",
                      file=sys.stderr)
                break
            stats = gan.train_epoch(g, d, opt_g, opt_d, batches, generator, device)
            fid = scorer.score(gan.generate(g, score_z)).fid
            image_grid(gan.generate(g, grid_z), out / "samples" / f"epoch_{epoch:03d}.png",
                       title=f"epoch {epoch}")
            save_state(out / "checkpoint.pt", {
                "epoch": epoch, "generator": g.state_dict(), "discriminator": d.state_dict(),
                "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict()})
            row = {"epoch": epoch, **stats, "fid": fid, "seconds": time.perf_counter() - start}
            metrics.write(row)
            print(f"epoch {epoch}/{settings.epochs}: " + ", ".join(
                f"{k} {row[k]:.3f}" for k in FIELDS[1:]), file=sys.stderr, flush=True)
    return finish(out, g, d, scorer, (grid_z, score_z), dataset)


def finish(out: Path, g: Generator, d: Discriminator, scorer: Scorer,
           noise: tuple[torch.Tensor, torch.Tensor], dataset: Dataset) -> dict:
    """The trained models, the final quality (``quality.json``, returned) and the figures.

    ``noise`` is the fixed z of the sample grid ``(64, d)`` and of the score ``(n, d)``.
    """
    grid_z, score_z = noise
    save_state(out / "generator.pt", g.state_dict())
    save_state(out / "discriminator.pt", d.state_dict())
    final = scorer.score(gan.generate(g, score_z))
    quality = {"n": scorer.n, "feature_net_test_accuracy": scorer.test_accuracy,
               "relative_fid": scorer.relative_fid(final.fid),
               "relative_inception_score": scorer.relative_inception_score(
                   final.inception_score),
               "generated": dataclasses.asdict(final),
               "floor": dataclasses.asdict(scorer.floor),
               "ceiling": dataclasses.asdict(scorer.ceiling)}
    (out / "quality.json").write_text(json.dumps(quality, indent=2), encoding="utf-8")
    image_grid(gan.generate(g, grid_z), out / "samples.png", title="生成画像 (generated)")
    real = dataset.test_images[:GRID] / 255.0
    image_grid(real, out / "real.png", title="本物の画像 (real)")
    gan_curves(read_metrics(out / "b3_metrics.csv"), out / "curves.png",
               scorer.floor.fid, scorer.ceiling.fid)
    return quality


def quality_table(quality: dict) -> str:
    """Generated images beside the floor and ceiling, one column each."""
    sets = [(quality[k], label) for k, label in (
        ("floor", "本物 (real, floor)"), ("generated", "生成 (generated)"),
        ("ceiling", "ノイズ (noise, ceiling)"))]
    metrics = [("FID ↓", "fid"), ("inception score ↑", "inception_score"),
               ("coverage (digits) ↑", "coverage"), ("pixel std", "pixel_std")]
    return report.table(["", *(label for _, label in sets)],
                        [(name, *(s[key] for s, _ in sets)) for name, key in metrics])


def write_report(out: Path, quality: dict, settings: Settings, source: str) -> Path:
    shares = ", ".join(f"{digit}: {share:.0%}"
                       for digit, share in enumerate(quality["generated"]["class_shares"]))
    rows = read_metrics(out / "b3_metrics.csv")
    minutes = sum(r["seconds"] for r in rows) / 60
    sections = [
        ("設定 (settings)", f"{source}; " + ", ".join(
            f"{k} = {v}" for k, v in dataclasses.asdict(settings).items())
         + f"; 学習したエポック数 (epochs trained) {len(rows)}"
         + f"; 学習時間 (training time) {minutes:.1f} min"),
        ("品質 (quality)", "\n\n".join([
            quality_table(quality),
            f"相対位置 (relative position, real = 0 / noise = 1 for FID, noise = 0 / real = 1 "
            f"for IS): FID {quality['relative_fid']:.3f}, IS "
            f"{quality['relative_inception_score']:.3f}; {quality['n']} 枚ずつ (images per set); "
            f"特徴抽出 CNN のテスト精度 (feature net test accuracy): "
            f"{quality['feature_net_test_accuracy']:.4f}",
            f"生成画像の予測クラスの割合 (predicted digits): {shares}"])),
        ("生成画像 (samples)", "\n\n".join([
            report.figure(out / "samples.png", out, "固定したノイズからの生成画像 (fixed noise)"),
            report.figure(out / "real.png", out, "本物のテスト画像 (real test images)")])),
        ("学習の経過 (training curves)",
         report.figure(out / "curves.png", out, "損失・D の出力・FID (losses, D outputs, FID)")),
    ]
    return report.write(out / "report.md", "発展課題 B3: DCGAN による画像生成 (PyTorch)", sections)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m reference.torch_adapter.b3",
                                description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--data-dir", help="MNIST IDX folder (default: $MNIST_DIR, else embedded)")
    add_settings(p, Settings())
    args = p.parse_args(argv)
    dataset = mnist_or_exit(args.data_dir)
    settings = settings_from(args, Settings)
    quality = train(dataset, args.out, settings, pick_device(args.device))
    print(f"report: {write_report(args.out, quality, settings, dataset.source)}", file=sys.stderr)


if __name__ == "__main__":
    main()
