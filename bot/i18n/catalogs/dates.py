"""Messages about deadlines (完成时限)."""

ZH: dict[str, str] = {
    "date.unparsable": (
        "没能看懂这个日期。可以这样写：2026-12-31、12月31日、12/31、年底、月底、下月底、"
        "下月15日、季度末、明天、3天后、2个月后。"
    ),
    "date.past": "{date}已经过去了，请填写今天或以后的日期。",
}

EN: dict[str, str] = {
    "date.unparsable": (
        "Sorry, I could not read that date. You can write, for example: 2026-12-31, 12/31, "
        "end of year, end of month, end of next month, tomorrow, in 3 days."
    ),
    "date.past": "{date} has already passed. Please give today or a later date.",
}
