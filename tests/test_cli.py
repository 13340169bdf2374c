import json

from histcast.cli import main


def test_backtest_quick_writes_its_files(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["backtest", "--quick", "--quiet", "--models", "histgru,snaive", "--horizon", "12",
               "--out", str(out)])  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert "HistGRU" in printed and "SeasonalNaive" in printed and "WQL" in printed
    for f in ("forecasts.csv", "metrics.json", "fan_chart.png", "pit.png", "reliability.png",
              "training.png"):  # fmt: skip
        assert (out / f).exists(), f
    result = json.loads((out / "metrics.json").read_text())
    assert {r["model"] for r in result["metrics"]} == {"HistGRU", "SeasonalNaive"}


def test_forecast_command(tmp_path, small_panel):
    data = tmp_path / "data.csv"
    small_panel.to_csv(data, index=False)
    out = tmp_path / "fc.csv"
    assert main(["forecast", "--data", str(data), "--horizon", "5", "--model", "theta",
                 "--out", str(out)]) == 0  # fmt: skip
    assert out.read_text().startswith("unique_id,ds,Theta")


def test_errors_are_one_line_without_traceback(capsys):
    assert main(["backtest", "--models", "prophet", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("histcast: error: unknown model 'prophet'") and "Traceback" not in err
    assert main(["backtest", "--dataset", "nope"]) == 2
    assert "known:" in capsys.readouterr().err
