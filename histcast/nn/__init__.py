"""The network: `config` (`ModelConfig`), `network` (`ForecastNet`), `encoders` (GRU, TCN),
`heads` (histogram head and ablation heads), `layers`, `embeddings` and `losses`."""
