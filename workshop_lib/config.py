"""Where things are and which services to talk to: one place, so no notebook hard-codes a path.

Paths are found from this file, not from the current directory, so code works the same from a
notebook in notebooks/, from a papermill run in a scratch directory and from the command line.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
WINE_DATA_DIR = DATA_DIR / "wine-quality"
MODELS_DIR = REPO_ROOT / "models"
REQUIREMENTS_FILE = REPO_ROOT / "requirements.txt"

# Files the lessons create (DVC projects, trained models, logs) go to a workspace, never into the
# course's own folders or git history. WORKSHOP_WORKSPACE moves it (CI points it into build/).
DEFAULT_WORKSPACE = REPO_ROOT / "workspace"

# In docker-compose the lab container reaches the model server by service name (http://serving:8501);
# on a laptop without Docker the server runs on localhost.
DEFAULT_TF_SERVING_URL = "http://localhost:8501"


def shown(path: Path) -> str:
    """A path as a participant reads it: inside the course folder relative to it (.venv/bin/python),
    so printed output names no folder of this machine; elsewhere unchanged."""
    try:
        return str(Path(path).absolute().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def tf_serving_url() -> str:
    """The REST address of TensorFlow Serving, from the TF_SERVING_URL environment variable."""
    return os.environ.get("TF_SERVING_URL", DEFAULT_TF_SERVING_URL).rstrip("/")


def model_dir(name: str = "wine") -> Path:
    """Where a served model's numbered versions go: models/<name>/<version>/, the folder TF Serving watches.

    docker-compose mounts models/ into the serving container. WORKSHOP_MODELS moves it (the tests
    point it into build/, so a test run never replaces the models a participant exported).
    """
    return Path(os.environ.get("WORKSHOP_MODELS", MODELS_DIR)) / name


def workspace_dir(name: str) -> Path:
    """A lesson's own working folder (created if missing), e.g. workspace_dir("02_notebook_to_package")."""
    root = Path(os.environ.get("WORKSHOP_WORKSPACE", DEFAULT_WORKSPACE))
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
