"""The reader of attendance exports (leisure/imports/reading.py): every mess a real export has
ends as defined, and a messy file reads into the same clean rows and keys as the clean one.

No database: the reader is plain Python."""

import dataclasses
import datetime as dt
import io

import nhs_number
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leisure.imports.reading import (
    IDENTITY,
    LONDON,
    CellError,
    CleanRow,
    ColumnMapping,
    Problem,
    ReadError,
    RowProblems,
    SkippedRows,
    SkipReason,
    SourceRow,
    Status,
    clean_text,
    parse_date,
    parse_datetime,
    parse_nhs_number,
    parse_time,
    read_table,
    row_key,
)
from tests.leisure import import_files
from tests.leisure.import_files import Mess, Visit, csv_file, mapping_for, visits, xlsx_file

SOURCE = "operator:1/source:1"
MAPPING = mapping_for(Mess())


def clean_rows(data: bytes, mapping: ColumnMapping = MAPPING, filename: str = "export"):
    table = read_table(data, filename)
    assert mapping.validate(table.headers) == []
    results = [mapping.apply(row) for row in table.rows()]
    problems = [result for result in results if isinstance(result, RowProblems)]
    assert problems == []
    return table, results


def keyed(rows) -> set[tuple[CleanRow, str]]:
    return {(row, row_key(row, SOURCE)) for row in rows}


def one_visit(**changes) -> Visit:
    visit = Visit(
        day=dt.date(2026, 1, 13),
        at=dt.time(9, 30),
        member="M00042",
        activity="Aquafit",
        status="Attended",
    )
    return dataclasses.replace(visit, **changes)


EXPECTED = CleanRow(
    number=2,
    occurred_at=dt.datetime(2026, 1, 13, 9, 30, tzinfo=LONDON),
    time_known=True,
    membership_number="M00042",
    referral_reference="",
    nhs_number="",
    date_of_birth=None,
    activity="Aquafit",
    status=Status.ATTENDED,
)


# --- Encodings and separators -----------------------------------------------------------------


def test_a_byte_order_mark_is_not_part_of_the_first_header():
    data = csv_file([one_visit()], Mess(bom=True))
    assert data.startswith(b"\xef\xbb\xbf")

    table, rows = clean_rows(data)

    assert table.headers[0] == "Date"
    assert table.encoding == "utf-8-sig"
    assert rows == [EXPECTED]


@pytest.mark.parametrize("separator", [";", "\t", ","])
def test_the_separator_is_found(separator):
    data = csv_file(visits(5, seed=1), Mess(separator=separator))

    table, rows = clean_rows(data)

    assert table.delimiter == separator
    assert table.headers == import_files.HEADERS
    assert keyed(rows) == keyed(clean_rows(csv_file(visits(5, seed=1)))[1])


def test_a_semicolon_file_with_decimal_commas_is_still_split_on_semicolons():
    # Every line has exactly one comma and the sniffer may prefer it; the header has none.
    lines = ["Date;Time;Member No;Distance km"] + [
        f"13/01/2026;09:{minute:02};M{minute:05};2,5" for minute in range(30)
    ]
    table = read_table("\r\n".join(lines).encode(), "export.csv")

    assert table.delimiter == ";"
    assert next(table.rows()).values["Distance km"] == "2,5"


def test_a_windows_1252_export_is_decoded():
    visit = one_visit(activity="Caf\u00e9 walk \u2013 \u2019n\u2019 \u00a3")
    data = csv_file([visit], Mess(encoding="cp1252"))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    table, [row] = clean_rows(data)

    assert table.encoding == "cp1252"
    assert row.activity == "Caf\u00e9 walk \u2013 \u2019n\u2019 \u00a3"


def test_excel_unicode_text_is_utf16_and_tab_separated():
    text = "Date\tTime\tMember No\r\n13/01/2026\t09:30\tM00042\r\n"
    data = b"\xff\xfe" + text.encode("utf-16-le")

    table = read_table(data, "export.txt")

    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert [row.values for row in table.rows()] == [
        {"Date": "13/01/2026", "Time": "09:30", "Member No": "M00042"}
    ]


