"""The numbers a slide deck quotes are the ones its lesson notebook shows: a re-run cannot leave a deck behind.

QUOTES is the table: per quoted number, the deck, the text as the deck writes it, the lesson notebook and the id of
the cell whose committed output it comes from, and the text that output must contain (the deck's own text when it is
the same). When `make outputs` changes a number, the test names the quote, and the deck (and this table) get the new
one. Quote only what a run reproduces: counts, and the results of seeded computations; latencies differ on every run,
so decks describe them instead of quoting them. Another deck joins by adding its rows.
"""

from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest

from workshop_lib.config import REPO_ROOT


class Quote(NamedTuple):
    deck: str  # slides/<deck>.md
    text: str  # as the deck writes it
    notebook: str  # notebooks/<notebook>.ipynb
    cell: str  # the id of the cell whose output holds the number
    output: str | None = None  # the text in that output; None: the same as `text`


M01, M03, M04, M05, M06, M07 = (
    "01_exploration",
    "03_reproducible_training_dvc",
    "04_model_export",
    "05_serving",
    "06_monitoring_feedback",
    "07_continuous_improvement",
)
QUOTES = [
    Quote(
        M01,
        "| baseline: always the training mean | 0.711 | 0.850 | −0.001 |",
        M01,
        "51deb47b",
        "baseline (mean)  0.711  0.850 -0.001",
    ),
    Quote(
        M01,
        "| ElasticNet (alpha 0.1, l1_ratio 0.5) | 0.552 | 0.696 | 0.330 |",
        M01,
        "51deb47b",
        "ElasticNet       0.552  0.696  0.330",
    ),
    Quote(
        M01,
        "| random forest (200 trees) | **0.528** | **0.687** | **0.346** |",
        M01,
        "51deb47b",
        "random forest    0.528  0.687  0.346",
    ),
    Quote(M01, "every coefficient is zero, MAE 0.711", M01, "669e0c40", "validation MAE with alpha=1.0: 0.711"),
    Quote(M01, "MAE **0.470**, R² 0.451", M01, "594bb641", "{'MAE': 0.47, 'RMSE': 0.624, 'R²': 0.451}"),
    Quote(M01, "scored 0.425 on its own split", M01, "b0a541d6", "MAE 0.425 on its own test split"),
    Quote(M01, "two standard errors (0.027)", M01, "594bb641", "on 272 wines is about 0.027"),
    Quote(M01, '| always "not good" | **0.860** | 0 | 0 | 0 |', M01, "bc1df979", "0.860       0.00   0.000  0.000"),
    Quote(
        M01,
        "| random forest (prediction ≥ 6.5) | 0.868 | 0.550 | 0.289 | 0.379 |",
        M01,
        "bc1df979",
        "0.868       0.55   0.289  0.379",
    ),
    Quote(
        M01,
        "the forest flags 4.0 of them, misses 9.9, and\n  raises 3.3 false alarms",
        M01,
        "78280ec8",
        "the forest flags 4.0 of them, misses 9.9, and raises 3.3 false alarms",
    ),
    Quote(
        M01,
        "(on the test wines: 5.9 flagged, 6.6 missed, 2.6 false alarms)",
        M01,
        "594bb641",
        "5.9 good wines flagged, 6.6 missed, 2.6 false alarms",
    ),
    Quote(M03, "| 1.0 | 0.2 | 0.650 | 0.131 | 0.628 |", M03, "1041f475", "1.0       0.2  0.650  0.131  0.628"),
    Quote(M03, "| ? | 1.0 | 0.0 | 0.566 | 0.301 | 0.505 |", M03, "1041f475", "1.0       0.0  0.566  0.301  0.505"),
    Quote(
        M03,
        "| module-01-forest | random_forest | | | **0.528** |",
        M03,
        "1d5eb0cd",
        "best: module-01-forest (random_forest): validation MAE 0.528",
    ),
    Quote(
        M03,
        "| module-01-elasticnet | elasticnet | 0.1 | 0.5 | 0.552 |",
        M03,
        "1d5eb0cd",
        "elasticnet          0.1             0.5 0.552",
    ),
    Quote(
        M03,
        "test wines, once: MAE **0.470**, 5.9 good wines found per 100",
        M03,
        "f24edd2b",
        "MAE 0.470, R² 0.451; per 100 wines 5.9 good wines found",
    ),
    Quote(
        M03,
        "| v1.0 | 01803216… | 1599 red | 0.711 | -0.001 | 272 |",
        M03,
        "e39a6af4",
        "(1599 wines); MAE 0.711, R² -0.001 on 272 validation wines",
    ),
    Quote(
        M03,
        "| v2.0 | 87750e8d… | 6497 red + white | 0.532 | 0.382 | 1064 |",
        M03,
        "27ef6674",
        "(6497 wines); MAE 0.532, R² 0.382 on 1064 validation wines",
    ),
    Quote(M04, "| pipeline, scaling inside | 0.52 |", M04, "2db732ee", "pipeline (scaling inside)   0.52"),
    Quote(M04, "| forgot the scaling | **1.43**", M04, "2db732ee", "forgot the scaling          1.43"),
    Quote(M04, "| scaled with its own batch | 0.52", M04, "2db732ee", "scales with its own batch   0.52"),
    Quote(
        M04,
        "predictions like 7.6 for a wine the tasters gave a 4",
        M04,
        "2db732ee",
        "4                       5.33                        5.33                7.56",
    ),
    Quote(M04, "6.3 and 7.9", M04, "2db732ee", "5.26                        5.26                6.33"),
    Quote(
        M04, "and 7.9 are valid quality scores", M04, "2db732ee", "6.10                        6.10                7.89"
    ),
    Quote(
        M04,
        "the forgotten scaling takes the MAE from 0.52 to 1.43",
        M04,
        "2db732ee",
        "forgot the scaling          1.43",
    ),
    Quote(M04, "mean for alcohol is 10.435", M04, "5bab7622", "e.g. alcohol 10.435 % vol"),
    Quote(
        M04,
        "| baseline: always the training mean | 0.711 | −0.001 | 0.0 | 0.0 |",
        M04,
        "c04a7e51",
        "baseline (mean)  0.711 -0.001         0.0           0.0",
    ),
    Quote(
        M04,
        "| ElasticNet (module 01) | 0.552 | 0.330 | 0.4 | 0.7 |",
        M04,
        "c04a7e51",
        "ElasticNet       0.552  0.330         0.4           0.7",
    ),
    Quote(
        M04,
        "| random forest (module 01) | **0.528** | **0.346** | 4.0 | 3.3 |",
        M04,
        "c04a7e51",
        "random forest    0.528  0.346         4.0           3.3",
    ),
    Quote(
        M04,
        "| Keras net (this module) | 0.570 | 0.218 | 4.4 | 4.8 |",
        M04,
        "c04a7e51",
        "Keras net        0.570  0.218         4.4           4.8",
    ),
    Quote(M04, "trained on 815 wines, scored on the same 272 validation wines", M04, "c04a7e51"),
    Quote(M04, "0.043 worse per wine, standard error 0.018", M04, "c04a7e51", "MAE +0.043, standard error 0.018"),
    Quote(
        M04,
        "the 1,087 red training + validation wines, MAE 0.507 on the 272 test wines",
        M04,
        "0a90dbe1",
        "trained on 1087 wines",
    ),
    Quote(M04, "MAE 0.507 on the 272 test wines", M04, "0a90dbe1", "MAE 0.507, R² 0.382 on its 272 test wines"),
    Quote(
        M04, "TensorFlow: 1.8 GB installed", M04, "6be12a86", "SavedModel signature            76                  1821"
    ),
    Quote(M04, "onnxruntime: 76 MB", M04, "6be12a86", "ONNX (tf2onnx)                  22                    76"),
    Quote(M04, "SavedModel 76 kB, ONNX 22 kB", M04, "6be12a86", "SavedModel signature            76"),
    Quote(M04, "the ElasticNet pipeline (1 kB)", M04, "6be12a86", "ONNX (skl2onnx)                  1 "),
    Quote(M04, "the Keras model (22 kB)", M04, "6be12a86", "ONNX (tf2onnx)                  22"),
    Quote(M05, "the signature: 11 named inputs", M05, "a1f16b2f", "11 inputs, all ['DT_FLOAT']"),
    Quote(M05, '{"instances": [{"alcohol": 8.8, ...}, ...]}', M05, "7d5c8abb", '"alcohol": 8.8}'),
    Quote(M05, '`{"predictions": [5.61, ...]}`', M05, "7d5c8abb", "answer: {'predictions': [5.614,"),
    Quote(M05, '`{"outputs": [5.61, ...]}`', M05, "a983115b", "answer: {'outputs': [5.614,"),
    Quote(
        M05,
        "404 `Servable not found for request: Specific(wine, 3)`",
        M05,
        "20a4a2df",
        "HTTP 404 NOT_FOUND\n    Servable not found for request: Specific(wine, 3)",
    ),
    Quote(M05, "729 bytes of JSON", M05, "7d5c8abb", "729 bytes of JSON for 3 wines"),
    Quote(M05, "400 columnar", M05, "a983115b", "400 bytes of JSON for 3 wines"),
    Quote(M05, "460 of protobuf for three wines", M05, "472aefd9", "460 bytes of protobuf for 3 wines"),
    Quote(
        M05,
        "4,898 white wines in 10 requests of up to 500",
        M05,
        "86bcbe51",
        "4898 wines in 10 requests of up to 500 wines",
    ),
    Quote(M05, "a 1.8 GB TensorFlow", M04, "6be12a86", "1821"),
    Quote(M06, '"prediction": 5.22', M06, "b2cb1eb9"),
    Quote(M06, 'request_count{model_name="wine",status="OK"} 240', M06, "6ae8c6af"),
    Quote(M06, 'request_count{model_name="wine",status="NOT_FOUND"} 2', M06, "6ae8c6af"),
    Quote(M06, 'request_latency_count{...,entrypoint="REST"} 240', M06, "6ae8c6af", 'entrypoint="REST"} 240'),
    Quote(M06, "four bad requests: 1.6 %", M06, "0071dafa", "4 of 244 requests, 1.6%"),
    Quote(M06, "density outside [0.9, 1.1]", M06, "3c37bb47", "'density' has values outside [0.9, 1.1]"),
    Quote(M06, "alcohol only, PSI 8.5", M06, "3ef4e8ad", "8.544   drift"),
    Quote(
        M06,
        "alcohol ≤ 9.3   training 0.087   weeks 1-4 0.088   lab B 1.000",
        M06,
        "dac06d4a",
        "9.30     0.087      0.088    1.0",
    ),
    Quote(
        M06,
        "alcohol ≤ 9.5   training 0.103   weeks 1-4 0.125   lab B 0.000",
        M06,
        "dac06d4a",
        "9.50     0.103      0.125    0.0",
    ),
    Quote(
        M06,
        "PSI of alcohol: weeks 1-4 0.047, lab B 8.544",
        M06,
        "dac06d4a",
        "weeks 1-4 (red): 0.047\nPSI of alcohol, week 5: lab B: 8.544",
    ),
    Quote(M06, "all 4,898 white wines", M06, "8c8dc08f", "4898 white wines"),
    Quote(
        M06, "statistic 0.096, p = 1.4e-07**, PSI 0.14", M06, "8c8dc08f", "statistic 0.096, p-value 1.4e-07, PSI 0.139"
    ),
    Quote(M06, "1,204 of 1,290 tasting results", M06, "773fe437", "1204 of 1290 tasting results"),
    Quote(
        M06,
        "86 predictions wait, 50 labels",
        M06,
        "773fe437",
        "unlabelled predictions: 86\n  labels without a prediction: 50",
    ),
    Quote(
        M06,
        "514 wines scored by both, interval [-0.209, -0.129]",
        M06,
        "3b01e0d3",
        "[-0.209, -0.129] (514 wines scored by both)",
    ),
    Quote(M06, "σ_d = 0.463", M06, "49ebb462", "per-wine differences: 0.463"),
    Quote(M06, "σ = 0.497", M06, "49ebb462", "absolute errors: 0.497"),
    Quote(M06, "| 169 wines |", M06, "49ebb462", "paired: 169 tasted wines"),
    Quote(
        M06,
        "389 per version, 778 in all (4.6 times)",
        M06,
        "49ebb462",
        "389 tasted wines per version, 778 in all: 4.6 times",
    ),
    Quote(
        M06,
        "10 Nov, 161 pairs",
        M06,
        "17184545",
        "Mon 10 Nov shadow    161 pairs      -0.120 -0.190 -0.050             canary better",
    ),
    Quote(
        M06,
        "17 Nov, 145 + 145 wines",
        M06,
        "17184545",
        "Mon 17 Nov    A/B    145 + 145      -0.135 -0.250 -0.018             canary better",
    ),
    # deck 07: the gate per region, the record, the rollback drill
    Quote(
        M07,
        "| version 1 (red wines only) | 0.777 | **0.590** | 0.907 |",
        M07,
        "f3f6fe15",
        "version 1  0.777    0.590      0.907",
    ),
    Quote(
        M07,
        "| candidate, 4 epochs | 0.716 | **0.672** | 0.746 |",
        M07,
        "f3f6fe15",
        "candidate  0.716    0.672      0.746",
    ),
    Quote(M07, "Better overall by 0.061", M07, "2e9545a2", "lower by 0.061"),
    Quote(
        M07,
        "Worse for the red wines by 0.082, beyond the tolerance 0.03",
        M07,
        "2e9545a2",
        "worse by 0.082, more than the region tolerance 0.03",
    ),
    Quote(
        M07,
        "better in both regions (red 0.572, white 0.595)",
        M07,
        "31987439",
        "(red 0.590 -> 0.572, white 0.907 -> 0.595)",
    ),
    Quote(
        M07,
        "promote: MAE 0.559 vs 0.581 ...      ← v3",
        M07,
        "fd83b61d",
        "run 5 (white_2.csv): promote: MAE 0.559 vs 0.581",
    ),
    Quote(
        M07,
        "promote: MAE 0.585 vs 0.777 ...      ← v2",
        M07,
        "fd83b61d",
        "run 3 (white_1.csv): promote: MAE 0.585 vs 0.777",
    ),
    Quote(
        M07,
        "refuse: MAE 0.716 vs 0.777 ...      (never on main)",
        M07,
        "fd83b61d",
        "run 2 (white_1.csv): refuse: MAE 0.716 vs 0.777",
    ),
    Quote(
        M07,
        "promote: MAE 0.590 vs 0.711 ...     ← v1",
        M07,
        "fd83b61d",
        "run 1 (no new batch): promote: MAE 0.590 vs 0.711",
    ),
    Quote(M07, "**failed requests: 0**", M07, "9f0f6545", "failed requests: 0"),
    Quote(M07, "Tag `v3-withdrawn`", M07, "9f0f6545", "'v3-withdrawn'"),
]


