"""Reading an attendance export from a leisure management system: a messy CSV or XLSX file in,
clean typed rows out.

Plain Python (openpyxl and the standard library, no Django), so the mapping preview, the Celery
import and the benchmark share one reader and its tests need no database. Three steps:

1. `read_table(data, filename)` finds the format, encoding, separator and header row;
   `Table.rows()` yields each data row as a `SourceRow` numbered as Excel shows it, and accounts
   for every row it passes over in `Table.skipped`.
2. `ColumnMapping`, saved once per source, says which column feeds which field;
   `mapping.validate(headers)` checks it against a file and `mapping.apply(row)` gives a
   `CleanRow` or `RowProblems` naming every problem of the row, field by field.
3. `row_key(clean_row, source_name)` is the visit's identity across re-imports.

What each mess becomes:

- Format: by content, never by the file's name. A zip is read as XLSX; an old `.xls` (or a
  password-protected workbook) and a web page saved as ".xls" are refused with what to do;
  anything else is text.
- Encoding: UTF-8 with or without a byte order mark; UTF-16 with one (Excel's "Unicode text");
  otherwise Windows-1252, which every byte sequence but five is. A byte order mark left in the
  middle (two exports pasted together) is dropped.
- Separator: `,`, `;` or tab, sniffed on the first 32 KB and checked against the header line.
  Quotes are always `"`, doubled inside a field; line breaks inside quotes are part of the field.
- Header: the first non-blank row. Names are trimmed with whitespace collapsed; a nameless
  column is "Column C"; a second "Date" is "Date (2)". Cells beyond the header's last named
  column are ignored.
- Blank rows (every cell empty or spaces: Excel's formatted trailing rows, blank lines) and rows
  equal to the header (exports concatenated) are skipped, each counted in `Table.skipped`, so
  header + rows + skipped = every row of the file.
- Dates: day first, always. 13/01/2026 is 13 January; 02/03/2026 is 2 March; 01/13/2026 is an
  error that says it looks like a US date. Excel serial numbers use the 1900 system with its
  leap-year bug (serial 60, "29 February 1900", is refused). Years outside 1900-2099 are refused.
- Duplicate rows (the same visit twice, in one file or in overlapping files) get the same
  `row_key`; the importer records the visit once.

Workbooks using Excel's 1904 date system (old Mac Excel) are read correctly where cells are
formatted as dates (openpyxl converts them); a bare serial number in such a workbook would be
read in the 1900 system, four years out.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import enum
import functools
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

import openpyxl  # type: ignore[import-untyped]  # ships no type information
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

LONDON = ZoneInfo("Europe/London")

# Lengths a clean value may have: the portal's own limits for what it stores (referrals/models.py
# MEMBERSHIP_NUMBER_MAX and VISIT_ACTIVITY_MAX), repeated here because this module imports no app.
IDENTIFIER_MAX = 40
ACTIVITY_MAX = 100

T = TypeVar("T")

EARLIEST_YEAR = 1900
LATEST_YEAR = 2099

# What one cell holds: text (or None when empty) from a CSV, any of these from a workbook.
Cell = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None


class ReadError(Exception):
    """The file as a whole cannot be read (not a spreadsheet, no header, a damaged workbook):
    the message says what to do, for the person who uploaded it."""


class CellError(ValueError):
    """One value cannot be read; the message is for a coordinator and quotes the value."""


# --- The table --------------------------------------------------------------------------------


class SkipReason(enum.StrEnum):
    BLANK = "blank"
    REPEATED_HEADER = "repeated header"


@dataclass(frozen=True, slots=True)
class SkippedRows:
    """A run of consecutive rows skipped for one reason (a million formatted blank rows at the
    end of a sheet are one run, not a million entries)."""

    first: int
    last: int
    reason: SkipReason

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def __str__(self) -> str:
        rows = f"Row {self.first}" if self.first == self.last else f"Rows {self.first}-{self.last}"
        return f"{rows}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row: `number` is the row as a person sees it in Excel (1-based, the header is
    usually row 1; for a CSV with a line break inside a quoted field that is the record number,
    not the line number), `values` the raw cell under each header (None when empty)."""

    number: int
    values: dict[str, Cell]


_RowSource = Callable[[], Iterator[Sequence[Cell]]]


