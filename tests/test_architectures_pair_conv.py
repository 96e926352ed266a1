"""The pair-of-positions filter sum of kernels.serial (a 2-D convolution over the (p, p') plane)
against a direct loop over offsets, for every padding and stride, in float64."""

import itertools

import jax
import numpy as np
import pytest

from analytic.kernels._architecture import _pair_conv, _window_plan


def _direct(a, k, s, padding):
    """sum_o a[..., s p + o - lo, s p' + o - lo] with zero (SAME), no (VALID) or wrap (CIRCULAR) padding."""
    length = a.shape[-1]
    (_, _, lo, _, out), = _window_plan((length,), (k,), (s,), padding, "test", "filter_shape")
    result = np.zeros(a.shape[:-2] + (out, out))
    for p, q, o in itertools.product(range(out), range(out), range(k)):
        i, j = s * p + o - lo, s * q + o - lo
        if padding == "CIRCULAR":
            i, j = i % length, j % length
        elif not (0 <= i < length and 0 <= j < length):
            continue
        result[..., p, q] += a[..., i, j]
    return result


# each padding with a stride > 1; an even filter (asymmetric SAME padding); a stride above the filter
@pytest.mark.parametrize("padding, k, s", [("SAME", 3, 2), ("SAME", 2, 3), ("VALID", 3, 2), ("CIRCULAR", 3, 1),
                                           ("CIRCULAR", 2, 2)])
def test_pair_conv_is_the_sum_over_shared_offsets(padding, k, s):
    a = np.random.default_rng(k * 10 + s).normal(size=(2, 3, 7, 7))  # float64 (tests/conftest.py: x64)
    plan, = _window_plan((7,), (k,), (s,), padding, "test", "filter_shape")
    got = np.asarray(_pair_conv(jax.numpy.asarray(a), (2, 3), plan, padding == "CIRCULAR"))
    want = _direct(a, k, s, padding)
    assert got.dtype == np.float64 and got.shape == want.shape
    # round-off (float64): a k-term sum in another order, a few ulp of the largest term.
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * np.abs(a).max())


def test_pair_conv_axes_anywhere():
    """Pairs on non-adjacent axes (2-D images: (n, p0, p1, p0', p1')): the other axes stay put."""
    a = np.random.default_rng(0).normal(size=(2, 5, 4, 5, 4))
    plan, = _window_plan((4,), (3,), (1,), "SAME", "test", "filter_shape")
    got = np.asarray(_pair_conv(jax.numpy.asarray(a), (2, 4), plan, False))
    want = np.moveaxis(_direct(np.moveaxis(a, (2, 4), (3, 4)), 3, 1, "SAME"), (3, 4), (2, 4))
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * np.abs(a).max())
