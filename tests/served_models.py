"""Two untrained wine-shaped versions behind a models.config with labels and Prometheus metrics on: the model
server set-up the monitoring tests share (tests import it as `from served_models import two_versions`)."""

from pathlib import Path

from workshop_lib import data, export


def two_versions(root: Path) -> tuple[Path, Path]:
    """Versions 1 and 2 in root/wine, labelled stable and canary; (models.config, monitoring.config)."""
    wines = data.load_wine("red").head(200)
    for version in (1, 2):
        export.export_savedmodel(export.build_keras_model(wines, seed=version), version, root / "wine")
    (root / "models.config").write_text(
        'model_config_list { config { name: "wine" base_path: "%s" model_platform: "tensorflow" '
        "model_version_policy { specific { versions: 1 versions: 2 } } "
        'version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 } } }' % (root / "wine")
    )
    (root / "monitoring.config").write_text('prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }')
    return root / "models.config", root / "monitoring.config"
