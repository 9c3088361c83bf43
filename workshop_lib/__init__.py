"""workshop_lib: the course's own Python package.

Code that lessons, exercises, tests and `make` targets share lives here, so that a notebook cell
is a call, not a copy. Modules follow the course: `config` (paths and settings), `data` (the wine
data and its checksums), `doctor` (the environment checks of notebook 00 and `make doctor`).
"""

__version__ = "0.1.0"
