"""The take-home project: a model of another family through the whole path, judged by a rubric.

After the day, a participant takes a new model from a DVC experiment to a promotion or a refusal, with
the real tools, in a folder of their own (workspace/08_take_home_project/):

    dvc/project/           a git + DVC project of the red and white wines (module 03's pipeline)
    serving/wine/1/        version 1, in production: module 04's Keras net, trained on the red wines only
    serving/models.config  TF Serving's config: version 1 under the label "stable"
    shadow_wines.csv       the held-out wines (both regions) that production traffic will bring
    labels.csv             the tasters' scores of those wines, which arrive after the shadow run
    train_wines.csv        the wines a new version may learn from

The participant writes serving/wine/<N>/, edits serving/models.config, and writes shadow.csv and
gate.json. `rubric(home)` reads only those files, the project's experiments and what a real model
server answers, so any way of producing them (terminal, notebook, another library) is judged alike:

08.1 experiment  `dvc exp show` holds a model family the course does not have next to one it has,
                 both with validation metrics
08.2 export      a new numbered version with the serving contract (11 named raw inputs, "quality"), the
                 preprocessing inside (raw measurements score better than the average), version 1 as it was
08.3 shadow      shadow.csv: every shadow wine once, with what version 1 ("stable") and the new version
                 ("canary") answer for it
08.4 gate        gate.json: both versions' metrics on the labelled shadow wines (overall and per region)
                 and the course's gate's decision on them
08.5 decision    models.config as the gate decided: "stable" on the new version, or on version 1 with the
                 new one taken off "canary"; a model server started on it answers "stable" so
"""

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from course.checks import CORRECT, NOT_SOLVED, WRONG, Verdict, first_line
from model_server import versions
from workshop_lib import cycle, data, dvc_project, export, params

if TYPE_CHECKING:
    from model_server import LocalModelServer

PRODUCTION_VERSION = 1
COURSE_MODELS = params.MODELS  # the families the course brings; the project must try one more
SCORE_TOLERANCE = 1e-3  # quality points: a score read back from the server (float32, JSON) vs the SavedModel's
METRIC_TOLERANCE = 1e-3  # a metric in gate.json vs the rubric's own calculation
SHADOW_COLUMNS = ("request_id", "stable", "canary")
GATE_METRICS = ("mae", "n_test", "mae_red", "n_red", "mae_white", "n_white")
FINGERPRINT = ".production-v1.sha256"  # how version 1 looked when it was handed over
SERVER_TIMEOUT = 60.0  # seconds the rubric's model server may take to load the versions models.config names

MODELS_CONFIG = """\
# TensorFlow Serving's model configuration for the take-home project (protobuf text format).
# The base path is as in docker-compose.yml: serve this folder at /models (LocalModelServer's
# volumes={this folder: "/models"}, or docker's -v). Version 1 is in production under "stable".
model_config_list {
  config {
    name: "wine"
    base_path: "/models/wine"
    model_platform: "tensorflow"
    model_version_policy {
      specific {
        versions: 1
      }
    }
    version_labels {
      key: "stable"
      value: 1
    }
  }
}
"""


@dataclass(frozen=True)
class Home:
    """Where the take-home project's files are; every path the notebook and the rubric use."""

    folder: Path

    @property
    def dvc(self) -> dvc_project.Project:
        return dvc_project.Project(self.folder / "dvc")

    @property
    def project(self) -> Path:
        return self.dvc.path

    @property
    def serving(self) -> Path:
        return self.folder / "serving"

    @property
    def base_path(self) -> Path:
        return self.serving / "wine"

    @property
    def models_config(self) -> Path:
        return self.serving / "models.config"

    @property
    def train_wines(self) -> Path:
        return self.folder / "train_wines.csv"

    @property
    def shadow_wines(self) -> Path:
        return self.folder / "shadow_wines.csv"

    @property
    def labels(self) -> Path:
        return self.folder / "labels.csv"

    @property
    def shadow(self) -> Path:
        return self.folder / "shadow.csv"

    @property
    def gate(self) -> Path:
        return self.folder / "gate.json"

    def server(self, **options: Any) -> "LocalModelServer":
        """A model server on this project's models.config, the serving folder mounted at /models."""
        from model_server import LocalModelServer

        return LocalModelServer(model_config_file=self.models_config, volumes={self.serving: "/models"}, **options)


