"""Reading the verdict a check printed: shared by the tests of every module's checks.

pytest puts this folder on sys.path (rootdir-style test folders without __init__.py), so the
test files import it as `from verdicts import verdict_of, assert_not_quite`.
"""

import re

from course.checks import VERDICT_PATTERN


def verdict_of(capsys, exercise: str) -> tuple[str, str]:
    """(status, whole printed text) of the one verdict a check printed."""
    out = capsys.readouterr().out
    found = re.findall(VERDICT_PATTERN, out)
    assert len(found) == 1, out
    assert found[0][0] == exercise, out
    return found[0][1], out


def assert_not_quite(capsys, exercise: str, *fragments: str) -> str:
    """A "not quite" with a hint, no traceback, and every fragment in the text."""
    status, out = verdict_of(capsys, exercise)
    assert status == "not quite", out
    assert "Hint:" in out, out
    assert "Traceback" not in out
    for fragment in fragments:
        assert fragment in out, out
    return out
