"""Roster import: reading CSV/XLSX files and reporting every problem with its line number."""

from __future__ import annotations

import string
import time
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest

from bot.domain import roster as roster_module
from bot.domain.enums import OrgType, Role
from bot.domain.roster import (
    Roster,
    RosterInvalid,
    RosterProblem,
    load_roster,
    parse_roster,
)
from bot.i18n.catalogs import roster as catalog

Rows = list[list[object]]

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"

ORG_HEADER: list[object] = ["code", "name", "type", "parent"]
PEOPLE_HEADER: list[object] = [
    "name",
    "org",
    "role",
    "phone",
    "cadre",
    "post",
    "oral",
    "origin_org",
    "residence_org",
]

ORGS: Rows = [
    ORG_HEADER,
    ["XH", "新华镇党委", "committee", ""],
    ["XH-HS", "黄思村党总支", "rural", "XH"],
    ["XH-DY", "东园社区党支部", "community", "XH"],
]
PEOPLE: Rows = [
    PEOPLE_HEADER,
    ["沈宝方", "XH-HS", "secretary", "13800000101", "是", "", "否", "", ""],
    ["杨友林", "XH-HS", "member", "13800000102", "", "农技服务岗", "", "", ""],
    ["朱德顺", "XH-HS", "member", "13800000103", "no", "", "yes", "", ""],
    ["吴静", "XH-DY", "member", "13800000201", "1", "", "0", "XH-HS", ""],
    ["张桂英", "XH-HS", "resident", "", "", "", "", "", "XH-DY"],
]