# --- the hand-over: what the participant starts from ---------------------------------------------------------


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Module 07's stable split of all wines, each held-out wine with a request id and its region."""
    wines = export.load_frame(("red", "white"))
    train, held_out = cycle.stable_split(wines)
    held_out = held_out.assign(region=cycle.regions_of(held_out))
    held_out.insert(0, "request_id", [f"shadow-{number:04d}" for number in range(1, len(held_out) + 1)])
    return train.assign(region=cycle.regions_of(train)), held_out


def prepare(folder: Path, epochs: int = export.EPOCHS) -> Home:
    """Set the project up once: what exists is kept (re-running never costs a participant their work).

    Delete the folder to start again from scratch.
    """
    home = Home(Path(folder))
    home.folder.mkdir(parents=True, exist_ok=True)
    made = []
    if not home.train_wines.is_file() or not home.shadow_wines.is_file() or not home.labels.is_file():
        train, held_out = _split()
        train.to_csv(home.train_wines, index=False)
        held_out.drop(columns=[data.TARGET]).to_csv(home.shadow_wines, index=False)
        held_out[["request_id", data.TARGET]].to_csv(home.labels, index=False)
        made.append(f"{len(train)} training wines, {len(held_out)} shadow wines and their labels")
    if not (home.folder / "dvc" / dvc_project.MARKER).is_file():
        dvc_project.create_project(home.folder / "dvc", data_version="red+white", show=False)
        made.append("the DVC project (red + white wines, prepare -> train -> evaluate)")
    version_1 = home.base_path / str(PRODUCTION_VERSION)
    if not version_1.is_dir():
        train = pd.read_csv(home.train_wines)
        red = train[train["region"] == "red"]
        model = export.fit_keras_model(red[data.FEATURES], red[data.TARGET], epochs=epochs)
        export.export_savedmodel(model, PRODUCTION_VERSION, home.base_path)
        (home.folder / FINGERPRINT).write_text(_fingerprint(version_1) + "\n", encoding="utf-8")
        made.append(f"version 1 in production (module 04's net, {len(red)} red wines, {epochs} epochs)")
    if not home.models_config.is_file():
        home.models_config.write_text(MODELS_CONFIG, encoding="utf-8")
        made.append('serving/models.config (version 1 as "stable")')
    print("made: " + "; ".join(made) if made else "the take-home project is already set up; nothing was changed")
    return home


# --- the rubric ----------------------------------------------------------------------------------------------


class _Missing(Exception):
    """The criterion's file or state is not there yet: "not done yet", not "not quite"."""


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise _Missing(f"there is no {path.name} yet ({what})")
    return pd.read_csv(path)


def _versions(home: Home) -> dict[int, Path]:
    return versions.list_versions(home.base_path) if home.base_path.is_dir() else {}


def _candidate(home: Home) -> int:
    newer = [number for number in _versions(home) if number > PRODUCTION_VERSION]
    if not newer:
        raise _Missing("serving/wine/ holds only version 1: export your model as the next version")
    return max(newer)


def _scores(home: Home, version: int, wines: pd.DataFrame) -> np.ndarray:
    folder = _versions(home)[version]
    return export.predict_signature(export.load_signature(folder), wines)


