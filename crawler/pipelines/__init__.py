"""Item pipelines, in the order of PIPELINES_BASE: analyse, read images and analyse again (OCR on), then store."""
