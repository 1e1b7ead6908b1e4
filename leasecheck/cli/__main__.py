"""`python -m leasecheck.cli ...`: the same as the `leasecheck` command."""

import sys

from leasecheck.cli import main

main(sys.argv[1:])
