"""tools/fresh_systems.py follows the README literally: what it reads there and how it reports.

The fresh systems themselves run in `make fresh-systems` (root and debootstrap; .ci/run does it after
`make test`), not here: building two Debian systems takes minutes.
"""

import importlib.util

from workshop_lib.config import REPO_ROOT

spec = importlib.util.spec_from_file_location("fresh_systems", REPO_ROOT / "tools" / "fresh_systems.py")
fresh_systems = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fresh_systems)


def test_it_runs_the_readmes_apt_line_as_a_participant_copies_it():
    line = fresh_systems.readme_apt_line()
    assert line in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    packages = line.split("apt install", 1)[1].split()
    # The libraries a fresh system lacks and the development machines happened to have.
    assert {"python3", "python3-pip", "git", "make", "chromium", "libatomic1"} <= set(packages)


def test_as_root_the_line_asks_no_questions():
    line = "sudo apt update && sudo apt install python3 git"
    assert fresh_systems.as_root_noninteractive(line) == "apt-get update -q && apt-get install -y -q python3 git"


def test_the_pytest_summaries_are_reported():
    log = (
        "tests/test_x.py ...\n==== 612 passed, 2 warnings in 801.21s (0:13:21) ====\n"
        "==== 38 passed in 95.00s (0:01:35) ====\n"
    )
    assert (
        fresh_systems.summary_line(log) == "612 passed, 2 warnings in 801.21s (0:13:21) | 38 passed in 95.00s (0:01:35)"
    )
    assert fresh_systems.summary_line("==== 1 failed, 3 passed in 2.00s ====") == "1 failed, 3 passed in 2.00s"
    assert fresh_systems.summary_line("make: *** [Makefile:12: test] Error 2") == "(no pytest summary)"


def test_the_ci_part_of_the_suite_names_tests_that_exist():
    for test in fresh_systems.CI_TESTS:
        assert (REPO_ROOT / test.split("::")[0]).is_file(), test
