"""How `vgrad-tui --help` reads: whole command descriptions, run's options on the top-level page,
placeholders that list their allowed values, and typo suggestions that mean something."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from difflib import get_close_matches
from typing import Any

from typer.core import TyperCommand, TyperGroup

DEFAULT_COMMAND = "run"   # bare options go to it
USAGE_EXIT = 2            # click's exit code for a usage error, and vgrad's for bad input
SUGGEST_CUTOFF = 0.6      # difflib's own default, applied to the words without their dashes


def choices(values: Iterable[str], *more: str) -> str:
    """A placeholder listing the allowed values: [speed|sgd]."""
    return "[" + "|".join((*values, *more)) + "]"


def examples(*lines: str) -> str:
    """An epilog of example command lines, kept as written (click's \\b: no rewrapping)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def close_options(typo: str, possibilities: Iterable[str]) -> list[str]:
    """The options that look like `typo` by their words. difflib counts the shared leading
    "--" as a match, which made --bogus look 62 % like --cost; without the dashes it is 44 %."""
    words = {option.lstrip("-"): option for option in possibilities}
    return [words[word] for word in get_close_matches(typo.lstrip("-"), words, cutoff=SUGGEST_CUTOFF)]


class HelpCommand(TyperCommand):
    """A command whose arguments are listed by their placeholder alone (`RUN.jsonl…`), not with
    typer's internal type beside it (`RUN.jsonl <list[Path]>`)."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((param.display_name_raw + ("…" if param.nargs != 1 else ""), record[1]))
            elif param.param_type_name == "option":
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class HelpGroup(TyperGroup):
    """The top-level command: its help page also lists the default command's options, and no
    command's description is cut short with "..."."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        super().format_options(ctx, formatter)
        run = self.get_command(ctx, DEFAULT_COMMAND)
        if run is None:
            return
        records = [record for param in run.get_params(ctx)
                   if param.name != "help" and (record := param.get_help_record(ctx)) is not None]
        with formatter.section(f"Options of {DEFAULT_COMMAND}, the default command (bare options go to it)"):
            formatter.write_dl(records)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            # click's NoSuchOption and UsageError (typer vendors click from 0.29 on, so they are
            # matched by their documented attributes rather than imported from one place or the other)
            if getattr(error, "possibilities", None) and hasattr(error, "option_name"):
                error.possibilities = close_options(error.option_name, error.possibilities)  # type: ignore[attr-defined]
            if getattr(error, "exit_code", None) == USAGE_EXIT and hasattr(error, "format_message"):
                raise SystemExit(usage_line(error)) from None
            raise


def usage_line(error: Any) -> int:
    """A click usage error as vgrad's one line on stderr (not click's usage, hint and boxed
    error): `vgrad-tui: error: missing option '-o' / '--output'; vgrad-tui plot -h lists the options`."""
    message = error.format_message().rstrip(".")
    context = getattr(error, "ctx", None)
    where = f"; {context.command_path} -h lists the options" if context is not None else ""
    if getattr(error, "option_name", None) and getattr(error, "possibilities", None):   # click's NoSuchOption
        message, where = f"no such option: {error.option_name}", f"; did you mean {' or '.join(error.possibilities)}?"
    print(f"vgrad-tui: error: {message[:1].lower()}{message[1:]}{where}", file=sys.stderr)
    return USAGE_EXIT
