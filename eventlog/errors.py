"""The one exception reachloop raises on purpose."""


class ReachloopError(RuntimeError):
    """A failure with a one-line reason for the user (the CLI prints it and exits 1)."""
