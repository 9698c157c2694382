"""The one number formatter of the exports: the indicator's precision, half away from zero."""

import pytest

from exports.formatting import format_number
from exports.publish import format_cell
from exports.report_wording import number, with_unit


@pytest.mark.parametrize(
    "value, precision, shown",
    [
        (597.0, 0, "597"),  # residual waste per household: not 597.0
        (90.05, 1, "90.1"),  # 90.04999... in binary; round() and f"{:.1f}" give 90.0
        (91.05, 1, "91.1"),
        (-2.5, 0, "-3"),  # half away from zero, not to even (round(-2.5) is -2)
        (2.5, 0, "3"),
        (48.605, 2, "48.61"),
        (0.15, 1, "0.2"),
        (-0.04, 1, "0.0"),  # no "-0.0"
        (96.0, 1, "96.0"),  # exactly the precision's decimals
        (1234.5, None, "1234.5"),  # no precision known: as published
        (597.0, None, "597"),
        (1.5e-12, None, "1.5e-12"),
    ],
)
def test_a_value_is_shown_to_its_precision_rounded_half_away_from_zero(value, precision, shown):
    assert format_number(value, precision) == shown


def test_the_report_and_the_open_data_use_it():
    assert with_unit(597.0, "kg per household", 0) == "597 kg per household"
    assert with_unit(90.05, "%", 1) == "90.1%"
    assert with_unit(224660.0, "count", 0) == "224,660 count"
    assert number(1234567.891, 1) == "1,234,567.9"
    # the open data publishes values as they are, without separators or a trailing .0
    assert [format_cell(v) for v in (597.0, 90.05, 1234567.891, -0.0)] == ["597", "90.05", "1234567.891", "0"]


def test_a_whole_number_of_any_size_is_spelt_out_and_never_raises():
    # the default decimal context (28 digits) raised InvalidOperation from 1e28 up
    assert format_number(1e28, None) == "1" + "0" * 28
    assert format_number(-1e300, None) == "-1" + "0" * 300
    assert format_number(2.0**60, None) == "1152921504606847000"  # its shortest spelling, as published
    assert (format_number(float("inf"), None), format_number(float("-inf"), None)) == ("inf", "-inf")
