"""Item pipelines, in the order of PIPELINES_BASE: analyse, then store."""
