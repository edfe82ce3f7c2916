"""Strings of the rectification loop (整改): plans, acceptance, reminders, re-evaluation."""

ZH: dict[str, str] = {
    "cmd.rectify": "整改方案与复评",
    # opened by an evaluation under the pass mark
    "rectify.opened.member": (
        "📋 群众评议结果：您的满意度为 {rate}，低于 {mark} 的合格线，需要整改。\n"
        "请在 {due} 前提交整改方案（整改目标、整改措施、完成时限），报{reviewer}审核。"
    ),
    "rectify.opened.branch": (
        "📋 群众评议结果：{name}的满意度为 {rate}，低于 {mark} 的合格线，需要整改。\n"
        "请在 {due} 前提交整改方案（整改目标、整改措施、完成时限），报{reviewer}审核。"
    ),
    "rectify.opened.again": (
        "📋 复评结果：{name}的满意度为 {rate}，仍低于 {mark} 的合格线。\n"
        "需要进行第 {round} 轮整改，请在 {due} 前提交新的整改方案，报{reviewer}审核。"
    ),
    "rectify.reviewer.secretary": "支部书记",
    "rectify.reviewer.committee": "上级党组织",
    "rectify.opened.proxy": (
        "📋 群众评议结果：{name}（口头承诺党员）的满意度为 {rate}，低于 {mark} 的合格线，需要整改。\n"
        "请在 {due} 前和{name}一起商定整改方案，代为填写后报{reviewer}审核。"
    ),
    "rectify.accepted.proxy": "✅ {name}的整改方案已由{reviewer}审核同意，{deadline} 到期后将组织复评。",
    "rectify.returned.proxy": "↩️ {name}的整改方案被{reviewer}退回，意见：{comment}\n请和{name}商量修改后重新提交。",
    "rectify.remind.late.proxy": (
        "⏰ {name}的整改方案还没有提交（应于 {due} 前提交，已过 {days} 天）。请点下面的按钮代为填写。"
    ),
    "rectify.remind.soon.proxy": "⏰ {name}的整改完成时限还有 {days} 天（{deadline}），到期后将组织复评。",
    "rectify.remind.tomorrow.proxy": "⏰ {name}的整改完成时限就在 {deadline}，到期后将组织复评。",
    "rectify.btn.plan": "✍️ 填写整改方案",
    "rectify.btn.accept": "✅ 同意方案",
    "rectify.btn.return": "↩️ 退回修改",
    "rectify.btn.submit": "📤 提交审核",
    "rectify.btn.redo": "✏️ 重新填写",
    # the plan conversation
    "rectify.ask_goals": (
        "正在为「{name}」填写第 {round} 轮整改方案，共三步。\n\n"
        "第 1 步：请写下整改目标（要达到什么效果）。\n（随时发送 /cancel 退出）"
    ),
    "rectify.ask_goals.returned": "上次方案被退回，意见：{comment}",
    "rectify.previous": "上一版是：\n{value}\n\n点“沿用上一版”保留；要修改，可以复制上面的文字改好后发送。",
    "rectify.btn.keep": "↩️ 沿用上一版",
    "rectify.ask_measures": "第 2 步：请写下整改措施（具体怎么做）。",
    "rectify.ask_deadline": (
        "第 3 步：请写下完成时限，例如 2026-12-31、12月31日、3个月后。\n到期后会组织复评。"
    ),
    "rectify.preview": "请核对整改方案：\n\n{plan}\n\n确认无误请点“提交审核”。",
    "rectify.card": (
        "【整改方案】{name}（第 {round} 轮，{status}）\n"
        "整改目标：{goals}\n整改措施：{measures}\n完成时限：{deadline}"
    ),
    "rectify.submitted": "📤 整改方案已提交，审核结果会通知您。",
    "rectify.submitted.nobody": "📤 整改方案已提交。审核人还没有绑定账号，绑定后可以在 /rectify 中看到。",
    "rectify.cancelled": "已退出，方案没有提交。需要时点“填写整改方案”或发送 /rectify 重新开始。",
    "rectify.timeout": "整改方案填写超时，已退出，方案没有提交。发送 /rectify 可以重新开始。",
    "rectify.use_buttons": "请点上面的按钮提交或重新填写。",
    "rectify.goals.empty": "整改目标不能为空，请写一写要达到什么效果。",
    "rectify.goals.too_long": "整改目标太长了（{length} 字），请控制在 {limit} 字以内。",
    "rectify.measures.empty": "整改措施不能为空，请写一写具体怎么做。",
    "rectify.measures.too_long": "整改措施太长了（{length} 字），请控制在 {limit} 字以内。",
    "rectify.comment.empty": "退回意见不能为空，请写明需要怎样修改。",
    "rectify.comment.too_long": "退回意见太长了（{length} 字），请控制在 {limit} 字以内。",
    "rectify.deadline.too_soon": "完成时限要在今天以后，请给整改留出时间。",
    "rectify.deadline.too_far": "完成时限太远了，请定在 {days} 天以内。",
    "rectify.text_only": "请用文字回复。",
    # deciding
    "rectify.submitted.acceptor": "📥 收到整改方案，请审核：\n\n{plan}{result}",
    "rectify.card.result": "\n（{when} 群众评议满意度 {rate}，合格线 {mark}）",
    "rectify.ask_comment": "请写下退回意见（需要怎样修改），发送 /cancel 取消。",
    "rectify.done.accepted": "✅ 已同意「{name}」的整改方案。到期后会自动组织复评。",
    "rectify.done.accepted_short": "已同意",
    "rectify.done.returned": "↩️ 已退回「{name}」的整改方案，对方会收到您的意见。",
    "rectify.decide.cancelled": "已取消，方案仍在等待审核。",
    "rectify.accepted.subject": (
        "✅ 您的整改方案已由{reviewer}审核同意。请抓紧落实，{deadline} 到期后将组织复评。"
    ),
    "rectify.returned.subject": (
        "↩️ 您的整改方案被{reviewer}退回，意见：{comment}\n请修改后重新提交。"
    ),
    # refusals
    "rectify.not_found": "找不到这项整改，可能已经结束。请发送 /rectify 查看。",
    "rectify.not_yours": "这项整改方案应由本人（支部整改由支部书记）填写，您不能代为提交。",
    "rectify.not_acceptor": "您不是这项整改方案的审核人，不能审核。",
    "rectify.not_filable": "这项整改目前“{status}”，现在不能填写方案。",
    "rectify.already_decided": "这份方案已经处理过了（目前“{status}”），无需重复操作。",
    "rectify.stale": "方案已经更新，这个按钮失效了。请发送 /rectify 查看最新方案。",
    "rectify.wrong_state": "这项整改目前的状态不允许这样操作。",
    "rectify.residents": "群众代表不需要整改，谢谢您参加评议。",
    # states
    "rectify.status.due": "待提交方案",
    "rectify.status.submitted": "方案待审核",
    "rectify.status.returned": "方案被退回",
    "rectify.status.accepted": "整改中",
    "rectify.status.reevaluating": "复评中",
    "rectify.status.closed": "已闭环",
    "rectify.status.failed": "复评未通过",
    # /rectify
    "rectify.list.empty": "目前没有需要您处理的整改。",
    "rectify.list.title": "整改事项（{count} 项）：",
    "rectify.list.line": "{n}. {name}（第 {round} 轮）：{status}",
    "rectify.list.due_by": "   方案请于 {date} 前提交",
    "rectify.list.deadline": "   完成时限 {date}",
    "rectify.list.more": "（另有 {count} 项未列出）",
    # reminders
    "rectify.remind.late": (
        "⏰ 整改方案还没有提交（应于 {due} 前提交，已过 {days} 天）。请点下面的按钮填写。"
    ),
    "rectify.remind.late_acceptor": "⏰ 「{name}」的整改方案应于 {due} 前提交，至今未提交（已过 {days} 天）。",
    "rectify.remind.waiting": "⏰ 「{name}」的整改方案已提交 {days} 天，还在等待您审核：\n\n{plan}",
    "rectify.remind.soon": "⏰ 整改完成时限还有 {days} 天（{deadline}），到期后将组织复评。",
    "rectify.remind.tomorrow": "⏰ 整改完成时限就在 {deadline}，到期后将组织复评，请做好准备。",
    # the re-evaluation and the end of the loop
    "rectify.reevaluation.opened": (
        "🗳 「{name}」的整改到期，复评已开始，{closes} 截止。参评人员与上次相同。"
    ),
    "rectify.reevaluation.inconclusive": "「{name}」的复评有效票不足 5 票，无法判定，将重新组织复评。",
    "rectify.reevaluation.void": "「{name}」的复评参评人数不足，结果无效；已自动重新组织复评。",
    "rectify.closed.board": "📢 {name}整改完成：复评群众满意度 {rate}，达到 {mark} 的合格线。感谢大家的监督！",
    "rectify.closed.subject": "🎉 复评满意度 {rate}，达到 {mark} 的合格线，整改已闭环。谢谢您的努力！",
    "rectify.closed.others": "🎉 「{name}」复评满意度 {rate}，达到 {mark} 的合格线，整改已闭环。",
    "rectify.failed.acceptor": (
        "「{name}」复评满意度 {rate}，仍低于 {mark}，已开始第 {round} 轮整改。"
    ),
}

