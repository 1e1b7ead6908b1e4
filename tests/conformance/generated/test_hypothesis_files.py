"""hypothesis_files: hypothesis's home is leasecheck's cache; the UTF-8 table we write is
hypothesis's own, and hypothesis reads it instead of computing it. Each side of a table
check runs in a process of its own with a fresh hypothesis home, since hypothesis keeps the
table in memory once it has it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from leasecheck.conformance.generated.hypothesis_files import hypothesis_home

#: Prints the table hypothesis answers for UTF-8 and how many code points it tried to get
#: it: computing the table tries every one (`chr(i)` for each, counted by a `chr` put in
#: the module's globals, which its builtin lookups find first); reading a file tries none.
PROBE = """
import builtins, json, sys
from hypothesis.configuration import set_hypothesis_home_dir
set_hypothesis_home_dir(sys.argv[1])
from leasecheck.conformance.generated.hypothesis_files import seed_utf8_table
from hypothesis.internal import charmap
seeded = seed_utf8_table() if sys.argv[2] == "seed" else None
tried = 0
def counting_chr(i):
    global tried
    tried += 1
    return builtins.chr(i)
charmap.chr = counting_chr
encodable, non_roundtrip = charmap.intervals_from_codec("utf-8")
print(json.dumps({"seeded": str(seeded), "encodable": list(encodable.intervals),
                  "non_roundtrip": list(non_roundtrip.intervals), "tried": tried}))
"""


def probe(home: Path, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(home), mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_seeded_table_is_what_hypothesis_computes_and_hypothesis_reads_it(tmp_path: Path):
    computed = probe(tmp_path / "computed", "compute")
    seeded = probe(tmp_path / "seeded", "seed")
    assert seeded["seeded"].startswith(str(tmp_path / "seeded"))  # written into the home hypothesis uses
    assert (seeded["encodable"], seeded["non_roundtrip"]) == (computed["encodable"], computed["non_roundtrip"])
    assert computed["tried"] == sys.maxunicode + 1  # hypothesis computing it: every code point
    assert seeded["tried"] == 0  # hypothesis reading ours


def test_a_table_already_there_is_left_alone(tmp_path: Path):
    first = probe(tmp_path, "seed")
    assert first["seeded"] != "None"
    again = probe(tmp_path, "seed")
    assert again["seeded"] == "None"  # hypothesis's file (here: ours) is not rewritten


def test_a_home_that_cannot_be_written_leaves_the_table_to_hypothesis(tmp_path: Path):
    (tmp_path / "a-file").write_text("not a directory")
    unwritable = probe(tmp_path / "a-file" / "home", "seed")  # no directory can be made under a file
    assert unwritable["seeded"] == "None"
    assert unwritable["tried"] == sys.maxunicode + 1  # hypothesis computed it itself
    assert unwritable["encodable"] == [[0, 0xD7FF], [0xE000, 0x10FFFF]]


def test_hypothesis_keeps_its_files_in_leasecheck_s_cache_not_the_working_directory():
    assert hypothesis_home({"HYPOTHESIS_STORAGE_DIRECTORY": "/mine"}) == Path("/mine")  # the user's own choice
    assert hypothesis_home({"XDG_CACHE_HOME": "/c"}) == Path("/c/leasecheck/hypothesis")
    assert hypothesis_home({"HYPOTHESIS_STORAGE_DIRECTORY": "", "XDG_CACHE_HOME": ""}) == (
        Path.home() / ".cache" / "leasecheck" / "hypothesis"
    )