def _write_csv(path: Path, rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> Path:
    text = "\n".join(",".join(str(c) for c in row) for row in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def _write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append([None if c == "" else c for c in row])
    workbook.save(path)
    return path


def _problems(orgs: Sequence[Sequence[object]], people: Sequence[Sequence[object]]) -> list:
    with pytest.raises(RosterInvalid) as info:
        parse_roster(orgs, people)
    return info.value.problems


def _triples(problems: list[RosterProblem]) -> list[tuple[str, int, str]]:
    return [(p.file, p.line, p.key) for p in problems]


def _check_good(result: Roster) -> None:
    assert [o.code for o in result.orgs] == ["XH", "XH-HS", "XH-DY"]
    assert result.orgs[1].type is OrgType.RURAL
    assert result.orgs[0].parent is None
    assert result.orgs[1].parent == "XH"
    by_name = {p.name: p for p in result.people}
    assert len(by_name) == 5
    shen = by_name["沈宝方"]
    assert (shen.line, shen.role, shen.cadre, shen.oral) == (2, Role.SECRETARY, True, False)
    assert shen.phone == "13800000101"
    assert by_name["杨友林"].post == "农技服务岗"
    assert by_name["杨友林"].cadre is False
    assert by_name["朱德顺"].oral is True
    assert by_name["吴静"].origin_org == "XH-HS"
    assert by_name["吴静"].cadre is True
    assert by_name["张桂英"].residence_org == "XH-DY"
    assert by_name["张桂英"].phone is None
    assert by_name["张桂英"].post is None


# --- good files ----------------------------------------------------------------------------


def test_parse_rows() -> None:
    _check_good(parse_roster(ORGS, PEOPLE))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_good_csv(tmp_path: Path, encoding: str) -> None:
    orgs = _write_csv(tmp_path / "orgs.csv", ORGS, encoding)
    people = _write_csv(tmp_path / "people.csv", PEOPLE, encoding)
    _check_good(load_roster(orgs, people))


def test_good_csv_crlf_and_uppercase_extension(tmp_path: Path) -> None:
    orgs = tmp_path / "ORGS.CSV"
    orgs.write_bytes("\r\n".join(",".join(map(str, r)) for r in ORGS).encode())
    people = _write_csv(tmp_path / "people.csv", PEOPLE)
    _check_good(load_roster(orgs, people))


def test_good_xlsx_with_numbers_and_booleans(tmp_path: Path) -> None:
    people: Rows = [list(r) for r in PEOPLE]
    people[1][3] = 13800000101  # phone typed as a number
    people[2][3] = 13800000102.0  # ... or read back as a float
    people[1][4] = True  # Excel booleans
    people[1][6] = False
    people[4][4] = 1
    orgs_path = _write_xlsx(tmp_path / "orgs.xlsx", ORGS)
    people_path = _write_xlsx(tmp_path / "people.xlsx", people)
    result = load_roster(orgs_path, people_path)
    _check_good(result)
    assert result.people[1].phone == "13800000102"


def test_xlsx_and_csv_mixed(tmp_path: Path) -> None:
    orgs = _write_xlsx(tmp_path / "orgs.xlsx", ORGS)
    people = _write_csv(tmp_path / "people.csv", PEOPLE, "gb18030")
    _check_good(load_roster(orgs, people))


def test_parents_sorted_before_children() -> None:
    orgs: Rows = [
        ORG_HEADER,
        ["B1", "支部一", "rural", "Z"],
        ["Z", "总支", "rural", "XH"],
        ["B2", "支部二", "community", "XH"],
        ["XH", "镇党委", "committee", ""],
        ["B0", "另一个根", "organ", ""],
    ]
    people: Rows = [PEOPLE_HEADER, ["甲", "B1", "member", "13800000001"]]
    codes = [o.code for o in parse_roster(orgs, people).orgs]
    assert sorted(codes) == ["B0", "B1", "B2", "XH", "Z"]
    for org in parse_roster(orgs, people).orgs:
        if org.parent is not None:
            assert codes.index(org.parent) < codes.index(org.code)


def test_parent_in_existing_orgs() -> None:
    orgs: Rows = [ORG_HEADER, ["XH-NEW", "新支部", "school", "XH"]]
    people: Rows = [PEOPLE_HEADER, ["甲", "XH-NEW", "member", "13800000001", "", "", "", "XH", ""]]
    result = parse_roster(orgs, people, existing_org_codes=frozenset({"XH"}))
    assert result.orgs[0].parent == "XH"
    assert result.people[0].origin_org == "XH"
    with pytest.raises(RosterInvalid):
        parse_roster(orgs, people)


def test_reordered_columns_and_extra_columns() -> None:
    orgs: Rows = [["parent", "备注", "type", "code", "name"]]
    orgs += [[r[3], "x", r[2], r[0], r[1]] for r in ORGS[1:]]
    order = [8, 6, 3, 0, 2, 5, 1, 7, 4]
    people: Rows = [[row[i] for i in order] + ["extra"] for row in PEOPLE]
    people[0][-1] = "备注"
    _check_good(parse_roster(orgs, people))


def test_optional_people_columns_may_be_absent() -> None:
    people: Rows = [["name", "org", "role", "phone"], ["甲", "XH-HS", "member", "13800000001"]]
    result = parse_roster(ORGS, people)
    person = result.people[0]
    assert (person.cadre, person.oral, person.post, person.origin_org) == (
        False,
        False,
        None,
        None,
    )


def test_chinese_headers_and_values() -> None:
    orgs: Rows = [
        ["编码", "名称", "类型", "上级"],
        ["XH", "新华镇党委", "党委", ""],
        ["HS", "黄思村党总支", "农村", "XH"],
        ["DY", "东园社区党支部", "社区", "XH"],
        ["JG", "镇机关党支部", "机关", "XH"],
        ["GQ", "供电所党支部", "国企", "XH"],
        ["JX", "精密机械公司党支部", "非公企业", "XH"],
        ["XX", "中心小学党支部", "学校", "XH"],
        ["WS", "卫生院党支部", "卫生", "XH"],
        ["KY", "农科所党支部", "科研", "XH"],
        ["SH", "协会党支部", "社会组织", "XH"],
        ["GW", "街道党工委", "工委", ""],
    ]
    people: Rows = [
        ["姓名", "支部", "角色", "手机", "干部", "岗位", "口头", "原支部", "居住地社区"],
        ["甲", "HS", "党员", "13800000001", "是", "", "否", "", ""],
        ["乙", "HS", "书记", "13800000002", "否", "", "", "", ""],
        ["丙", "XH", "党委/工委工作人员", "13800000003", "", "", "", "", ""],
        ["丁", "XH", "联点领导", "13800000004", "是", "", "", "", ""],
        ["戊", "DY", "群众", "13800000005", "", "", "", "", ""],
        ["己", "DY", "居民", "13800000006", "", "", "", "", ""],
        ["庚", "JX", "党员", "13800000007", "", "", "", "HS", "DY"],
        ["辛", "XH", "党委工作人员", "13800000008", "", "", "", "", ""],
    ]
    result = parse_roster(orgs, people)
    types = {o.code: o.type for o in result.orgs}
    assert types == {
        "XH": OrgType.COMMITTEE,
        "HS": OrgType.RURAL,
        "DY": OrgType.COMMUNITY,
        "JG": OrgType.ORGAN,
        "GQ": OrgType.SOE,
        "JX": OrgType.PRIVATE,
        "XX": OrgType.SCHOOL,
        "WS": OrgType.HEALTH,
        "KY": OrgType.RESEARCH,
        "SH": OrgType.SOCIAL,
        "GW": OrgType.COMMITTEE,
    }
    roles = [p.role for p in result.people]
    assert roles == [
        Role.MEMBER,
        Role.SECRETARY,
        Role.COMMITTEE,
        Role.LEADER,
        Role.RESIDENT,
        Role.RESIDENT,
        Role.MEMBER,
        Role.COMMITTEE,
    ]
    assert result.people[0].cadre is True
    assert (result.people[6].origin_org, result.people[6].residence_org) == ("HS", "DY")


def test_other_header_aliases() -> None:
    orgs: Rows = [["代码", "组织名称", "组织类型", "上级组织"], ["XH", "镇党委", "committee", ""]]
    people: Rows = [
        ["姓名", "组织", "身份", "电话", "是否领导干部", "岗位", "口头承诺", "流出地", "居住地"],
        ["甲", "XH", "member", "13800000001", "y", "宣传岗", "n", "", ""],
    ]
    person = parse_roster(orgs, people).people[0]
    assert (person.cadre, person.post, person.oral) == (True, "宣传岗", False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        ("yes", True),
        ("YES", True),
        ("No", False),
        ("y", True),
        ("n", False),
        ("true", True),
        ("False", False),
        ("1", True),
        ("0", False),
        ("", False),
        (" 是 ", True),
    ],
)
def test_yes_no_values(raw: str, expected: bool) -> None:
    people: Rows = [PEOPLE_HEADER, ["甲", "XH", "member", "13800000001", raw, "", raw, "", ""]]
    person = parse_roster(ORGS, people).people[0]
    assert person.cadre is expected
    assert person.oral is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800000001", "13800000001"),
        ("138 0000 0001", "13800000001"),
        ("138-0000-0001", "13800000001"),
        ("+86 138 0000 0001", "13800000001"),
        ("+8613800000001", "13800000001"),
        ("１３８００００００01", "13800000001"),
        ("0514-88881234", "051488881234"),
        ("12345", "12345"),
        ("123456789012345", "123456789012345"),
    ],
)
def test_phone_normalised(raw: str, expected: str) -> None:
    people: Rows = [PEOPLE_HEADER, ["甲", "XH", "member", raw, "", "", "", "", ""]]
    assert parse_roster(ORGS, people).people[0].phone == expected


