import sys
import traceback

try:
    from fmc_scoring.originality.cli import main
except Exception:  # even a broken installation must not exit with the status of a verdict
    traceback.print_exc()
    sys.exit(70)

sys.exit(main())
