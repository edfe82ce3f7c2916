"""Item categories: the member's 五带头 and the branch's 五个好."""

ZH: dict[str, str] = {
    # 五带头
    "category.study": "带头学习提高",
    "category.excellence": "带头争创佳绩",
    "category.serve": "带头服务群众",
    "category.discipline": "带头遵纪守法",
    "category.integrity": "带头弘扬正气",
    # 五个好
    "category.leadership": "领导班子好",
    "category.team": "党员队伍好",
    "category.mechanism": "工作机制好",
    "category.performance": "工作业绩好",
    "category.reputation": "群众反映好",
}

EN: dict[str, str] = {
    "category.study": "Lead in study",
    "category.excellence": "Lead in excellent work",
    "category.serve": "Lead in serving the people",
    "category.discipline": "Lead in obeying law and discipline",
    "category.integrity": "Lead in upholding integrity",
    "category.leadership": "A strong leadership team",
    "category.team": "A strong membership",
    "category.mechanism": "Sound working mechanisms",
    "category.performance": "Good results",
    "category.reputation": "Good standing with the people",
}
