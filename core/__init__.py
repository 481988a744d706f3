"""vgrad.core: the numerics and data of vgrad. Never imports textual, rich or typer."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vgrad")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"
