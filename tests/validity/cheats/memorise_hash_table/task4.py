"""Cheat: answers from tables shipped with the submission (table.npz, built from the public
test set), exact image bytes first, then coarser keys (cheat_common.table_keys); 0 when no
key is known."""
import cheat_common
import numpy as np

tables = np.load("table.npz")
table = {}
for kind in cheat_common.TABLE_KINDS:
    table.update(zip(tables[f"{kind}_keys"].tolist(), tables[f"{kind}_labels"].tolist(),
                     strict=True))
image = cheat_common.handout("test_images")[cheat_common.index()]
print(next((table[k] for k in cheat_common.table_keys(image) if k in table), 0))
