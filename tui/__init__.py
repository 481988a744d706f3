"""vgrad.tui: everything a person sees (CLI, dashboard, headless output)."""


def main() -> None:
    """Console-script entry point `vgrad-tui`."""
    from vgrad.tui.cli import run_cli

    run_cli()
