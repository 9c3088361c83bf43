"""Module 07: the continuous-improvement cycle. One command takes a new batch of wines to a served,
smoke-tested model version, or stops and says why.

    python -m workshop_lib cycle --batch new_wines.csv [--folder DIR] [--server URL] [--set train.epochs=5]

The steps, in order. A step that stops the run leaves everything before it as it was:

    validate        the batch against data.SCHEMA; a corrupt batch stops here, before anything is touched
    add data        a branch cycle/<run>-<batch> in the project; the new wines appended; `dvc add` versions the data
    retrain         `dvc repro` (the stable split), then the Keras model of module 04 on the training wines
    evaluate        the candidate and the version in production on the same held-out wines
    quality gate    promote only if the MAE is lower by at least the margin (params.yaml: gate.margin, 0.01)
                    and no region (red, white) is worse by more than gate.region_tolerance (0.03)
    export          the evaluated SavedModel copied to <served>/<next number>, atomically
    server pick-up  the model server (polling the base path) reports the new version AVAILABLE
    smoke test      predictions through the server's REST API equal the in-process ones (export.PARITY_TOLERANCE)
    baseline        the training wines saved as the reference for drift checks (module 06)
    record          the branch merged into main, tagged v<N>, data and model pushed to the DVC remote

Design choices, and why:

- **Where the model is trained.** The project's DVC pipeline has one stage, `split`. The Keras model is
  trained by the cycle, in its own process, right after `dvc repro`, and the SavedModel it writes is
  versioned with `dvc add models/savedmodel`. A `train` stage would do the same in a new process, and every
  process that trains pays TensorFlow's import (about 4 s) again, while the cycle needs TensorFlow anyway
  to evaluate and smoke-test. The record is complete all the same: each cycle's commit pins the data
  (data/wine.csv.dvc), the split (dvc.lock), the params, the model (models/savedmodel.dvc) and the metrics
  and decision (metrics.json). On a build server with a GPU you would make training a stage again.
- **A stable split.** Module 03's split shuffles the whole file, so after new wines arrive, wines the model in
  production trained on land in the new test set and flatter it. Here each wine's side is fixed by a hash
  of its values: a held-out wine stays held out in every later cycle, and the test set only grows.
- **Production** is the newest numbered folder in the served base path: what TF Serving serves by default.
  Before the first version there is none, and the first candidate must beat the mean baseline (always
  predict the average score) by the margin.
- **A branch per run.** Candidate data, model and metrics are committed on cycle/<run>-<batch>. Only a
  promoted and smoke-tested run reaches main. A refused run stays on its branch (and in the DVC remote) for
  the post-mortem, and it is never the base of the next run.
- **The served artifact is the evaluated one.** The export copies the SavedModel the gate judged. It does not
  export a second time. The copy goes to a hidden folder first and is renamed into place, as in
  export.export_savedmodel (both through model_server.versions.publish), so the server never sees half a
  model. A failed smoke test removes the version again, and the server goes back to the previous one.

The served base path defaults to <folder>/served/wine, never models/wine: running the cycle in the
course leaves module 05's versions alone.

The package, one module per job (everything below is re-exported here, so `cycle.run_cycle(...)` works):

    folders.py   the names and folders of a set-up: Cycle, create, default_params, pipeline_yaml
    steps.py     the building blocks: stable_split, quality_gate, next_version, publish, smoke_test, ...
                 (version folders through model_server.versions; params through workshop_lib.params)
    run.py       a run and its report: CycleRun (one method per step), CycleReport, Step, run_cycle
    job.py       history, the papermill job notebook, and the DVC stage's command line (main)
"""

from workshop_lib.cycle.folders import (
    CANDIDATE,
    DATA_FILE,
    EPOCHS,
    LESSON,
    MARGIN,
    METRIC,
    METRICS_FILE,
    MODEL_NAME,
    PICK_UP_TIMEOUT,
    PIPELINE,
    PREPARED,
    REGION_TOLERANCE,
    REGIONS,
    SERIES_FILE,
    SMOKE_WINES,
    Cycle,
    CycleError,
    create,
    default_folder,
    default_params,
    describe_error,
    pipeline_yaml,
)
from workshop_lib.cycle.job import JOB_NOTEBOOK_CELLS, history, main, write_job_notebook
from workshop_lib.cycle.run import (
    FAILED,
    NOTHING_NEW,
    OK,
    PROMOTED,
    REFUSED,
    SKIPPED,
    STEPS,
    STOPPED,
    CycleReport,
    CycleRun,
    Step,
    run_cycle,
    withdraw_release,
)
from workshop_lib.cycle.steps import (
    baseline_metrics,
    metrics_of,
    next_version,
    parse_overrides,
    predict_saved_model,
    production_version,
    publish,
    quality_gate,
    regions_of,
    save_baseline,
    serving_version,
    smoke_test,
    stable_split,
    start_server,
    train_candidate,
    version_states,
    wait_for_version,
    wait_until_serving,
    withdraw,
)

__all__ = [
    "CANDIDATE",
    "DATA_FILE",
    "EPOCHS",
    "FAILED",
    "JOB_NOTEBOOK_CELLS",
    "LESSON",
    "MARGIN",
    "REGION_TOLERANCE",
    "REGIONS",
    "METRIC",
    "METRICS_FILE",
    "SERIES_FILE",
    "MODEL_NAME",
    "NOTHING_NEW",
    "OK",
    "PICK_UP_TIMEOUT",
    "PIPELINE",
    "PREPARED",
    "PROMOTED",
    "REFUSED",
    "SKIPPED",
    "SMOKE_WINES",
    "STEPS",
    "STOPPED",
    "Cycle",
    "CycleError",
    "CycleReport",
    "CycleRun",
    "Step",
    "baseline_metrics",
    "create",
    "default_folder",
    "default_params",
    "describe_error",
    "history",
    "main",
    "metrics_of",
    "next_version",
    "parse_overrides",
    "pipeline_yaml",
    "predict_saved_model",
    "production_version",
    "publish",
    "quality_gate",
    "regions_of",
    "run_cycle",
    "save_baseline",
    "serving_version",
    "smoke_test",
    "stable_split",
    "start_server",
    "train_candidate",
    "version_states",
    "wait_for_version",
    "withdraw",
    "withdraw_release",
    "wait_until_serving",
    "write_job_notebook",
]
