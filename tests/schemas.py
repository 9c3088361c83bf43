"""Static checks of files that need a service to run (workflows, compose files), against the JSON
schemas check-jsonschema vendors: no network, no GitHub runner, no Docker engine."""

import contextlib
import io
from pathlib import Path

import check_jsonschema


def schema_check(schema: str, path: Path) -> tuple[int, str]:
    """(exit status, output) of `check-jsonschema --builtin-schema SCHEMA PATH`; 0: valid.

    The CLI (check_jsonschema.main, a click command; pinned in requirements.txt) runs in this process:
    it takes seconds to import, which a subprocess per check would pay again.
    """
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        status = check_jsonschema.main(["--builtin-schema", schema, str(path)], standalone_mode=False)
    return status, output.getvalue()
