"""Strings of the command line."""

ZH: dict[str, str] = {
    "cli.roster.refused": "名册未导入：发现 {count} 处问题，请修改后重新导入（一行也没有导入）：",
    "cli.roster.done": "名册导入完成：组织新增 {orgs_created}、更新 {orgs_updated}；人员新增 {people_created}、更新 {people_updated}。",
    "cli.invites.bound": "（已绑定）",
}

EN: dict[str, str] = {
    "cli.roster.refused": "Roster not imported: {count:# problem found; fix it|# problems found; fix them} and import again (nothing was imported):",
    "cli.roster.done": "Roster imported: orgs created {orgs_created}, updated {orgs_updated}; people created {people_created}, updated {people_updated}.",
    "cli.invites.bound": "(already bound)",
}
