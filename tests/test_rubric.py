"""The written-report rubric: sections, character counts, results and discussion."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import nbformat
import pytest

from grader.i18n import catalogue, tr
from grader.rubric import (
    RubricError,
    RubricMessage,
    check_report,
    find_report,
    load_rubric,
    report_text,
)

RUBRIC = load_rubric()

SUMMARY = {
    1: "課題1では、MNISTの画像を1枚受け取り、3層ニューラルネットワークで0から9のどの数字かを"
       "判定するプログラムを作成した。入力層は784次元、中間層はシグモイド関数を活性化関数とし、"
       "出力層ではソフトマックス関数で各クラスの確率を求めて最大のものを答えとした。",
    2: "課題2では、学習データからランダムに選んだ100枚をミニバッチとし、"
       "その平均交差エントロピー誤差を計算した。正解ラベルはone-hot表現に変換せずに添字として用い、ソフトマックスの出力から"
       "正解クラスの確率だけを取り出して対数をとった。",
    3: "課題3では、誤差逆伝播法で各層の勾配を求め、確率的勾配降下法で重みを更新した。"
       "学習率は0.01、バッチサイズは100、エポック数は20とし、各エポックの平均誤差を記録した。"
       "学習したパラメータはnumpyのsavez関数でファイルに保存した。",
    4: "課題4では、課題3で保存したパラメータを読み込み、テスト画像の番号を標準入力から受け取って"
       "その画像が表す数字を出力するプログラムを作成した。読み込んだ重みの形がネットワークの構造と"
       "一致するかを最初に確かめるようにした。",
}

DISCUSSION = "学習率を大きくすると誤差が振動したので、学習率の選び方が重要だと分かった。"

RESULTS = {
    1: "![認識結果](figures/task1.png)",
    2: "```\n$ python task2.py\n2.3051\n```",
    3: "| epoch | loss |\n|---|---|\n| 1 | 0.92 |\n| 20 | 0.21 |",
    4: '<img src="figures/task4.png" alt="正解率">',
}


def section(n: int, summary: str | None = None, results: str | None = None,
            discussion: str = f"### 考察\n\n{DISCUSSION}") -> str:
    text = SUMMARY[n] if summary is None else summary
    shown = RESULTS[n] if results is None else results
    return f"## 課題{n}\n\n{text}\n\n{shown}\n\n{discussion}\n\n"


def report(tmp_path: Path, *sections: str, name: str = "report.md") -> Path:
    path = tmp_path / name
    path.write_text("# 実験レポート\n\n学籍番号 1029-00-0000\n\n" + "".join(sections), "utf-8")
    return path


def squeezed_len(*texts: str) -> int:
    return sum(len("".join(t.split())) for t in texts)


def by_id(result):
    return {s.id: s for s in result.sections}


# --- Markdown --------------------------------------------------------------------------------


def test_complete_japanese_report_passes_every_section(tmp_path):
    result = check_report(report(tmp_path, *(section(n) for n in range(1, 5))), RUBRIC)
    assert result.score == 1.0
    for n, s in enumerate(result.sections, start=1):
        assert (s.id, s.found, s.has_results, s.has_discussion, s.passed) == (
            f"task{n}", True, True, True, True)
        assert s.summary_chars == squeezed_len(SUMMARY[n], DISCUSSION)
        assert s.messages == (RubricMessage("rubric.section_ok", {
            "section": f"課題{n} (Task {n})", "chars": s.summary_chars}),)


def test_summary_of_99_characters_fails_with_the_count(tmp_path):
    text = ("ア" * (99 - squeezed_len(DISCUSSION)))
    result = check_report(report(tmp_path, section(1), section(2, summary=text)), RUBRIC)
    task2 = by_id(result)["task2"]
    assert (task2.summary_chars, task2.passed) == (99, False)
    assert task2.messages == (RubricMessage(
        "rubric.summary_short", {"section": "課題2 (Task 2)", "chars": 99, "min": 100}),)
    rendered = tr(task2.messages[0].key, "ja", **task2.messages[0].params)
    assert "99 文字" in rendered and "100 文字以上" in rendered


def test_summary_of_100_characters_passes(tmp_path):
    text = ("ア" * (100 - squeezed_len(DISCUSSION)))
    task2 = by_id(check_report(report(tmp_path, section(2, summary=text)), RUBRIC))["task2"]
    assert (task2.summary_chars, task2.passed) == (100, True)


def test_markup_code_and_quotes_do_not_count(tmp_path):
    summary = ("- **ソフトマックス**関数の[定義](https://example.com/softmax)を`np.exp`で書いた\n"
               "> 課題文: 3層ニューラルネットワークを作成せよ\n"
               "<!-- ここに本文を書く -->\n"
               "---\n")
    task1 = by_id(check_report(report(tmp_path, section(1, summary=summary)), RUBRIC))["task1"]
    plain = "ソフトマックス関数の定義をnp.expで書いた"
    assert task1.summary_chars == squeezed_len(plain, DISCUSSION)


def test_full_width_and_half_width_forms_count_after_nfkc(tmp_path):
    # ﾃﾞｰﾀ (5 half-width code points) is データ (3); ＭＮＩＳＴ１０ is MNIST10 (7);
    # the ideographic space is whitespace and does not count.
    summary = "ﾃﾞｰﾀ　ＭＮＩＳＴ１０"
    task1 = by_id(check_report(report(tmp_path, section(1, summary=summary)), RUBRIC))["task1"]
    assert task1.summary_chars == 3 + 7 + squeezed_len(DISCUSSION)


def test_missing_results_fail(tmp_path):
    task3 = by_id(check_report(report(tmp_path, section(3, results="結果は省略する。")),
                               RUBRIC))["task3"]
    assert (task3.found, task3.has_results, task3.has_discussion, task3.passed) == (
        True, False, True, False)
    assert task3.messages == (RubricMessage("rubric.results_missing",
                                            {"section": "課題3 (Task 3)"}),)


def test_missing_discussion_fails(tmp_path):
    text = section(4, discussion="### 補足\n\n保存したファイルは npz 形式である。")
    task4 = by_id(check_report(report(tmp_path, text), RUBRIC))["task4"]
    assert (task4.has_results, task4.has_discussion, task4.passed) == (True, False, False)
    assert [m.key for m in task4.messages] == ["rubric.discussion_missing"]


def test_every_problem_of_a_section_is_reported(tmp_path):
    text = "## 課題2\n\n短い。\n"
    task2 = by_id(check_report(report(tmp_path, text), RUBRIC))["task2"]
    assert [m.key for m in task2.messages] == [
        "rubric.summary_short", "rubric.results_missing", "rubric.discussion_missing"]


def test_missing_section_fails_and_lowers_the_score(tmp_path):
    result = check_report(report(tmp_path, *(section(n) for n in range(1, 4))), RUBRIC)
    task4 = by_id(result)["task4"]
    assert (task4.found, task4.summary_chars, task4.passed) == (False, 0, False)
    assert task4.messages[0].key == "rubric.section_missing"
    assert task4.messages[0].params["section"] == "課題4 (Task 4)"
    assert result.score == 0.75


@pytest.mark.parametrize("keyword_line", [
    f"考察として、{DISCUSSION}",        # a paragraph containing the keyword
    f"**考察:**\n\n{DISCUSSION}",       # a label line, then the discussion
    f"#### Discussion\n\n{DISCUSSION}",  # an English heading, any depth below the section
])
def test_discussion_is_found_in_its_usual_forms(tmp_path, keyword_line):
    task1 = by_id(check_report(report(tmp_path, section(1, discussion=keyword_line)),
                               RUBRIC))["task1"]
    assert task1.has_discussion


@pytest.mark.parametrize("discussion", [
    "**考察:**\n",                                     # a label with nothing after it
    f"### 考察\n\n### 補足\n\n{DISCUSSION}",            # the prose is under another heading
])
def test_a_discussion_heading_without_prose_is_not_a_discussion(tmp_path, discussion):
    task1 = by_id(check_report(report(tmp_path, section(1, discussion=discussion)),
                               RUBRIC))["task1"]
    assert not task1.has_discussion


def test_sections_end_at_the_next_section_or_a_shallower_heading(tmp_path):
    text = (section(1) + "# 付録\n\n" + "付録の説明文。" * 20 + "\n\n"
            + "## 課題10 の感想\n\n" + "課題10の話。" * 20 + "\n")
    task1 = by_id(check_report(report(tmp_path, text), RUBRIC))["task1"]
    assert task1.summary_chars == squeezed_len(SUMMARY[1], DISCUSSION)


def test_headings_match_in_english_and_full_width(tmp_path):
    text = (section(1).replace("課題1", "Task 1") + section(2).replace("課題2", "ＴＡＳＫ　２"))
    found = by_id(check_report(report(tmp_path, text), RUBRIC))
    assert found["task1"].passed and found["task2"].passed


def test_lines_copied_from_the_course_text_do_not_count(tmp_path):
    course = tmp_path / "course.md"
    course.write_text("[課題1] ＭＮＩＳＴの画像を１枚入力とし、0〜9の数字を出力する"
                      "3層ニューラルネットワークを構築せよ。", "utf-8")
    plan = tmp_path / "rubric.toml"
    plan.write_text('quoted_files = ["course.md"]\n[[sections]]\nid = "t1"\n'
                    "patterns = ['課題1']\n", "utf-8")
    rubric = load_rubric(plan)
    copied = "MNISTの画像を1枚入力とし、0〜9の数字を出力する3層ニューラルネットワークを構築せよ。"
    t1 = check_report(report(tmp_path, section(1, summary=copied + "\n自分で書いた。")),
                      rubric).sections[0]
    assert t1.summary_chars == squeezed_len("自分で書いた。", DISCUSSION)


# --- notebooks and HTML ---------------------------------------------------------------------


def write_notebook(path: Path, cells: list) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nbformat.write(nb, path)
    return path


def code_cell(source: str, outputs: list) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = outputs
    return cell


def test_notebook_markdown_is_text_and_outputs_are_results(tmp_path):
    md = nbformat.v4.new_markdown_cell
    stream = nbformat.v4.new_output("stream", name="stdout", text="2.3051\n")
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])
    figure = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})
    path = write_notebook(tmp_path / "report.ipynb", [
        md("# 課題1\n\n" + SUMMARY[1]),
        code_cell("print(" + "'長いコード'" * 30 + ")", [stream]),
        md("## 考察\n\n" + DISCUSSION),
        md("# 課題2\n\n" + SUMMARY[2] + "\n\n考察: " + DISCUSSION),
        code_cell("raise ValueError('x')", [error]),
        code_cell("x = 1", []),
        md("# 課題3\n\n" + SUMMARY[3] + "\n\n考察: " + DISCUSSION),
        code_cell("plt.plot(losses)", [figure]),
    ])
    found = by_id(check_report(path, RUBRIC))
    assert found["task1"].passed
    assert found["task1"].summary_chars == squeezed_len(SUMMARY[1], DISCUSSION)
    assert (found["task2"].has_results, found["task2"].has_discussion) == (False, True)
    assert found["task3"].passed
    assert not found["task4"].found


HTML = f"""<!DOCTYPE html>
<html lang="ja"><head><title>課題1 レポート</title>
<style>h2 {{ color: red }} /* 課題2 */</style></head>
<body>
<h1>実験レポート</h1>
<h2>課題1 &amp; 準備</h2>
<p>{SUMMARY[1][:50]}<br>{SUMMARY[1][50:]}</p>
<img src="data:image/png;base64,iVBORw0KGgo=" alt="認識結果">
<script>var s = "ニューラルネットワーク";</script>
<h3>考察</h3><p>{DISCUSSION}</p>
<h2>課題2</h2>
<p>{SUMMARY[2]}</p>
<blockquote>課題文: 平均交差エントロピー誤差を計算するプログラムを作成せよ。</blockquote>
<table><tr><th>バッチ</th><th>誤差</th></tr><tr><td>100</td><td>2.30</td></tr></table>
<h2>課題3</h2>
<p>{SUMMARY[3]}</p><pre>epoch 1: 0.92</pre>
<div>考察として、{DISCUSSION}</div>
</body></html>
"""


def test_html_report(tmp_path):
    path = tmp_path / "report.html"
    path.write_text(HTML, "utf-8")
    found = by_id(check_report(path, RUBRIC))
    assert found["task1"].passed
    assert found["task1"].summary_chars == squeezed_len(SUMMARY[1], DISCUSSION)
    task2 = found["task2"]
    assert (task2.summary_chars, task2.has_results, task2.has_discussion) == (
        squeezed_len(SUMMARY[2]), True, False)
    assert found["task3"].passed
    assert not found["task4"].found


def test_report_text_is_the_prose(tmp_path):
    path = tmp_path / "report.html"
    path.write_text(HTML, "utf-8")
    text = report_text(path)
    assert SUMMARY[2] in text.splitlines()
    assert "課題文" not in text and "epoch" not in text and "var s" not in text


# --- files that cannot be read -----------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("report.md", "# 課題1\n".encode() + b"\xff\xfe", "not UTF-8 text"),
    ("report.html", b"<p>\x80</p>", "not UTF-8 text"),
    ("report.ipynb", b'{"cells": [', "not a valid notebook"),
    ("report.ipynb", json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                 "cells": {}}).encode(), "no list of cells"),
    ("report.docx", b"PK\x03\x04", "unsupported report format .docx"),
])
def test_unreadable_reports_raise_rubric_error_naming_the_file(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RubricError, match=reason) as caught:
        check_report(path, RUBRIC)
    assert str(caught.value).startswith(f"{path}: ")
    assert caught.value.params["file"] == name
    assert name in tr(caught.value.key, "en", **caught.value.params)


def test_rubric_error_survives_pickling():
    error = pickle.loads(pickle.dumps(RubricError(Path("s1/report.md"), "not UTF-8 text")))
    assert (str(error), error.params) == ("s1/report.md: not UTF-8 text",
                                          {"file": "report.md", "reason": "not UTF-8 text"})


def test_missing_report_file_raises_rubric_error(tmp_path):
    with pytest.raises(RubricError, match=r"report\.md"):
        check_report(tmp_path / "report.md", RUBRIC)


@pytest.mark.parametrize(("toml", "reason"), [
    ("sections = [", "not valid TOML"),
    ("minimum = 3\n[[sections]]\nid = 'a'\npatterns = ['a']\n", "unknown key"),
    ("[[sections]]\nid = 'a'\npatterns = ['(']\n", "bad pattern"),
    ("[[sections]]\nid = 'a'\n", "needs an id and patterns"),
    ("min_summary_chars = 50\n", "no \\[\\[sections\\]\\]"),
    ("quoted_files = ['nowhere.md']\n[[sections]]\nid = 'a'\npatterns = ['a']\n", "nowhere.md"),
])
def test_bad_rubric_files_raise_rubric_error(tmp_path, toml, reason):
    path = tmp_path / "rubric.toml"
    path.write_text(toml, "utf-8")
    with pytest.raises(RubricError, match=reason):
        load_rubric(path)


def test_rubric_settings_come_from_the_toml(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text("min_summary_chars = 20\ndiscussion_pattern = 'まとめ'\n"
                    "[[sections]]\nid = 'a1'\ntitle = '発展課題A1'\npatterns = ['A1']\n"
                    "results = false\n"
                    "[[sections]]\nid = 'a2'\npatterns = ['A2']\nmin_summary_chars = 500\n",
                    "utf-8")
    rubric = load_rubric(path)
    assert [(s.id, s.title, s.min_summary_chars, s.results, s.discussion)
            for s in rubric.sections] == [("a1", "発展課題A1", 20, False, True),
                                          ("a2", "a2", 500, True, True)]
    md = report(tmp_path, "## A1 Dropout\n\n" + "ドロップアウトを実装した。" * 2
                + "\n\nまとめ: よく効いた。\n")
    [a1, a2] = check_report(md, rubric).sections
    assert a1.passed and not a2.found


# --- finding the report and the message catalogue ----------------------------------------------


def test_find_report_prefers_markdown_then_notebook_then_html(tmp_path):
    assert find_report(tmp_path) is None
    for name in ("task1.py", "notes.md", "Report.HTML"):
        (tmp_path / name).write_text("x", "utf-8")
    assert find_report(tmp_path) == tmp_path / "Report.HTML"
    (tmp_path / "report.ipynb").write_text("{}", "utf-8")
    assert find_report(tmp_path) == tmp_path / "report.ipynb"
    (tmp_path / "レポート.md").write_text("x", "utf-8")
    assert find_report(tmp_path) == tmp_path / "レポート.md"
    assert find_report(tmp_path / "task1.py") is None


def test_every_message_key_is_in_the_catalogue(tmp_path):
    result = check_report(report(tmp_path, section(1), "## 課題2\n\n短い。\n"), RUBRIC)
    keys = {m.key for s in result.sections for m in s.messages} | {"rubric.unreadable"}
    assert keys == {"rubric.section_ok", "rubric.summary_short", "rubric.results_missing",
                    "rubric.discussion_missing", "rubric.section_missing", "rubric.unreadable"}
    for s in result.sections:
        for m in s.messages:
            for lang in ("ja", "en"):
                assert "{" not in tr(m.key, lang, **m.params)
    assert all(set(catalogue()[k]) == {"ja", "en"} for k in keys)


def test_to_dict_is_json_ready(tmp_path):
    result = check_report(report(tmp_path, section(1)), RUBRIC)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["score"] == 0.25
    assert data["sections"][0]["messages"][0]["key"] == "rubric.section_ok"
    assert data["sections"][3] == {
        "id": "task4", "title": "課題4 (Task 4)", "found": False, "summary_chars": 0,
        "has_results": False, "has_discussion": False, "passed": False,
        "messages": [{"key": "rubric.section_missing",
                      "params": {"section": "課題4 (Task 4)",
                                 "pattern": RUBRIC.sections[3].patterns[0].pattern}}]}
