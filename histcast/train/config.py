"""`TrainConfig`: the optimisation hyperparameters, passed whole to the training loop."""

from __future__ import annotations

from dataclasses import dataclass

SCHEDULES = ("cosine", "constant")


@dataclass
class TrainConfig:
    """Optimisation hyperparameters; their defaults are `HistForecaster`'s. An epoch is
    `steps_per_epoch` batches of windows: drawn without replacement (a new shuffle each time all
    windows have been seen), or with replacement in proportion to sampling weights when given."""

    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    batch_size: int = 256
    max_epochs: int = 60
    steps_per_epoch: int = 50
    max_steps: int | None = None
    max_passes: float | None = 10.0
    early_stopping_patience: int = 20
    grad_clip: float = 1.0
    lr_schedule: str = "cosine"
    seed: int = 0
    verbose: bool = True

    @property
    def total_steps(self) -> int:
        """The whole budget T: `max_steps`, else `max_epochs` x `steps_per_epoch`."""
        return self.max_steps or self.max_epochs * self.steps_per_epoch