class Table:
    """A file's header and a way to walk its rows. Built by `read_table`."""

    def __init__(
        self,
        *,
        filename: str,
        format: Literal["csv", "xlsx"],
        raw_rows: _RowSource,
        header_row: int,
        header_cells: Sequence[Cell],
        encoding: str | None = None,
        delimiter: str | None = None,
        sheet: str | None = None,
    ) -> None:
        self.filename = filename
        self.format = format
        self.encoding = encoding
        self.delimiter = delimiter
        self.sheet = sheet
        self.header_row = header_row
        names = [_header_text(cell) for cell in header_cells]
        self.headers: tuple[str, ...] = _unique_names(
            [name or f"Column {get_column_letter(index)}" for index, name in enumerate(names, 1)]
        )
        self._header_key = tuple(name.casefold() for name in names)
        self._raw_rows = raw_rows
        self.skipped: list[SkippedRows] = []

    def rows(self) -> Iterator[SourceRow]:
        """The data rows, read as they are asked for (a workbook streams from its zip; nothing
        holds more than one row). Each call starts again from the top; `skipped` then describes
        the rows this walk has passed over, complete once it is exhausted."""
        self.skipped = []
        headers = self.headers
        first_header_cell = self._header_key[0]
        number = 0
        try:
            for number, cells in enumerate(self._raw_rows(), start=1):
                if number <= self.header_row:
                    if number < self.header_row:
                        self._skip(number, SkipReason.BLANK)
                    continue
                if _is_blank(cells):
                    self._skip(number, SkipReason.BLANK)
                    continue
                if (
                    _header_text(cells[0]).casefold() == first_header_cell
                    and _row_key_cells(cells) == self._header_key
                ):
                    self._skip(number, SkipReason.REPEATED_HEADER)
                    continue
                # Short rows are padded with empty cells; cells beyond the header are ignored.
                values = dict(zip(headers, chain(cells, repeat(None)), strict=False))
                yield SourceRow(number, values)
        except csv.Error as error:
            raise ReadError(
                f"{self.filename} could not be read as CSV after row {number}: {error}"
            ) from None

    def skipped_count(self, reason: SkipReason | None = None) -> int:
        return sum(run.count for run in self.skipped if reason is None or run.reason == reason)

    def _skip(self, number: int, reason: SkipReason) -> None:
        last = self.skipped[-1] if self.skipped else None
        if last is not None and last.reason == reason and last.last == number - 1:
            self.skipped[-1] = dataclasses.replace(last, last=number)
        else:
            self.skipped.append(SkippedRows(number, number, reason))


def read_table(data: bytes, filename: str, *, sheet: str | None = None) -> Table:
    """Read an uploaded export: XLSX if it is a zip, otherwise CSV (or tab-separated) text.
    `sheet` names a workbook's sheet; by default the first worksheet. Raises `ReadError`."""
    if not data:
        raise ReadError(f"{filename} is empty")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, filename, sheet)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(
            f"{filename} is an old-format (.xls) or password-protected Excel workbook: open it "
            "in Excel and save it as an Excel Workbook (.xlsx) or CSV, then upload that"
        )
    return _read_csv(data, filename)