@pytest.mark.parametrize(
    "raw", ["1234", "1234567890123456", "138000000o1", "+1 555 0100", "1.38E+10", "138/0000"]
)
def test_bad_phone(raw: str) -> None:
    people: Rows = [PEOPLE_HEADER, ["甲", "XH", "member", raw, "", "", "", "", ""]]
    problems = _problems(ORGS, people)
    assert _triples(problems) == [("people", 2, "roster.bad_phone")]
    assert problems[0].params == {"value": raw}


# --- each problem on its line --------------------------------------------------------------


def _person(**changes: str) -> list[object]:
    """A valid member row of XH-HS, with some fields changed."""
    values = ["甲", "XH-HS", "member", "13800000009", "", "", "", "", ""]
    row = dict(zip(PEOPLE_HEADER, values, strict=True))
    row.update(changes)
    return [row[h] for h in PEOPLE_HEADER]


ORG_CASES = [
    ("empty code", ["", "某支部", "rural", "XH"], "roster.empty_field", {"field": "code"}),
    ("empty name", ["B", "", "rural", "XH"], "roster.empty_field", {"field": "name"}),
    ("empty type", ["B", "某支部", "", "XH"], "roster.empty_field", {"field": "type"}),
    ("unknown type", ["B", "某支部", "farm", "XH"], "roster.unknown_type", {"value": "farm"}),
    ("duplicate", ["XH-HS", "重复", "rural", "XH"], "roster.duplicate_org", {"code": "XH-HS"}),
    ("no parent", ["B", "某支部", "rural", "NOPE"], "roster.unknown_parent", {"code": "NOPE"}),
    ("self parent", ["B", "某支部", "rural", "B"], "roster.cycle", {"codes": "B → B"}),
    ("long name", ["B", "支" * 101, "rural", "XH"], "roster.too_long", {"field": "name"}),
    ("long code", ["B" * 51, "某支部", "rural", "XH"], "roster.too_long", {"field": "code"}),
]


