"""Cheat: the label of the nearest image of the public labelled test set shipped with the
submission (public_test.npz) — a lookup that no small perturbation of the handout defeats."""
import cheat_common

print(cheat_common.nearest_public(cheat_common.handout("test_images")[cheat_common.index()]))