def test_a_byte_order_mark_in_the_middle_of_pasted_exports_is_dropped():
    first = csv_file([one_visit()], Mess(bom=True))
    second = csv_file([one_visit(member="M00043")], Mess(bom=True))

    table, rows = clean_rows(first + second)

    assert [row.membership_number for row in rows] == ["M00042", "M00043"]
    assert table.skipped == [SkippedRows(3, 3, SkipReason.REPEATED_HEADER)]


def test_quoted_fields_keep_separators_quotes_and_line_breaks_and_rows_are_numbered_as_excel_does():
    notes = 'Line one\nline two, "quoted"; and\ttab'
    data = csv_file([one_visit(notes=notes), one_visit(member="M00043")])

    table = read_table(data, "export.csv")
    rows = list(table.rows())

    assert rows[0].values["Notes"] == notes
    # The line break makes the file one line longer; Excel (and the reader) still say row 3.
    assert [row.number for row in rows] == [2, 3]


# --- What is not a table ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old-format (.xls)"),
        (b"PK\x03\x04 not really a zip", "could not be read as an Excel workbook"),
        (b"<html><table><tr><td>Date</td></tr></table></html>", "is a web page"),
        (b"\x00\x01\x02binary", "is not a CSV or Excel (.xlsx) file"),
        (b"\r\n,,,\r\n\r\n", "has no header row"),
        (b"Date\x81\x8d\x8f\x90\x9d\xff\xfe", "not text in a known encoding"),
        (b"\xff\xfeD\x00a\x00t", "is damaged: it is not readable UTF-16 text"),
        (b"Date," + b"x" * 200_000 + b"\r\n", "could not be read as CSV"),
    ],
    ids=[
        "empty",
        "xls",
        "bad zip",
        "html",
        "binary",
        "all blank",
        "not cp1252",
        "bad utf16",
        "huge",
    ],
)
def test_a_file_that_is_not_a_readable_table_is_refused_with_what_to_do(data, message):
    with pytest.raises(ReadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_table(data, "export.xls")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Date,Notes\r\n13/01/2026," + b"x" * 200_000, "could not be read as CSV after row 1"),
        (import_files.damaged_workbook(), "is damaged: a worksheet could not be read"),
    ],
    ids=["huge cell", "damaged workbook"],
)
def test_a_file_damaged_after_its_header_is_refused_when_read(data, message):
    table = read_table(data, "export")

    with pytest.raises(ReadError, match=message):
        list(table.rows())


def test_the_separator_is_found_in_a_file_larger_than_the_sample():
    data = csv_file(visits(1000, seed=8), Mess(separator=";"))
    assert len(data) > 32_768

    table, rows = clean_rows(data)

    assert table.delimiter == ";"
    assert len(rows) == 1000


def test_a_workbook_sheet_is_found_by_name_and_a_missing_one_lists_the_sheets():
    data = import_files.workbook_with_sheets(
        {"Summary": [["Total", 3]], "Visits": [["Date", "Member No"], ["13/01/2026", "M1"]]}
    )

    assert read_table(data, "export.xlsx").headers == ("Total", "3")
    table = read_table(data, "export.xlsx", sheet=" visits ")
    assert table.sheet == "Visits"
    assert [row.values for row in table.rows()] == [{"Date": "13/01/2026", "Member No": "M1"}]
    with pytest.raises(
        ReadError, match='no sheet "Attendance": its sheets are "Summary", "Visits"'
    ):
        read_table(data, "export.xlsx", sheet="Attendance")


# --- Headers ----------------------------------------------------------------------------------


def test_headers_are_trimmed_named_and_made_unique():
    data = b"  Date ,Member\xc2\xa0 No,,Date,Date (2),Date,,\r\n1,2,3,4,5,6,7,8,9\r\n"

    table = read_table(data, "export.csv")

    assert table.headers == (
        "Date",
        "Member No",
        "Column C",
        "Date (2)",
        "Date (2) (2)",
        "Date (3)",
    )
    [row] = table.rows()
    # Cells beyond the last named header (7, 8, 9) are not the table's.
    assert list(row.values.values()) == ["1", "2", "3", "4", "5", "6"]


def test_the_header_is_the_first_non_blank_row_and_short_rows_are_padded():
    data = b"\r\n ,\r\nDate,Time,Member No\r\n13/01/2026\r\n"

    table = read_table(data, "export.csv")

    assert table.header_row == 3
    assert [(row.number, row.values) for row in table.rows()] == [
        (4, {"Date": "13/01/2026", "Time": None, "Member No": None})
    ]
    assert table.skipped == [SkippedRows(1, 2, SkipReason.BLANK)]


