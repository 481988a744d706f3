"""The one exception type for bad user input: the CLI turns it into exit code 2."""


class InputError(ValueError):
    """Bad usage or input, with a one-line reason that names the culprit."""
