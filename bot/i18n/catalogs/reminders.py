"""Strings of reminders and of the campaign calendar's notices."""

ZH: dict[str, str] = {
    "reminder.soon": "⏰ 承诺事项「{content}」还有 {days} 天到期（{deadline}）。发送 /progress 可以记录进展。",
    "reminder.due.tomorrow": "⏰ 承诺事项「{content}」明天（{deadline}）到期，请抓紧兑现。",
    "reminder.due.today": "⏰ 承诺事项「{content}」今天（{deadline}）到期，请抓紧兑现。",
    "reminder.overdue": "⚠️ 承诺事项「{content}」已超过完成时限 {days} 天（{deadline}）。请尽快兑现，或发送 /progress 说明进展。",
    "reminder.overdue.secretary": "⚠️ 本支部以下承诺事项已逾期：\n{lines}",
    "reminder.overdue.line": "• {name}：{content}（时限 {deadline}）",
    "reminder.selfcheck": "📝 一月一自查：您 {month} 还没有记录承诺进展。请对照承诺自查，发送 /progress 记录。",
    "reminder.selfcheck.secretary": "📝 一月一自查：以下党员 {month} 没有记录承诺进展，请提醒和帮助他们：{names}",
    "reminder.quarter.inspect": "🔍 一季一检查：{quarter} 已结束，请检查本支部承诺的践行情况。",
    "reminder.quarter.notice": "📢 {org} {quarter} 践诺进展：承诺事项 {items} 项，已兑现 {done} 项，兑现率 {rate}。欢迎群众监督。",
    "reminder.phase.open": "📅「{name}」阶段开始（{start}至{end}）。\n{note}",
    "reminder.phase.close": "📅「{name}」阶段今天结束（{end}）。请抓紧完成。\n{note}",
    "reminder.muted": "🔕 已关闭一般提醒。到期、逾期等重要提醒仍会发送。发送 /mute 可重新打开。",
    "reminder.unmuted": "🔔 已打开全部提醒。",
    "submit.window_closed": "年度承诺只能在公开承诺期内（{start}至{end}）提交。即时承诺和长期承诺随时可以提交。",
}

EN: dict[str, str] = {
    "reminder.soon": '⏰ Pledge item "{content}" is due in {days:# day|# days} ({deadline}). Record progress with /progress.',
    "reminder.due.tomorrow": '⏰ Pledge item "{content}" is due tomorrow ({deadline}).',
    "reminder.due.today": '⏰ Pledge item "{content}" is due today ({deadline}).',
    "reminder.overdue": '⚠️ Pledge item "{content}" is {days:# day|# days} past its deadline ({deadline}). Please fulfil it or report progress with /progress.',
    "reminder.overdue.secretary": "⚠️ These pledge items of your branch are overdue:\n{lines}",
    "reminder.overdue.line": "• {name}: {content} (deadline {deadline})",
    "reminder.selfcheck": "📝 Monthly self-check: you recorded no progress in {month}. Check your pledge and record progress with /progress.",
    "reminder.selfcheck.secretary": "📝 Monthly self-check: these members recorded no progress in {month}; please remind and help them: {names}",
    "reminder.quarter.inspect": "🔍 Quarterly inspection: {quarter} is over; please check how your branch's pledges are kept.",
    "reminder.quarter.notice": "📢 {org}, {quarter}: {items:# pledge item|# pledge items}, {done} fulfilled, fulfilment rate {rate}. Residents are welcome to watch over them.",
    "reminder.phase.open": '📅 The "{name}" phase begins ({start} to {end}).\n{note}',
    "reminder.phase.close": '📅 The "{name}" phase ends today ({end}).\n{note}',
    "reminder.muted": "🔕 Routine reminders are off. Deadline and overdue reminders still come. Send /mute again to turn them back on.",
    "reminder.unmuted": "🔔 All reminders are on.",
    "submit.window_closed": "Annual pledges can only be submitted during the pledge period ({start} to {end}). Instant and long-term pledges can be submitted any time.",
}
