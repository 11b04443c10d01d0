"""Stage 2: the annotation scheme, Label Studio round trip, agreement and adjudication."""
