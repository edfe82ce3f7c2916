"""Import of the organisation tree and the roster (组织架构与人员名单) from CSV or Excel files.

A committee clerk uploads two tables: ``orgs`` (code, name, type, parent) and ``people`` (name,
org, role, phone, cadre, post, oral, origin_org, residence_org). Every problem in both files is
collected and reported at once, with the file's own line numbers (the header is line 1).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from bot.domain.enums import OrgType, Role
from bot.i18n import t

__all__ = [
    "MAX_ROWS",
    "OrgRow",
    "PersonRow",
    "Roster",
    "RosterInvalid",
    "RosterProblem",
    "load_roster",
    "parse_roster",
]

FileKind = Literal["orgs", "people"]

MAX_ROWS = 100_000  # data rows per file
MAX_CSV_BYTES = 64 * 1024 * 1024
MAX_CODE = 50
MAX_ORG_NAME = 100
MAX_PERSON_NAME = 50
MAX_POST = 200
_CLIP = 30  # how much of a bad value is quoted back

ORG_FIELDS: tuple[str, ...] = ("code", "name", "type", "parent")
ORG_REQUIRED: tuple[str, ...] = ("code", "name", "type", "parent")
PEOPLE_FIELDS: tuple[str, ...] = (
    "name",
    "org",
    "role",
    "phone",
    "cadre",
    "post",
    "oral",
    "origin_org",
    "residence_org",
    "linked_orgs",  # a liaison leader's branches (联系支部), codes separated by ；or ,
)
PEOPLE_REQUIRED: tuple[str, ...] = ("name", "org", "role", "phone")

# Problems about a whole file rather than one row (reported on line 1).
FILE_PROBLEMS = frozenset(
    {
        "roster.bad_extension",
        "roster.encoding",
        "roster.unreadable",
        "roster.too_big",
        "roster.missing_columns",
        "roster.duplicate_column",
        "roster.no_rows",
    }
)


# ---------------------------------------------------------------------------------------------
# Models


class OrgRow(BaseModel):
    """One organisation of the tree, as read from line ``line`` of the orgs file."""

    model_config = ConfigDict(frozen=True)

    line: int
    code: str
    name: str
    type: OrgType
    parent: str | None = None


class PersonRow(BaseModel):
    """One person of the roster, as read from line ``line`` of the people file."""

    model_config = ConfigDict(frozen=True)

    line: int
    name: str
    org: str
    role: Role
    phone: str | None = None
    cadre: bool = False
    post: str | None = None
    oral: bool = False
    origin_org: str | None = None
    residence_org: str | None = None
    linked_orgs: tuple[str, ...] = ()


class Roster(BaseModel):
    """A validated import: organisations sorted parents before children, and people."""

    orgs: list[OrgRow]
    people: list[PersonRow]


class RosterProblem(BaseModel):
    """One thing wrong in an uploaded file, with a catalog key and its parameters."""

    model_config = ConfigDict(frozen=True)

    file: FileKind
    line: int
    key: str
    params: dict[str, str] = {}

    def render(self, locale: str | None) -> str:
        """Return '<file> line N: <message>' in ``locale``."""
        params = dict(self.params)
        if "field" in params:
            params["field"] = _field_label(locale, self.file, params["field"])
        if "columns" in params:
            sep = t(locale, "roster.list_sep")
            names = params["columns"].split(",")
            params["columns"] = sep.join(_field_label(locale, self.file, c) for c in names)
        message = t(locale, self.key, **params)
        where = t(locale, f"roster.file.{self.file}")
        if self.key in FILE_PROBLEMS:
            return t(locale, "roster.at_file", file=where, message=message)
        return t(locale, "roster.at_line", file=where, line=self.line, message=message)


def _field_label(locale: str | None, file: FileKind, name: str) -> str:
    return t(locale, f"roster.field.{file}.{name}")


class RosterInvalid(Exception):
    """The files cannot be imported; ``problems`` lists everything that is wrong."""

    def __init__(self, problems: list[RosterProblem]) -> None:
        super().__init__(f"{len(problems)} roster problem(s)")
        self.problems = problems

    def render(self, locale: str | None, limit: int = 20) -> str:
        """Return a summary line and up to ``limit`` problems, one per line."""
        lines = [t(locale, "roster.summary", count=len(self.problems))]
        lines += [p.render(locale) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(t(locale, "roster.more", count=len(self.problems) - limit))
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Vocabulary: headers and values as people write them in Excel


@lru_cache(maxsize=8192)
def _key(text: str) -> str:
    """Normalise a header or an enumerated value for lookup."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[(（].*?[)）]", "", text)  # "电话（必填）" -> "电话"
    return re.sub(r"[\s_\-*：:]", "", text)


