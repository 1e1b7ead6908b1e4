"""`python -m leasecheck ...`: the same as the `leasecheck` command."""

import sys

from leasecheck.cli import main

main(sys.argv[1:])
