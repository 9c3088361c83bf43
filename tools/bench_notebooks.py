"""`make bench`: each notebook's execution time and peak memory with its CI parameters.

Budgets (issue: foundation): no notebook over 60 s with CI parameters; the whole `make test` under
10 minutes on 2 cores. Figures, not timed tests: a busy machine makes timed tests flaky.
Each notebook runs in a fresh Python process, so the peak memory of its kernel (a child process
of that Python) is measured on its own.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from course import notebooks

BUDGET_SECONDS = 60

# Runs in the child process: execute one notebook, report wall time and the kernel's peak RSS.
CHILD = """
import json, resource, sys, time
from course import notebooks
notebook, output, scratch = sys.argv[1:4]
start = time.perf_counter()
notebooks.execute(notebook, output, notebooks.ci_parameters(notebook), cwd=scratch)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024}))
"""


NOTEBOOK_TIMEOUT = 3600  # one notebook with its default parameters; a hung kernel stops the bench here


def bench(notebook: Path, workdir: Path) -> dict:
    name = notebook.stem
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(notebook), str(workdir / f"{name}.ipynb"), str(workdir / name)],
        capture_output=True,
        text=True,
        timeout=NOTEBOOK_TIMEOUT,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    over = 0
    total = 0.0
    print(f"{'notebook':<48} {'seconds':>8} {'peak MiB':>9}  budget {BUDGET_SECONDS} s")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for notebook in notebooks.course_notebooks():
            figures = bench(notebook, Path(tmp))
            name = notebooks.relative_name(notebook)
            if "error" in figures:
                print(f"{name:<48} {'-':>8} {'-':>9}  FAILED: {figures['error']}")
                over += 1
                continue
            total += figures["seconds"]
            flag = "OVER BUDGET" if figures["seconds"] > BUDGET_SECONDS else "ok"
            over += flag != "ok"
            print(f"{name:<48} {figures['seconds']:8.1f} {figures['peak_mib']:9.0f}  {flag}")
    print(f"{'all notebooks, one run each':<48} {total:8.1f}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