# --- Blank rows and repeated headers ----------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_blank_rows_anywhere_are_skipped_and_counted(file_format):
    rows = visits(6, seed=2)
    mess = Mess(leading_blank_rows=1, blank_rows=3, trailing_blank_rows=40, seed=5)

    table, read = clean_rows(import_files.export_file(rows, mess, file_format))

    assert keyed(read) == keyed(clean_rows(csv_file(rows))[1])
    assert table.skipped_count(SkipReason.BLANK) == 44
    total = mess.row_count(len(rows))
    assert (table.skipped[0].first, table.skipped[-1].last) == (1, total)
    assert table.skipped[-1].count >= 40
    assert 1 + len(read) + table.skipped_count() == total


def test_thousands_of_formatted_blank_rows_at_the_end_of_a_sheet_are_one_run():
    data = xlsx_file(visits(3), Mess(trailing_blank_rows=5000))

    table, rows = clean_rows(data)

    assert len(rows) == 3
    assert [str(run) for run in table.skipped] == ["Rows 5-5004: blank"]


def test_a_workbook_that_declares_fewer_rows_than_it_has_loses_none():
    data = xlsx_file(visits(8, seed=3), Mess(wrong_dimension=True))
    declared = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    assert declared.max_row == 2  # what openpyxl alone would read

    _, rows = clean_rows(data)

    assert len(rows) == 8


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_repeated_headers_are_skipped_and_counted(file_format):
    rows = visits(6, seed=4)
    mess = Mess(repeated_headers=3, seed=1)

    table, read = clean_rows(import_files.export_file(rows, mess, file_format))

    assert len(read) == 6
    assert table.skipped_count(SkipReason.REPEATED_HEADER) == 3
    assert table.skipped_count() == 3


def test_a_repeated_header_is_recognised_despite_case_and_spacing_but_a_partial_one_is_a_row():
    data = b"Date,Member No\r\n13/01/2026,M1\r\n DATE , member  no\r\nDate,M2\r\n"

    table = read_table(data, "export.csv")

    assert [row.number for row in table.rows()] == [2, 4]
    assert table.skipped == [SkippedRows(3, 3, SkipReason.REPEATED_HEADER)]


def test_reading_again_starts_again_and_recounts():
    table = read_table(csv_file(visits(4), Mess(blank_rows=2)), "export.csv")
    first = list(table.rows())
    preview = next(table.rows())

    assert preview == first[0]
    assert list(table.rows()) == first
    assert table.skipped_count() == 2


def test_rows_are_read_as_they_are_asked_for():
    table = read_table(xlsx_file(visits(2000)), "export.xlsx")
    rows = table.rows()

    assert next(rows).number == 2
    assert table.skipped == []  # nothing further has been read


# --- Duplicates and identity ------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_duplicate_rows_get_the_same_key(file_format):
    rows = visits(5, seed=6)
    data = import_files.export_file(rows, Mess(duplicated_rows=3, seed=2), file_format)

    _, read = clean_rows(data)
    keys = [row_key(row, SOURCE) for row in read]

    assert len(read) == 8
    assert len(set(keys)) == 5
    assert keyed(read) == keyed(clean_rows(csv_file(rows))[1])


def test_the_key_ignores_status_row_number_seconds_and_activity_case_but_not_the_rest():
    key = row_key(EXPECTED, SOURCE)

    same = [
        dataclasses.replace(EXPECTED, status=Status.DNA, number=99),
        dataclasses.replace(EXPECTED, occurred_at=EXPECTED.occurred_at.replace(second=59)),
        dataclasses.replace(EXPECTED, activity="  AQUAFIT "),
        dataclasses.replace(EXPECTED, nhs_number="9434765919"),  # the member number comes first
    ]
    different = [
        dataclasses.replace(EXPECTED, membership_number="M00043"),
        dataclasses.replace(EXPECTED, occurred_at=EXPECTED.occurred_at.replace(minute=31)),
        dataclasses.replace(EXPECTED, activity="Pilates"),
    ]

    assert {row_key(row, SOURCE) for row in same} == {key}
    assert key not in {row_key(row, SOURCE) for row in different}
    assert row_key(EXPECTED, "operator:1/source:2") != key
    assert len(key) == 64


