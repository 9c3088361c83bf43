"""workshop_lib: the wine product, the notebook's code moved into a package of its own.

What a team would ship: `config` (paths and settings), `data` (the wine data, validated), `features`,
`train`, `evaluate`, `params`, `export` (SavedModel, ONNX), `serving` (the model server's client),
`monitoring`, `dvc_project` (the pipeline) and `cycle` (the improvement cycle). The course's own
tools live in the `course` package and the local model server in `model_server`, not here.
"""

__version__ = "0.1.0"
