"""Code similarity (winnowing) and report similarity (character n-grams)."""

from __future__ import annotations

import json
import random
import unicodedata
from itertools import combinations
from pathlib import Path

import nbformat
import pytest

from grader.similarity import (
    CodeFingerprints,
    Span,
    code_fingerprints,
    kgram_hashes,
    match_code,
    normalised_tokens,
    report_similarity,
    similar_code,
    skeleton_hashes,
    winnow,
)

# --- code written the way students write it -----------------------------------------------

ORIGINAL = '''\
"""Task 2: mean cross-entropy of a random minibatch."""
import numpy as np


def softmax(a):
    # subtract the row maximum so that exp does not overflow
    shifted = a - np.max(a, axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=1, keepdims=True)


def cross_entropy(y, t):
    batch = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch), t] + 1e-7)) / batch


def init_params(rng, n_in, n_hidden, n_out):
    w1 = rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_hidden))
    b1 = rng.normal(0.0, 1.0 / np.sqrt(n_in), n_hidden)
    w2 = rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_hidden, n_out))
    b2 = rng.normal(0.0, 1.0 / np.sqrt(n_hidden), n_out)
    return w1, b1, w2, b2


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def forward(params, x):
    w1, b1, w2, b2 = params
    hidden = sigmoid(x @ w1 + b1)
    return softmax(hidden @ w2 + b2)


def main():
    rng = np.random.default_rng(0)
    images = rng.random((100, 784))
    labels = rng.integers(0, 10, 100)
    batch = rng.choice(100, 10, replace=False)
    params = init_params(rng, 784, 32, 10)
    y = forward(params, images[batch])
    print(cross_entropy(y, labels[batch]))


if __name__ == "__main__":
    main()
'''

# The same program with every name changed, other comments and docstrings, blank lines
# moved, and the functions in another order.
DISGUISED = '''\
import numpy as np

# ==== my own network for kadai 2 ====


def make_weights(gen, size_x, size_h, size_y):
    """Initialise the two layers."""
    W_a = gen.normal(0.0, 1.0 / np.sqrt(size_x), (size_x, size_h))
    bias_a = gen.normal(0.0, 1.0 / np.sqrt(size_x), size_h)
    W_b = gen.normal(0.0, 1.0 / np.sqrt(size_h), (size_h, size_y))
    bias_b = gen.normal(0.0, 1.0 / np.sqrt(size_h), size_y)
    return W_a, bias_a, W_b, bias_b


def run():
    gen = np.random.default_rng(0)
    X = gen.random((100, 784))
    Y = gen.integers(0, 10, 100)
    picked = gen.choice(100, 10, replace=False)
    net = make_weights(gen, 784, 32, 10)
    prob = predict(net, X[picked])
    print(loss(prob, Y[picked]))


def activation(v):
    return 1.0 / (1.0 + np.exp(-v))
def loss(prob, answer):
    n = prob.shape[0]   # number of samples
    return -np.sum(np.log(prob[np.arange(n), answer] + 1e-7)) / n
def normalise(score):
    """Softmax."""
    moved = score - np.max(score, axis=1, keepdims=True)
    ex = np.exp(moved)
    return ex / np.sum(ex, axis=1, keepdims=True)


def predict(net, X):
    W_a, bias_a, W_b, bias_b = net
    h = activation(X @ W_a + bias_a)
    return normalise(h @ W_b + bias_b)


if __name__ == "__main__":
    run()
'''

# The same task solved independently: a class, explicit loops, other library calls.
INDEPENDENT = '''\
import numpy as np


class TwoLayerNet:
    def __init__(self, sizes, seed=1):
        generator = np.random.default_rng(seed)
        self.layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            scale = np.sqrt(2 / fan_in)
            weight = generator.standard_normal((fan_in, fan_out)) * scale
            self.layers.append([weight, np.zeros(fan_out)])

    def scores(self, x):
        out = x
        for i, (weight, bias) in enumerate(self.layers):
            out = out.dot(weight) + bias
            if i + 1 < len(self.layers):
                out = np.where(out > 0, out, 0)
        return out


def probabilities(scores):
    rows = []
    for row in scores:
        top = max(row)
        exps = [np.exp(v - top) for v in row]
        total = sum(exps)
        rows.append([v / total for v in exps])
    return np.array(rows)


def mean_loss(probs, answers):
    total = 0.0
    for p, k in zip(probs, answers):
        total -= np.log(max(p[k], 1e-12))
    return total / len(answers)


net = TwoLayerNet([784, 64, 10])
data = np.random.default_rng(3).uniform(size=(50, 784))
truth = np.random.default_rng(4).integers(10, size=50)
chosen = np.random.default_rng(5).permutation(50)[:20]
print(f"{mean_loss(probabilities(net.scores(data[chosen])), truth[chosen]):.6f}")
'''