def test_without_a_member_number_the_key_uses_the_referral_reference_then_the_nhs_number():
    by_nhs = dataclasses.replace(EXPECTED, membership_number="", nhs_number="9434765919")
    by_reference = dataclasses.replace(by_nhs, referral_reference="ER-BCD234")

    assert row_key(by_reference, SOURCE) != row_key(by_nhs, SOURCE)
    assert row_key(by_reference, SOURCE) == row_key(
        dataclasses.replace(by_reference, nhs_number=""), SOURCE
    )


# --- Dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-13",
        "13/01/2026",
        "13/1/2026",
        "13/1/26",
        "13-01-2026",
        "13.01.2026",
        "13 Jan 2026",
        "13 January 2026",
        "13-Jan-26",
        "Tue 13 Jan 2026",
        "13th Jan 2026",
        "  13/01/2026  ",
        "20260113",
        "46035",
        46035,
        46035.75,
        dt.date(2026, 1, 13),
        dt.datetime(2026, 1, 13, 18, 0),
        "13/01/2026 09:30",
        "2026-01-13T09:30:00Z",
    ],
)
def test_dates_are_read_day_first_in_every_common_form(value):
    assert parse_date(value) == dt.date(2026, 1, 13)


def test_an_ambiguous_date_is_day_first():
    assert parse_date("02/03/2026") == dt.date(2026, 3, 2)


def test_a_us_date_is_refused_with_a_message_that_says_so():
    with pytest.raises(CellError) as error:
        parse_date("01/13/2026")

    assert str(error.value) == (
        '"01/13/2026" is not a date: there is no month 13. Dates are read day first, so '
        "13 January is written 13/01/2026; this looks like a US month/day date: export the "
        "file with dates as day/month/year"
    )


@pytest.mark.parametrize(
    ("serial", "expected"),
    [(1, dt.date(1900, 1, 1)), (59, dt.date(1900, 2, 28)), (61, dt.date(1900, 3, 1))],
)
def test_excel_serial_dates_follow_the_1900_system_with_its_leap_year_bug(serial, expected):
    assert parse_date(serial) == expected
    assert parse_date(float(serial)) == expected


def test_excel_serial_60_is_the_29_february_1900_that_never_was():
    with pytest.raises(CellError, match="29 February 1900, a day that never was"):
        parse_date(60)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "not between 1900 and 2099"),
        (-5, "not between 1900 and 2099"),
        (3_000_000, "not between 1900 and 2099"),
        (float("nan"), "is not a date"),
        (True, "TRUE is not a date"),
        ("31/02/2026", "February 2026 has no day 31"),
        ("13/13/2026", "there is no month 13"),
        ("13/01/1850", "the year 1850 is before 1900"),
        ("2026", "is not a date that can be read"),
        ("yesterday", "is not a date that can be read"),
        ("13 Foo 2026", '"Foo" is not a month'),
        ("13 Ja 2026", '"Ja" is not a month'),
        ("13/00/2026", "there is no month 0"),
        ("2026-13-01 09:30", "there is no month 13"),
        ("0000-01-01", "the year is out of range"),
        (dt.time(9, 30), "is a time, not a date"),
        (None, "No date"),
        ("   ", "No date"),
    ],
)
def test_impossible_dates_are_refused(value, message):
    with pytest.raises(CellError, match=message):
        parse_date(value)


def test_serial_dates_in_a_workbook_and_in_a_csv_read_alike():
    rows = visits(5, seed=7)
    serial = Mess(date_style="serial")

    assert keyed(clean_rows(xlsx_file(rows, serial))[1]) == keyed(clean_rows(csv_file(rows))[1])
    assert keyed(clean_rows(csv_file(rows, serial))[1]) == keyed(clean_rows(csv_file(rows))[1])


