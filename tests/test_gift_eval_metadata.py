"""GIFT-Eval ``config.json`` metadata: ``model_type`` / ``testdata_leakage`` columns and the
``--model-type`` / ``--exclude-leakage`` filters of ``toto-bench leaderboard``: like the GIFT-Eval space's
checkboxes they hide rows of the board ranked over all models; ``--rerank`` re-ranks among the kept."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toto_bench.boards.leaderboard import gift_eval_leaderboard
from toto_bench.cli import main
from toto_bench.engine.results import has_leakage, load_metadata, load_results
from toto_bench.suites import get_suite

#: model → (config.json fields or None for no file); upstream field names and value spellings
CARDS: dict[str, dict[str, object] | None] = {
    "seasonal_naive": {"model": "Seasonal_Naive", "model_type": "statistical", "testdata_leakage": "No"},
    "alpha": {"model": "Alpha", "model_type": "pretrained", "testdata_leakage": "No", "org": "A"},
    "beta": {"model": "Beta", "model_type": "agentic", "testdata_leakage": "Yes"},
    "gamma": {"model": "Gamma", "model_type": "Fine-Tuned", "testdata_leakage": "No"},
    "delta": None,  # e.g. this harness's own run: no model card
    "eps": {"model": "Eps", "model_type": "pretrained"},  # no testdata_leakage field
}


def _write(root: Path) -> Path:
    configs = get_suite("gift-eval").configs()
    rng = np.random.default_rng(0)
    for model, card in CARDS.items():
        folder = root / model
        folder.mkdir(parents=True)
        pd.DataFrame(
            {
                "dataset": configs,
                "model": model,
                "eval_metrics/MASE[0.5]": rng.uniform(0.5, 2.0, len(configs)),
                "eval_metrics/MAE[0.5]": rng.uniform(0.5, 2.0, len(configs)),
                "eval_metrics/mean_weighted_sum_quantile_loss": rng.uniform(0.1, 1.0, len(configs)),
            }
        ).to_csv(folder / "all_results.csv", index=False)
        if card is not None:
            (folder / "config.json").write_text(json.dumps(card, indent=4))
    return root


@pytest.fixture()
def gift(tmp_path: Path) -> Path:
    return _write(tmp_path / "results")


def _board(gift: Path, *extra: str) -> list[str]:
    return ["leaderboard", "--suite", "gift-eval", "--results-dir", str(gift), "--format", "csv", *extra]


def _read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False).set_index("model")


NUMBERS = ["MASE", "MASE_Rank", "CRPS", "CRPS_Rank"]


def _expected(gift: Path, models: list[str], shown: list[str] | None = None) -> pd.DataFrame:
    """The board computed directly on ``models`` (full precision), restricted to the rows ``shown``."""
    results = load_results([gift], models=models)
    table = gift_eval_leaderboard(results).table.set_index("model")
    return table.loc[sorted(shown or models), NUMBERS]


def _numbers(table: pd.DataFrame) -> pd.DataFrame:
    return table.loc[sorted(table.index), NUMBERS]


def test_board_carries_model_type_and_leakage_from_config_json(
    gift: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_board(gift)) == 0
    table = _read(capsys.readouterr().out)
    assert list(table.columns) == ["MASE", "MASE_Rank", "CRPS", "CRPS_Rank", "model_type", "testdata_leakage"]
    for model, card in CARDS.items():
        card = card or {}
        assert table.at[model, "model_type"] == card.get("model_type", "")
        assert table.at[model, "testdata_leakage"] == card.get("testdata_leakage", "")
    # the CSV is full precision: equal to the board computed directly to the last bit
    pd.testing.assert_frame_equal(_numbers(table), _expected(gift, list(CARDS)), check_dtype=False, rtol=0)
    assert list(table["CRPS_Rank"]) == sorted(table["CRPS_Rank"])  # rows sorted by CRPS rank, as the space


def test_exclude_leakage_hides_yes_rows_without_changing_any_rank(
    gift: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_board(gift, "--exclude-leakage")) == 0
    captured = capsys.readouterr()
    table = _read(captured.out)
    kept = ["alpha", "delta", "eps", "gamma", "seasonal_naive"]
    assert sorted(table.index) == kept
    assert "--exclude-leakage: hid 1 model(s) with testdata_leakage Yes: beta" in captured.err
    assert "kept 2 model(s) whose config.json does not say testdata_leakage: delta, eps" in captured.err
    # every number is the one of the board over all six models (beta still ranked, only its row hidden)
    expected = _expected(gift, list(CARDS), shown=kept)
    pd.testing.assert_frame_equal(_numbers(table), expected, check_dtype=False, rtol=0)
    # per config the ranks of all 6 models sum to 21: the hidden beta's rank makes up the difference
    beta = _expected(gift, list(CARDS)).at["beta", "CRPS_Rank"]
    assert table["CRPS_Rank"].sum() + beta == pytest.approx(21.0)


def test_rerank_ranks_among_the_kept_models_and_says_so(
    gift: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_board(gift, "--exclude-leakage", "--rerank")) == 0
    captured = capsys.readouterr()
    table = _read(captured.out)
    kept = ["alpha", "delta", "eps", "gamma", "seasonal_naive"]
    assert "--exclude-leakage: dropped 1 model(s) with testdata_leakage Yes: beta" in captured.err
    # the board of just the kept models: per config the ranks of 5 models sum to 15
    pd.testing.assert_frame_equal(_numbers(table), _expected(gift, kept), check_dtype=False, rtol=0)
    assert table["CRPS_Rank"].sum() == pytest.approx(15.0)
    md = ["leaderboard", "--suite", "gift-eval", "--results-dir", str(gift), "--exclude-leakage"]
    assert main([*md, "--rerank"]) == 0
    assert "Ranks re-computed among the 5 models the filters keep (--rerank)" in capsys.readouterr().out
    assert main(md) == 0
    assert "Ranks computed once over all 6 models; the filters hide rows (5 shown)" in capsys.readouterr().out
    assert main([*md[:-1], "--rerank"]) == 2
    assert "--rerank re-ranks among the models a filter keeps" in capsys.readouterr().err


def test_model_type_filter_is_case_insensitive_and_keeps_the_normaliser(
    gift: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_board(gift, "--model-type", "PRETRAINED", "--model-type", "fine-tuned")) == 0
    captured = capsys.readouterr()
    assert sorted(_read(captured.out).index) == ["alpha", "eps", "gamma", "seasonal_naive"]
    assert "hid 2 model(s) of other types: beta (agentic), delta (?)" in captured.err
    assert main(_board(gift, "--model-type", "pretrained", "--exclude-leakage")) == 0
    assert sorted(_read(capsys.readouterr().out).index) == ["alpha", "eps", "seasonal_naive"]


def test_a_type_nobody_has_names_the_types_present(gift: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_board(gift, "--model-type", "zero-shot")) == 2
    err = capsys.readouterr().err
    assert "no model passes the filters --model-type zero-shot" in err
    assert "['Fine-Tuned', 'agentic', 'pretrained', 'statistical']" in err


def test_filters_are_for_gift_eval_only(gift: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["leaderboard", "--suite", "time", "--results-dir", str(gift), "--exclude-leakage"]
    assert main(args) == 2
    assert "filter on GIFT-Eval config.json metadata" in capsys.readouterr().err


def test_a_malformed_config_json_is_named(gift: Path, capsys: pytest.CaptureFixture[str]) -> None:
    card = gift / "alpha" / "config.json"
    card.write_text('{"model": "Alpha" "model_type": "pretrained"}')
    assert main(_board(gift)) == 2
    err = capsys.readouterr().err
    assert str(card) in err and "unreadable JSON" in err
    card.write_text('["not", "an", "object"]')
    assert main(_board(gift)) == 2
    assert "expected a JSON object, got list" in capsys.readouterr().err


def test_gift_eval_stats_keep_the_metadata_columns(gift: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_board(gift, "--stats", "--bootstrap", "50")) == 0
    out = capsys.readouterr().out
    board_text, pairs_text = out.split("# gift_eval_win_rates.csv\n")
    table = _read(board_text.split("# gift_eval_leaderboard.csv\n")[1])
    assert list(table.columns) == [
        "MASE", "MASE_lo", "MASE_hi", "MASE_Rank", "CRPS", "CRPS_lo", "CRPS_hi", "CRPS_Rank",
        "model_type", "testdata_leakage",
    ]  # fmt: skip
    assert (table["MASE_lo"] <= table["MASE"] + 1e-3).all() and (
        table["MASE"] <= table["MASE_hi"] + 1e-3
    ).all()
    pairs = pd.read_csv(io.StringIO(pairs_text))
    assert len(pairs) == len(CARDS) * (len(CARDS) - 1) and (pairs["n_configs"] == 97).all()


@pytest.mark.parametrize(
    ("value", "leaks"),
    [
        ("Yes", True),
        ("yes", True),
        (" YES ", True),
        ("No", False),
        ("", False),
        ("no", False),
        ("true", True),
    ],
)
def test_has_leakage(value: str, leaks: bool) -> None:
    assert has_leakage(value) is leaks


def test_json_booleans_and_missing_cards_load_as_text(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "all_results.csv").write_text("dataset,MASE,MAE,CRPS\na/H/short,1,1,1\n")
    (folder / "config.json").write_text('{"model_type": " pretrained ", "testdata_leakage": true}')
    (tmp_path / "n").mkdir()
    (tmp_path / "n" / "all_results.csv").write_text("dataset,MASE,MAE,CRPS\na/H/short,1,1,1\n")
    meta = load_metadata(tmp_path)
    assert meta.loc["m"].tolist() == ["pretrained", "Yes"]
    assert meta.loc["n"].tolist() == ["", ""]