# Course-provided code that every student pastes in unchanged.
SKELETON = '''\
import gzip
import os

import numpy as np


def load_images(path):
    with gzip.open(path, "rb") as f:
        magic = int.from_bytes(f.read(4), "big")
        if magic != 2051:
            raise ValueError(f"{path}: bad magic number {magic}")
        count = int.from_bytes(f.read(4), "big")
        rows = int.from_bytes(f.read(4), "big")
        cols = int.from_bytes(f.read(4), "big")
        data = np.frombuffer(f.read(), dtype=np.uint8)
    return data.reshape(count, rows * cols).astype(np.float32) / 255.0


def load_labels(path):
    with gzip.open(path, "rb") as f:
        magic = int.from_bytes(f.read(4), "big")
        if magic != 2049:
            raise ValueError(f"{path}: bad magic number {magic}")
        count = int.from_bytes(f.read(4), "big")
        data = np.frombuffer(f.read(), dtype=np.uint8)
    if data.size != count:
        raise ValueError(f"{path}: expected {count} labels, found {data.size}")
    return data.astype(np.int64)


def mnist_dir():
    return os.environ.get("MNIST_DIR", "mnist")
'''


def submission(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    for rel, text in files.items():
        (folder / rel).write_text(text, encoding="utf-8")
    return folder


def notebook(path: Path, cells: list[str], markdown: str = "# 課題2") -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown),
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)


def pair_names(pairs: list) -> set[tuple[str, str]]:
    return {(p.a, p.b) for p in pairs}


# --- tokens, hashes and winnowing -----------------------------------------------------------


def test_renaming_and_comments_do_not_change_tokens():
    a = normalised_tokens("total = price * 2  # doubled\nprint(total)\n")
    b = normalised_tokens("# other comment\n\nsumme=kosten*7\nprint( summe )\n")
    assert [t for t, _, _ in a] == [t for t, _, _ in b]


def test_keywords_operators_and_literal_types_are_kept():
    tokens = [t for t, _, _ in normalised_tokens("if x is None:\n    y = 1.5 + 2 - 0x1F + 'a'\n")]
    assert tokens == ["if", "V", "is", "None", ":", "V", "=", "FLOAT", "+", "INT", "-", "INT",
                      "+", "STRING"]


def test_token_lines_follow_multiline_strings():
    tokens = normalised_tokens('x = """one\ntwo\nthree"""\ny = 1\n')
    assert tokens[2] == ("STRING", 1, 3)
    assert tokens[3] == ("V", 4, 4)


def test_rolling_hash_equals_hash_computed_afresh():
    rng = random.Random(7)
    tokens = [rng.choice(["V", "=", "(", ")", "INT", "def", "+"]) for _ in range(60)]
    rolled = kgram_hashes(tokens, 5)
    assert len(rolled) == 56
    assert rolled == [kgram_hashes(tokens[i:i + 5], 5)[0] for i in range(56)]
    assert kgram_hashes(tokens[:4], 5) == []


def test_winnowing_picks_the_rightmost_minimum_of_every_window():
    hashes = [77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98]
    # Schleimer et al.'s running example, w = 4.
    assert [hashes[p] for p in winnow(hashes, 4)] == [17, 17, 8, 39, 17]
    assert winnow(hashes, 4) == [3, 6, 8, 11, 15]
    assert winnow([4, 4, 4], 2) == [1, 2]  # ties go to the rightmost
    assert winnow([5, 3, 9], 8) == [1]  # shorter than a window: its minimum
    assert winnow([], 8) == []


