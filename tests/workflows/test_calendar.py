"""Business-day arithmetic: weekends and configured holidays are skipped, in local time."""
import datetime as dt

import pytest

from edlink.calendar import BusinessCalendar, CalendarError

CAL = BusinessCalendar.build("America/Chicago", ["2026-11-26", "2026-11-27"])  # Thanksgiving Thu+Fri
CHI = CAL.zone


def local(*args):
    return dt.datetime(*args, tzinfo=CHI)


def test_weekdays_count_and_weekends_do_not():
    monday = local(2026, 11, 2, 10, 0)
    assert CAL.add_business_days(monday.date(), 5) == dt.date(2026, 11, 9)
    assert CAL.deadline(monday, 5) == local(2026, 11, 10, 0, 0).astimezone(dt.UTC)


def test_friday_afternoon_runs_to_the_next_friday():
    friday = local(2026, 11, 6, 16, 30)
    assert CAL.add_business_days(friday.date(), 5) == dt.date(2026, 11, 13)


def test_holidays_are_skipped():
    monday = local(2026, 11, 23, 9, 0)
    # Tue 24, Wed 25, (Thu 26, Fri 27 holidays), Mon 30, Tue Dec 1, Wed Dec 2
    assert CAL.add_business_days(monday.date(), 5) == dt.date(2026, 12, 2)
    assert CAL.business_days_between(monday, local(2026, 12, 2, 8, 0)) == 5


def test_local_day_not_utc_day():
    # 23:30 in Chicago on Monday is already Tuesday in UTC; the local Monday counts
    late = local(2026, 11, 2, 23, 30)
    assert CAL.local_day(late) == dt.date(2026, 11, 2)
    assert CAL.add_business_days(CAL.local_day(late), 1) == dt.date(2026, 11, 3)


def test_halfway_is_the_end_of_the_middle_business_day():
    monday = local(2026, 11, 2, 10, 0)
    assert CAL.halfway(monday, 5) == local(2026, 11, 5, 0, 0).astimezone(dt.UTC)
    one = CAL.halfway(monday, 1)
    assert monday < one < CAL.deadline(monday, 1)


@pytest.mark.parametrize("zone, holidays", [("Mars/Olympus", []), ("UTC", ["26 November"])])
def test_bad_configuration_is_explained(zone, holidays):
    with pytest.raises(CalendarError):
        BusinessCalendar.build(zone, holidays)


def test_comma_separated_holidays_from_the_environment():
    cal = BusinessCalendar.build("UTC", "2026-12-25, 2027-01-01")
    assert cal.holidays == {dt.date(2026, 12, 25), dt.date(2027, 1, 1)}