# --- Times and moments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("09:30", dt.time(9, 30)),
        ("9:30", dt.time(9, 30)),
        ("09:30:15", dt.time(9, 30, 15)),
        ("9.30", dt.time(9, 30)),
        ("9:30am", dt.time(9, 30)),
        ("9.30 PM", dt.time(21, 30)),
        ("9am", dt.time(9, 0)),
        ("12pm", dt.time(12, 0)),
        ("12am", dt.time(0, 0)),
        ("17:45", dt.time(17, 45)),
        ("1745", dt.time(17, 45)),
        ("0.5", dt.time(12, 0)),
        ("0.75", dt.time(18, 0)),
        (".25", dt.time(6, 0)),
        ("00.25", dt.time(0, 25)),
        ("0:25", dt.time(0, 25)),
        (0.395833333, dt.time(9, 30)),
        (0.999999999, dt.time(23, 59, 59)),
        (9.3, dt.time(9, 30)),
        (17.45, dt.time(17, 45)),
        (dt.time(9, 30, 15, 500), dt.time(9, 30, 15)),
        (dt.datetime(1899, 12, 30, 9, 30), dt.time(9, 30)),
        (dt.timedelta(hours=9, minutes=30), dt.time(9, 30)),
        ("13/01/2026 17:45", dt.time(17, 45)),
    ],
)
def test_times_are_read_in_every_common_form(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("24:00", "the hours run 0 to 23"),
        ("9:75", "minutes 0 to 59"),
        ("13:00pm", "with am or pm the hour is 1 to 12"),
        ("half nine", "is not a time that can be read"),
        (25, "is not a time"),
        (25.0, "^25 is not a time"),
        (True, "TRUE is not a time"),
        (9.123, "is not a time"),
        (dt.timedelta(days=2), "is a duration"),
        (dt.date(2026, 1, 13), "is a date, not a time"),
        (None, "No time"),
    ],
)
def test_impossible_times_are_refused(value, message):
    with pytest.raises(CellError, match=message):
        parse_time(value)


def test_a_moment_is_aware_in_london_time_gmt_in_winter_and_bst_in_summer():
    winter = parse_datetime("13/01/2026", "09:30")
    summer = parse_datetime("13/07/2026", "09:30")

    assert winter.tzinfo is LONDON and summer.tzinfo is LONDON
    assert winter.utcoffset() == dt.timedelta(0)
    assert summer.utcoffset() == dt.timedelta(hours=1)
    assert summer.astimezone(dt.UTC).hour == 8


def test_a_moment_may_come_from_one_combined_column():
    assert parse_datetime("13/01/2026 17:45") == dt.datetime(2026, 1, 13, 17, 45, tzinfo=LONDON)
    assert parse_datetime(46035.75) == dt.datetime(2026, 1, 13, 18, 0, tzinfo=LONDON)
    assert parse_datetime(dt.datetime(2026, 1, 13, 18, 0), None) == parse_datetime(46035.75)
    # An aware timestamp is London's clock at that instant.
    assert parse_datetime("2026-07-13T08:30:00Z") == dt.datetime(2026, 7, 13, 9, 30, tzinfo=LONDON)


def test_a_time_column_wins_over_the_time_in_a_date_column():
    assert parse_datetime(dt.datetime(2026, 1, 13, 18, 0), "09:30").hour == 9


def test_a_date_without_any_time_is_midnight_and_the_row_says_the_time_is_unknown():
    mapping = ColumnMapping(date="Date", membership_number="Member No")
    table = read_table(b"Date,Member No\r\n13/01/2026,M1\r\n", "export.csv")

    [row] = [mapping.apply(row) for row in table.rows()]

    assert row.occurred_at == dt.datetime(2026, 1, 13, tzinfo=LONDON)
    assert row.time_known is False


def test_midnight_in_a_workbook_date_cell_is_no_time_but_written_out_it_is_a_time():
    assert parse_datetime(dt.datetime(2026, 1, 13)) == parse_datetime("13/01/2026 00:00")
    table = read_table(
        import_files.workbook_with_sheets(
            {"Visits": [["Visit", "Member No"], [dt.datetime(2026, 1, 13), "M1"]]}
        ),
        "export.xlsx",
    )
    text = read_table(b"Visit,Member No\r\n2026-01-13 00:00,M1\r\n", "export.csv")
    mapping = ColumnMapping(date="Visit", membership_number="Member No")

    [from_cell] = [mapping.apply(row) for row in table.rows()]
    [from_text] = [mapping.apply(row) for row in text.rows()]

    assert (from_cell.time_known, from_text.time_known) == (False, True)
    assert row_key(from_cell, SOURCE) == row_key(from_text, SOURCE)


