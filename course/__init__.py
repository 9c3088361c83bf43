"""The course's machinery, for instructors and the test harness, not part of the wine product.

doctor (is this machine ready?), checks (the exercises' verdicts), exercises (the exercise
notebooks generated from solutions/), classroom (make reset, make checkpoint), notebooks (the
notebook runner and its CI parameters, notebook_parameters.yaml), lockfile (the lock against .venv).
It may import workshop_lib and model_server; they never import it.
"""