def _judge_experiment(home: Home) -> str:
    if not (home.folder / "dvc" / dvc_project.MARKER).is_file():
        raise _Missing("there is no DVC project yet: run the set-up cell")
    table = home.dvc.experiments()
    if "Experiment" not in table:
        raise _Missing("dvc exp show lists no experiment yet")
    runs = table[table["Experiment"].notna() & (table["Experiment"].astype(str).str.strip() != "")]
    if runs.empty:
        raise _Missing("dvc exp show lists no experiment yet: run one with dvc exp run")
    if "mae" not in runs:
        return "no experiment has metrics: did dvc exp run finish? (dvc exp show has no 'mae' column)"
    runs = runs.assign(model=runs.get("train.model", pd.Series(index=runs.index, dtype=object)).fillna("elasticnet"))
    measured = runs[runs["mae"].notna()]
    own = measured[~measured["model"].isin(COURSE_MODELS)]
    if own.empty:
        tried = ", ".join(sorted(set(runs["model"].astype(str))))
        return (
            f"the experiments use only the course's model families ({tried}): bring one it does not have "
            "(gradient boosting, say) by adding it to the project's workshop_lib/train.py"
        )
    known = measured[measured["model"].isin(COURSE_MODELS)]
    if known.empty:
        return (
            f"{own['model'].iloc[0]} has no experiment of a course model beside it: run one (elasticnet or "
            "random_forest) so both are scored on the same validation wines"
        )
    best_own, best_known = own.sort_values("mae").iloc[0], known.sort_values("mae").iloc[0]
    return (
        f"OK {best_own['model']} (validation MAE {best_own['mae']:.3f}) next to {best_known['model']} "
        f"({best_known['mae']:.3f}), both in dvc exp show"
    )


def _judge_export(home: Home) -> str:
    fingerprint = home.folder / FINGERPRINT
    version_1 = _versions(home).get(PRODUCTION_VERSION)
    if version_1 is None:
        return "version 1 is gone from serving/wine/: production must stay on disk until a new version replaces it"
    if fingerprint.is_file() and _fingerprint(version_1) != fingerprint.read_text(encoding="utf-8").strip():
        return "version 1 was changed: a version in production is never overwritten, export yours as a new number"
    number = _candidate(home)
    signature = export.signature(_versions(home)[number])
    inputs, outputs = sorted(signature["inputs"]), list(signature["outputs"])
    if inputs != sorted(export.INPUTS):
        missing = sorted(set(export.INPUTS) - set(inputs))
        return (
            f"version {number} takes {inputs[:3]}{'...' if len(inputs) > 3 else ''} as inputs: the contract is one "
            f"named raw input per measurement, export.INPUTS (missing {missing[:3]}{'...' if len(missing) > 3 else ''})"
        )
    if outputs != [export.OUTPUT]:
        return f"version {number} answers {outputs}: the contract's output is one score named '{export.OUTPUT}'"
    wines, labels = pd.read_csv(home.shadow_wines), pd.read_csv(home.labels)
    truth = wines[["request_id"]].merge(labels, on="request_id")[data.TARGET].to_numpy(float)
    scores = _scores(home, number, wines)
    mae = float(np.mean(np.abs(scores - truth)))
    average = float(pd.read_csv(home.train_wines)[data.TARGET].mean())
    baseline = float(np.mean(np.abs(average - truth)))
    if not mae < baseline:
        return (
            f"version {number} scores the raw measurements of the shadow wines with MAE {mae:.3f}, no better than "
            f"always predicting the average ({baseline:.3f}): is the scaling inside the model, and was it trained?"
        )
    return f"OK version {number}: 11 named raw inputs, '{export.OUTPUT}' out, MAE {mae:.3f} on raw measurements"


def _shadow(home: Home) -> pd.DataFrame:
    shadow = _read_csv(home.shadow, "the stable and the canary answers for every shadow wine")
    missing = [column for column in SHADOW_COLUMNS if column not in shadow]
    if missing:
        raise ValueError(f"shadow.csv has no column {missing[0]!r}: it needs {', '.join(SHADOW_COLUMNS)}")
    return shadow