def test_times_the_clocks_skip_or_repeat_are_read_the_same_way_every_time():
    skipped = parse_datetime("29/03/2026", "01:30")  # clocks go forward at 01:00
    repeated = parse_datetime("25/10/2026", "01:30")  # clocks go back at 02:00

    assert skipped.utcoffset() == dt.timedelta(0)
    assert repeated.utcoffset() == dt.timedelta(hours=1)


# --- NHS numbers and text ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["9434765919", "943 476 5919", "943-476-5919", 9434765919])
def test_an_nhs_number_is_read_as_its_ten_digits(value):
    assert parse_nhs_number(value) == "9434765919"


def test_a_workbook_number_that_lost_its_leading_zero_gets_it_back():
    assert parse_nhs_number(101_900_007) == "0101900007"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9434765918", "its last digit \\(the check digit\\) does not match"),
        ("9434765910", "does not match"),
        ("943476591", "an NHS number is 10 digits"),
        ("NHS 9434765919", "an NHS number is 10 digits"),
        ("0000000000", "cannot be one digit 10 times"),
        (True, "is not an NHS number"),
        ("", "No NHS number"),
    ],
)
def test_a_bad_nhs_number_is_refused(value, message):
    with pytest.raises(CellError, match=message):
        parse_nhs_number(value)


@given(st.integers(min_value=0, max_value=9_999_999_999))
@settings(max_examples=200, deadline=None)
def test_the_check_digit_agrees_with_the_nhs_number_library(number):
    digits = f"{number:010}"
    try:
        accepted = parse_nhs_number(digits) == digits
    except CellError:
        accepted = False
    check_digit_is_right = nhs_number.calculate_checksum(digits[:9]) == int(digits[9])
    assert accepted == (check_digit_is_right and len(set(digits)) > 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Aqua \t fit\n class ", "Aqua fit class"),
        ("M\u200b00042\ufeff", "M00042"),
        ("Caf\u00e9\u00a0walk", "Caf\u00e9 walk"),
        (12345.0, "12345"),
        (12.5, "12.5"),
        (dt.date(2026, 1, 13), "2026-01-13"),
        (None, ""),
    ],
)
def test_text_is_trimmed_and_collapsed(value, expected):
    assert clean_text(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("M\x0000042", "NUL character"),
        ("M\x0700042", "hidden control characters"),
        ("Smith\u202e", "hidden control characters"),
        ("#N/A", "Excel error \\(#N/A\\)"),
    ],
)
def test_text_with_hidden_characters_or_an_excel_error_is_refused(value, message):
    with pytest.raises(CellError, match=message):
        clean_text(value)


def test_text_longer_than_its_limit_is_refused():
    with pytest.raises(CellError, match="41 characters long: it can be 40 at most"):
        clean_text("M" * 41, max_length=40)


# --- The mapping ------------------------------------------------------------------------------


def test_a_mapped_column_missing_from_the_file_is_an_error_that_suggests_the_likely_one():
    mapping = dataclasses.replace(MAPPING, membership_number="Member Number", activity="Class")

    errors = mapping.validate(import_files.HEADERS)

    assert errors == [
        'The membership number column "Member Number" is not in the file (did you mean '
        '"Member No"?)',
        "The class or activity column \"Class\" is not in the file: its columns are 'Date', "
        "'Time', 'Member No', 'Activity', 'Status', 'Site', 'Notes'",
    ]


def test_a_mapping_finds_columns_whatever_the_spacing_of_its_names():
    mapping = dataclasses.replace(MAPPING, membership_number="  Member   No ")

    assert mapping.membership_number == "Member No"
    assert mapping.validate(import_files.HEADERS) == []


@pytest.mark.parametrize(
    ("mapping", "error"),
    [
        (ColumnMapping(membership_number="Member No"), "Choose the column with the date"),
        (ColumnMapping(date="Date", activity="Activity"), "Choose a column that says who"),
        (
            ColumnMapping(date="Date", nhs_number="NHS"),
            "An NHS number is used only together with a date of birth",
        ),
        (
            ColumnMapping(date="Date", membership_number="Member No", date_of_birth="DOB"),
            "An NHS number is used only together with a date of birth",
        ),
        (
            ColumnMapping(date="Date", membership_number="Member No", status="Status"),
            "Say which of the file's statuses mean",
        ),
        (
            ColumnMapping(
                date="Date", membership_number="Member No", status_values={"Attended": "attended"}
            ),
            "Choose the status column",
        ),
        (
            dataclasses.replace(MAPPING, status_values={"Late": "late", "Attended": "attended"}),
            'Statuses can be "attended", "dna", "cancelled", not "Late" as "late"',
        ),
    ],
)
def test_a_mapping_that_cannot_read_a_file_says_why(mapping, error):
    headers = ("Date", "Member No", "NHS", "DOB", "Activity", "Status")
    assert any(message.startswith(error) for message in mapping.validate(headers))