def test_every_window_holds_a_picked_position():
    rng = random.Random(3)
    hashes = [rng.randrange(20) for _ in range(300)]
    picked = set(winnow(hashes, 6))
    assert all(picked.intersection(range(s, s + 6)) for s in range(len(hashes) - 5))


# --- reading submissions ----------------------------------------------------------------------


def test_fingerprints_cover_scripts_and_notebook_cells(tmp_path):
    folder = submission(tmp_path, "s1", {"task2.py": ORIGINAL})
    (folder / "sub").mkdir()
    notebook(folder / "sub" / "task3.ipynb", ["%matplotlib inline\n" + INDEPENDENT])
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "junk.py").write_text(DISGUISED, encoding="utf-8")
    prints = code_fingerprints(folder)
    assert prints.name == "s1"
    assert prints.units == ("sub/task3.ipynb#cell2", "task2.py")
    assert prints.skipped == {}
    units = {span.unit for spans in prints.spans.values() for span in spans}
    assert units == {"sub/task3.ipynb#cell2", "task2.py"}


def test_a_fingerprint_spans_the_lines_of_its_tokens(tmp_path):
    # Exactly k = 12 tokens, so one k-gram; it ends with a string over three lines.
    folder = submission(tmp_path, "s1", {"a.py": 'x = -1 + 2 + 3 + 4 + """a\nb\nc"""\n'})
    prints = code_fingerprints(folder)
    assert list(prints.spans.values()) == [(Span("a.py", 1, 3),)]
    assert code_fingerprints(folder, k=13).spans == {}  # too short for one k-gram


def test_bad_files_are_skipped_with_a_reason(tmp_path):
    folder = submission(tmp_path, "s1", {
        "task2.py": ORIGINAL,
        "broken.py": "def f(:\n    return (1,\n",
        "dollar.py": "x = $y\n",
        "mixed.py": "if x:\n        a = 1\n    b = 2\n",
        "bad.ipynb": "{not json",
    })
    (folder / "latin1.py").write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    notebook(folder / "cells.ipynb", ["x = (1,\n", ORIGINAL])
    prints = code_fingerprints(folder)
    assert prints.units == ("cells.ipynb#cell3", "task2.py")
    assert set(prints.skipped) == {"broken.py", "dollar.py", "mixed.py", "bad.ipynb",
                                   "latin1.py", "cells.ipynb#cell2"}
    assert "EOF in multi-line statement (line 3)" in prints.skipped["broken.py"]
    assert "'$'" in prints.skipped["dollar.py"]
    assert "unindent" in prints.skipped["mixed.py"]
    assert "not a valid notebook" in prints.skipped["bad.ipynb"]
    assert "not UTF-8" in prints.skipped["latin1.py"]


def test_notebook_without_cells_is_skipped(tmp_path):
    odd = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {}}
    folder = submission(tmp_path, "s1", {"odd.ipynb": json.dumps(odd), "ok.py": ORIGINAL})
    prints = code_fingerprints(folder)
    assert prints.skipped == {"odd.ipynb": "not a valid notebook (no list of cells)"}
    assert prints.units == ("ok.py",)


# --- pairs of submissions -------------------------------------------------------------------


@pytest.fixture
def cls(tmp_path) -> dict[str, Path]:
    return {
        "alice": submission(tmp_path, "alice", {"task2.py": ORIGINAL}),
        "bob": submission(tmp_path, "bob", {"task2.py": ORIGINAL}),
        "carol": submission(tmp_path, "carol", {"main.py": DISGUISED}),
        "dave": submission(tmp_path, "dave", {"task2.py": INDEPENDENT}),
    }


def test_copies_are_flagged_and_independent_work_is_not(cls):
    pairs = similar_code(cls)
    assert pair_names(pairs) == {("alice", "bob"), ("alice", "carol"), ("bob", "carol")}
    by_name = {(p.a, p.b): p for p in pairs}
    assert by_name["alice", "bob"].score == by_name["alice", "bob"].jaccard == 1.0
    assert by_name["alice", "carol"].score >= 0.8
    assert all(p.method == "code" for p in pairs)


