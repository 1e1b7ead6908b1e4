"""serial_ast.py: `ast.parse` under one lock while any run generates from several threads,
and the real `ast.parse` back once the last such run ends, in whatever order they end."""

from __future__ import annotations

import ast

from leasecheck.conformance.generated.serial_ast import serial_ast_parse

REAL = ast.parse


def test_blocks_that_overlap_and_close_out_of_order_restore_the_real_parse() -> None:
    first, second = serial_ast_parse(), serial_ast_parse()
    first.__enter__()
    second.__enter__()
    patched = ast.parse
    assert patched is not REAL and patched("x = 1").body  # still parses, under the lock
    first.__exit__(None, None, None)  # the first run ends while the second still generates
    assert ast.parse is patched
    second.__exit__(None, None, None)
    assert ast.parse is REAL


def test_a_disabled_block_leaves_parse_alone() -> None:
    with serial_ast_parse(enabled=False):
        assert ast.parse is REAL
    with serial_ast_parse(), serial_ast_parse():  # nested: one patch, one restore
        assert ast.parse is not REAL
    assert ast.parse is REAL
