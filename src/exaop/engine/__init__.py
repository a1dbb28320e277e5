"""Time, the cluster profile and power drivers: what the model runs on."""
