"""The README a newcomer reads: short before Development, every picture and link it names exists,
and its two set-up commands are the ones .ci/run runs."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_read_in_five_minutes():
    before_development = README.split("\n## Development")[0]
    assert len(before_development.splitlines()) <= 200


def test_every_picture_and_link_it_names_is_in_the_tree():
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [target for target in targets if "://" not in target]
    assert local, "the README links no page of its own"
    missing = [target for target in local if not (ROOT / target).exists()]
    assert not missing, missing


def test_the_picture_of_the_dashboard_comes_first_and_a_script_makes_it_from_a_real_run():
    first_picture = re.search(r"!\[[^\]]*\]\(([^)]+)\)", README).group(1)
    assert first_picture == "docs/dashboard.svg"
    assert '"dashboard.svg"' in (ROOT / "docs" / "make_pictures.py").read_text(encoding="utf-8")


def test_the_set_up_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e . && vgrad-tui' in README
    assert 'pip install -e ".[test]" && pytest' in README and 'pip install -e ".[test]" && pytest' in ci


def test_every_docs_page_links_back_and_its_links_resolve():
    for page in (ROOT / "docs").glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if "://" not in target:
                assert (page.parent / target).exists(), (page.name, target)