def test_independent_solutions_score_low(cls):
    scores = {(p.a, p.b): p.score for p in similar_code(cls, threshold=0.01, min_shared=1)}
    assert scores.get(("alice", "dave"), 0) < 0.2
    assert scores.get(("carol", "dave"), 0) < 0.2


def test_pairs_are_sorted_by_score_then_names(cls):
    pairs = similar_code(cls, threshold=0.01, min_shared=1)
    keys = [(-p.score, p.a, p.b) for p in pairs]
    assert keys == sorted(keys)
    assert all(p.a < p.b for p in pairs)
    assert similar_code(cls, threshold=0.01, min_shared=1) == pairs


# Function bodies of ORIGINAL → the same bodies in DISGUISED (first and last line).
MOVED_BODIES = {
    "softmax → normalise": ((7, 9), (32, 34)),
    "cross_entropy → loss": ((13, 14), (28, 29)),
    "init_params → make_weights": ((18, 22), (8, 12)),
    "forward → predict": ((30, 32), (38, 40)),
    "main → run": ((36, 42), (16, 22)),
}


@pytest.mark.parametrize("moved", MOVED_BODIES)
def test_disguised_copy_regions_follow_the_reordered_functions(cls, moved):
    pair = next(p for p in similar_code(cls) if (p.a, p.b) == ("alice", "carol"))
    assert all(r.file_a == "task2.py" and r.file_b == "main.py" for r in pair.regions)
    (a0, a1), (b0, b1) = MOVED_BODIES[moved]
    assert any(r.lines_a[0] <= a0 <= a1 <= r.lines_a[1] and r.lines_b[0] <= b0 <= b1 <= r.lines_b[1]
               for r in pair.regions)
    assert all(r.lines_b[0] > 5 for r in pair.regions)  # carol's own header is not a match


def test_copied_block_region_has_the_block_lines(tmp_path):
    own_a = "values = [3, 1, 2]\nvalues.sort()\nwith open('x.txt') as fh:\n    text = fh.read()\n"
    own_b = "import sys\n\nclass Holder:\n    pass\n\n\nfor arg in sys.argv:\n    pass\n"
    block = SKELETON.split("\n\n\n")[1] + "\n"  # load_images: 11 lines
    a = submission(tmp_path, "a", {"x.py": own_a + "\n\n" + block + "\n" + INDEPENDENT})
    b = submission(tmp_path, "b", {"y.py": own_b + block + "\n" + ORIGINAL})
    [pair] = similar_code({"a": a, "b": b}, threshold=0.05)
    [region] = pair.regions
    # The block is lines 7-16 of x.py and 9-18 of y.py. Winnowing may start a token window
    # late, i.e. at the block's second line; the last line is a long one, so it is covered.
    assert (region.file_a, region.file_b) == ("x.py", "y.py")
    assert region.lines_a in {(7, 16), (8, 16)}
    assert region.lines_b == (region.lines_a[0] + 2, 18)
    assert str(region) == f"x.py:{region.lines_a[0]}-16 ~ y.py:{region.lines_b[0]}-18"


def test_regions_of_a_copied_folder_pair_each_file_with_its_copy(tmp_path):
    # Both files open with the same helper, so some fingerprints occur in both; they
    # must not pair one file with the other file's copy.
    helper = SKELETON.split("\n\n\n")[2] + "\n\n\n"
    files = {"one.py": helper + ORIGINAL, "two.py": helper + INDEPENDENT}
    class_ = {name: submission(tmp_path, name, files) for name in ("alice", "bob")}
    [pair] = similar_code(class_)
    assert sorted((r.file_a, r.file_b) for r in pair.regions) == [("one.py", "one.py"),
                                                                 ("two.py", "two.py")]
    assert all(r.lines_a == r.lines_b for r in pair.regions)


