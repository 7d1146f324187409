"""Training and evaluation data: gathering the allowed sources, held-out crops, random training crops."""
