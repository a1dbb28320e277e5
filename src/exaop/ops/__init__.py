"""The lifecycle procedures: start, stop and status of a whole cluster."""
