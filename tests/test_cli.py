import json
import re
import subprocess
import sys

import pandas as pd
import pytest
import torch

import histcast
from histcast import cli
from histcast.cli import main


@pytest.mark.slow
def test_backtest_quick_writes_its_files(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["backtest", "--quick", "--quiet", "--models", "histgru,snaive", "--horizon", "12",
               "--out", str(out)])  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert "HistGRU" in printed and "SeasonalNaive" in printed and "WQL" in printed
    # no training.png: cross_validation fits clones and does not hand their histories back
    for f in ("forecasts.csv", "metrics.json", "fan_chart.png", "pit.png", "reliability.png",
              "training.png"):  # fmt: skip
        assert (out / f).exists(), f
    result = json.loads((out / "metrics.json").read_text())
    metrics = {r["model"]: r["WQL"] for r in result["metrics"]}
    assert set(metrics) == {"HistGRU", "SeasonalNaive"}
    assert f"fan chart: {min(metrics, key=metrics.get)} (lowest WQL)" in printed


def test_forecast_command(tmp_path, small_panel):
    data = tmp_path / "data.csv"
    small_panel.to_csv(data, index=False)
    out = tmp_path / "fc.csv"
    assert main(["forecast", "--data", str(data), "--horizon", "5", "--model", "theta",
                 "--out", str(out)]) == 0  # fmt: skip
    assert out.read_text().startswith("unique_id,ds,Theta")


def test_backtest_of_a_csv_parses_timestamps_in_the_library(tmp_path, small_panel, capsys):
    data = tmp_path / "data.csv"
    small_panel.to_csv(data, index=False)  # `ds` as text: from_frame parses it, not the CLI
    out = tmp_path / "out"
    assert main(["backtest", "--data", str(data), "--horizon", "6", "--windows", "2",
                 "--models", "snaive", "--no-plots", "--out", str(out)]) == 0  # fmt: skip
    cv = pd.read_csv(out / "forecasts.csv", parse_dates=["ds", "cutoff"])
    assert len(cv) == 3 * 2 * 6
    assert (cv["ds"] > cv["cutoff"]).all()
    assert "SeasonalNaive" in capsys.readouterr().out


def test_ids_in_a_csv_are_read_as_the_text_they_are(tmp_path, small_panel):
    """ "007" stays "007" (not 7.0) and "NA" (Namibia) is an id, not a missing one."""
    names = dict(zip(sorted(small_panel["unique_id"].unique()), ["007", "NA", "1e3"], strict=False))
    df = small_panel.assign(unique_id=small_panel["unique_id"].map(names))
    data, out = tmp_path / "data.csv", tmp_path / "fc.csv"
    df.to_csv(data, index=False)
    assert main(["forecast", "--data", str(data), "--horizon", "3", "--model", "snaive",
                 "--out", str(out)]) == 0  # fmt: skip
    got = pd.read_csv(out, dtype={"unique_id": str}, keep_default_na=False)
    assert sorted(got["unique_id"].unique()) == sorted(names.values())