_T = TypeVar("_T", bound=str)


def _aliases(table: Mapping[_T, Iterable[str]]) -> dict[str, _T]:
    out: dict[str, _T] = {}
    for canonical, names in table.items():
        for name in (canonical, *names):
            out[_key(name)] = canonical
    return out


_ORG_HEADERS = _aliases(
    {
        "code": ("编码", "代码", "编号", "组织编码", "组织代码", "code"),
        "name": ("名称", "组织名称", "党组织名称"),
        "type": ("类型", "组织类型", "党组织类型"),
        "parent": ("上级", "上级组织", "上级编码", "上级代码", "上级党组织", "parent_code"),
    }
)

_PEOPLE_HEADERS = _aliases(
    {
        "name": ("姓名", "名字"),
        "org": ("组织", "支部", "党支部", "所在支部", "所在组织", "组织编码", "支部编码"),
        "role": ("角色", "身份"),
        "phone": ("电话", "手机", "手机号", "手机号码", "电话号码", "联系电话", "mobile"),
        "cadre": ("是否领导干部", "干部", "领导干部", "党员领导干部"),
        "post": ("岗位", "设岗定责", "岗位职责"),
        "oral": ("口头承诺", "口头", "是否口头承诺"),
        "origin_org": ("流出地", "原支部", "流出地支部", "流出地党组织", "origin"),
        "residence_org": ("居住地社区", "居住地", "居住社区", "居住地支部", "residence"),
        "linked_orgs": ("联系支部", "联点支部", "联系点", "联系党组织", "linked"),
    }
)

_ORG_TYPES = _aliases(
    {
        OrgType.COMMITTEE: (
            "党委",
            "工委",
            "党工委",
            "党委/工委",
            "镇党委",
            "乡党委",
            "街道党工委",
        ),
        OrgType.RURAL: ("农村", "村", "行政村", "农村党组织", "village"),
        OrgType.COMMUNITY: ("社区", "城市社区", "居委会"),
        OrgType.ORGAN: ("机关", "机关单位", "政府机关", "government"),
        OrgType.SOE: ("国企", "国有企业", "state enterprise"),
        OrgType.PRIVATE: (
            "非公企业",
            "非公",
            "非公有制企业",
            "非公有制经济组织",
            "民营企业",
            "私营企业",
            "民企",
        ),
        OrgType.SCHOOL: ("学校", "中小学", "教育"),
        OrgType.HEALTH: ("卫生", "医疗卫生", "医院", "卫生院"),
        OrgType.RESEARCH: ("科研", "文化", "科研文化", "科研院所", "事业单位"),
        OrgType.SOCIAL: ("社会组织", "新社会组织"),
    }
)

_ROLES = _aliases(
    {
        Role.MEMBER: ("党员", "普通党员"),
        Role.SECRETARY: ("书记", "支部书记", "党支部书记", "总支书记"),
        Role.COMMITTEE: (
            "党委/工委工作人员",
            "党委工作人员",
            "工委工作人员",
            "党委",
            "工委",
            "工作人员",
            "clerk",
        ),
        Role.LEADER: ("联点领导", "联系领导", "领导"),
        Role.RESIDENT: ("群众", "居民", "服务对象", "群众代表", "居民代表"),
    }
)

_YES = frozenset(_key(v) for v in ("yes", "y", "true", "1", "是", "√", "✓", "对"))
_NO = frozenset(_key(v) for v in ("no", "n", "false", "0", "否", "不是", "×", ""))

_PHONE_JUNK = re.compile(r"[\s\-]")
_LIST_SEP = re.compile(r"[;；,，、\s]+")
_PHONE_OK = re.compile(r"[0-9]{5,15}")


# ---------------------------------------------------------------------------------------------
# Reading files