def _judge_shadow(home: Home) -> str:
    shadow = _shadow(home)
    wines = pd.read_csv(home.shadow_wines)
    if shadow["request_id"].duplicated().any():
        return f"shadow.csv holds request {shadow.loc[shadow['request_id'].duplicated(), 'request_id'].iloc[0]} twice"
    expected, got = set(wines["request_id"]), set(shadow["request_id"])
    if got != expected:
        gone, strange = sorted(expected - got), sorted(got - expected)
        return (
            f"shadow.csv answers {len(got & expected)} of the {len(expected)} shadow wines"
            + (f"; missing {gone[0]} and {len(gone) - 1} more" if gone else "")
            + (f"; unknown request {strange[0]}" if strange else "")
        )
    number = _candidate(home)
    answered = wines[["request_id"]].merge(shadow, on="request_id")
    for column, version, label in (("stable", PRODUCTION_VERSION, "stable"), ("canary", number, "canary")):
        values = pd.to_numeric(answered[column], errors="coerce").to_numpy(float)
        if not np.all(np.isfinite(values)):
            return f"the {column} column has values that are not numbers"
        expected_scores = _scores(home, version, wines)
        worst = float(np.max(np.abs(values - expected_scores)))
        if worst > SCORE_TOLERANCE:
            other = _scores(home, number if version == PRODUCTION_VERSION else PRODUCTION_VERSION, wines)
            if float(np.max(np.abs(values - other))) <= SCORE_TOLERANCE:
                return (
                    f"the {column} column holds the other version's scores: '{label}' should answer with "
                    f"version {version}"
                )
            return (
                f"the {column} column is not what version {version} answers (off by up to {worst:.3g}): send each "
                f"shadow wine to the label '{label}' and keep its score with its request_id"
            )
    return f"OK {len(answered)} shadow wines, each answered by version 1 (stable) and version {number} (canary)"


def reference_gate(home: Home) -> tuple[dict, dict, bool, str]:
    """(candidate metrics, production metrics, promote, reason) on the labelled shadow wines, as module 07's
    gate computes them: what gate.json must agree with."""
    wines, labels = pd.read_csv(home.shadow_wines), pd.read_csv(home.labels)
    wines = wines.merge(labels, on="request_id")
    number = _candidate(home)
    metrics = {
        name: cycle.metrics_of(wines[data.TARGET], _scores(home, version, wines), wines["region"])
        for name, version in (("candidate", number), ("production", PRODUCTION_VERSION))
    }
    promote, reason = cycle.quality_gate(metrics["candidate"], metrics["production"])
    return metrics["candidate"], metrics["production"], promote, reason


def _gate_file(home: Home) -> dict:
    if not home.gate.is_file():
        raise _Missing("there is no gate.json yet (both versions' metrics and the gate's decision)")
    try:
        gate = json.loads(home.gate.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"gate.json is not JSON: {error.msg} (line {error.lineno})") from None
    for key in ("candidate", "production", "promote"):
        if not isinstance(gate, dict) or key not in gate:
            raise ValueError(f"gate.json has no key {key!r}: it needs candidate, production, promote and reason")
    if not isinstance(gate["promote"], bool):
        raise ValueError(f"gate.json's promote should be true or false, got {gate['promote']!r}")
    return gate


