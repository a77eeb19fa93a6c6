"""The shared argument checks: one wording, TypeError for a type, ValueError for a range."""

import numpy as np
import pytest

from graphclust._checks import check_integer, check_real


def test_check_integer_returns_a_plain_int_for_numpy_integers():
    value = check_integer("n", np.int64(3), 1)
    assert value == 3 and type(value) is int


@pytest.mark.parametrize(("value", "error", "message"), [
    (True, TypeError, "n must be an integer, got bool"),
    (2.0, TypeError, "n must be an integer, got float"),
    (0, ValueError, r"n must be an integer in \[1, 5\], got 0"),
    (6, ValueError, r"n must be an integer in \[1, 5\], got 6"),
])
def test_check_integer_rejects(value, error, message):
    with pytest.raises(error, match=message):
        check_integer("n", value, 1, 5)


def test_check_integer_names_what_else_is_accepted_and_one_sided_bounds():
    with pytest.raises(TypeError, match="n must be None or an integer, got str"):
        check_integer("n", "3", accepts="None or an integer")
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        check_integer("n", 0, 1)
    with pytest.raises(ValueError, match="n must be an integer <= 2, got 3"):
        check_integer("n", 3, maximum=2)


def test_check_real():
    assert check_real("x", np.float32(0.5)) == 0.5
    with pytest.raises(TypeError, match="x must be a real number, got str"):
        check_real("x", "0.5")
    with pytest.raises(ValueError, match="x must be finite, got nan"):
        check_real("x", float("nan"))
