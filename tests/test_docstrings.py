"""Every ``Example:`` in a docstring of analytic/, numeric/ and verify/ runs as shown.

The examples are run in float64 (``tests/conftest.py`` switches it on), as the REPL
user who follows the README has it, so a docstring cannot drift from the code.
"""

import doctest
import importlib
import pkgutil

import pytest

import analytic
import numeric
import verify


def _modules():
    for package in (analytic, numeric, verify):
        yield package.__name__
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name != "verify.__main__":
                yield info.name


@pytest.mark.parametrize("module_name", sorted(_modules()))
def test_docstring_examples_run_as_shown(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module_name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{module_name}: {result.failed} of {result.attempted} examples failed"