def cell_output(notebook: Path, cell_id: str) -> str | None:
    """The committed text output of one cell (streams and text/plain, joined), or None if there is no such cell."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.get("id") == cell_id:
            return "".join(o.get("text") or o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", []))
    return None


def quote_problems(
    quote: Quote, slides: Path = REPO_ROOT / "slides", notebooks: Path = REPO_ROOT / "notebooks"
) -> list[str]:
    """Why the deck's quote and the notebook's output disagree, one line each; empty when they agree."""
    deck, notebook = slides / f"{quote.deck}.md", notebooks / f"{quote.notebook}.ipynb"
    problems = []
    if quote.text not in deck.read_text(encoding="utf-8"):
        problems.append(f"slides/{deck.name} no longer quotes {quote.text!r}: update the row in QUOTES")
    output = cell_output(notebook, quote.cell)
    expected = quote.text if quote.output is None else quote.output
    if output is None:
        problems.append(f"notebooks/{notebook.name} has no cell with id {quote.cell!r}")
    elif expected not in output:
        problems.append(
            f"slides/{deck.name} quotes {quote.text!r}, but cell {quote.cell} of notebooks/{notebook.name} no longer "
            f"shows {expected!r}: copy the new number from the committed output into the deck and QUOTES"
        )
    return problems


@pytest.mark.parametrize("quote", QUOTES, ids=lambda quote: f"{quote.deck}: {quote.text}")
def test_the_deck_quotes_what_the_notebook_shows(quote):
    problems = quote_problems(quote)
    assert not problems, "\n".join(problems)


def test_a_number_that_drifted_is_found(tmp_path):
    """The check above can fail: a deck whose number the notebook no longer shows, and a quote the deck dropped."""
    (tmp_path / "deck.md").write_text("# Deck\n\nlatency 0.65 ms, 237 requests\n", encoding="utf-8")
    cell = nbformat.v4.new_code_cell("print(...)", id="c1")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="latency 50.575 ms, 239 requests\n")]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "lesson.ipynb")

    def problems(*row: str | None) -> list[str]:
        return quote_problems(Quote("deck", *row), slides=tmp_path, notebooks=tmp_path)

    assert problems("239 requests", "lesson", "c1", None) == [
        "slides/deck.md no longer quotes '239 requests': update the row in QUOTES"
    ]
    assert "no longer shows '237 requests'" in problems("237 requests", "lesson", "c1", None)[0]
    assert "no longer shows 'latency 0.65'" in problems("latency 0.65 ms", "lesson", "c1", "latency 0.65")[0]
    assert problems("latency 0.65", "lesson", "c2", None) == ["notebooks/lesson.ipynb has no cell with id 'c2'"]
    assert problems("0.65", "lesson", "c1", "50.575") == []
