"""The scikit-learn estimator contract, shared by `HistForecaster` and the baselines.

`__init__` stores its arguments under their own names and does nothing else; `get_params`
reads them back from the signature, `set_params` changes them, `clone` makes an unfitted copy
with the same parameters. Fitted state ends in `_`; `check_fitted` says clearly when it is
missing.
"""

from __future__ import annotations

import copy
import inspect

from .frames import RESERVED, derived_suffix


class NotFittedError(RuntimeError):
    """Raised when a model is used before `fit`."""


class Estimator:
    """Mixin: `get_params`, `set_params`, `__repr__` from the `__init__` signature."""

    _fitted_attr = "model_"  # the attribute whose presence means "fitted"

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments, `{name: value}`."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Change constructor arguments (validated at the next `fit`); returns `self`."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; valid: {valid}"
                )
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's tags (`sklearn.base.is_regressor(model)` is True): a regressor whose
        `fit` takes a long frame, not (X, y) arrays. Needs scikit-learn, which histcast does not
        depend on."""
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        return Tags(
            estimator_type="regressor",
            target_tags=TargetTags(required=True),
            regressor_tags=RegressorTags(),
            input_tags=InputTags(two_d_array=True, categorical=True, string=True, allow_nan=True),
        )

    def check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(df)")

    def _reset(self) -> None:
        """Start of every `fit`: drop every fitted attribute (a failed `fit` must not look
        fitted), then check the `alias` that names the model's forecast columns."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, name)
        if "alias" in self._param_names():
            check_alias("alias", self.alias, optional=True)

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        args = [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if sig.parameters[k].default is inspect.Parameter.empty
            or v != sig.parameters[k].default
        ]
        return f"{type(self).__name__}({', '.join(args)})"


def clone(estimator: Estimator) -> Estimator:
    """A new, unfitted estimator with deep copies of `estimator`'s parameters."""
    params = {k: copy.deepcopy(v) for k, v in estimator.get_params().items()}
    return type(estimator)(**params)


def check_alias(name: str, value, optional: bool = False, taken=()) -> None:
    """Raise unless `value` can name a model's forecast columns (or is None when `optional`):
    a non-empty string that is neither a column the frames already hold (`frames.RESERVED`,
    `taken`) nor a name ending like a column derived from a model's (`-median`, `-lo-80`,
    `-q-10`, `-crps`), which `evaluate` would read as another model's."""
    if optional and value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string; got {value!r}")
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty string (not only spaces); got {value!r}")
    used = list(dict.fromkeys([*RESERVED, *taken]))
    if value in used:
        raise ValueError(
            f"{name} must not be one of the frame columns {used}; got {value!r}, choose another"
        )
    suffix = derived_suffix(value)
    if suffix:
        raise ValueError(
            f"{name} must not end like the columns derived from a model's (-median, -crps, "
            f"-lo-80, -hi-80, -q-10); got {value!r}, which ends in {suffix!r}"
        )
