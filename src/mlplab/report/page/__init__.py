"""The page machinery: report.html, the gallery, summaries, findings, registries, damage handling, TensorBoard."""
