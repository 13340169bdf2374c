"""Training: `loop` (one plain AdamW loop with early stopping), `plan` (the budget, holdout,
margin and sampling rules), `distill` (teachers as soft targets), `calibration` and
`distributed` (torchrun)."""