@pytest.mark.parametrize(
    ("row", "key", "params"), [c[1:] for c in ORG_CASES], ids=[c[0] for c in ORG_CASES]
)
def test_org_problem_on_its_line(row: list[object], key: str, params: dict[str, str]) -> None:
    orgs: Rows = [*ORGS, ["OK", "正常支部", "school", "XH"], row]
    problems = _problems(orgs, PEOPLE)
    assert _triples(problems) == [("orgs", 6, key)]
    assert params.items() <= problems[0].params.items()


PEOPLE_CASES = [
    ("empty name", _person(name=""), "roster.empty_field", {"field": "name"}),
    ("empty org", _person(org=""), "roster.empty_field", {"field": "org"}),
    ("empty role", _person(role=""), "roster.empty_field", {"field": "role"}),
    ("unknown role", _person(role="boss"), "roster.unknown_role", {"value": "boss"}),
    ("bad cadre", _person(cadre="maybe"), "roster.bad_bool", {"field": "cadre"}),
    ("bad oral", _person(oral="有时"), "roster.bad_bool", {"field": "oral", "value": "有时"}),
    ("unknown org", _person(org="NOPE"), "roster.unknown_org", {"field": "org"}),
    (
        "unknown origin",
        _person(origin_org="NOPE"),
        "roster.unknown_org",
        {"field": "origin_org", "code": "NOPE"},
    ),
    (
        "unknown residence",
        _person(residence_org="NOPE"),
        "roster.unknown_org",
        {"field": "residence_org"},
    ),
    (
        "duplicate",
        _person(name="沈宝方", phone="138 0000 0101"),
        "roster.duplicate_person",
        {"name": "沈宝方", "first_line": "2"},
    ),
    ("bad phone", _person(phone="110"), "roster.bad_phone", {"value": "110"}),
    ("long name", _person(name="名" * 51), "roster.too_long", {"field": "name", "max": "50"}),
    ("long post", _person(post="岗" * 201), "roster.too_long", {"field": "post", "max": "200"}),
]


@pytest.mark.parametrize(
    ("row", "key", "params"), [c[1:] for c in PEOPLE_CASES], ids=[c[0] for c in PEOPLE_CASES]
)
def test_person_problem_on_its_line(row: list[object], key: str, params: dict[str, str]) -> None:
    people: Rows = [*PEOPLE, _person(name="乙"), row]
    problems = _problems(ORGS, people)
    assert _triples(problems) == [("people", 8, key)]
    assert params.items() <= problems[0].params.items()


def test_same_name_different_phone_is_not_duplicate() -> None:
    people: Rows = [*PEOPLE, _person(name="沈宝方", phone="13900000000")]
    assert len(parse_roster(ORGS, people).people) == 6


def test_name_and_post_at_the_limit_are_fine() -> None:
    people: Rows = [PEOPLE_HEADER, _person(name="名" * 50, post="岗" * 200)]
    assert parse_roster(ORGS, people).people[0].name == "名" * 50