def one_line_error(capsys, argv, expected: str) -> str:
    """Run the CLI; assert exit status 2 and one stderr line naming the error; return it."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("histcast: error: "), err
    assert "Traceback" not in err
    assert expected in err, err
    return err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["backtest", "--horizon", "0"], "--horizon: must be a positive integer, got 0"),
        (["backtest", "--horizon", "-4"], "--horizon: must be a positive integer, got -4"),
        (["forecast", "--horizon", "0", "--out", "x.csv"], "--horizon: must be a positive"),
        (["backtest", "--horizon", "two"], "expected an integer, got 'two'"),
        (["backtest", "--windows", "0"], "--windows: must be a positive integer, got 0"),
        (["backtest", "--windows", "-1"], "--windows: must be a positive integer"),
        (["backtest", "--epochs", "0"], "--epochs: must be a positive integer, got 0"),
        (["backtest", "--seed", "-1"], "--seed: must be a non-negative integer"),
        (["backtest", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "required"),
        (["forecast"], "--out"),
        (["backtest", "--models", "prophet", "--no-plots"], "unknown model 'prophet'"),
        (["backtest", "--models", ",", "--no-plots"], "no models given"),
        (["backtest", "--dataset", "nope", "--no-plots"], "known:"),
        (["backtest", "--models", "snaive,ets,SNaive", "--no-plots"], "lists snaive more than"),
        (["backtest", "--horizon", "99999999999999999999"], "--horizon: must be at most"),
        (["backtest", "--epochs", "99999999999999999999"], "--epochs: must be at most"),
        (["backtest", "--seed", "99999999999999999999"], "--seed: must be at most"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(capsys, argv, expected):
    one_line_error(capsys, argv, expected)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without CUDA")
def test_a_device_this_machine_lacks_is_one_line(capsys):
    one_line_error(capsys, ["backtest", "--device", "cuda"], "device='cuda' is not available")
    one_line_error(capsys, ["forecast", "--device", "gpu", "--out", "x"], "not a device name")


def test_device_goes_to_the_neural_models():
    args = cli.parser().parse_args(["backtest", "--device", "cpu"])
    models = cli.make_models(["histtcn", "histens", "snaive"], 3, args)
    assert models[0].device == "cpu" and models[1].forecaster.device == "cpu"


@pytest.fixture
def csv_file(tmp_path, small_panel):
    path = tmp_path / "data.csv"
    small_panel.to_csv(path, index=False)
    return path


def test_data_errors(tmp_path, csv_file, capsys):
    def backtest_of(path, *extra):
        return ["backtest", "--data", str(path), "--horizon", "3", "--models", "snaive",
                "--no-plots", "--out", str(tmp_path / "out"), *extra]  # fmt: skip

    one_line_error(capsys, backtest_of(tmp_path), "is a directory")
    one_line_error(capsys, backtest_of(tmp_path / "missing.csv"), "no such file")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    one_line_error(capsys, backtest_of(empty), "is empty")
    header = tmp_path / "header.csv"
    header.write_text("unique_id,ds,y\n")
    one_line_error(capsys, backtest_of(header), "no rows")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("unique_id,ds,y\nMünchen,2024-01-01,1\n".encode("latin-1"))
    one_line_error(capsys, backtest_of(latin), "not UTF-8")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("unique_id,ds,y\na,2024-01-01,1\na,2024-01-01,1,2,3\n")
    one_line_error(capsys, backtest_of(ragged), "cannot parse")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    one_line_error(capsys, backtest_of(binary), str(binary))
    other = tmp_path / "other.csv"
    other.write_text("id,time,value\na,2024-01-01,1\n")
    one_line_error(
        capsys, backtest_of(other), "--data has no column 'unique_id' (--id-col); it has"
    )
    text_y = tmp_path / "text_y.csv"
    text_y.write_text("unique_id,ds,y\na,2024-01-01,x\na,2024-01-02,y\n")
    one_line_error(capsys, backtest_of(text_y), "'y' must be numeric")
    bad_ds = tmp_path / "bad_ds.csv"
    bad_ds.write_text("unique_id,ds,y\na,yesterday-ish,1\na,2024-01-02,2\n")
    one_line_error(capsys, backtest_of(bad_ds), "'ds'")
    one_line_error(capsys, backtest_of(csv_file, "--windows", "50"), "needs series of at least")
    one_line_error(capsys, backtest_of(csv_file, "--dataset", "co2"), "either --data or --dataset")
    one_line_error(capsys, ["backtest", "--data", str(csv_file)], "--horizon is required")


def test_permission_error_reading_the_data(csv_file, capsys, monkeypatch):
    def denied(path, *args, **kwargs):  # chmod cannot deny root, which tests may run as
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cli.pd, "read_csv", denied)
    one_line_error(capsys, ["backtest", "--data", str(csv_file), "--horizon", "3"],
                   "cannot read")  # fmt: skip


def test_output_errors(tmp_path, csv_file, capsys):
    def forecast_to(out, model="snaive"):
        return ["forecast", "--data", str(csv_file), "--horizon", "3", "--model", model,
                "--out", str(out)]  # fmt: skip

    one_line_error(capsys, forecast_to(tmp_path / "missing" / "fc.csv"), "no such directory")
    one_line_error(capsys, forecast_to(tmp_path), "is a directory")
    one_line_error(capsys, forecast_to(tmp_path / "fc.csv", "snaive,ets"), "one model")
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    one_line_error(capsys, ["backtest", "--data", str(csv_file), "--horizon", "3",
                            "--out", str(a_file)], "is a file")  # fmt: skip


def test_unexpected_errors_are_one_line_too(tmp_path, csv_file, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(cli, "cross_validation", broken)
    argv = ["backtest", "--data", str(csv_file), "--horizon", "3", "--models", "snaive",
            "--no-plots", "--out", str(tmp_path / "out")]  # fmt: skip
    err = one_line_error(capsys, argv, "RuntimeError: a bug over two lines")
    assert "HISTCAST_DEBUG" in err
    monkeypatch.setenv("HISTCAST_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(argv)


@pytest.mark.slow
def test_python_dash_m_runs_the_same_command():
    ok = subprocess.run([sys.executable, "-m", "histcast", "--help"], capture_output=True,
                        text=True, timeout=120)  # fmt: skip
    assert ok.returncode == 0 and "backtest" in ok.stdout and "forecast" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "histcast", "backtest", "--horizon", "0"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("histcast: error: argument --horizon: must be a positive")


def test_a_csv_naming_a_column_twice_is_refused(tmp_path, capsys):
    data = tmp_path / "twice.csv"
    data.write_text("unique_id,ds,y,y\na,2020-01-01,1,2\na,2020-01-02,2,3\n")
    argv = ["forecast", "--data", str(data), "--horizon", "1", "--model", "snaive",
            "--out", str(tmp_path / "fc.csv")]  # fmt: skip
    one_line_error(capsys, argv, "more than once")


def test_a_diverged_fit_is_one_line_naming_it(tmp_path, csv_file, capsys, monkeypatch):
    """The CLI's one-line error for a fit whose loss became NaN says so (issue 30)."""
    made = cli.make_models

    def diverging(*args, **kwargs):
        return [m.set_params(learning_rate=1e3, max_steps=4) for m in made(*args, **kwargs)]

    monkeypatch.setattr(cli, "make_models", diverging)
    for argv in (
        ["backtest", "--data", str(csv_file), "--horizon", "3", "--models", "histtcn",
         "--no-plots", "--quiet", "--out", str(tmp_path / "out")],
        ["forecast", "--data", str(csv_file), "--horizon", "3", "--model", "histtcn", "--quiet",
         "--out", str(tmp_path / "fc.csv")],
    ):  # fmt: skip
        one_line_error(capsys, argv, "training diverged at step")
    assert not (tmp_path / "fc.csv").exists()


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"histcast {histcast.__version__}"