@dataclass
class _Table:
    """A file as header cells plus (line number, cells) for each non-blank data row."""

    file: FileKind
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def _cell(value: object) -> str:
    """Turn a cell value (str from CSV, number/bool/date from Excel) into stripped text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _table(
    file: FileKind, rows: Iterable[Sequence[object]], problems: list[RosterProblem]
) -> _Table:
    """Build a table from raw rows whose first row is the header (line numbers from 1)."""
    return _table_numbered(file, enumerate(rows, start=1), problems)


def _table_numbered(
    file: FileKind,
    rows: Iterable[tuple[int, Sequence[object]]],
    problems: list[RosterProblem],
) -> _Table:
    table: _Table | None = None
    count = 0
    for line, raw in rows:
        cells = [v.strip() if type(v) is str else _cell(v) for v in raw]
        if table is None:
            table = _Table(file, cells)
            continue
        if not any(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            problems.append(
                RosterProblem(
                    file=file, line=line, key="roster.too_many_rows", params={"max": str(MAX_ROWS)}
                )
            )
            break
        table.rows.append((line, cells))
    return table if table is not None else _Table(file, [])


def _csv_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """Yield (first line of the record, cells); quoted fields may span several lines."""
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


def _read_csv(path: Path, file: FileKind, problems: list[RosterProblem]) -> _Table | None:
    if path.stat().st_size > MAX_CSV_BYTES:
        problems.append(_file_problem(file, "roster.too_big", max_mb=str(MAX_CSV_BYTES >> 20)))
        return None
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        problems.append(_file_problem(file, "roster.encoding"))
        return None
    if "\x00" in text:  # a binary file renamed to .csv
        problems.append(_file_problem(file, "roster.encoding"))
        return None
    try:
        return _table_numbered(file, _csv_rows(text), problems)
    except csv.Error:
        problems.append(_file_problem(file, "roster.unreadable"))
        return None


def _read_xlsx(path: Path, file: FileKind, problems: list[RosterProblem]) -> _Table | None:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                rows = enumerate(sheet.iter_rows(values_only=True), start=1)
                return _table_numbered(file, rows, problems)
            finally:
                workbook.close()
    except Exception:  # a corrupt or foreign file: zip, XML and key errors alike
        problems.append(_file_problem(file, "roster.unreadable"))
        return None


def _read(path: Path, file: FileKind, problems: list[RosterProblem]) -> _Table | None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, file, problems)
    if suffix == ".xlsx":
        return _read_xlsx(path, file, problems)
    problems.append(_file_problem(file, "roster.bad_extension", ext=suffix or path.name))
    return None


def _file_problem(file: FileKind, key: str, **params: str) -> RosterProblem:
    return RosterProblem(file=file, line=1, key=key, params=params)


# ---------------------------------------------------------------------------------------------
# Validation


def _clip(text: str) -> str:
    return text if len(text) <= _CLIP else text[:_CLIP] + "…"


def _code(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _columns(
    table: _Table,
    aliases: Mapping[str, str],
    fields: Sequence[str],
    required: Sequence[str],
    problems: list[RosterProblem],
) -> dict[str, int] | None:
    """Map each known field to its column; report missing and doubled columns and no data."""
    if not any(table.header):
        problems.append(_file_problem(table.file, "roster.no_rows"))
        return None
    found: dict[str, int] = {}
    ok = True
    for index, name in enumerate(table.header):
        canonical = aliases.get(_key(name))
        if canonical is None:
            continue
        if canonical in found:
            problems.append(_file_problem(table.file, "roster.duplicate_column", column=name))
            ok = False
        else:
            found[canonical] = index
    missing = [f for f in fields if f in required and f not in found]
    if missing:
        problems.append(
            _file_problem(table.file, "roster.missing_columns", columns=",".join(missing))
        )
        ok = False
    if not table.rows:  # nothing to check, and nothing for the other file to refer to
        problems.append(_file_problem(table.file, "roster.no_rows"))
        ok = False
    return found if ok else None


class _Row:
    """Reads a row's cells by field name and records the row's problems."""

    __slots__ = ("bad", "cells", "columns", "file", "line", "problems")

    def __init__(
        self,
        file: FileKind,
        line: int,
        cells: list[str],
        columns: Mapping[str, int],
        problems: list[RosterProblem],
    ) -> None:
        self.file = file
        self.line = line
        self.cells = cells
        self.columns = columns
        self.problems = problems
        self.bad = False

    def get(self, name: str) -> str:
        index = self.columns.get(name)
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index]

    def problem(self, key: str, **params: str) -> None:
        self.bad = True
        self.problems.append(RosterProblem(file=self.file, line=self.line, key=key, params=params))

    def required(self, name: str, max_len: int) -> str:
        value = self.get(name)
        if not value:
            self.problem("roster.empty_field", field=name)
        elif len(value) > max_len:
            self.problem("roster.too_long", field=name, max=str(max_len))
        return value

    def optional(self, name: str, max_len: int) -> str | None:
        value = self.get(name)
        if len(value) > max_len:
            self.problem("roster.too_long", field=name, max=str(max_len))
        return value or None

    def yes_no(self, name: str) -> bool:
        raw = self.get(name)
        value = _key(raw)
        if value in _YES:
            return True
        if value not in _NO:
            self.problem("roster.bad_bool", field=name, value=_clip(raw))
        return False


@dataclass
class _OrgResult:
    rows: list[OrgRow]
    codes: set[str]  # every code the file names, even on rows with other problems


def _check_orgs(
    table: _Table, existing: frozenset[str], problems: list[RosterProblem]
) -> _OrgResult | None:
    columns = _columns(table, _ORG_HEADERS, ORG_FIELDS, ORG_REQUIRED, problems)
    if columns is None:
        return None

    first_line: dict[str, int] = {}  # code -> line of its first row
    parent_of: dict[str, str | None] = {}  # for the first row of each code
    parents: list[tuple[_Row, str]] = []
    valid: dict[str, OrgRow] = {}
    for line, cells in table.rows:
        row = _Row("orgs", line, cells, columns, problems)
        code = _code(row.required("code", MAX_CODE))
        name = row.required("name", MAX_ORG_NAME)
        raw_type = row.get("type")
        org_type = _ORG_TYPES.get(_key(raw_type))
        if not raw_type:
            row.problem("roster.empty_field", field="type")
        elif org_type is None:
            row.problem("roster.unknown_type", value=_clip(raw_type))
        parent = _code(row.get("parent")) or None
        if parent is not None:
            parents.append((row, parent))
        if not code:
            continue
        if code in first_line:
            row.problem("roster.duplicate_org", code=_clip(code), first_line=str(first_line[code]))
            continue
        first_line[code] = line
        parent_of[code] = parent
        if not row.bad and org_type is not None:
            valid[code] = OrgRow(line=line, code=code, name=name, type=org_type, parent=parent)

    for row, parent in parents:
        if parent not in first_line and parent not in existing:
            row.problem("roster.unknown_parent", code=_clip(parent))

    _report_cycles(parent_of, first_line, problems)
    # Only used when nothing is wrong, so every row is valid and the tree has no cycle.
    return _OrgResult(rows=_parents_first(list(valid.values())), codes=set(first_line))


def _report_cycles(
    parent_of: Mapping[str, str | None],
    first_line: Mapping[str, int],
    problems: list[RosterProblem],
) -> None:
    """Report every organisation that is its own ancestor, on each line of the cycle."""
    state: dict[str, int] = {}  # 1: on the path being walked, 2: settled
    for start in parent_of:
        path: list[str] = []
        current: str | None = start
        while current is not None and current in parent_of and current not in state:
            state[current] = 1
            path.append(current)
            current = parent_of[current]
        if current is not None and state.get(current) == 1:
            cycle = path[path.index(current) :]
            text = " → ".join([*cycle, cycle[0]])
            for code in sorted(cycle, key=first_line.__getitem__):
                problems.append(
                    RosterProblem(
                        file="orgs",
                        line=first_line[code],
                        key="roster.cycle",
                        params={"codes": text},
                    )
                )
        for code in path:
            state[code] = 2


def _parents_first(rows: list[OrgRow]) -> list[OrgRow]:
    """Order organisations depth-first so that each comes after its parent, keeping file order."""
    by_code = {r.code: r for r in rows}
    children: dict[str, list[OrgRow]] = {}
    roots: list[OrgRow] = []
    for r in rows:
        if r.parent is not None and r.parent in by_code:
            children.setdefault(r.parent, []).append(r)
        else:
            roots.append(r)
    ordered: list[OrgRow] = []
    stack = list(reversed(roots))
    while stack:
        r = stack.pop()
        ordered.append(r)
        stack.extend(reversed(children.get(r.code, [])))
    return ordered


def _phone(row: _Row) -> str | None:
    raw = row.get("phone")
    if not raw:
        return None
    digits = _PHONE_JUNK.sub("", unicodedata.normalize("NFKC", raw))
    if digits.startswith("+86"):
        digits = digits[3:]
    if not _PHONE_OK.fullmatch(digits):
        row.problem("roster.bad_phone", value=_clip(raw))
        return None
    return digits


def _check_people(
    table: _Table, known_orgs: set[str] | None, problems: list[RosterProblem]
) -> list[PersonRow]:
    columns = _columns(table, _PEOPLE_HEADERS, PEOPLE_FIELDS, PEOPLE_REQUIRED, problems)
    if columns is None:
        return []

    seen: dict[tuple[str, str, str], int] = {}
    people: list[PersonRow] = []
    for line, cells in table.rows:
        row = _Row("people", line, cells, columns, problems)
        name = row.required("name", MAX_PERSON_NAME)
        org = _code(row.required("org", MAX_CODE))
        raw_role = row.get("role")
        role = _ROLES.get(_key(raw_role))
        if not raw_role:
            row.problem("roster.empty_field", field="role")
        elif role is None:
            row.problem("roster.unknown_role", value=_clip(raw_role))
        phone = _phone(row)
        cadre = row.yes_no("cadre")
        oral = row.yes_no("oral")
        post = row.optional("post", MAX_POST)
        origin = row.optional("origin_org", MAX_CODE)
        residence = row.optional("residence_org", MAX_CODE)
        origin = _code(origin) if origin else None
        residence = _code(residence) if residence else None
        linked: tuple[str, ...] = ()
        linked_raw = row.optional("linked_orgs", MAX_POST) if "linked_orgs" in columns else None
        if linked_raw:
            linked = tuple(dict.fromkeys(_code(c) for c in _LIST_SEP.split(linked_raw) if c))
            if role is not None and role is not Role.LEADER:
                row.problem("roster.linked_not_leader")
        if known_orgs is not None:
            for name_of_field, code in (
                ("org", org),
                ("origin_org", origin),
                ("residence_org", residence),
            ):
                if code and code not in known_orgs:
                    row.problem("roster.unknown_org", field=name_of_field, code=_clip(code))
            for code in linked:
                if code not in known_orgs:
                    row.problem("roster.unknown_org", field="linked_orgs", code=_clip(code))
        if name and org:
            identity = (org, name, phone or "")
            if identity in seen:
                row.problem(
                    "roster.duplicate_person", name=_clip(name), first_line=str(seen[identity])
                )
            else:
                seen[identity] = line
        if not row.bad and role is not None:
            people.append(
                PersonRow(
                    line=line,
                    name=name,
                    org=org,
                    role=role,
                    phone=phone,
                    cadre=cadre,
                    post=post,
                    oral=oral,
                    origin_org=origin,
                    residence_org=residence,
                    linked_orgs=linked,
                )
            )
    return people


def _validate(
    orgs: _Table | None,
    people: _Table | None,
    existing: frozenset[str],
    problems: list[RosterProblem],
) -> Roster:
    org_result = _check_orgs(orgs, existing, problems) if orgs is not None else None
    known = None if org_result is None else org_result.codes | existing
    person_rows = _check_people(people, known, problems) if people is not None else []
    if problems or org_result is None:
        order = {"orgs": 0, "people": 1}
        raise RosterInvalid(sorted(problems, key=lambda p: (order[p.file], p.line)))
    return Roster(orgs=org_result.rows, people=person_rows)


# ---------------------------------------------------------------------------------------------
# Entry points


def parse_roster(
    orgs_rows: Iterable[Sequence[object]],
    people_rows: Iterable[Sequence[object]],
    *,
    existing_org_codes: frozenset[str] = frozenset(),
) -> Roster:
    """Validate already-read rows (header first, then data); raise RosterInvalid."""
    problems: list[RosterProblem] = []
    orgs = _table("orgs", orgs_rows, problems)
    people = _table("people", people_rows, problems)
    return _validate(orgs, people, existing_org_codes, problems)


def load_roster(
    orgs_path: Path,
    people_path: Path,
    *,
    existing_org_codes: frozenset[str] = frozenset(),
) -> Roster:
    """Read and validate the orgs and people files (.csv or .xlsx); raise RosterInvalid."""
    problems: list[RosterProblem] = []
    orgs = _read(Path(orgs_path), "orgs", problems)
    people = _read(Path(people_path), "people", problems)
    return _validate(orgs, people, existing_org_codes, problems)
