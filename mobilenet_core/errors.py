"""Error types with messages a user can act on."""


class MobileNetError(Exception):
    """Base class of every error this library raises on purpose."""


class ConfigError(MobileNetError, ValueError):
    """An unknown model, or alpha / resolution / rho outside its range."""


class CheckpointError(MobileNetError):
    """A checkpoint file that cannot be read, is unsafe, or does not fit the model."""
