"""The tolerant reader's rules, case by case: period bounds, figures, missing markers."""

from datetime import date

import pytest

from ingestion.figures import NotAFigure, parse_number
from ingestion.lginform.period_bounds import PeriodBoundError, period_end, period_start

FY_START = date(2016, 4, 1)
FY_END = date(2017, 3, 31)


@pytest.mark.parametrize(
    "written",
    [
        "2016-04-01",
        "2016-04-01T00:00:00",
        "2016-04-01T00:00",
        "2016-04-01T00:00:00.000",
        "2016-04-01T00:00:00.0000000",
        "2016-04-01T00:00:00Z",
        "2016-04-01t00:00:00z",
        "2016-04-01T00:00:00+01:00",
        "2016-04-01T00:00:00-0500",
        "2016-04-01 00:00:00",
        " 2016-04-01 ",
        date(2016, 4, 1),
    ],
)
def test_every_spelling_of_a_start_is_its_day(written):
    assert period_start(written) == FY_START


@pytest.mark.parametrize(
    "written",
    [
        "2017-03-31",  # LG Inform's own
        "2017-03-31T23:59:59",  # .NET, end of the last day
        "2017-03-31T23:59",  # without seconds
        "2017-03-31T23:59:59.9999999+01:00",  # seven-digit fraction and an offset: the day as written
        "2017-03-31T23:59:59.999Z",
        "2017-04-01T00:00:00",  # midnight of the day after
        "2017-04-01T00:00:00Z",
        "2017-04-01T00:00+01:00",
        "2017-03-31T00:00:00",  # a date written as a .NET DateTime (midnight of the day itself)
    ],
)
def test_every_spelling_of_an_end_is_the_same_last_day(written):
    assert period_end(written, FY_START) == FY_END


def test_a_one_day_period_at_midnight_is_that_day():
    census = date(2011, 3, 27)
    assert period_end("2011-03-27T00:00:00", census) == census
    assert period_end("2011-04-01T00:00:00", date(2011, 4, 1)) == date(
        2011, 4, 1
    )  # a first-of-month snapshot stays put


@pytest.mark.parametrize(
    "written, field, message",
    [
        ("2016-04-01T12:00:00", "start", "not at the start of a day"),
        ("2016-03-31T23:00:00Z", "start", "not at the start of a day"),
        ("01/04/2016", "start", "neither a date"),
        ("2016-02-30", "start", "not a calendar date"),
        (20160401, "start", "is not a date"),
        ("2017-03-31T12:00:00", "end", "neither at midnight nor in the last minute"),
        ("2016-03-31", "end", "before startDate 2016-04-01"),
        ("2017-03-31T24:00:00", "end", "not a time of day"),
    ],
)
def test_a_bound_that_does_not_say_one_day_is_refused_naming_field_and_value(written, field, message):
    with pytest.raises(PeriodBoundError, match=message) as error:
        period_start(written) if field == "start" else period_end(written, FY_START)
    assert ("startDate" if field == "start" else "endDate") in str(error.value) and str(written) in str(error.value)


@pytest.mark.parametrize(
    "written, value",
    [
        (92028, 92028.0),
        (12.5, 12.5),
        ("92028", 92028.0),
        ("12.50", 12.5),
        (" -3.2 ", -3.2),
        ("1e3", 1000.0),
        ("92,028", 92028.0),
        ("1,234,567.5", 1234567.5),
        (".5", 0.5),
        (None, None),
        ("", None),
        ("  ", None),
        ("-", None),
        ("..", None),
        (":", None),
        ("c", None),
        ("[c]", None),
        ("[X]", None),
        ("*", None),
        ("N/A", None),
        ("na", None),
        ("[z]", None),
        ("[low]", None),
        ("null", None),
    ],
)
def test_figures_read_as_numbers_or_missing(written, value):
    assert parse_number(written) == value


@pytest.mark.parametrize(
    "written",
    [
        True,
        "NaN",
        "nan",
        float("nan"),
        float("inf"),
        "Infinity",
        "12%",
        "£12",
        "1,2",
        "1.234,5",
        "12 345",
        "twelve",
        "0x1A",
        [1],
        {"v": 1},
        10**400,
    ],
)
def test_anything_else_is_refused_not_guessed(written):
    with pytest.raises(NotAFigure):
        parse_number(written)