def test_a_mapping_can_be_saved_as_a_dict_and_rebuilt():
    saved = dataclasses.asdict(MAPPING)

    assert ColumnMapping(**saved) == MAPPING


def test_status_words_are_translated_whatever_their_case_and_spacing():
    table = read_table(
        b"Date,Time,Member No,Status\r\n"
        b"13/01/2026,09:30,M1,ATTENDED\r\n"
        b"13/01/2026,09:30,M2,no  show\r\n"
        b"13/01/2026,09:30,M3, Checked In \r\n"
        b"13/01/2026,09:30,M4,cancelled\r\n",
        "export.csv",
    )

    statuses = [MAPPING.apply(row).status for row in table.rows()]

    assert statuses == [Status.ATTENDED, Status.DNA, Status.ATTENDED, Status.CANCELLED]


def test_a_row_without_a_status_says_so():
    row = SourceRow(2, {"Date": "13/01/2026", "Time": "09:30", "Member No": "M1", "Status": " "})

    result = MAPPING.apply(row)

    assert isinstance(result, RowProblems)
    assert [str(problem) for problem in result.problems] == ['Status (column "Status"): No status']


def test_without_a_status_column_every_row_is_an_attendance():
    mapping = dataclasses.replace(MAPPING, status=None, status_values={})
    [row] = clean_rows(csv_file([one_visit(status="No Show")]), mapping)[1]

    assert row.status == Status.ATTENDED


def test_a_row_with_several_problems_has_each_spelled_out_by_field_and_column():
    mapping = ColumnMapping(
        date="Date",
        time="Time",
        membership_number="Member No",
        nhs_number="NHS",
        date_of_birth="DOB",
        activity="Class",
        status="Status",
        status_values={"Attended": "attended"},
    )
    row = SourceRow(
        7,
        {
            "Date": "01/13/2026",
            "Time": "25:00",
            "Member No": None,
            "NHS": "943 476 5918",
            "DOB": "01/02/55",
            "Class": "Aqua\x00fit",
            "Status": "Late cancel",
        },
    )

    result = mapping.apply(row)

    assert isinstance(result, RowProblems)
    assert result.number == 7
    assert [(problem.field, problem.column) for problem in result.problems] == [
        ("date", "Date"),
        ("time", "Time"),
        ("nhs_number", "NHS"),
        ("date_of_birth", "DOB"),
        ("activity", "Class"),
        ("status", "Status"),
    ]
    assert "looks like a US month/day date" in str(result)
    assert "is in the future: write the year in full" in result.problems[3].message
    assert str(result).startswith('Row 7: Date (column "Date"): "01/13/2026" is not a date')


def test_a_row_that_names_nobody_says_so():
    values = {"Date": "13/01/2026", "Time": "09:30", "Member No": "  ", "Status": "Attended"}

    result = MAPPING.apply(SourceRow(3, values))

    message = "No membership number: there is nobody to record the visit for"
    assert result == RowProblems(3, (Problem(IDENTITY, None, message),))


def test_a_mapping_without_a_date_column_still_says_why_a_row_fails():
    mapping = ColumnMapping(membership_number="Member No")

    result = mapping.apply(SourceRow(2, {"Member No": "M1"}))

    assert result == RowProblems(2, (Problem("date", None, "No column is chosen for the date"),))


def test_an_nhs_number_needs_its_date_of_birth_in_the_row():
    mapping = ColumnMapping(date="Date", nhs_number="NHS", date_of_birth="DOB")
    row = SourceRow(2, {"Date": "13/01/2026", "NHS": "9434765919", "DOB": None})

    result = mapping.apply(row)

    assert isinstance(result, RowProblems)
    assert [problem.message for problem in result.problems] == [
        "No date of birth for the NHS number"
    ]