def test_cycle_reports_every_line() -> None:
    orgs: Rows = [
        *ORGS,
        ["A", "甲", "rural", "C"],
        ["X", "不在圈里", "rural", "A"],
        ["B", "乙", "rural", "A"],
        ["C", "丙", "rural", "B"],
    ]
    problems = _problems(orgs, PEOPLE)
    assert _triples(problems) == [
        ("orgs", 5, "roster.cycle"),
        ("orgs", 7, "roster.cycle"),
        ("orgs", 8, "roster.cycle"),
    ]
    assert problems[0].params["codes"] in {"A → C → B → A", "C → B → A → C", "B → A → C → B"}


def test_many_problems_all_reported_in_order() -> None:
    orgs: Rows = [
        ORG_HEADER,
        ["XH", "新华镇党委", "committee", ""],
        ["XH", "重复", "农村", "XH"],
        ["B", "", "farm", "NOPE"],
    ]
    people: Rows = [
        PEOPLE_HEADER,
        ["", "XH", "boss", "12", "maybe", "", "", "NOPE", ""],
        ["甲", "B", "member", "13800000001", "", "", "", "", ""],
        ["甲", "B", "member", "13800000001", "", "", "", "", ""],
    ]
    problems = _problems(orgs, people)
    assert _triples(problems) == [
        ("orgs", 3, "roster.duplicate_org"),
        ("orgs", 4, "roster.empty_field"),
        ("orgs", 4, "roster.unknown_type"),
        ("orgs", 4, "roster.unknown_parent"),
        ("people", 2, "roster.empty_field"),
        ("people", 2, "roster.unknown_role"),
        ("people", 2, "roster.bad_phone"),
        ("people", 2, "roster.bad_bool"),
        ("people", 2, "roster.unknown_org"),
        ("people", 4, "roster.duplicate_person"),
    ]


# --- whole-file problems -------------------------------------------------------------------


def test_missing_columns_in_both_files() -> None:
    orgs: Rows = [["code", "name"], ["XH", "镇党委"]]
    people: Rows = [["name", "org", "cadre"], ["甲", "XH", "是"]]
    problems = _problems(orgs, people)
    assert _triples(problems) == [
        ("orgs", 1, "roster.missing_columns"),
        ("people", 1, "roster.missing_columns"),
    ]
    assert problems[0].params == {"columns": "type,parent"}
    assert problems[1].params == {"columns": "role,phone"}
    assert "类型、上级" in problems[0].render("zh_CN")
    assert "role, phone" in problems[1].render("en")


def test_people_checked_even_when_orgs_file_is_unusable() -> None:
    orgs: Rows = [["code"], ["XH"]]
    people: Rows = [PEOPLE_HEADER, ["甲", "ANY", "boss", "13800000001"]]
    problems = _problems(orgs, people)
    # the org reference cannot be checked, but the bad role is still reported
    assert _triples(problems) == [
        ("orgs", 1, "roster.missing_columns"),
        ("people", 2, "roster.unknown_role"),
    ]


def test_duplicate_column() -> None:
    orgs: Rows = [
        ["code", "编码", "name", "type", "parent"],
        ["XH", "XH", "镇党委", "committee", ""],
    ]
    problems = _problems(orgs, PEOPLE)
    assert _triples(problems) == [("orgs", 1, "roster.duplicate_column")]
    assert problems[0].params == {"column": "编码"}


@pytest.mark.parametrize(
    "rows", [[], [ORG_HEADER], [ORG_HEADER, ["", "", "", ""], [None, None]], [[None, ""]]]
)
def test_no_data_rows(rows: list[list[object]]) -> None:
    problems = _problems(rows, PEOPLE)
    assert _triples(problems) == [("orgs", 1, "roster.no_rows")]


def test_blank_rows_are_skipped_but_counted_in_line_numbers() -> None:
    people: Rows = [*PEOPLE, ["", "", "", ""], ["   ", ""], _person(role="boss")]
    assert _triples(_problems(ORGS, people)) == [("people", 9, "roster.unknown_role")]


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster_module, "MAX_ROWS", 3)
    people: Rows = [*PEOPLE, _person(role="boss")]
    problems = _problems(ORGS, people)
    assert _triples(problems) == [("people", 5, "roster.too_many_rows")]
    assert problems[0].params == {"max": "3"}


