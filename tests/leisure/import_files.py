"""Attendance exports as leisure management systems write them, for the import tests and the
100,000-row benchmark: the same visits as a clean CSV, or as a CSV or XLSX with any of the messes
real exports have (`Mess`). Deterministic: the same visits, mess and seed give the same bytes.

    rows = visits(20, seed=3)
    clean = csv_file(rows)
    messy = xlsx_file(rows, Mess(trailing_blank_rows=40, repeated_headers=2, date_style="serial"))
    mapping = mapping_for(Mess())  # reads both into the same clean rows
"""

import dataclasses
import datetime as dt
import io
import random
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import PatternFill

from leisure.imports.reading import ColumnMapping

HEADERS = ("Date", "Time", "Member No", "Activity", "Status", "Site", "Notes")
# A combined date-and-time column, as some systems export it.
COMBINED_HEADERS = ("Visit", "Member No", "Activity", "Status", "Site", "Notes")

STATUS_WORDS = {
    "Attended": "attended",
    "Checked in": "attended",
    "No Show": "dna",
    "Cancelled": "cancelled",
}
# Characters a Windows-1252 export can hold and ASCII cannot: an en dash, an accent, curly quotes.
ACTIVITIES = (
    "Aquafit",
    "Gym induction",
    "Circuits \u2013 seated",
    "Caf\u00e9 walk",
    "Swim \u2019n\u2019 stretch",
)
SITES = ("Riverside", "Northgate Leisure Centre")
# Free text that tests the CSV quoting: every separator, quotes and a line break.
NOTES = ("", "Left early, knee", 'Said "great session"', "Line one\nline two", "a; b", "a\tb")

DateStyle = Literal["iso", "uk", "uk_short", "dashes", "dots", "month_name", "serial", "native"]
TimeStyle = Literal["hh:mm", "hh:mm:ss", "dot", "ampm", "fraction", "native"]


@dataclass(frozen=True)
class Visit:
    """One row of an export: a visit as the leisure management system recorded it."""

    day: dt.date
    at: dt.time
    member: str
    activity: str
    status: str  # the system's own word (a key of STATUS_WORDS)
    site: str = SITES[0]
    notes: str = ""


def visits(
    count: int, *, seed: int = 0, first_day: dt.date = dt.date(2026, 1, 5), members: int = 500
) -> list[Visit]:
    """`count` visits by `members` members over the 90 days from `first_day`, at whole minutes
    between 06:00 and 21:59, some on the days the clocks change."""
    rng = random.Random(seed)
    return [
        Visit(
            day=first_day + dt.timedelta(days=rng.randrange(90)),
            at=dt.time(rng.randrange(6, 22), rng.randrange(60)),
            member=f"M{rng.randrange(members):05}",
            activity=rng.choice(ACTIVITIES),
            status=rng.choice(list(STATUS_WORDS)),
            site=rng.choice(SITES),
            notes=rng.choice(NOTES),
        )
        for _ in range(count)
    ]


@dataclass(frozen=True)
class Mess:
    """What is wrong with a file. The default is a clean UTF-8 CSV with ISO dates.

    Rows are placed by `seed`: `blank_rows`, `repeated_headers` and `duplicated_rows` go at
    random places among the data rows; `leading_blank_rows` come before the header and
    `trailing_blank_rows` after the last row (formatted empty cells in a workbook, as Excel
    leaves them). `bom`, `encoding`, `separator` and `line_ending` concern CSV only;
    `wrong_dimension` only XLSX (the sheet declares fewer rows than it has)."""

    bom: bool = False
    encoding: Literal["utf-8", "cp1252"] = "utf-8"
    separator: Literal[",", ";", "\t"] = ","
    line_ending: Literal["\r\n", "\n"] = "\r\n"
    date_style: DateStyle = "iso"
    time_style: TimeStyle = "hh:mm"
    combined: bool = False  # one "Visit" column with the date and time
    sloppy_text: bool = False  # member numbers in lower case, spaces around and inside values
    leading_blank_rows: int = 0
    blank_rows: int = 0
    trailing_blank_rows: int = 0
    repeated_headers: int = 0
    duplicated_rows: int = 0
    wrong_dimension: bool = False
    seed: int = 0

    def __post_init__(self):
        if self.bom and self.encoding != "utf-8":
            raise ValueError("a byte order mark is UTF-8's")

    def row_count(self, visits: int) -> int:
        """How many rows the file has, as Excel numbers them."""
        return (
            self.leading_blank_rows
            + 1
            + visits
            + self.duplicated_rows * (visits > 0)
            + self.blank_rows
            + self.repeated_headers
            + self.trailing_blank_rows
        )