def test_forecast_with_its_own_column_names_levels_and_a_saved_model(tmp_path, small_panel):
    """--id-col/--time-col/--target-col read a file with other names and write them back;
    --level and --quantiles choose the columns; --save keeps the model and --load forecasts
    with it (from its own data, or from new histories) without training."""
    data = tmp_path / "d.csv"
    renamed = {"unique_id": "store", "ds": "when", "y": "sales"}
    small_panel.rename(columns=renamed).to_csv(data, index=False)
    cols = ["--id-col", "store", "--time-col", "when", "--target-col", "sales"]
    out, model = tmp_path / "fc.csv", tmp_path / "model"
    args = ["forecast", "--data", str(data), *cols, "--horizon", "3", "--max-steps", "5",
            "--quiet", "--out", str(out), "--level", "90", "--quantiles", "0.05,0.5",
            "--save", str(model)]  # fmt: skip
    assert main(args) == 0
    fc = pd.read_csv(out)
    assert list(fc.columns) == ["store", "when", "HistTCN", "HistTCN-median", "HistTCN-lo-90",
                                "HistTCN-hi-90", "HistTCN-q-5", "HistTCN-q-50"]  # fmt: skip
    assert len(fc) == 3 * small_panel["unique_id"].nunique()
    again = tmp_path / "again.csv"
    assert main(["forecast", "--load", str(model), "--out", str(again), "--level", "90",
                 "--quantiles", "0.05,0.5"]) == 0  # fmt: skip
    pd.testing.assert_frame_equal(
        pd.read_csv(again), fc.rename(columns={"store": "unique_id", "when": "ds"})
    )
    new = tmp_path / "new.csv"  # the same data as new histories: the same forecasts
    assert main(["forecast", "--load", str(model), "--data", str(data), *cols, "--out",
                 str(new), "--level", "90", "--quantiles", "0.05,0.5"]) == 0  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_csv(new), fc)


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--model", "snaive", "--save", "m"], "--save keeps histcast models; snaive is a baseline"),
     (["--id-col", "shop"], r"--data has no column 'shop' \(--id-col\)"),
     (["--level", "80,x"], "expected numbers separated by commas"),
     (["--level", "0.8"], r"did you mean level=\[80\]"),
     (["--max-steps", "0"], "--max-steps: must be a positive integer")],
)  # fmt: skip
def test_forecast_option_errors_are_one_line(tmp_path, small_panel, capsys, extra, message):
    data = tmp_path / "d.csv"
    small_panel.to_csv(data, index=False)
    args = ["forecast", "--data", str(data), "--horizon", "3", "--max-steps", "2", "--quiet",
            "--out", str(tmp_path / "fc.csv"), *extra]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("histcast: error:") and err.count("\n") == 1
    assert re.search(message, err), err


def test_backtest_reads_season_length_and_freq(tmp_path, small_panel, capsys):
    data = tmp_path / "d.csv"
    small_panel.rename(columns={"y": "sales"}).to_csv(data, index=False)
    out = tmp_path / "bt"
    args = ["backtest", "--data", str(data), "--target-col", "sales", "--horizon", "3",
            "--models", "snaive", "--season-length", "2", "--freq", "h", "--no-plots",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    cv = pd.read_csv(out / "forecasts.csv")
    assert "sales" in cv.columns and "y" not in cv.columns
    first = cv.iloc[0]  # seasonal naive with season 2: the value two steps before the target
    history = small_panel[small_panel.unique_id == first["unique_id"]].set_index("ds")["y"]
    history.index = history.index.astype(str)
    assert first["SeasonalNaive"] == pytest.approx(history.loc[: first["cutoff"]].iloc[-2])
