"""scikit-learn's view of histcast's estimators: regressors that its `clone` and tag helpers
read (scikit-learn is a test dependency only; histcast does not need it)."""

import pytest

from histcast import HistEnsemble, HistForecaster
from histcast.baselines import ETS, SeasonalNaive

sklearn_base = pytest.importorskip("sklearn.base", reason="scikit-learn is not installed")


@pytest.mark.parametrize(
    "model",
    [HistForecaster(horizon=3, seed=4), HistEnsemble(HistForecaster(horizon=2), n_members=2),
     ETS(horizon=3), SeasonalNaive(horizon=3, season_length=2)],
    ids=["forecaster", "ensemble", "ets", "snaive"],
)  # fmt: skip
def test_models_are_regressors_that_sklearn_clones(model):
    assert sklearn_base.is_regressor(model) and not sklearn_base.is_classifier(model)
    copy = sklearn_base.clone(model)
    assert type(copy) is type(model) and copy is not model
    assert repr(copy) == repr(model)