def test_bad_extension(tmp_path: Path) -> None:
    orgs = _write_csv(tmp_path / "orgs.csv", ORGS)
    people = tmp_path / "people.xls"
    people.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(RosterInvalid) as info:
        load_roster(orgs, people)
    assert _triples(info.value.problems) == [("people", 1, "roster.bad_extension")]
    assert info.value.problems[0].params == {"ext": ".xls"}


def test_undecodable_csv(tmp_path: Path) -> None:
    orgs = tmp_path / "orgs.csv"
    orgs.write_bytes(b"code,name,type,parent\n\xff\xfe\xff,\x80\x80,rural,\n")
    people = _write_csv(tmp_path / "people.csv", PEOPLE)
    with pytest.raises(RosterInvalid) as info:
        load_roster(orgs, people)
    # the people file is still checked; its org codes cannot be
    assert _triples(info.value.problems) == [("orgs", 1, "roster.encoding")]


def test_binary_file_named_csv(tmp_path: Path) -> None:
    orgs = _write_xlsx(tmp_path / "real.xlsx", ORGS)
    fake = tmp_path / "orgs.csv"
    fake.write_bytes(orgs.read_bytes())
    people = _write_csv(tmp_path / "people.csv", PEOPLE)
    with pytest.raises(RosterInvalid) as info:
        load_roster(fake, people)
    assert _triples(info.value.problems) == [("orgs", 1, "roster.encoding")]


def test_corrupt_xlsx(tmp_path: Path) -> None:
    orgs = _write_csv(tmp_path / "orgs.csv", ORGS)
    people = tmp_path / "people.xlsx"
    people.write_text("name,org\n")
    with pytest.raises(RosterInvalid) as info:
        load_roster(orgs, people)
    assert _triples(info.value.problems) == [("people", 1, "roster.unreadable")]


def test_csv_line_numbers_follow_the_file(tmp_path: Path) -> None:
    orgs = _write_csv(tmp_path / "orgs.csv", ORGS)
    people = tmp_path / "people.csv"
    people.write_text(
        "name,org,role,phone,post\n"
        '甲,XH-HS,member,13800000001,"第一行\n第二行"\n'
        "\n"
        "乙,XH-HS,boss,13800000002,\n",
        encoding="utf-8",
    )
    with pytest.raises(RosterInvalid) as info:
        load_roster(orgs, people)
    assert _triples(info.value.problems) == [("people", 5, "roster.unknown_role")]


def test_tab_separated_csv(tmp_path: Path) -> None:
    orgs = tmp_path / "orgs.csv"
    orgs.write_text("\n".join("\t".join(map(str, r)) for r in ORGS), encoding="utf-8")
    people = _write_csv(tmp_path / "people.csv", PEOPLE)
    _check_good(load_roster(orgs, people))


def test_xlsx_problem_line_numbers(tmp_path: Path) -> None:
    orgs = _write_xlsx(tmp_path / "orgs.xlsx", ORGS)
    people_rows: Rows = [*PEOPLE, [None] * 9, _person(phone="12")]
    people = _write_xlsx(tmp_path / "people.xlsx", people_rows)
    with pytest.raises(RosterInvalid) as info:
        load_roster(orgs, people)
    assert _triples(info.value.problems) == [("people", 8, "roster.bad_phone")]


# --- rendering and speed -------------------------------------------------------------------


def test_render_problems() -> None:
    row_problem = RosterProblem(
        file="people", line=7, key="roster.empty_field", params={"field": "org"}
    )
    assert row_problem.render("zh_CN") == "人员名单第7行：“组织”没有填写。"
    assert row_problem.render("en") == "People file, line 7: “org” is empty."
    file_problem = RosterProblem(file="orgs", line=1, key="roster.encoding")
    assert file_problem.render("zh_CN").startswith("组织表：")
    assert file_problem.render("en").startswith("Organisations file: ")


