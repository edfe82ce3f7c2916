"""Messages about importing the organisation tree and the roster (组织架构与人员名单)."""

ZH: dict[str, str] = {
    "roster.summary": "名单里有{count}处需要修改，请改好后重新上传：",
    "roster.more": "……还有{count}处问题没有列出，请先修改以上问题。",
    "roster.at_line": "{file}第{line}行：{message}",
    "roster.at_file": "{file}：{message}",
    "roster.list_sep": "、",
    "roster.file.orgs": "组织表",
    "roster.file.people": "人员名单",
    # whole-file problems
    "roster.bad_extension": "不支持“{ext}”格式的文件，请上传 .xlsx 或 .csv 文件。",
    "roster.encoding": (
        "文件的文字编码无法识别。请在 Excel 中“另存为” .xlsx 或“CSV UTF-8”格式后再上传。"
    ),
    "roster.unreadable": "文件打不开，可能已损坏。请用 Excel 重新保存为 .xlsx 后再上传。",
    "roster.too_big": "文件太大（超过{max_mb}MB），请拆成几个文件分批上传。",
    "roster.missing_columns": "缺少这些列：{columns}。请在第一行写上列名。",
    "roster.duplicate_column": "“{column}”这一列出现了不止一次，请只保留一列。",
    "roster.no_rows": "表里没有数据。第一行写列名，从第二行开始每行填一条。",
    "roster.too_many_rows": "行数太多，每个文件最多{max}行，请拆成几个文件分批上传。",
    # row problems
    "roster.empty_field": "“{field}”没有填写。",
    "roster.too_long": "“{field}”太长了，最多{max}个字。",
    "roster.unknown_type": (
        "组织类型“{value}”无法识别。可以填：党委、农村、社区、机关、国企、非公企业、"
        "学校、卫生、科研、社会组织。"
    ),
    "roster.unknown_role": (
        "角色“{value}”无法识别。可以填：党员、书记、党委工作人员、联点领导、群众。"
    ),
    "roster.bad_bool": "“{field}”填的是“{value}”，请填“是”或“否”（不填算作“否”）。",
    "roster.duplicate_org": "组织编码“{code}”重复了，第{first_line}行已经用过这个编码。",
    "roster.unknown_parent": "找不到上级组织“{code}”。请核对编码，或先导入这个上级组织。",
    "roster.cycle": "上级关系绕成了一个圈（{codes}），请检查这几行的“上级”。",
    "roster.unknown_org": "“{field}”填的“{code}”在组织表里找不到，请核对组织编码。",
    "roster.duplicate_person": "“{name}”和第{first_line}行重复了（同一组织、同名、同电话）。",
    "roster.bad_phone": "电话“{value}”不对，应为5到15位数字，例如13800000001。",
    # column names
    "roster.field.orgs.code": "编码",
    "roster.field.orgs.name": "名称",
    "roster.field.orgs.type": "类型",
    "roster.field.orgs.parent": "上级",
    "roster.field.people.name": "姓名",
    "roster.field.people.org": "组织",
    "roster.field.people.role": "角色",
    "roster.field.people.phone": "电话",
    "roster.field.people.cadre": "是否领导干部",
    "roster.field.people.post": "岗位",
    "roster.field.people.oral": "口头承诺",
    "roster.field.people.origin_org": "流出地",
    "roster.field.people.residence_org": "居住地社区",
    "roster.field.people.linked_orgs": "联系支部",
    "roster.linked_not_leader": "只有联点领导可以填写“联系支部”。",
}

EN: dict[str, str] = {
    "roster.summary": "The roster has {count:# problem. Please fix it|# problems. Please fix them} and upload again:",
    "roster.more": "… and {count:# more problem|# more problems} not shown. Please fix the ones above first.",
    "roster.at_line": "{file}, line {line}: {message}",
    "roster.at_file": "{file}: {message}",
    "roster.list_sep": ", ",
    "roster.file.orgs": "Organisations file",
    "roster.file.people": "People file",
    # whole-file problems
    "roster.bad_extension": "Files of type “{ext}” are not supported. Upload .xlsx or .csv.",
    "roster.encoding": (
        "The file's text encoding is not recognised. In Excel, use “Save as” .xlsx or "
        "“CSV UTF-8” and upload again."
    ),
    "roster.unreadable": (
        "The file cannot be opened; it may be damaged. Please save it again as .xlsx in Excel."
    ),
    "roster.too_big": "The file is too large (over {max_mb} MB). Please split it up.",
    "roster.missing_columns": "Missing: {columns}. Put the column names in row 1.",
    "roster.duplicate_column": "The column “{column}” appears more than once. Keep only one.",
    "roster.no_rows": "The file has no data. Row 1 holds the column names; data starts in row 2.",
    "roster.too_many_rows": "Too many rows: at most {max} per file. Please split the file.",
    # row problems
    "roster.empty_field": "“{field}” is empty.",
    "roster.too_long": "“{field}” is too long (at most {max:# character|# characters}).",
    "roster.unknown_type": (
        "Unknown organisation type “{value}”. Use one of: committee, rural, community, organ, "
        "soe, private, school, health, research, social."
    ),
    "roster.unknown_role": (
        "Unknown role “{value}”. Use one of: member, secretary, committee, leader, resident."
    ),
    "roster.bad_bool": "“{field}” is “{value}”; please write yes or no (empty means no).",
    "roster.duplicate_org": "Organisation code “{code}” is already used on line {first_line}.",
    "roster.unknown_parent": (
        "Parent organisation “{code}” not found. Check the code, or import that parent first."
    ),
    "roster.cycle": "The parents form a loop ({codes}). Please check “parent” on these lines.",
    "roster.unknown_org": "“{field}” is “{code}”, which is not in the organisations file.",
    "roster.duplicate_person": (
        "“{name}” repeats line {first_line} (same organisation, name and phone)."
    ),
    "roster.bad_phone": "Phone “{value}” is not valid: it needs 5 to 15 digits, e.g. 13800000001.",
    # column names
    "roster.field.orgs.code": "code",
    "roster.field.orgs.name": "name",
    "roster.field.orgs.type": "type",
    "roster.field.orgs.parent": "parent",
    "roster.field.people.name": "name",
    "roster.field.people.org": "org",
    "roster.field.people.role": "role",
    "roster.field.people.phone": "phone",
    "roster.field.people.cadre": "cadre",
    "roster.field.people.post": "post",
    "roster.field.people.oral": "oral",
    "roster.field.people.origin_org": "origin_org",
    "roster.field.people.residence_org": "residence_org",
    "roster.field.people.linked_orgs": "linked_orgs",
    "roster.linked_not_leader": "Only liaison leaders have linked branches.",
}
