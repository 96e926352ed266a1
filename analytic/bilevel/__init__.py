"""(placeholder)"""
from analytic._registry import Formulas
from analytic.bilevel import _ridge, _greedy
from analytic.bilevel._hypergradient import ridge_hypergradient
from analytic.bilevel._greedy import greedy_lr, greedy_schedule
FORMULAS = Formulas.merge(_ridge.FORMULAS, _greedy.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
