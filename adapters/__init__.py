"""Model adapters (``Forecaster`` implementations) and their registry."""