def test_a_row_named_by_nhs_number_and_date_of_birth_is_clean():
    mapping = ColumnMapping(date="Date", nhs_number="NHS", date_of_birth="DOB")
    row = SourceRow(2, {"Date": "13/01/2026", "NHS": "943 476 5919", "DOB": "01/02/1955"})

    result = mapping.apply(row)

    assert isinstance(result, CleanRow)
    assert (result.nhs_number, result.date_of_birth) == ("9434765919", dt.date(1955, 2, 1))


def test_identifiers_are_upper_case_and_values_over_their_limit_are_problems():
    mapping = dataclasses.replace(MAPPING, referral_reference="Reference")
    row = SourceRow(
        2,
        {
            "Date": "13/01/2026",
            "Time": "09:30",
            "Member No": " m00042 ",
            "Reference": "er-bcd234",
            "Activity": "A" * 101,
            "Status": "Attended",
        },
    )

    result = mapping.apply(row)
    assert isinstance(result, RowProblems)
    assert [problem.field for problem in result.problems] == ["activity"]

    clean = mapping.apply(dataclasses.replace(row, values={**row.values, "Activity": "Gym"}))
    assert isinstance(clean, CleanRow)
    assert (clean.membership_number, clean.referral_reference) == ("M00042", "ER-BCD234")


# --- Every mess at once, at random ------------------------------------------------------------

visit_strategy = st.builds(
    Visit,
    day=st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
    # Not 00:00: a workbook's date-and-time cell at midnight is a date cell, time unknown.
    at=st.builds(dt.time, st.integers(0, 23), st.integers(0, 59)).filter(
        lambda at: at.hour + at.minute
    ),
    member=st.sampled_from(["M00001", "M00002", "M00003", "AB-77", "12345"]),
    activity=st.sampled_from(import_files.ACTIVITIES),
    status=st.sampled_from(list(import_files.STATUS_WORDS)),
    site=st.sampled_from(import_files.SITES),
    notes=st.sampled_from(import_files.NOTES),
)


@st.composite
def messes(draw):
    encoding = draw(st.sampled_from(["utf-8", "cp1252"]))
    return Mess(
        bom=encoding == "utf-8" and draw(st.booleans()),
        encoding=encoding,
        separator=draw(st.sampled_from([",", ";", "\t"])),
        line_ending=draw(st.sampled_from(["\r\n", "\n"])),
        date_style=draw(
            st.sampled_from(
                ["iso", "uk", "uk_short", "dashes", "dots", "month_name", "serial", "native"]
            )
        ),
        time_style=draw(
            st.sampled_from(["hh:mm", "hh:mm:ss", "dot", "ampm", "fraction", "native"])
        ),
        combined=draw(st.booleans()),
        sloppy_text=draw(st.booleans()),
        leading_blank_rows=draw(st.integers(0, 2)),
        blank_rows=draw(st.integers(0, 3)),
        trailing_blank_rows=draw(st.integers(0, 5)),
        repeated_headers=draw(st.integers(0, 2)),
        duplicated_rows=draw(st.integers(0, 3)),
        wrong_dimension=draw(st.booleans()),
        seed=draw(st.integers(0, 1000)),
    )


@given(
    rows=st.lists(visit_strategy, max_size=12),
    mess=messes(),
    file_format=st.sampled_from(["csv", "xlsx"]),
)
@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_a_messy_file_reads_into_the_same_clean_rows_and_keys_as_the_clean_file(
    rows, mess, file_format
):
    clean = keyed(clean_rows(csv_file(rows))[1])

    table, messy = clean_rows(import_files.export_file(rows, mess, file_format), mapping_for(mess))

    assert keyed(messy) == clean
    assert len(messy) == len(rows) + mess.duplicated_rows * bool(rows)
    assert 1 + len(messy) + table.skipped_count() == mess.row_count(len(rows))


def test_the_readers_lengths_are_the_models():
    """The reader imports no app, so it repeats two limits: they must be the models' own."""
    from leisure.imports import reading
    from referrals.models import MEMBERSHIP_NUMBER_MAX, VISIT_ACTIVITY_MAX

    assert (reading.IDENTIFIER_MAX, reading.ACTIVITY_MAX) == (
        MEMBERSHIP_NUMBER_MAX,
        VISIT_ACTIVITY_MAX,
    )