def test_code_shared_only_with_the_skeleton_is_not_flagged(tmp_path):
    class_ = {
        "alice": submission(tmp_path, "alice", {"mnist.py": SKELETON, "task2.py": ORIGINAL}),
        "dave": submission(tmp_path, "dave", {"task2.py": SKELETON + "\n\n" + INDEPENDENT}),
    }
    skeleton = submission(tmp_path, "course", {"mnist.py": SKELETON})
    assert pair_names(similar_code(class_, threshold=0.3)) == {("alice", "dave")}  # the loader
    assert similar_code(class_, skeleton=skeleton, threshold=0.01, min_shared=1) == []
    assert similar_code(class_, skeleton=skeleton / "mnist.py", threshold=0.01, min_shared=1) == []


def test_skeleton_code_inside_a_students_file_leaves_no_fingerprint(tmp_path):
    # The student's own code on both sides makes winnowing pick other k-grams of the
    # skeleton than it picks in the skeleton file itself; all of them must go.
    own_before = DISGUISED.split("\n\n\ndef run")[0] + "\n\n\n"
    student = submission(tmp_path, "s1", {"a.py": own_before + SKELETON + "\n" + INDEPENDENT})
    first = own_before.count("\n") + 1  # the skeleton's first and last line in a.py
    last = first + SKELETON.count("\n") - 1
    skeleton = submission(tmp_path, "course", {"mnist.py": SKELETON})
    prints = code_fingerprints(student)
    assert prints.units == ("a.py",)
    left = [s for h, spans in prints.spans.items()
            if h not in skeleton_hashes(skeleton) for s in spans]
    assert left  # the student's own code is still there
    assert not [s for s in left if first <= s.first and s.last <= last]


def test_skeleton_does_not_hide_a_real_copy(tmp_path):
    class_ = {
        "alice": submission(tmp_path, "alice", {"mnist.py": SKELETON, "task2.py": ORIGINAL}),
        "carol": submission(tmp_path, "carol", {"all.py": SKELETON + "\n\n" + DISGUISED}),
    }
    skeleton = submission(tmp_path, "course", {"mnist.py": SKELETON})
    [pair] = similar_code(class_, skeleton=skeleton)
    assert pair.score >= 0.8
    assert {r.file_a for r in pair.regions} == {"task2.py"}  # nothing in the course's file


def test_notebook_cells_are_compared_with_scripts(tmp_path):
    first, rest = DISGUISED.split("def run():")
    alice = submission(tmp_path, "alice", {"task2.py": ORIGINAL})
    erin = submission(tmp_path, "erin", {})
    notebook(erin / "task2.ipynb", ["%matplotlib inline\n" + first, "!ls\ndef run():" + rest])
    [pair] = similar_code({"alice": alice, "erin": erin})
    assert pair.score >= 0.8
    assert {r.file_b for r in pair.regions} == {"task2.ipynb#cell2", "task2.ipynb#cell3"}


def test_too_few_shared_fingerprints_are_not_a_match(tmp_path):
    tiny = "def sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n"
    class_ = {"alice": submission(tmp_path, "alice", {"task2.py": ORIGINAL}),
              "fred": submission(tmp_path, "fred", {"task2.py": tiny})}
    assert similar_code(class_, min_shared=1)[0].score == 1.0  # all of fred is in alice
    assert similar_code(class_) == []


def test_fingerprints_most_of_the_class_holds_count_as_boilerplate(cls, tmp_path):
    for name in ("gina", "hank"):
        cls[name] = submission(tmp_path, name, {"task2.py": ORIGINAL})
    assert len(similar_code(cls)) == 10  # alice, bob, carol, gina and hank pairwise
    # Four copies of ORIGINAL: every fingerprint of it is held by four or five.
    assert similar_code(cls, max_holders=3) == []
    assert len(similar_code(cls, max_holders=4)) == 6  # carol shares only what all five hold


def test_fingerprints_of_different_k_cannot_be_matched(cls):
    prints = {"alice": code_fingerprints(cls["alice"]), "bob": code_fingerprints(cls["bob"], k=9)}
    with pytest.raises(ValueError, match="different k or w"):
        match_code(prints)


def test_threshold_must_be_a_fraction(cls):
    with pytest.raises(ValueError, match="threshold"):
        similar_code(cls, threshold=0)


