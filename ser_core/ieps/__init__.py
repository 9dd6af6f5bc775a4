"""IEPs: the form catalogue, validation and the life cycle (draft, official, submitted, amended)."""