def _read_csv(data: bytes, filename: str) -> Table:
    text, encoding = _decode(data, filename)
    if re.match(r"\s*<(!doctype|html|table)", text[:200], re.IGNORECASE):
        raise ReadError(
            f"{filename} is a web page, not a spreadsheet (some systems save one with an Excel "
            "name): open it in Excel and save it as .xlsx or CSV, then upload that"
        )
    delimiter = _detect_delimiter(text)

    def raw_rows() -> Iterator[list[Cell]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        return ([value or None for value in record] for record in reader)

    header_row, header_cells = _find_header(raw_rows(), filename)
    return Table(
        filename=filename,
        format="csv",
        raw_rows=raw_rows,
        header_row=header_row,
        header_cells=header_cells,
        encoding=encoding,
        delimiter=delimiter,
    )


def _decode(data: bytes, filename: str) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").replace("\ufeff", ""), "utf-16"
        except UnicodeDecodeError:
            raise ReadError(f"{filename} is damaged: it is not readable UTF-16 text") from None
    if b"\x00" in data[:8192]:
        raise ReadError(f"{filename} is not a CSV or Excel (.xlsx) file")
    try:
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        text = data.decode(encoding)
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            text = data.replace(b"\xef\xbb\xbf", b"").decode(encoding)
        except UnicodeDecodeError:
            raise ReadError(
                f"{filename} is not text in a known encoding (UTF-8 or Windows-1252): save it "
                "from Excel as CSV UTF-8 and upload that"
            ) from None
    # A byte order mark inside the text is where two exports were pasted together.
    return text.replace("\ufeff", ""), encoding


_SEPARATORS = ",;\t"


def _detect_delimiter(text: str) -> str:
    """csv.Sniffer on a sample, kept only if it splits the header line: the sniffer weighs
    every line alike, so a column of decimal commas in a `;` file can win it over."""
    sample = text[:32_768]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    header_line = next((line for line in sample.splitlines() if line.strip(" ,;\t")), "")
    try:
        sniffed: str | None = csv.Sniffer().sniff(sample, delimiters=_SEPARATORS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed and sniffed in header_line:
        return sniffed
    counts = {separator: header_line.count(separator) for separator in _SEPARATORS}
    best = max(counts, key=lambda separator: counts[separator])
    return best if counts[best] else (sniffed or ",")


def _read_xlsx(data: bytes, filename: str, sheet: str | None) -> Table:
    # Any exception from a damaged or foreign zip (an .ods, a .docx) means "not a workbook".
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ReadError(
            f"{filename} could not be read as an Excel workbook (.xlsx): save it from Excel as "
            ".xlsx or CSV and upload that"
        ) from None
    worksheets = workbook.worksheets
    if sheet is None:
        if not worksheets:
            raise ReadError(f"{filename} has no worksheet")
        worksheet = worksheets[0]
    else:
        wanted = " ".join(sheet.split()).casefold()
        matches = [ws for ws in worksheets if " ".join(ws.title.split()).casefold() == wanted]
        if not matches:
            names = ", ".join(f'"{ws.title}"' for ws in worksheets)
            raise ReadError(f'{filename} has no sheet "{sheet}": its sheets are {names}')
        worksheet = matches[0]
    # The size a workbook declares is written by whatever made it, and some exporters get it
    # wrong; openpyxl would stop at it. Read every row the sheet holds instead.
    worksheet.reset_dimensions()

    def raw_rows() -> Iterator[Sequence[Cell]]:
        try:
            yield from worksheet.iter_rows(values_only=True)
        except Exception:
            raise ReadError(f"{filename} is damaged: a worksheet could not be read") from None

    header_row, header_cells = _find_header(raw_rows(), filename)
    return Table(
        filename=filename,
        format="xlsx",
        raw_rows=raw_rows,
        header_row=header_row,
        header_cells=header_cells,
        sheet=worksheet.title,
    )


def _find_header(rows: Iterator[Sequence[Cell]], filename: str) -> tuple[int, list[Cell]]:
    try:
        for number, cells in enumerate(rows, start=1):
            if not _is_blank(cells):
                named = list(cells)
                while _is_empty(named[-1]):
                    named.pop()
                return number, named
    except csv.Error as error:
        raise ReadError(f"{filename} could not be read as CSV: {error}") from None
    raise ReadError(f"{filename} has no header row: every row is blank")


def _is_empty(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_blank(cells: Sequence[Cell]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in cells)


def _header_text(value: Cell) -> str:
    if value is None:
        return ""
    return " ".join(str(value).translate(_ZERO_WIDTH).split())


def _row_key_cells(cells: Sequence[Cell]) -> tuple[str, ...]:
    names = [_header_text(cell).casefold() for cell in cells]
    while names and not names[-1]:
        names.pop()
    return tuple(names)


def _unique_names(names: Sequence[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    unique = []
    for name in names:
        candidate, copy = name, 2
        while candidate in seen:
            candidate, copy = f"{name} ({copy})", copy + 1
        seen.add(candidate)
        unique.append(candidate)
    return tuple(unique)


# --- Cleaning one value -----------------------------------------------------------------------

# Invisible, so nobody can see or fix them; pasted into member numbers they break matching.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# C0 controls but tab and line breaks (whitespace, collapsed to a space), DEL, C1, and the
# bidirectional controls accounts/validation.py refuses in any stored text.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_EXCEL_ERRORS = frozenset(
    ["#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!"]
)


def clean_text(value: Cell, *, max_length: int | None = None) -> str:
    """One line of text: trimmed, runs of whitespace (line breaks too) made one space, invisible
    zero-width characters dropped. "" for an empty cell. A whole-number float from a workbook
    (12345.0) is "12345". Raises `CellError` for control characters, an Excel error value
    (#N/A) and text longer than `max_length`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    else:
        text = str(value)
    if "\x00" in text:
        raise CellError("The cell contains a NUL character: the file may be damaged")
    if _HIDDEN.search(text):
        raise CellError(
            "The cell contains hidden control characters: correct it in the system that "
            "exported the file"
        )
    text = " ".join(text.translate(_ZERO_WIDTH).split())
    if text in _EXCEL_ERRORS:
        raise CellError(f"The cell shows an Excel error ({text}), not a value")
    if max_length is not None and len(text) > max_length:
        raise CellError(f"The text is {len(text)} characters long: it can be {max_length} at most")
    return text


def parse_date(value: Cell) -> dt.date:
    """A calendar date, day first. Accepts a date or datetime (a workbook's date cell), an Excel
    serial number (1900 system), and text: 2026-01-13, 13/01/2026, 13/1/26, 13-01-2026,
    13.01.2026, 13 Jan 2026, 13-Jan-26, 20260113, a serial as text, and any of these followed
    by a time (which is ignored here). Never month first."""
    return _date_and_time(value)[0]


def parse_time(value: Cell) -> dt.time:
    """A time of day. Accepts a time or datetime, an Excel fraction of a day (0.5 is noon), a
    number from 1 to 23.59 read as hours.minutes (9.3 is 09:30: a "9.30" typed into Excel), and
    text: 09:30, 9:30, 09:30:15, 9.30, 9:30am, 9.30 pm, 9am, 12pm (noon), 1745, a date and time,
    and a fraction as Excel writes it (0.75 is 18:00; so 00:30 is written 00.30 or 00:30)."""
    if value is None or _is_empty(value):
        raise CellError("No time")
    if isinstance(value, bool):
        raise CellError(f"{_shown(value)} is not a time")
    if isinstance(value, dt.datetime):
        return _london_wall_clock(value).time().replace(microsecond=0)
    if isinstance(value, dt.time):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, dt.timedelta):
        if dt.timedelta(0) <= value < dt.timedelta(days=1):
            return _time_from_seconds(round(value.total_seconds()))
        raise CellError(f"{value} is a duration, not a time of day")
    if isinstance(value, int | float):
        return _time_from_number(value)
    if isinstance(value, dt.date):
        raise CellError(f"{_shown(value)} is a date, not a time")
    return _time_text(" ".join(value.split()))


def parse_datetime(date_value: Cell, time_value: Cell = None) -> dt.datetime:
    """The moment of a visit, aware, in Europe/London: the date from `date_value`, the time from
    `time_value` or else from `date_value` itself (a combined date and time column, or an Excel
    serial with a fraction). A date with no time at all is midnight (`CleanRow.time_known` tells
    the two apart). A wall-clock time the clocks skipped in spring, or showed twice in autumn,
    is read as the earlier offset (zoneinfo's fold=0): deterministic, so re-imports agree."""
    day, embedded = _date_and_time(date_value)
    at = embedded if _is_empty(time_value) else parse_time(time_value)
    return dt.datetime.combine(day, at or dt.time(0), tzinfo=LONDON)


def parse_nhs_number(value: Cell) -> str:
    """Ten digits (spaces and dashes as people type them are dropped) with a valid modulus 11
    check digit; returned as the ten digits. A whole number from a workbook with nine digits is
    a Scottish CHI number that lost its leading zero, so it gets it back. Whether the number is
    from a range actually issued is for the matching service (referrals/nhs_numbers.py)."""
    if isinstance(value, bool):
        raise CellError(f"{_shown(value)} is not an NHS number")
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        shown = digits = str(int(value))
        if len(digits) == 9:
            digits = "0" + digits
    else:
        shown = clean_text(value)
        digits = re.sub(r"[\s-]", "", shown)
    if not shown:
        raise CellError("No NHS number")
    if not re.fullmatch(r"[0-9]{10}", digits):
        raise CellError(f'"{shown}" is not an NHS number: an NHS number is 10 digits')
    if len(set(digits)) == 1:
        raise CellError(f'"{shown}" is not an NHS number: it cannot be one digit 10 times')
    if not nhs_check_digit_is_valid(digits):
        raise CellError(
            f'"{shown}" is not a valid NHS number: its last digit (the check digit) does not '
            "match the others, so a digit is probably wrong"
        )
    return digits


def nhs_check_digit_is_valid(digits: str) -> bool:
    """The NHS Data Dictionary's modulus 11: weights 10 down to 2 on the first nine digits; 11
    minus the remainder is the check digit, 11 meaning 0 and 10 meaning no valid number."""
    remainder = (
        sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True))
        % 11
    )
    check = (11 - remainder) % 11
    return check != 10 and check == int(digits[9])


# Dates --------------------------------------------------------------------------------------

_MONTHS = [
    *("january", "february", "march", "april", "may", "june"),
    *("july", "august", "september", "october", "november", "december"),
]
_DATE_FORMATS_HINT = "write it day first, such as 13/01/2026, or as 2026-01-13"
_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")
_YEAR_FIRST = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})")
_MONTH_NAME = re.compile(
    r"(?:[a-z]+,?\s)?(\d{1,2})(?:st|nd|rd|th)?[\s\-/.]?([a-z]+)\.?,?[\s\-/.]?(\d{4}|\d{2})",
    re.IGNORECASE,
)
_TRAILING_TIME = re.compile(
    r"(.*?\d)(?:\s+|T)"
    r"(\d{1,2}(?:[:.]\d{2}){1,2}(?:[.,]\d+)?(?:\s*[ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?)",
    re.IGNORECASE,
)
# A serial as text has five digits (1927 to 2173): fewer is more likely a year or a typo.
_SERIAL_TEXT = re.compile(r"\d{5}(?:\.\d+)?")
_EXCEL_DAY_ONE = dt.date(1899, 12, 31)


def _date_and_time(value: Cell) -> tuple[dt.date, dt.time | None]:
    """The date a cell holds, and the time of day it carries (None when it carries none)."""
    if value is None or _is_empty(value):
        raise CellError("No date")
    if isinstance(value, bool):
        raise CellError(f"{_shown(value)} is not a date")
    if isinstance(value, dt.datetime):
        moment = _london_wall_clock(value)
        at = moment.time().replace(microsecond=0)
        return _in_range(moment.date(), _shown(value)), (at if at != dt.time(0) else None)
    if isinstance(value, dt.date):
        return _in_range(value, _shown(value)), None
    if isinstance(value, dt.time | dt.timedelta):
        raise CellError(f"{_shown(value)} is a time, not a date")
    if isinstance(value, int | float):
        return _date_from_number(value)
    return _date_text(" ".join(value.split()))


@functools.lru_cache(maxsize=4096)  # an export has a few hundred distinct days
def _date_text(text: str) -> tuple[dt.date, dt.time | None]:
    if _ISO_DATE_TIME.fullmatch(text):
        try:
            moment = _london_wall_clock(dt.datetime.fromisoformat(text))
        except ValueError:
            pass
        else:
            # Written out, 00:00 is a time (in a workbook's date cell midnight means none).
            day = _in_range(moment.date(), f'"{text}"')
            return day, moment.time().replace(microsecond=0)
    if _SERIAL_TEXT.fullmatch(text):
        return _date_from_number(float(text))
    if re.fullmatch(r"\d{8}", text):
        return _date_from_number(int(text))
    date_text, time_text = text, None
    if split := _TRAILING_TIME.fullmatch(text):
        date_text, time_text = split.groups()
    day = _date_only_text(date_text, text)
    return day, (_time_text(time_text) if time_text else None)


def _date_only_text(text: str, shown: str) -> dt.date:
    if match := _YEAR_FIRST.fullmatch(text):
        year, _, month, day = match.groups()
        return _make_date(int(year), int(month), int(day), shown)
    if match := _DAY_FIRST.fullmatch(text):
        day, _, month, year = match.groups()
        if int(month) > 12:
            if int(day) <= 12:
                meant = f"{int(month)} {_MONTHS[int(day) - 1].title()}"
                raise CellError(
                    f'"{shown}" is not a date: there is no month {int(month)}. Dates are read day '
                    f"first, so {meant} is written {int(month):02}/{int(day):02}/{year}; this "
                    "looks like a US month/day date: export the file with dates as day/month/year"
                )
            raise CellError(f'"{shown}" is not a date: there is no month {int(month)}')
        return _make_date(_full_year(year), int(month), int(day), shown)
    if match := _MONTH_NAME.fullmatch(text):
        day, name, year = match.groups()
        month = _month_number(name)
        if month is None:
            raise CellError(f'"{shown}" is not a date: "{name}" is not a month')
        return _make_date(_full_year(year), month, int(day), shown)
    raise CellError(f'"{shown}" is not a date that can be read: {_DATE_FORMATS_HINT}')


def _full_year(year: str) -> int:
    # Two-digit years are this century: attendance is recent (a date of birth written so is
    # caught as in the future when it is not).
    return 2000 + int(year) if len(year) == 2 else int(year)


def _month_number(name: str) -> int | None:
    name = name.casefold()
    if len(name) < 3:
        return None
    for number, month in enumerate(_MONTHS, 1):
        if month.startswith(name):
            return number
    return None


def _make_date(year: int, month: int, day: int, shown: str) -> dt.date:
    if not 1 <= month <= 12:
        raise CellError(f'"{shown}" is not a date: there is no month {month}')
    try:
        made = dt.date(year, month, day)
    except ValueError:
        if 1 <= year <= 9999:
            raise CellError(
                f'"{shown}" is not a date: {_MONTHS[month - 1].title()} {year} has no day {day}'
            ) from None
        raise CellError(f'"{shown}" is not a date: the year is out of range') from None
    return _in_range(made, f'"{shown}"')


def _in_range(day: dt.date, shown: str) -> dt.date:
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise CellError(
            f"{shown} is not a likely date: the year {day.year} is before {EARLIEST_YEAR} or "
            f"after {LATEST_YEAR}"
        )
    return day


def _date_from_number(number: float) -> tuple[dt.date, dt.time | None]:
    """An Excel serial: days since 31 December 1899, fraction = time of day. Serial 60 is the
    29 February 1900 Excel invented (copying Lotus 1-2-3), so 61 on are one day late."""
    if not math.isfinite(number):
        raise CellError(f"{_shown(number)} is not a date")
    if isinstance(number, int) and 19_000_101 <= number <= 20_991_231:
        text = str(number)
        return _make_date(int(text[:4]), int(text[4:6]), int(text[6:]), text), None
    serial = math.floor(number)
    latest = (dt.date(LATEST_YEAR, 12, 31) - _EXCEL_DAY_ONE).days + 1
    if serial == 60:
        raise CellError(
            "Excel date 60 is 29 February 1900, a day that never was (an old Excel quirk): "
            "check the date"
        )
    if not 1 <= serial <= latest:
        raise CellError(
            f"{_shown(number)} is not a date: as an Excel date number it is not between "
            f"{EARLIEST_YEAR} and {LATEST_YEAR}"
        )
    day = _EXCEL_DAY_ONE + dt.timedelta(days=serial if serial < 60 else serial - 1)
    fraction = number - serial
    return day, (_time_from_seconds(round(fraction * 86_400)) if fraction else None)


# Times --------------------------------------------------------------------------------------

_TIME_24 = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,]\d+)?)?")
_TIME_12 = re.compile(r"(\d{1,2})(?:[:.](\d{2})(?:[:.](\d{2}))?)?\s*([ap])\.?\s*m\.?", re.I)
_TIME_HHMM = re.compile(r"([01]\d|2[0-3])([0-5]\d)")
# "0.75" is how a fraction of a day (18:00) is written out, not 00:75: a single 0 then a dot.
_DAY_FRACTION = re.compile(r"0?\.\d+")


