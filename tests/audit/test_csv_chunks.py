"""Report CSV (audit.reports.formats.csv_chunks): batches written whole by the csv module when
that is safe, a cell at a time otherwise; either way the same text as writing every cell through
``csv_cell`` (formula-like text kept inert, dates in ISO form, date-times in UTC minutes)."""
import csv
import datetime as dt
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.reports import formats
from audit.reports.formats import csv_cell, csv_chunks

COLUMNS = ("A", "B", "C")


def reference(columns, rows) -> str:
    """Every cell through csv_cell, one row at a time (the rule the fast path must keep)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row[:len(columns)]])
    return buffer.getvalue()


def written(columns, rows) -> str:
    return "".join(csv_chunks(columns, rows))


def test_plain_batches_and_careful_batches_read_the_same():
    rows = [("101001", "Pine Hollow", dt.date(2026, 3, 4), "extra")] * 3
    assert written(COLUMNS, rows) == reference(COLUMNS, rows)
    assert written(COLUMNS, rows).splitlines()[1] == "101001,Pine Hollow,2026-03-04"


def test_formula_like_text_is_kept_inert_wherever_it_is():
    rows = [("=SUM(A1)", "ok", None), ("a", "+1", "x,y"), ("b", '-"q",', "@home"), ("c", "\tx", "\r\nline"),
            ("", "", "")]
    text = written(COLUMNS, rows)
    assert text == reference(COLUMNS, rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1] == ["'=SUM(A1)", "ok", ""]
    assert parsed[2] == ["a", "'+1", "x,y"]
    assert parsed[3] == ["b", "'-\"q\",", "'@home"]
    assert parsed[4] == ["c", "'\tx", "'\r\nline"]


def test_date_times_numbers_and_other_types_take_the_careful_path():
    when = dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    rows = [(when, -5, 2.5), (None, 7, True)]
    text = written(COLUMNS, rows)
    assert text == reference(COLUMNS, rows)
    assert text.splitlines()[1:] == ["2026-03-05 05:30,'-5,2.5", ",7,True"]


def test_progress_is_reported_and_an_empty_report_is_its_header():
    seen = []
    rows = [("x", "y", "z")] * (formats.CHUNK * 2 + 3)
    chunks = list(csv_chunks(COLUMNS, rows, seen.append))
    assert seen == [formats.CHUNK, formats.CHUNK * 2, formats.CHUNK * 2 + 3] and len(chunks) == 3
    assert "".join(chunks) == reference(COLUMNS, rows)
    assert written(COLUMNS, []) == "A,B,C\r\n"


cells = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab ,\"'\r\n\t=+-@1")), max_size=6),
    st.integers(min_value=-3, max_value=3),
    st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)),
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(cells, cells, cells, cells), max_size=12), st.integers(min_value=1, max_value=4))
def test_any_rows_read_as_every_cell_through_csv_cell(rows, chunk):
    saved = formats.CHUNK
    formats.CHUNK = chunk  # small batches: plain and careful ones side by side
    try:
        assert written(COLUMNS, rows) == reference(COLUMNS, rows)
    finally:
        formats.CHUNK = saved