def test_to_dict_has_what_the_class_report_reads(cls):
    pair = similar_code(cls)[0]
    data = json.loads(json.dumps(pair.to_dict()))
    assert (data["a"], data["b"], data["score"], data["method"]) == ("alice", "bob", 1.0, "code")
    assert data["detail"].startswith("task2.py:")
    assert data["detail"].endswith(f"{pair.shared} shared fingerprints")
    assert data["regions"][0] == {"file_a": "task2.py", "lines_a": list(pair.regions[0].lines_a),
                                  "file_b": "task2.py", "lines_b": list(pair.regions[0].lines_b)}


SNIPPETS = [body for body in (ORIGINAL + INDEPENDENT + SKELETON + DISGUISED).split("\n\n\n")
            if body.lstrip().startswith(("def ", "class "))]


def brute_force(prints: dict[str, CodeFingerprints], threshold: float, min_shared: int,
                max_holders: int | None) -> list[tuple[str, str, float, float]]:
    """Every pair scored directly from its two fingerprint sets."""
    sets = {name: set(fp.spans) for name, fp in prints.items()}
    if max_holders is not None:
        common = {h for h in set().union(*sets.values())
                  if sum(h in s for s in sets.values()) > max_holders}
        sets = {name: s - common for name, s in sets.items()}
    found = []
    for a, b in combinations(sorted(sets), 2):
        shared = len(sets[a] & sets[b])
        if not shared:
            continue
        score = shared / min(len(sets[a]), len(sets[b]))
        if shared >= min_shared and score >= threshold:
            found.append((a, b, score, shared / len(sets[a] | sets[b])))
    return sorted(found, key=lambda p: (-p[2], p[0], p[1]))


@pytest.mark.parametrize("seed", range(4))
def test_inverted_index_agrees_with_brute_force(tmp_path, seed):
    rng = random.Random(seed)
    prints = {}
    for i in range(9):
        chosen = rng.sample(SNIPPETS, rng.randint(1, 5))
        folder = submission(tmp_path, f"s{i}", {"a.py": "\n\n\n".join(chosen) + "\n"})
        prints[f"s{i}"] = code_fingerprints(folder)
    for threshold, min_shared, max_holders in [(0.01, 1, None), (0.3, 5, None), (0.5, 10, 4)]:
        got = [(p.a, p.b, p.score, p.jaccard)
               for p in match_code(prints, threshold=threshold, min_shared=min_shared,
                                   max_holders=max_holders)]
        assert got == brute_force(prints, threshold, min_shared, max_holders)
    assert match_code(prints, threshold=0.01, min_shared=1)  # the class shares snippets


# --- written reports ---------------------------------------------------------------------------

REPORT = (
    "課題3では、ミニバッチ確率的勾配降下法を用いて3層ニューラルネットワークを学習させた。"
    "中間層のノード数は100とし、活性化関数にはシグモイド関数を用いた。"
    "学習率を0.01、バッチサイズを100、エポック数を10に設定したところ、"
    "交差エントロピー誤差は最初のエポックで約2.3から0.9まで下がり、その後はゆるやかに減少した。"
    "学習率を0.1に上げると最初の数エポックで誤差が大きく振動したので、"
    "大きすぎる学習率では最適解の周りを行き来してしまうと考えられる。"
    "また、重みの初期値を標準偏差1の正規分布から取ると、シグモイド関数が飽和して勾配が小さくなり、"
    "学習がほとんど進まなかった。前の層のノード数の平方根の逆数を標準偏差にすると、"
    "この問題は解消された。テストデータでの正解率は約91パーセントであった。"
)

EDITED = (
    "課題３では、ﾐﾆﾊﾞｯﾁ確率的勾配降下法を使って３層ニューラルネットワークを学習させた．"
    "中間層のノード数は１００とし，活性化関数にはシグモイド関数を使用した．"
    "学習率を０．０１、バッチサイズを１００，エポック数を１０に設定したところ、"
    "交差エントロピー誤差は最初のエポックで約２．３から０．９まで下がり、その後は緩やかに減少した．"
    "学習率を０．１に上げると、最初の数エポックで誤差が大きく振動したため、"
    "大きすぎる学習率では最適解の周りを行き来してしまうと考えられる。\n\n"
    "また、重みの初期値を標準偏差１の正規分布から取ると　シグモイド関数が飽和して勾配が小さくなり"
    "学習がほとんど進まなかった．　前の層のノード数の平方根の逆数を標準偏差にすると"
    "この問題は解決した．テストデータでの正解率はおよそ９１％だった．"
)