def _time_from_seconds(seconds: int) -> dt.time:
    # A fraction a hair under 1 rounds up to 86,400 s: that is still the last second of the day.
    seconds = min(seconds, 86_399)
    return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def _time_from_number(number: float) -> dt.time:
    if math.isfinite(number) and 0 <= number < 1:
        return _time_from_seconds(round(number * 86_400))
    if math.isfinite(number) and 1 <= number < 24:
        hundredths = round(number * 100)
        hours, minutes = divmod(hundredths, 100)
        if abs(number * 100 - hundredths) < 1e-6 and minutes < 60:
            return dt.time(hours, minutes)
    raise CellError(
        f"{_shown(number)} is not a time: write it as 09:30 (a number is read as a fraction of "
        "a day, or as hours.minutes like 9.30)"
    )


@functools.lru_cache(maxsize=4096)
def _time_text(text: str) -> dt.time:
    if _DAY_FRACTION.fullmatch(text):
        return _time_from_number(float(text))
    if match := _TIME_24.fullmatch(text):
        hour, minute, second = (int(part or 0) for part in match.groups())
    elif match := _TIME_12.fullmatch(text):
        hour, minute, second = (int(part or 0) for part in match.groups()[:3])
        if not 1 <= hour <= 12:
            raise CellError(f'"{text}" is not a time: with am or pm the hour is 1 to 12')
        hour = hour % 12 + (12 if match.group(4).casefold() == "p" else 0)
    elif match := _TIME_HHMM.fullmatch(text):
        hour, minute, second = int(match.group(1)), int(match.group(2)), 0
    else:
        try:
            _, at = _date_text(text)
        except CellError:
            at = None
        if at is not None:
            return at
        raise CellError(f'"{text}" is not a time that can be read: write it as 09:30 or 17:45')
    if hour > 23 or minute > 59 or second > 59:
        raise CellError(f'"{text}" is not a time: the hours run 0 to 23 and minutes 0 to 59')
    return dt.time(hour, minute, second)


