"""The catalogue of checks: importing this package registers every family's checks.

One family module per line (``verify/checks/<family>.py`` mirrors ``analytic/<family>.py``).
"""

from verify.checks import linreg  # noqa: F401
from verify.checks import deeplinear  # noqa: F401
from verify.checks import momentum  # noqa: F401
from verify.checks import nqm  # noqa: F401
from verify.checks import kernels  # noqa: F401