def _judge_gate(home: Home) -> str:
    gate = _gate_file(home)
    candidate, production, promote, reason = reference_gate(home)
    for name, expected in (("candidate", candidate), ("production", production)):
        given = gate[name]
        if not isinstance(given, dict):
            return f"gate.json's {name} should be its metrics ({', '.join(GATE_METRICS)}), got {given!r}"
        for key in GATE_METRICS:
            if key not in given:
                return (
                    f"gate.json's {name} has no {key}: the gate compares the whole shadow set and each region "
                    "(red, white), because a better average can hide a region that got worse"
                )
            value = given[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                return f"gate.json's {name}.{key} should be a number, got {value!r}"
            if abs(value - expected[key]) > METRIC_TOLERANCE:
                other = production if name == "candidate" else candidate
                if abs(value - other[key]) <= METRIC_TOLERANCE and key.startswith("mae"):
                    return f"gate.json's candidate and production are swapped ({name}.{key} is the other version's)"
                return (
                    f"gate.json's {name}.{key} is {value:g}; on the labelled shadow wines it is {expected[key]:g}: "
                    "join the labels to shadow.csv by request_id and score each version's column"
                )
    if gate["promote"] != promote:
        return (
            f"gate.json says promote = {str(gate['promote']).lower()}, but on these metrics the course's gate says "
            f"{'promote' if promote else 'refuse'}: {reason}"
        )
    return f"OK {'promote' if promote else 'refuse'}: {reason}"


def _judge_decision(home: Home) -> str:
    from model_server import ServingError
    from model_server.configs import read_model_config

    gate = _gate_file(home)
    number = _candidate(home)
    try:
        (model,) = read_model_config(home.models_config).model_config_list.config
    except Exception as error:  # noqa: BLE001 - a hand-edited config may be broken in any way
        return f"serving/models.config does not parse as one model's config: {first_line(error)}"
    labels = dict(model.version_labels)
    wanted = number if gate["promote"] else PRODUCTION_VERSION
    if labels.get("stable") != wanted:
        return (
            f"the gate said {'promote' if gate['promote'] else 'refuse'}, but 'stable' names version "
            f"{labels.get('stable')}: it should name version {wanted}"
        )
    if not gate["promote"] and labels.get("canary") == number:
        return f"the gate refused version {number}, but 'canary' still sends clients to it: take the label off"
    try:
        with home.server(timeout=SERVER_TIMEOUT) as server:
            answered = server.client().status(label="stable")
    except ServingError as error:
        return f"a model server on serving/models.config does not answer 'stable': {first_line(error)}"
    states = {int(entry["version"]): entry["state"] for entry in answered.get("model_version_status", [])}
    if states.get(wanted) != "AVAILABLE":
        return f"a model server on serving/models.config does not serve version {wanted} under 'stable': {states}"
    if gate["promote"]:
        return f"OK version {number} is 'stable': a model server on models.config answers with it"
    return f"OK version 1 stays 'stable' and version {number} is off 'canary': the refusal is in the config"


CRITERIA = (
    (
        "08.1",
        "experiment",
        _judge_experiment,
        "add a model family to the project's workshop_lib/train.py (and its name to params.py's MODELS), then "
        "run it and a course model with dvc exp run -S train.model=...",
    ),
    (
        "08.2",
        "export",
        _judge_export,
        "a Keras model of module 04's shape (named inputs, the scaling adapted inside, output 'quality') "
        "written to serving/wine/<next number>/",
    ),
    (
        "08.3",
        "shadow",
        _judge_shadow,
        "label the new version 'canary' in models.config, start a server on it, and send every shadow wine to "
        "both labels; write request_id, stable, canary",
    ),
    (
        "08.4",
        "gate",
        _judge_gate,
        "join labels.csv to shadow.csv, compute each version's metrics with their regions (cycle.metrics_of) "
        "and let cycle.quality_gate decide",
    ),
    (
        "08.5",
        "decision",
        _judge_decision,
        "move 'stable' to the new version if the gate promotes; else keep it on 1 and take the new one off 'canary'",
    ),
)


def judge(home: Home, exercise: str) -> Verdict:
    """One criterion's verdict; a missing file is "not solved yet", a broken one names what is wrong."""
    ((_, name, judge_, hint),) = [entry for entry in CRITERIA if entry[0] == exercise]
    try:
        message = judge_(home)
    except _Missing as missing:
        return Verdict(exercise, NOT_SOLVED, str(missing), hint)
    except Exception as error:  # noqa: BLE001 - files a participant wrote may be wrong in any way
        return Verdict(exercise, WRONG, first_line(error) if not isinstance(error, ValueError) else str(error), hint)
    if message.startswith("OK "):
        return Verdict(exercise, CORRECT, message[3:])
    return Verdict(exercise, WRONG, message, hint)


def check(home: Home, exercise: str) -> Verdict:
    """Print and return one criterion's verdict (the notebook calls it after each step)."""
    result = judge(home, exercise)
    print(result)
    return result


def rubric(home: Home) -> pd.DataFrame:
    """Every criterion, what is done and what is missing, in plain words: the project's report card."""
    rows = []
    for exercise, name, _, _ in CRITERIA:
        result = judge(home, exercise)
        status = {CORRECT: "done", WRONG: "not right yet", NOT_SOLVED: "missing"}[result.status]
        rows.append({"criterion": f"{exercise} {name}", "status": status, "what the rubric saw": result.message})
    table = pd.DataFrame(rows)
    done = int((table["status"] == "done").sum())
    print(f"Take-home rubric: {done} of {len(table)} criteria done")
    return table