COURSE = (
    "課題3 [ミニバッチ対応&クロスエントロピー誤差の計算]\n"
    "[課題2]のコードをベースに、ミニバッチ(=複数枚の画像)を入力可能とするように改良し、"
    "さらにクロスエントロピー誤差を計算するプログラムを作成せよ。"
    "MNISTの学習画像60000枚の中からランダムにB枚をミニバッチとして取り出すこと。"
    "クロスエントロピー誤差の平均を標準出力に出力すること。"
    "ニューラルネットワークの構造、重みは課題1と同じでよい。"
    "バッチサイズBは自由に決めて良い(100程度がちょうど良い)。"
    "ミニバッチを取り出す処理はランダムに行う。"
    "誤差逆伝播法に基づいて三層ニューラルネットワークのパラメータを学習するプログラムを作成せよ。"
)

OWN_X = (
    "私の実装では、取り出した画像の番号をnumpyのchoice関数で重複なく選んだ。"
    "正解ラベルはone-hot表現に変換せず、添字でソフトマックスの出力から直接取り出した。"
    "出力された平均誤差は約2.3で、乱数で初期化した重みなら10クラスの一様分布に近いので妥当な値である。"
)

OWN_Y = (
    "自分のプログラムでは、まず教師ラベルを10次元のベクトルに変換してから損失を求めた。"
    "対数の引数が0にならないように微小な値を足している。"
    "何度か実行すると値は2.2から2.4の間でばらついたが、これはミニバッチの選び方が毎回異なるためだ。"
)

UNRELATED = (
    "畳み込み層の逆伝播では、im2colで展開した行列を使うと全結合層と同じ式で勾配を求められる。"
    "プーリング層は最大値の位置を覚えておき、その位置にだけ勾配を流す。"
    "CIFAR-10で試したところ、データ拡張を入れると過学習が抑えられ、検証データの正解率が5ポイント上がった。"
)


def letters(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold()
                   if unicodedata.category(c)[0] in "LN")


def test_lightly_edited_report_is_flagged():
    [pair] = report_similarity({"s01": REPORT, "s02": EDITED, "s03": UNRELATED})
    assert (pair.a, pair.b, pair.method) == ("s01", "s02", "text")
    assert pair.score >= 0.7
    assert pair.jaccard <= pair.score
    assert pair.regions == ()


def test_shared_passages_are_common_text_of_both_reports():
    [pair] = report_similarity({"s01": REPORT, "s02": EDITED})
    assert 1 <= len(pair.passages) <= 3
    longest = pair.passages[0]
    assert len(longest) >= 30
    assert longest.rstrip("…") in unicodedata.normalize("NFKC", REPORT)  # as written in a
    assert letters(longest.rstrip("…")) in letters(EDITED)  # b has it, punctuation aside
    assert all(len(p) <= 80 for p in pair.passages)
    assert pair.to_dict()["detail"].startswith(f"「{longest}」")


def test_reports_quoting_the_same_course_text_are_not_flagged():
    texts = {"x": COURSE + "\n" + OWN_X, "y": "以下は課題文の引用。\n" + COURSE + "\n" + OWN_Y}
    assert pair_names(report_similarity(texts)) == {("x", "y")}  # the quote alone matches
    assert report_similarity(texts, quoted=[COURSE]) == []


def test_quoting_course_text_does_not_hide_a_copy():
    texts = {"x": COURSE + REPORT, "y": EDITED}
    [pair] = report_similarity(texts, quoted=[COURSE])
    assert pair.score >= 0.7


def test_short_reports_need_enough_shared_ngrams():
    texts = {"x": REPORT, "y": "課題3ではミニバッチ確率的勾配降下法を用いて"}
    assert report_similarity(texts, min_shared=1)[0].score == 1.0
    assert report_similarity(texts) == []


def test_report_ngram_size_must_be_positive():
    with pytest.raises(ValueError, match="n must be positive"):
        report_similarity({"x": REPORT}, n=0)
