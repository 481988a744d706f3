"""Make the docs' pictures from real runs, so none of them is drawn by hand or goes stale:

    python docs/make_pictures.py            # docs/dashboard.svg and docs/preset-*.png

dashboard.svg is the dashboard at 120×40 at the end of the default run (the book's three nets,
500 full-batch epochs on the built-in images), as the README shows it; each preset-NAME.png is
`vgrad-tui plot` of `vgrad-tui --no-ui --preset NAME --record`. Takes a minute or two.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).parent
PRESETS = ("book", "remedies", "batchnorm", "exploding")
LENS = {"batchnorm": "weight"}          # the lens that shows what the preset is about
SIZE = (120, 40)


def vgrad(*args: str) -> None:
    subprocess.run([sys.executable, "-c", "from vgrad.tui import main; main()", *args], check=True)


async def screenshot(run_file: Path, out: Path) -> None:
    """The replay dashboard of `run_file` at its last record, as an SVG."""
    from vgrad.core.record.reader import read_run
    from vgrad.tui.app import make_replay_app

    app = make_replay_app(read_run(run_file), name=run_file.name, autoplay=False)
    async with app.run_test(size=SIZE) as pilot:
        app.controls.jump_end()
        app.poll(force=True)
        await pilot.pause()
        out.write_text(app.export_screenshot(), encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        runs = Path(folder)
        default = runs / "book.jsonl"
        vgrad("--no-ui", "--record", str(default))
        asyncio.run(screenshot(default, DOCS / "dashboard.svg"))
        for name in PRESETS:
            recording = runs / f"{name}.jsonl"
            vgrad("--no-ui", "--preset", name, "--record", str(recording))
            vgrad("plot", str(recording), "-o", str(DOCS / f"preset-{name}.png"), "--force",
                  "--lens", LENS.get(name, "bias"))


if __name__ == "__main__":
    main()