def mapping_for(mess: Mess) -> ColumnMapping:
    """The saved mapping for this source's files."""
    return ColumnMapping(
        date="Visit" if mess.combined else "Date",
        time=None if mess.combined else "Time",
        membership_number="Member No",
        activity="Activity",
        status="Status",
        status_values=STATUS_WORDS,
    )


_BLANK = "blank"
_HEADER = "header"
_Row = Visit | Literal["blank", "header"]


def _layout(rows: Sequence[Visit], mess: Mess) -> list[_Row]:
    rng = random.Random(mess.seed)
    body: list[_Row] = list(rows)
    if rows:
        for _ in range(mess.duplicated_rows):
            body.insert(rng.randint(0, len(body)), rng.choice(rows))
    for _ in range(mess.repeated_headers):
        body.insert(rng.randint(0, len(body)), _HEADER)
    for _ in range(mess.blank_rows):
        body.insert(rng.randint(0, len(body)), _BLANK)
    return [
        *[_BLANK] * mess.leading_blank_rows,
        _HEADER,
        *body,
        *[_BLANK] * mess.trailing_blank_rows,
    ]


def _date_text(day: dt.date, style: DateStyle) -> str:
    if style == "iso":
        return day.isoformat()
    if style == "uk_short":
        return f"{day.day}/{day.month}/{day:%y}"
    if style == "dashes":
        return f"{day:%d-%m-%Y}"
    if style == "dots":
        return f"{day:%d.%m.%Y}"
    if style == "month_name":
        return f"{day.day} {day:%b %Y}"
    if style == "serial":
        return str(_serial(day))
    return f"{day:%d/%m/%Y}"  # uk, and a native date in a CSV


def _time_text(at: dt.time, style: TimeStyle) -> str:
    if style == "hh:mm:ss":
        return f"{at:%H:%M:%S}"
    if style == "dot":
        # 9.30; but 00.05, as "0.05" is a fraction of a day (Excel's way) to the reader.
        return f"{at.hour or '00'}.{at:%M}"
    if style == "ampm":
        return f"{at.hour % 12 or 12}:{at:%M}{'am' if at.hour < 12 else 'pm'}"
    if style == "fraction":
        return repr(_fraction(at))
    return f"{at:%H:%M}"  # hh:mm, and a native time in a CSV


def _serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def _fraction(at: dt.time) -> float:
    return (at.hour * 3600 + at.minute * 60 + at.second) / 86_400


def _cells(visit: Visit, mess: Mess, *, workbook: bool) -> list[object]:
    day: object = _date_text(visit.day, mess.date_style)
    at: object = _time_text(visit.at, mess.time_style)
    if workbook:
        if mess.date_style == "native":
            day = visit.day
        elif mess.date_style == "serial":
            day = _serial(visit.day)
        if mess.time_style == "native":
            at = visit.at
        elif mess.time_style == "fraction":
            at = _fraction(visit.at)
    member, activity = visit.member, visit.activity
    if mess.sloppy_text:
        member = f"  {member.lower()} "
        activity = " " + activity.replace(" ", "  ") + "\t"
    when: list[object] = [day, at]
    if mess.combined:
        when = [_combined(visit, mess, workbook=workbook)]
    return [*when, member, activity, visit.status, visit.site, visit.notes]


def _combined(visit: Visit, mess: Mess, *, workbook: bool) -> object:
    if mess.date_style == "serial":
        serial = _serial(visit.day) + _fraction(visit.at)
        return serial if workbook else repr(serial)
    if workbook and mess.date_style == "native":
        return dt.datetime.combine(visit.day, visit.at)
    text_style = "hh:mm" if mess.time_style in ("fraction", "native") else mess.time_style
    return f"{_date_text(visit.day, mess.date_style)} {_time_text(visit.at, text_style)}"


