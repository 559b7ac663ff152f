"""Error types with messages a user can act on."""


class MobileNetError(Exception):
    """Base class of every error this library raises on purpose.

    The message (English) is for logs, the command line and notebooks. `code` names the error for
    a user interface, which says it in the user's language with `params` (row, column, value,
    limits...); "" where no interface is expected to meet it. An interface never shows the
    message itself: it may carry a path or a detail meant for a developer."""

    def __init__(self, message: str = "", code: str = "", **params):
        super().__init__(message)
        self.code = code
        self.params = params


class ConfigError(MobileNetError, ValueError):
    """An unknown model, or alpha / resolution / rho outside its range."""


class CheckpointError(MobileNetError):
    """A checkpoint file that cannot be read, is unsafe, or does not fit the model; or a download
    that failed. `code` says which in a way a UI can put in its own words ("offline", "server",
    "corrupt", "too_big"; "" for the rest, whose message is meant to be shown)."""

    def __init__(self, message: str, code: str = "", **params):
        super().__init__(message, code, **params)