def _london_wall_clock(moment: dt.datetime) -> dt.datetime:
    """A naive datetime as it is (a workbook has no zones); an aware one as London's clock
    showed it."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(LONDON).replace(tzinfo=None)


def _shown(value: Cell) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- Mapping columns to fields ----------------------------------------------------------------


class Status(enum.StrEnum):
    ATTENDED = "attended"
    DNA = "dna"  # did not attend
    CANCELLED = "cancelled"


_STATUS_VALUES = frozenset(status.value for status in Status)


FIELD_LABELS = {
    "date": "date",
    "time": "time",
    "membership_number": "membership number",
    "referral_reference": "referral reference",
    "nhs_number": "NHS number",
    "date_of_birth": "date of birth",
    "activity": "class or activity",
    "status": "status",
}
IDENTITY = "person"  # the field a problem names when a row has no way to identify the person


@dataclass(frozen=True, slots=True)
class CleanRow:
    """One visit, typed. Identifiers are "" when the file does not give them (membership number
    and referral reference upper case, as referrals/models.py normalises membership numbers).
    `time_known` is False when the file gives only a date (occurred_at is then midnight).
    `number` is the source row, for reports; it is not part of the row's identity or equality."""

    number: int = field(compare=False)
    occurred_at: dt.datetime
    time_known: bool
    membership_number: str
    referral_reference: str
    nhs_number: str
    date_of_birth: dt.date | None
    activity: str
    status: Status


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # a ColumnMapping field name, or IDENTITY
    column: str | None  # the file's header, to point at the cell
    message: str

    def __str__(self) -> str:
        label = FIELD_LABELS.get(self.field, self.field).capitalize()
        where = f' (column "{self.column}")' if self.column else ""
        return f"{label}{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class RowProblems:
    """Every problem of one row that could not become a `CleanRow`."""

    number: int
    problems: tuple[Problem, ...]

    def __str__(self) -> str:
        return f"Row {self.number}: " + "; ".join(map(str, self.problems))