def csv_file(rows: Sequence[Visit], mess: Mess = Mess()) -> bytes:
    """The visits as a CSV export with `mess`."""
    rng = random.Random(mess.seed + 1)
    headers = COMBINED_HEADERS if mess.combined else HEADERS
    out = io.StringIO()
    for row in _layout(rows, mess):
        if row == _HEADER:
            cells: list[object] = list(headers)
        elif row == _BLANK:
            # An empty line, or a row of empty cells (separators only), as exports have both.
            cells = [] if rng.random() < 0.5 else [""] * len(headers)
        else:
            cells = _cells(row, mess, workbook=False)
        out.write(mess.separator.join(_quoted(str(cell), mess.separator) for cell in cells))
        out.write(mess.line_ending)
    text = out.getvalue()
    return (b"\xef\xbb\xbf" if mess.bom else b"") + text.encode(mess.encoding)


def _quoted(value: str, separator: str) -> str:
    if any(character in value for character in f'"\r\n{separator}'):
        return '"' + value.replace('"', '""') + '"'
    return value


def xlsx_file(rows: Sequence[Visit], mess: Mess = Mess(), *, sheet: str = "Visits") -> bytes:
    """The visits as an XLSX export with `mess` (written streaming, so 100,000 rows are quick).
    Dates are text unless `date_style` is "native" (date cells) or "serial" (numbers)."""
    workbook = openpyxl.Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    fill = PatternFill("solid", fgColor="FFF2CC")
    headers = COMBINED_HEADERS if mess.combined else HEADERS
    for row in _layout(rows, mess):
        if row == _HEADER:
            worksheet.append(list(headers))
        elif row == _BLANK:
            # Excel keeps rows whose cells were formatted, or once held text, with no values.
            cell = WriteOnlyCell(worksheet, value=None)
            cell.fill = fill
            worksheet.append([cell, None, " "])
        else:
            worksheet.append(_cells(row, mess, workbook=True))
    out = io.BytesIO()
    workbook.save(out)
    data = out.getvalue()
    return _with_dimension(data, "A1:G2") if mess.wrong_dimension else data


def _with_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with its first sheet claiming the size `ref`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = re.sub(r"<dimension [^>]*/>", "", content.decode())
                xml = xml.replace("</sheetPr>", f'</sheetPr><dimension ref="{ref}"/>', 1)
                content = xml.encode()
            target.writestr(item, content)
    return out.getvalue()


def workbook_with_sheets(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook with these sheets and rows, for tests of sheet choice and odd cells."""
    workbook = openpyxl.Workbook(write_only=True)
    for title, rows in sheets.items():
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def damaged_workbook() -> bytes:
    """A workbook whose sheet is cut off half way through its XML (far enough in that
    opening the workbook does not notice: reading its rows does)."""
    data = _with_dimension(xlsx_file(visits(2000)), "A1:G2001")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(item, content)
    return out.getvalue()


def export_file(rows: Sequence[Visit], mess: Mess, file_format: Literal["csv", "xlsx"]) -> bytes:
    return csv_file(rows, mess) if file_format == "csv" else xlsx_file(rows, mess)


def messes_of_every_kind() -> Iterator[Mess]:
    """One of each mess, alone, for tests that run every one."""
    defaults = Mess()
    for name, value in {
        "bom": True,
        "encoding": "cp1252",
        "separator": ";",
        "line_ending": "\n",
        "combined": True,
        "sloppy_text": True,
        "leading_blank_rows": 2,
        "blank_rows": 3,
        "trailing_blank_rows": 5,
        "repeated_headers": 2,
        "duplicated_rows": 2,
        "wrong_dimension": True,
    }.items():
        yield dataclasses.replace(defaults, **{name: value})
    yield dataclasses.replace(defaults, separator="\t")
    for date_style in ("uk", "uk_short", "dashes", "dots", "month_name", "serial", "native"):
        yield dataclasses.replace(defaults, date_style=date_style)
    for time_style in ("hh:mm:ss", "dot", "ampm", "fraction", "native"):
        yield dataclasses.replace(defaults, time_style=time_style)
