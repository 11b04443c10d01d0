"""Stage 5: tasks, metrics, the prediction format and scoring."""
