"""Shared test setup.

pytest -n 2 runs two worker processes on a 2-core machine; if each also ran two BLAS threads,
the four would fight over two cores, and OpenBLAS threads waiting for work spin rather than
sleep, so a test could run many times slower. One BLAS thread per worker keeps the suite fast.
This must happen before numpy is imported, which is why it sits at the top of the conftest.

Under CI (the CI variable set, as .ci/run does), hypothesis draws the same examples on every run
(derandomize): a red CI run then means a change broke something, not that a new random draw found
an old corner. Run locally, the fuzz tests keep exploring new examples.
"""

import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import edugrad  # noqa: E402,F401  (after the thread settings above)
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
