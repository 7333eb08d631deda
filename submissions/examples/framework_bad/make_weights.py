"""Write this example's weight files: ``python make_weights.py`` (in this folder).

``b1_weights.pt`` is the state dict of the 32-unit network the student trained before
changing ``b1_model.py``; ``b3_generator.pt`` holds the mean training digit.
"""

import numpy as np
import torch
from b3_generator import build_generator
from torch import nn

from reference.data import load_mnist

if __name__ == "__main__":
    torch.manual_seed(0)
    trained = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 32), nn.ReLU(), nn.Linear(32, 10))
    torch.save(trained.state_dict(), "b1_weights.pt")

    generator = build_generator()
    mean = load_mnist().train_images.mean(axis=0) / 255.0 * 2 - 1
    with torch.no_grad():
        generator.image.copy_(torch.from_numpy(np.arctanh(mean.clip(-0.99, 0.99))))
    torch.save(generator.state_dict(), "b3_generator.pt")