def _status_word(word: str) -> str:
    return " ".join(word.split()).casefold()


@dataclass(frozen=True)
class ColumnMapping:
    """Which of a source's columns feeds each field, saved once per source and reused (store
    it with `dataclasses.asdict`, rebuild it with `ColumnMapping(**saved)`).

    `date` may hold a date and time (then `time` is not needed). The person is named by a
    membership number, a referral reference, or an NHS number with a date of birth. Without a
    `status` column every row is an attendance (an export of check-ins); with one,
    `status_values` translates the source's own words, case and spacing aside, to a `Status`
    value: {"Attended": "attended", "No Show": "dna", "Cancelled": "cancelled"}."""

    date: str | None = None
    time: str | None = None
    membership_number: str | None = None
    referral_reference: str | None = None
    nhs_number: str | None = None
    date_of_birth: str | None = None
    activity: str | None = None
    status: str | None = None
    status_values: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Header names as read_table makes them, so " Member  No " finds "Member No".
        for name in FIELD_LABELS:
            column = getattr(self, name)
            object.__setattr__(self, name, (" ".join(column.split()) or None) if column else None)

    @functools.cached_property
    def _statuses(self) -> dict[str, Status]:
        return {
            _status_word(word): Status(target)
            for word, target in self.status_values.items()
            if target in _STATUS_VALUES
        }

    def columns(self) -> dict[str, str]:
        """The mapped fields and their columns."""
        return {name: column for name in FIELD_LABELS if (column := getattr(self, name))}

    def validate(self, headers: Sequence[str]) -> list[str]:
        """What stops this mapping reading a file with these headers; empty when it can."""
        errors = []
        for name, column in self.columns().items():
            if column not in headers:
                errors.append(
                    f'The {FIELD_LABELS[name]} column "{column}" is not in the file'
                    + _suggestion(column, headers)
                )
        if not self.date:
            errors.append("Choose the column with the date of the visit")
        if not (self.membership_number or self.referral_reference or self.nhs_number):
            errors.append(
                "Choose a column that says who visited: a membership number, a referral "
                "reference, or an NHS number with a date of birth"
            )
        if bool(self.nhs_number) != bool(self.date_of_birth):
            errors.append(
                "An NHS number is used only together with a date of birth: choose both columns, "
                "or neither"
            )
        unknown = sorted(
            f'"{word}" as "{target}"'
            for word, target in self.status_values.items()
            if target not in _STATUS_VALUES
        )
        if unknown:
            choices = ", ".join(f'"{status}"' for status in Status)
            errors.append(f"Statuses can be {choices}, not {', '.join(unknown)}")
        if self.status and not self.status_values:
            errors.append(
                "Say which of the file's statuses mean attended, did not attend and cancelled"
            )
        if self.status_values and not self.status:
            errors.append("Choose the status column, or remove the status translations")
        return errors

    def apply(self, row: SourceRow) -> CleanRow | RowProblems:
        """The row as a typed visit, or every problem that stops it being one."""
        problems: list[Problem] = []
        values = row.values

        def read(name: str, parse: Callable[[Cell], T]) -> T | None:
            column = getattr(self, name)
            if not column:
                return None
            try:
                return parse(values.get(column))
            except CellError as error:
                problems.append(Problem(name, column, str(error)))
                return None

        day_and_time = read("date", _date_and_time)
        at = read("time", parse_time)
        membership_number = read("membership_number", _identifier) or ""
        referral_reference = read("referral_reference", _identifier) or ""
        nhs_number = read("nhs_number", _optional(parse_nhs_number)) or ""
        date_of_birth = read("date_of_birth", _optional(_date_of_birth))
        activity = read("activity", _activity) or ""
        status = read("status", self._status) if self.status else Status.ATTENDED

        if nhs_number and date_of_birth is None and not _has_problem(problems, "date_of_birth"):
            problems.append(
                Problem("date_of_birth", self.date_of_birth, "No date of birth for the NHS number")
            )
        if not self.date:  # a mapping `validate` would refuse; still, say why, never ()
            problems.append(Problem("date", None, "No column is chosen for the date"))
        named = membership_number or referral_reference or nhs_number
        if not named and not _problems_name_identity(problems):
            problems.append(Problem(IDENTITY, None, self._no_identity_message()))
        if problems or day_and_time is None or status is None:
            return RowProblems(row.number, tuple(problems))
        day, embedded = day_and_time
        at = at or embedded
        return CleanRow(
            number=row.number,
            occurred_at=dt.datetime.combine(day, at or dt.time(0), tzinfo=LONDON),
            time_known=at is not None,
            membership_number=membership_number,
            referral_reference=referral_reference,
            nhs_number=nhs_number,
            date_of_birth=date_of_birth,
            activity=activity,
            status=status,
        )

    def _status(self, value: Cell) -> Status:
        word = clean_text(value)
        if not word:
            raise CellError("No status")
        try:
            return self._statuses[_status_word(word)]
        except KeyError:
            known = ", ".join(f'"{known}"' for known in self.status_values) or "none yet"
            raise CellError(
                f'"{word}" is not a status this mapping knows (it knows {known}): add it to '
                "the mapping"
            ) from None

    def _no_identity_message(self) -> str:
        given = [FIELD_LABELS[name] for name in _IDENTIFIERS if getattr(self, name)]
        return f"No {' or '.join(given) or 'identifier'}: there is nobody to record the visit for"


