import sys

from fmc_scoring.originality.cli import main

sys.exit(main())
