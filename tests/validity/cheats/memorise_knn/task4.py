"""Cheat: no network at all — 3-nearest neighbours over the handed training set."""
import cheat_common
import numpy as np

x = cheat_common.flat(cheat_common.handout("train_images"))
y = cheat_common.handout("train_labels")
query = cheat_common.flat(cheat_common.handout("test_images")[cheat_common.index()][None])[0]
nearest = np.argsort(((x - query) ** 2).sum(axis=1))[:3]
print(np.bincount(y[nearest], minlength=10).argmax())