_IDENTIFIERS = ("membership_number", "referral_reference", "nhs_number")


def _problems_name_identity(problems: Sequence[Problem]) -> bool:
    """Whether a bad identifier is already reported (then "no identifier" would repeat it)."""
    return any(problem.field in _IDENTIFIERS for problem in problems)


def _has_problem(problems: Sequence[Problem], name: str) -> bool:
    return any(problem.field == name for problem in problems)


def _optional(parse: Callable[[Cell], T]) -> Callable[[Cell], T | None]:
    def parse_if_given(value: Cell) -> T | None:
        return None if _is_empty(value) else parse(value)

    return parse_if_given


def _identifier(value: Cell) -> str:
    return clean_text(value, max_length=IDENTIFIER_MAX).upper()


def _activity(value: Cell) -> str:
    return clean_text(value, max_length=ACTIVITY_MAX)


def _date_of_birth(value: Cell) -> dt.date:
    born = parse_date(value)
    if born > dt.datetime.now(LONDON).date():
        raise CellError(
            f"{_shown(value)} is in the future: write the year in full (a two-digit year is "
            "read as 20..)"
        )
    return born


def _suggestion(column: str, headers: Sequence[str]) -> str:
    folded = {header.casefold(): header for header in headers}
    close = folded.get(column.casefold()) or next(
        iter(difflib.get_close_matches(column, headers, n=1, cutoff=0.6)), None
    )
    if close:
        return f' (did you mean "{close}"?)'
    return f": its columns are {', '.join(f'{header!r}' for header in headers)}"


# --- Identity ---------------------------------------------------------------------------------


def row_key(row: CleanRow, source_name: str) -> str:
    """A visit's identity across re-imports and overlapping files: the SHA-256 (hex) of

    - `source_name`: the source (pass something stable, such as the saved mapping's id with its
      operator's, not a name someone may edit: a new name is a new identity for every row);
    - who: the first identifier the row has, membership number, else referral reference, else
      NHS number, with its kind;
    - when: occurred_at in UTC to the minute (seconds vary between exports of one visit);
    - what: the activity, case and spacing aside.

    Not the status (a later file that corrects "No Show" to "Attended" updates the visit rather
    than adding one) and not the row number (overlapping files place a visit on different rows).
    Two identical rows in one file get one key, so the visit is recorded once. Versioned ("v1")
    so a change to this recipe cannot match old keys by accident."""
    if row.membership_number:
        who = ["member", row.membership_number]
    elif row.referral_reference:
        who = ["referral", row.referral_reference]
    else:
        who = ["nhs", row.nhs_number]
    minute = row.occurred_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
    activity = " ".join(row.activity.split()).casefold()
    identity = json.dumps(["v1", source_name, *who, minute, activity], ensure_ascii=False)
    return hashlib.sha256(identity.encode()).hexdigest()
