"""What `import vgrad` offers a practitioner."""

import vgrad


def test_input_error_is_public_and_a_value_error():
    """Bad arguments to vgrad.watch or vgrad.Recorder can be caught as vgrad.InputError."""
    assert "InputError" in vgrad.__all__ and issubclass(vgrad.InputError, ValueError)