EN: dict[str, str] = {
    "cmd.rectify": "Rectification plans and re-evaluation",
    "rectify.opened.member": (
        "📋 Mass evaluation result: your satisfaction is {rate}, below the {mark} pass mark, "
        "so a rectification is needed.\nPlease file a rectification plan (goals, measures, "
        "deadline) by {due}; {reviewer} reviews it."
    ),
    "rectify.opened.branch": (
        "📋 Mass evaluation result: {name} has {rate} satisfaction, below the {mark} pass "
        "mark, so a rectification is needed.\nPlease file a rectification plan (goals, "
        "measures, deadline) by {due}; {reviewer} reviews it."
    ),
    "rectify.opened.again": (
        "📋 Re-evaluation result: {name} has {rate} satisfaction, still below the {mark} pass "
        "mark.\nRound {round} of rectification: please file a new plan by {due}; {reviewer} "
        "reviews it."
    ),
    "rectify.reviewer.secretary": "your branch secretary",
    "rectify.reviewer.committee": "the upper committee",
    "rectify.opened.proxy": (
        "📋 Mass evaluation result: {name} (an oral pledger) has {rate} satisfaction, below the "
        "{mark} pass mark.\nPlease agree a rectification plan with {name} and file it for "
        "them by {due}; {reviewer} reviews it."
    ),
    "rectify.accepted.proxy": (
        "✅ The plan of {name} was accepted by {reviewer}; a re-evaluation follows its "
        "deadline, {deadline}."
    ),
    "rectify.returned.proxy": (
        "↩️ The plan of {name} was sent back by {reviewer}: {comment}\nPlease revise it with "
        "{name} and submit again."
    ),
    "rectify.remind.late.proxy": (
        "⏰ The rectification plan of {name} is overdue (due {due}, {days:# day|# days} ago). "
        "Tap below to write it for them."
    ),
    "rectify.remind.soon.proxy": (
        "⏰ {days:# day|# days} left to the rectification deadline of {name} ({deadline}); a "
        "re-evaluation follows."
    ),
    "rectify.remind.tomorrow.proxy": (
        "⏰ The rectification deadline of {name} is {deadline}; the re-evaluation follows."
    ),
    "rectify.btn.plan": "✍️ Write the plan",
    "rectify.btn.accept": "✅ Accept",
    "rectify.btn.return": "↩️ Send back",
    "rectify.btn.submit": "📤 Submit",
    "rectify.btn.redo": "✏️ Start over",
    "rectify.ask_goals": (
        "Rectification plan for “{name}”, round {round}, in three steps.\n\n"
        "Step 1: what are the goals (what should be achieved)?\n(/cancel to stop at any time)"
    ),
    "rectify.ask_goals.returned": "Your last plan was sent back: {comment}",
    "rectify.previous": "The previous version:\n{value}\n\nTap “Keep it” to keep it, or copy the text above, edit it and send it.",
    "rectify.btn.keep": "↩️ Keep it",
    "rectify.ask_measures": "Step 2: what are the measures (what exactly will be done)?",
    "rectify.ask_deadline": (
        "Step 3: by when? For example 2026-12-31, 12/31, in 3 months.\n"
        "A re-evaluation follows the deadline."
    ),
    "rectify.preview": "Please check the plan:\n\n{plan}\n\nTap “Submit” if it is right.",
    "rectify.card": (
        "[Rectification plan] {name} (round {round}, {status})\n"
        "Goals: {goals}\nMeasures: {measures}\nDeadline: {deadline}"
    ),
    "rectify.submitted": "📤 Plan submitted. You will be told the decision.",
    "rectify.submitted.nobody": (
        "📤 Plan submitted. The reviewer has not joined the bot yet; they will find it in "
        "/rectify once they do."
    ),
    "rectify.cancelled": "Stopped; the plan was not submitted. Tap “Write the plan” or send "
    "/rectify to start again.",
    "rectify.timeout": "The plan was left unfinished and was not submitted. Send /rectify to "
    "start again.",
    "rectify.use_buttons": "Please use the buttons above to submit or start over.",
    "rectify.goals.empty": "The goals cannot be empty; what should be achieved?",
    "rectify.goals.too_long": "The goals are too long ({length:# character|# characters}); at most {limit}.",
    "rectify.measures.empty": "The measures cannot be empty; what will be done?",
    "rectify.measures.too_long": (
        "The measures are too long ({length:# character|# characters}); at most {limit}."
    ),
    "rectify.comment.empty": "The comment cannot be empty; say what should change.",
    "rectify.comment.too_long": "The comment is too long ({length:# character|# characters}); at most {limit}.",
    "rectify.deadline.too_soon": "The deadline must be after today; allow time to rectify.",
    "rectify.deadline.too_far": "That deadline is too far away; at most {days:# day|# days} ahead.",
    "rectify.text_only": "Please answer in text.",
    "rectify.submitted.acceptor": "📥 A rectification plan to review:\n\n{plan}{result}",
    "rectify.card.result": "\n(mass evaluation of {when}: {rate} satisfaction, pass mark {mark})",
    "rectify.ask_comment": "Please write why it is sent back (what should change), or /cancel.",
    "rectify.done.accepted": (
        "✅ You accepted the plan of “{name}”. A re-evaluation will follow its deadline."
    ),
    "rectify.done.accepted_short": "Accepted",
    "rectify.done.returned": "↩️ The plan of “{name}” was sent back with your comment.",
    "rectify.decide.cancelled": "Cancelled; the plan still waits for review.",
    "rectify.accepted.subject": (
        "✅ Your rectification plan was accepted by {reviewer}. Please carry it out; a "
        "re-evaluation follows its deadline, {deadline}."
    ),
    "rectify.returned.subject": (
        "↩️ Your rectification plan was sent back by {reviewer}: {comment}\n"
        "Please revise it and submit again."
    ),
    "rectify.not_found": "This rectification was not found; it may have ended. See /rectify.",
    "rectify.not_yours": (
        "This plan must be filed by the person concerned (a branch's by its secretary); "
        "you cannot file it."
    ),
    "rectify.not_acceptor": "You are not the reviewer of this rectification plan.",
    "rectify.not_filable": "This rectification is “{status}”; a plan cannot be written now.",
    "rectify.already_decided": "This plan was already decided (now “{status}”).",
    "rectify.stale": "The plan has changed; this button is out of date. See /rectify.",
    "rectify.wrong_state": "This rectification cannot do that in its current state.",
    "rectify.residents": "Residents do not rectify; thank you for taking part in the evaluation.",
    "rectify.status.due": "plan awaited",
    "rectify.status.submitted": "plan under review",
    "rectify.status.returned": "plan sent back",
    "rectify.status.accepted": "rectifying",
    "rectify.status.reevaluating": "being re-evaluated",
    "rectify.status.closed": "closed",
    "rectify.status.failed": "re-evaluation failed",
    "rectify.list.empty": "No rectifications need you at the moment.",
    "rectify.list.title": "Rectifications ({count}):",
    "rectify.list.line": "{n}. {name} (round {round}): {status}",
    "rectify.list.due_by": "   plan due by {date}",
    "rectify.list.deadline": "   deadline {date}",
    "rectify.list.more": "({count} more not listed)",
    "rectify.remind.late": (
        "⏰ Your rectification plan is overdue (due {due}, {days:# day|# days} ago). Tap below to "
        "write it."
    ),
    "rectify.remind.late_acceptor": (
        "⏰ The rectification plan of “{name}” was due {due} and is still not filed "
        "({days:# day|# days} late)."
    ),
    "rectify.remind.waiting": (
        "⏰ The rectification plan of “{name}” has waited {days:# day|# days} for your review:\n\n{plan}"
    ),
    "rectify.remind.soon": (
        "⏰ {days:# day|# days} left to the rectification deadline ({deadline}); a re-evaluation follows."
    ),
    "rectify.remind.tomorrow": (
        "⏰ The rectification deadline is {deadline}; the re-evaluation follows. Be ready."
    ),
    "rectify.reevaluation.opened": (
        "🗳 The rectification of “{name}” reached its deadline: the re-evaluation is open "
        "until {closes}, with the same participants as before."
    ),
    "rectify.reevaluation.inconclusive": (
        "The re-evaluation of “{name}” had fewer than 5 valid votes for it and cannot be "
        "judged; another re-evaluation will be held."
    ),
    "rectify.reevaluation.void": (
        "The re-evaluation of “{name}” missed its quorum and did not count; another one is "
        "being held."
    ),
    "rectify.closed.board": (
        "📢 {name} has completed its rectification: satisfaction in the re-evaluation {rate}, "
        "reaching the {mark} pass mark. Thank you for keeping watch!"
    ),
    "rectify.closed.subject": (
        "🎉 Re-evaluation satisfaction {rate} reaches the {mark} pass mark: the rectification "
        "is closed. Thank you for your work!"
    ),
    "rectify.closed.others": (
        "🎉 “{name}” reached {rate} satisfaction in the re-evaluation (pass mark {mark}): the "
        "rectification is closed."
    ),
    "rectify.failed.acceptor": (
        "“{name}” had {rate} satisfaction in the re-evaluation, still below {mark}; round "
        "{round} of rectification has begun."
    ),
}