def test_render_invalid_summary() -> None:
    people: Rows = [PEOPLE_HEADER] + [_person(name=f"人{i}", role="boss") for i in range(30)]
    with pytest.raises(RosterInvalid) as info:
        parse_roster(ORGS, people)
    text = info.value.render("zh_CN", limit=5)
    lines = text.splitlines()
    assert lines[0] == "名单里有30处需要修改，请改好后重新上传："
    assert len(lines) == 7
    assert "还有25处" in lines[-1]
    assert "25 more" in info.value.render("en", limit=5)


def test_every_problem_key_renders_in_both_languages() -> None:
    params = {
        "field": "name",
        "columns": "name,code",
        "ext": ".xls",
        "max_mb": "64",
        "column": "编码",
        "max": "50",
        "value": "x",
        "code": "A",
        "first_line": "2",
        "codes": "A → A",
        "name": "甲",
    }
    keys = [k for k in catalog.ZH if not k.startswith("roster.field.")]
    skip = {"roster.summary", "roster.more", "roster.at_line", "roster.at_file"}
    for key in keys:
        if key in skip or key in {"roster.list_sep"} or key.startswith("roster.file."):
            continue
        problem = RosterProblem(file="orgs", line=3, key=key, params=params)
        for locale in ("zh_CN", "en"):
            assert "{" not in problem.render(locale)


def test_catalog_languages_match() -> None:
    assert catalog.ZH.keys() == catalog.EN.keys()
    for key, text in catalog.ZH.items():
        assert _fields(text) == _fields(catalog.EN[key]), key
    for field in roster_module.ORG_FIELDS:
        assert f"roster.field.orgs.{field}" in catalog.ZH
    for field in roster_module.PEOPLE_FIELDS:
        assert f"roster.field.people.{field}" in catalog.ZH


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_forty_thousand_people_validate_fast(tmp_path: Path) -> None:
    orgs: Rows = [ORG_HEADER, ["XH", "镇党委", "committee", ""]]
    orgs += [[f"B{i}", f"第{i}支部", "rural", "XH"] for i in range(1000)]
    people: Rows = [PEOPLE_HEADER]
    for i in range(40_000):
        people.append(
            [f"党员{i}", f"B{i % 1000}", "党员", f"138{i:08d}", "否", "", "否", "", "B1"]
        )
    orgs_path = _write_csv(tmp_path / "orgs.csv", orgs)
    people_path = _write_csv(tmp_path / "people.csv", people)
    started = time.perf_counter()
    result = load_roster(orgs_path, people_path)
    elapsed = time.perf_counter() - started
    assert len(result.people) == 40_000
    assert len(result.orgs) == 1001
    # A guard against quadratic work only (about 1.5 s alone; CI shares two cores): the
    # figure itself belongs to a benchmark, not to a timed test.
    assert elapsed < 15.0, elapsed


# --- the demo district ---------------------------------------------------------------------


def test_demo_roster_loads() -> None:
    result = load_roster(DEMO / "orgs.csv", DEMO / "people.csv")
    types = {o.type for o in result.orgs}
    assert OrgType.COMMITTEE in types
    branches = [o for o in result.orgs if o.type is not OrgType.COMMITTEE]
    assert len({o.type for o in branches}) >= 3
    names = {o.name for o in result.orgs}
    assert {"新华镇党委", "黄思村党总支", "东园社区党支部"} <= names

    people = result.people
    roles = {p.role for p in people}
    assert {Role.COMMITTEE, Role.LEADER} <= roles
    for branch in branches:
        mine = [p for p in people if p.org == branch.code]
        assert sum(p.role is Role.SECRETARY for p in mine) == 1, branch.name
        assert sum(p.role is Role.RESIDENT for p in mine) >= 4, branch.name
        assert any(p.role is Role.MEMBER for p in mine), branch.name
        assert any(p.cadre for p in mine), branch.name
    members = [p for p in people if p.role is Role.MEMBER]
    assert any(p.oral for p in members)
    assert any(p.post for p in members)
    community = next(o.code for o in result.orgs if o.type is OrgType.COMMUNITY)
    assert any(p.residence_org == community and p.org != community for p in members)
    assert any(p.origin_org and p.origin_org != p.org for p in members)
    phones = [p.phone for p in people]
    assert all(p is not None and len(p) == 11 and p.startswith("138") for p in phones)
    assert len(set(phones)) == len(phones)
