"""The data path: long frames in, packed panels, supports and windows out.

`panel` (validate and pack a long DataFrame; `timestamps`, `frequency`), `calendar` (features
of timestamps), `covariates` and `exog_frames` (exogenous columns packed beside the target),
`bins` (supports and the unit-space map), `windows` (window indices and the gather) and
`batches` (windows -> unit-space batches). Nothing here imports the network or training.
"""
