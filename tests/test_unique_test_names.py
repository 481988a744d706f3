"""Test files are imported by basename (rootdir, no packages): two files of one name shadow each
other and pytest stops on an import mismatch. Every test file's name is unique."""

from collections import Counter
from pathlib import Path


def test_every_test_file_has_a_name_of_its_own():
    names = Counter(path.name for path in Path(__file__).parent.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
