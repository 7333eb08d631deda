"""JUnit XML of a graded class, for CI dashboards: one test suite per student."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from grader.results import ResultsError, read_results


def write_junit(results_root: Path, path: Path) -> None:
    """One <testsuite> per student folder, one <testcase> per check; non-passed ones fail."""
    suites = ET.Element("testsuites", name="le4nn-grader")
    for folder in sorted(p for p in results_root.iterdir()
                         if p.is_dir() and not p.name.startswith(".")):
        try:
            doc = read_results(folder / "results.json")
        except ResultsError as e:
            suite = ET.SubElement(suites, "testsuite", name=folder.name, tests="1", errors="1")
            ET.SubElement(ET.SubElement(suite, "testcase", name="results.json"), "error",
                          message=str(e))
            continue
        tests = doc["tests"]
        bad = [t for t in tests if t["extra_data"]["outcome"] != "passed"]
        suite = ET.SubElement(suites, "testsuite", name=folder.name, tests=str(len(tests)),
                              failures=str(len(bad)))
        for t in tests:
            case = ET.SubElement(suite, "testcase", classname=folder.name, name=t["name"],
                                 time=str(t["extra_data"]["seconds"]))
            outcome = t["extra_data"]["outcome"]
            if outcome == "not_attempted":
                ET.SubElement(case, "skipped", message=t["output"])
            elif outcome != "passed":
                ET.SubElement(case, "failure", type=outcome, message=t["output"])
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
