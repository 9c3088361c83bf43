"""python -m workshop_lib.cycle split ...: the DVC stage of the cycle's project (workshop_lib.cycle.job.main)."""

import sys

from workshop_lib.cycle.job import main

sys.exit(main())
