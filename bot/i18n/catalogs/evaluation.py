"""Strings of mass evaluation (群众评议): opening, ballots, turnout, reminders, results."""

ZH: dict[str, str] = {
    "cmd.evaluate": "发起群众评议",
    "cmd.evaluations": "群众评议情况（投票进度、结果）",
    # opening: /evaluate
    "ev.pick_branch": "请选择要评议的支部：",
    "ev.pick_kind": "【{org}】群众评议\n请选择评议对象：",
    "ev.kind.branch": "评议支部（{org}）",
    "ev.kind.members": "逐一评议每名党员",
    "ev.ask_time": (
        "请发送投票截止时间，例如：\n"
        "· 3天后\n· 2小时后（当场评议）\n· 10月1日\n· 2026-10-01 18:00\n"
        "只写日期的，当天 20:00 截止。（发送 /cancel 退出）"
    ),
    "ev.ask_quorum": (
        "截止时间：{closes}\n\n"
        "参评人员共 {count} 人（党员 {members} 人，群众代表 {residents} 人）。\n"
        "按规定，本支部至少要有 {quorum} 人参加投票评议才有效（{rule}）。\n"
        "使用这个人数，请点下面的按钮；要改，请直接发送人数（低于 {quorum} 人要说明原因）。"
    ),
    "ev.ask_quorum.short": (
        "截止时间：{closes}\n\n"
        "参评人员共 {count} 人（党员 {members} 人，群众代表 {residents} 人）。\n"
        "按规定，本支部至少要有 {quorum} 人参加投票评议才有效（{rule}），"
        "但名册上只有 {count} 人。\n"
        "可以这样办：\n"
        "· 请管理员在人员名单里为本支部补充群众代表（角色填“群众”），导入并邀请他们加入后，"
        "再发起评议；\n"
        "· 或者现在就发起：发送一个较低的有效人数（1 到 {count}），下一步说明原因，"
        "原因会写进评议结果。\n"
        "（发送 /cancel 退出）"
    ),
    "ev.quorum.rule": (
        "乡镇、村、社区、机关等党组织 {default} 人，非公企业和社会组织 {small} 人，"
        "党员和群众代表都算"
    ),
    "ev.ask_reason": (
        "有效人数 {quorum} 人低于规定的 {rule} 人。请用一句话说明原因"
        "（例如“支部名册上只有9人”），原因会写进评议结果。"
    ),
    "ev.quorum.reason_empty": "请用一句话写下原因，例如“支部名册上只有9人”。",
    "ev.quorum.reason_long": "原因太长了，请在 {limit} 个字以内。",
    "ev.quorum.reason_needed": "有效人数低于规定的 {rule} 人时，需要说明原因。请重新发送 /evaluate。",
    "ev.btn.keep_quorum": "✅ 至少 {quorum} 人",
    "ev.quorum.not_number": "请发送一个数字，例如 30。",
    "ev.preview": (
        "请核对群众评议：\n"
        "支部：{org}\n"
        "评议对象：{kind}\n"
        "参评人员：{count} 人（党员 {members} 人，群众代表 {residents} 人），{reach}\n"
        "{quorum_line}\n"
        "截止时间：{closes}\n"
        "满意率 = （满意 + 基本满意）÷ 有效票，达到 {mark} 为合格。\n"
        "投票保密：书记和其他任何人都看不到谁投了什么。选票上 Telegram 标的“公开投票”，"
        "只表示机器人知道是谁投的（用来核对参评名单）。"
    ),
    "ev.preview.reach.all": "都已绑定，会马上收到选票",
    "ev.preview.reach.some": "其中 {reachable} 人已绑定，会马上收到选票；其余 {later} 人绑定后收到",
    "ev.preview.quorum": "有效人数：至少 {quorum} 人投票",
    "ev.preview.quorum_below": "有效人数：至少 {quorum} 人投票（低于规定的 {rule} 人，原因：{reason}）",
    "ev.preview.kind.branch": "支部整体",
    "ev.preview.kind.members": "每名党员（{count} 人）",
    "ev.btn.confirm": "✅ 确认发起",
    "ev.btn.cancel": "取消",
    "ev.opened": "✅ 群众评议已发起，选票正在发给 {reachable} 人。发送 /evaluations 查看投票进度。",
    "ev.cancelled": "已取消，没有发起评议。",
    "ev.expired": "这一步已经过时，请重新发送 /evaluate。",
    # refusals
    "ev.time.unparsable": "没有看懂这个时间。请写成“3天后”“10月1日”或“2026-10-01 18:00”。",
    "ev.time.past": "截止时间必须在至少10分钟以后，请重新发送。",
    "ev.time.too_far": "截止时间太远了，请在 {days} 天以内。",
    "ev.no_branch": "您管理的组织下面没有可以评议的支部。",
    "ev.not_your_branch": "您不能管理这个支部的群众评议。",
    "ev.nobody": "这个支部的名册上还没有党员和群众代表，无法评议。",
    "ev.no_members": "这个支部的名册上还没有党员，无法逐一评议党员。",
    "ev.too_many_subjects": "党员有 {count} 人，一次最多逐一评议 {limit} 人。请改为评议支部整体。",
    "ev.quorum.range": "参评人员只有 {count} 人，有效人数 {quorum} 不合适。请发送 1 到 {count} 之间的数字。",
    "ev.already_open": "这个支部已经有一场同类的群众评议正在进行，请等它结束后再发起（发送 /evaluations 查看进度或提前结束）；也可以重新发送 /evaluate，改选另一种评议对象。",
    "ev.gone": "找不到这场评议，可能已被删除。",
    "ev.no_subjects": "没有需要再次评议的对象。",
    "ev.not_void": "只有因人数不足而无效的评议才能重新安排。",
    "ev.already_closed": "这场评议已经结束了。",
    # ballots
    "ev.ballot.intro": (
        "🗳 【{org}】群众评议\n"
        "请在下面 {count} 张选票中分别选择：满意、基本满意或不满意。截止前可以随时改选或撤回。\n\n"
        "谁能看到什么：\n"
        "· 选票上 Telegram 标着“公开投票”，意思只是本机器人知道是谁投的票，"
        "用来核对您在参评名单上、防止转发代投；\n"
        "· 书记、党员和其他任何人都看不到您选了什么。机器人保存选择时不记姓名，只记一个加密编号，"
        "结果只公布汇总（不足 5 票不公布）；\n"
        "· 每张选票只发给您一人，投票后显示的“100% · 1 人已投票”只是您自己这一票，不是全体结果。"
    ),
    "ev.ballot.question": "【{org}】群众评议：您对“{subject}”满意吗？",
    "ev.choice.satisfied": "满意",
    "ev.choice.basic": "基本满意",
    "ev.choice.unsatisfied": "不满意",
    "ev.vote.closed": "这场群众评议已经截止，您刚才的投票不计入结果。",
    "ev.vote.not_yours": "这张选票是发给别人的（转发来的），投票不计入。请在机器人直接发给您的选票上投票。",
    "ev.vote.not_listed": "您不在这场群众评议的参评名单上，投票不计入。如有疑问，请联系支部书记。",
    "ev.vote.unconfirmed": "已收到您的选择。您的手机号还没有确认：请点下面的按钮（或发送 /phone）确认，确认后您在这场评议中投的票才计入结果（截止前确认即可，不用重新投票）。",
    "ev.remind": "⏰ 【{org}】群众评议将于 {closes} 截止，您还没有投票。请往上翻，在选票上点选即可。",
    # turnout in the board group
    "ev.turnout.open": "🗳 【{org}】群众评议进行中\n已投票：{voted} / {total} 人\n{quorum_line}\n截止：{closes}",
    "ev.turnout.quorum_met": "✅ 已达到有效人数（{quorum} 人）",
    "ev.turnout.quorum_short": "有效人数 {quorum} 人，还差 {missing} 人",
    "ev.turnout.closed": "🗳 【{org}】群众评议已结束：{voted} / {total} 人投票。结果见下方。",
    "ev.turnout.void": "🗳 【{org}】群众评议已结束：{voted} / {total} 人投票，人数不足，评议无效。",
    "ev.turnout.cancelled": "🗳 【{org}】群众评议已取消。",
    # results
    "ev.result.title": (
        "📊 【{org}】群众评议结果\n"
        "投票人数：{voted} / {total} 人（有效人数 {quorum} 人，已达到）\n"
        "满意率 = （满意 + 基本满意）÷ 有效票，{mark} 为合格线"
    ),
    "ev.result.reason": "低于规定人数的原因：{reason}",
    "ev.result.line": "{name}：满意 {satisfied}，基本满意 {basic}，不满意 {unsatisfied}，满意率 {rate}（{verdict}）",
    "ev.result.pass": "合格",
    "ev.result.fail": "未达到，需整改",
    "ev.result.hidden": "{name}：票数不足{min}票，不公布",
    "ev.result.subject": "📊 【{org}】群众评议结果\n{line}",
    "ev.chart.title": "{org} 群众评议满意率",
    "ev.chart.caption": "【{org}】群众评议结果图",
    "ev.void.opener": (
        "⚠️ 【{org}】群众评议已截止，但只有 {voted} / {total} 人投票，"
        "没有达到 {quorum} 人，评议无效。\n请点下面的按钮重新安排截止时间。"
    ),
    "ev.void.board": "⚠️ 【{org}】群众评议只有 {voted} 人投票，没有达到 {quorum} 人，评议无效，将另行安排。",
    "ev.btn.reschedule": "🔁 重新安排评议",
    "ev.ask_reschedule": "请发送新的投票截止时间（例如“3天后”“10月1日 18:00”）。原来的参评名单和规则不变。",
    "ev.rescheduled": "✅ 已重新发起评议，截止时间 {closes}。选票正在发给参评人员。",
    # /evaluations
    "ev.list.empty": "还没有群众评议。发送 /evaluate 发起一场。",
    "ev.list.title": "群众评议（点一项查看）：",
    "ev.list.item": "{status} {org} {date}",
    "ev.status.open": "🗳 进行中",
    "ev.status.closed": "📊 已结束",
    "ev.status.void": "⚠️ 无效",
    "ev.status.cancelled": "已取消",
    "ev.show": (
        "【{org}】群众评议（{status}）\n"
        "评议对象：{kind}\n"
        "投票：{voted} / {total} 人，有效人数 {quorum} 人\n"
        "截止：{closes}"
    ),
    "ev.btn.non_voters": "📋 未投票名单",
    "ev.btn.close": "⏹ 提前结束",
    "ev.btn.close_yes": "确认结束并计票",
    "ev.btn.close_no": "先不结束",
    "ev.btn.results": "📊 查看结果",
    "ev.confirm_close": "确定现在结束【{org}】的群众评议吗？已投 {voted} / {total} 人（有效人数 {quorum} 人）。结束后不能再投票。",
    "ev.closed_now": "已结束并计票，结果已发出。",
    "ev.close_kept": "好的，评议继续进行。",
    "ev.non_voters.title": "【{org}】还没有投票的 {count} 人（只显示是否投票，不显示投了什么）：",
    "ev.non_voters.held": "已投票、但手机号还没有确认的 {count} 人（确认后才计入，请提醒他们发送 /phone）：",
    "ev.non_voters.unconfirmed": "（手机号未确认）",
    "ev.non_voters.none": "【{org}】参评人员都已投票。",
    "ev.non_voters.unbound": "（未绑定）",
    "ev.results.not_yet": "评议还在进行，截止后才公布结果（只公布汇总，不公布个人投票）。",
}

EN: dict[str, str] = {
    "cmd.evaluate": "open a mass evaluation",
    "cmd.evaluations": "mass evaluations (turnout, results)",
    "ev.pick_branch": "Which branch is to be evaluated?",
    "ev.pick_kind": "[{org}] mass evaluation\nWhat is evaluated?",
    "ev.kind.branch": "The branch ({org})",
    "ev.kind.members": "Each member, one by one",
    "ev.ask_time": (
        "Send the closing time, for example:\n"
        "· in 3 days\n· in 2 hours (at a meeting)\n· 2026-10-01\n· 2026-10-01 18:00\n"
        "A date alone closes at 20:00. (/cancel to leave)"
    ),
    "ev.ask_quorum": (
        "Closes: {closes}\n\n"
        "Participants: {count} ({members:# member|# members}, "
        "{residents:# resident representative|# resident representatives}).\n"
        "By the rules, at least {quorum} must vote for the evaluation to be valid ({rule}).\n"
        "Tap the button to keep this number, or send another one (below {quorum}, you give "
        "the reason)."
    ),
    "ev.ask_quorum.short": (
        "Closes: {closes}\n\n"
        "Participants: {count} ({members:# member|# members}, "
        "{residents:# resident representative|# resident representatives}).\n"
        "By the rules, at least {quorum} must vote for the evaluation to be valid ({rule}), "
        "but this branch has only {count} on its roster.\n"
        "You can:\n"
        "· ask the administrator to add resident representatives to the branch's roster "
        "(role “resident”), import it and invite them, then open the evaluation;\n"
        "· or open it now with a lower quorum: send a number from 1 to {count}, then give the "
        "reason; the reason is shown with the results.\n"
        "(/cancel to leave)"
    ),
    "ev.quorum.rule": (
        "township, village, community and government-organ branches: {default}; non-public "
        "enterprises and social organisations: {small}; members and resident representatives "
        "both count"
    ),
    "ev.ask_reason": (
        "A quorum of {quorum} is below the rule's {rule}. Please give the reason in one sentence "
        "(e.g. “only 9 people on the roster”); it is shown with the results."
    ),
    "ev.quorum.reason_empty": "Please write the reason in a sentence, e.g. “only 9 people on the roster”.",
    "ev.quorum.reason_long": "The reason is too long; please keep it within {limit:# character|# characters}.",
    "ev.quorum.reason_needed": "A quorum below the rule's ({rule}) needs a reason. Please send /evaluate again.",
    "ev.btn.keep_quorum": "✅ At least {quorum}",
    "ev.quorum.not_number": "Please send a number, e.g. 30.",
    "ev.preview": (
        "Please check the mass evaluation:\n"
        "Branch: {org}\n"
        "Evaluated: {kind}\n"
        "Participants: {count} ({members:# member|# members}, "
        "{residents:# resident representative|# resident representatives}); {reach}\n"
        "{quorum_line}\n"
        "Closes: {closes}\n"
        "Satisfaction = (satisfied + basically satisfied) / valid votes; {mark} passes.\n"
        "The ballot is secret: nobody, the secretary included, sees who chose what. Telegram's "
        "“public poll” label on the ballots only means the bot knows who voted (to check the list)."
    ),
    "ev.preview.reach.all": "all have joined the bot and get the ballot now",
    "ev.preview.reach.some": (
        "{reachable:# has joined the bot and gets|# have joined the bot and get} the ballot now, "
        "the other {later} when they join"
    ),
    "ev.preview.quorum": "Valid with at least {quorum:# voter|# voters}",
    "ev.preview.quorum_below": "Valid with at least {quorum:# voter|# voters} (below the rule's {rule}; reason: {reason})",
    "ev.preview.kind.branch": "the branch as a whole",
    "ev.preview.kind.members": "each member ({count})",
    "ev.btn.confirm": "✅ Open it",
    "ev.btn.cancel": "Cancel",
    "ev.opened": "✅ The mass evaluation is open; ballots are going to {reachable:# person|# people}. Send /evaluations for the turnout.",
    "ev.cancelled": "Cancelled; nothing was opened.",
    "ev.expired": "This step is out of date; please send /evaluate again.",
    "ev.time.unparsable": "I could not read that time. Write e.g. 'in 3 days', '2026-10-01' or '2026-10-01 18:00'.",
    "ev.time.past": "The closing time must be at least 10 minutes from now; please send it again.",
    "ev.time.too_far": "That is too far ahead; please choose a time within {days:# day|# days}.",
    "ev.no_branch": "There is no branch under your organisation to evaluate.",
    "ev.not_your_branch": "You cannot manage mass evaluations of this branch.",
    "ev.nobody": "This branch has no members or resident representatives on its roster yet.",
    "ev.no_members": "This branch has no members on its roster yet, so they cannot be evaluated one by one.",
    "ev.too_many_subjects": "The branch has {count:# member|# members}; at most {limit} can be evaluated one by one. Evaluate the branch as a whole instead.",
    "ev.quorum.range": "There are only {count:# participant|# participants}; {quorum} does not fit. Send a number from 1 to {count}.",
    "ev.already_open": "An evaluation of this kind is already running for this branch; wait until it closes (send /evaluations for its turnout, or to close it early), or send /evaluate again and choose the other kind.",
    "ev.gone": "This evaluation cannot be found; it may have been deleted.",
    "ev.no_subjects": "Nothing is left to evaluate again.",
    "ev.not_void": "Only an evaluation made void by too few voters can be rescheduled.",
    "ev.already_closed": "This evaluation has already closed.",
    "ev.ballot.intro": (
        "🗳 [{org}] mass evaluation\n"
        "{count:In the ballot|In each of the # ballots} below choose: satisfied, basically "
        "satisfied or dissatisfied. You may change or retract your choice until it closes.\n\n"
        "Who sees what:\n"
        "· Telegram's “public poll” label only means that this bot knows who voted, to check "
        "that you are on the list and that nobody votes on a forwarded ballot;\n"
        "· nobody, the secretary and members included, sees what you chose. The bot stores a "
        "choice with a coded number, not your name, and publishes totals only (none below 5 "
        "votes);\n"
        "· each ballot is sent to you alone: the “100% · 1 vote” shown after voting is your own "
        "vote, not the overall result."
    ),
    "ev.ballot.question": "[{org}] mass evaluation: are you satisfied with “{subject}”?",
    "ev.choice.satisfied": "Satisfied",
    "ev.choice.basic": "Basically satisfied",
    "ev.choice.unsatisfied": "Dissatisfied",
    "ev.vote.closed": "This mass evaluation has closed; your vote was not counted.",
    "ev.vote.not_yours": "This ballot was sent to someone else (it was forwarded); your vote was not counted. Please vote on the ballot the bot sent you.",
    "ev.vote.not_listed": "You are not on this evaluation's list; your vote was not counted. Ask your branch secretary if this is wrong.",
    "ev.vote.unconfirmed": "Your choice is noted. Your phone number is not confirmed yet: tap the button below (or send /phone) to confirm it; your votes in this evaluation count once it is confirmed (before closing; no need to vote again).",
    "ev.remind": "⏰ The [{org}] mass evaluation closes {closes} and you have not voted yet. Scroll up and tap your choice in the ballots.",
    "ev.turnout.open": "🗳 [{org}] mass evaluation in progress\nVoted: {voted} / {total}\n{quorum_line}\nCloses: {closes}",
    "ev.turnout.quorum_met": "✅ Quorum reached ({quorum})",
    "ev.turnout.quorum_short": "Quorum {quorum}: {missing} more needed",
    "ev.turnout.closed": "🗳 [{org}] mass evaluation closed: {voted} / {total} voted. Results below.",
    "ev.turnout.void": "🗳 [{org}] mass evaluation closed: {voted} / {total} voted, too few; it is void.",
    "ev.turnout.cancelled": "🗳 [{org}] mass evaluation cancelled.",
    "ev.result.title": (
        "📊 [{org}] mass evaluation results\n"
        "Voted: {voted} / {total} (quorum {quorum}, reached)\n"
        "Satisfaction = (satisfied + basically satisfied) / valid votes; {mark} passes"
    ),
    "ev.result.reason": "Quorum below the rule's, because: {reason}",
    "ev.result.line": "{name}: satisfied {satisfied}, basically satisfied {basic}, dissatisfied {unsatisfied}, satisfaction {rate} ({verdict})",
    "ev.result.pass": "passed",
    "ev.result.fail": "below the mark, must rectify",
    "ev.result.hidden": "{name}: fewer than {min:# vote|# votes}, not published",
    "ev.result.subject": "📊 [{org}] mass evaluation result\n{line}",
    "ev.chart.title": "{org}: satisfaction",
    "ev.chart.caption": "[{org}] mass evaluation results",
    "ev.void.opener": (
        "⚠️ The [{org}] mass evaluation has closed, but only {voted} / {total} voted, fewer than "
        "{quorum}: it is void.\nTap the button to reschedule it."
    ),
    "ev.void.board": "⚠️ [{org}] mass evaluation: only {voted} voted, fewer than {quorum}; it is void and will be held again.",
    "ev.btn.reschedule": "🔁 Reschedule",
    "ev.ask_reschedule": "Send the new closing time (e.g. 'in 3 days', '2026-10-01 18:00'). The list and the rules stay the same.",
    "ev.rescheduled": "✅ The evaluation is open again, closing {closes}. Ballots are going out.",
    "ev.list.empty": "No mass evaluation yet. Send /evaluate to open one.",
    "ev.list.title": "Mass evaluations (tap one):",
    "ev.list.item": "{status} {org} {date}",
    "ev.status.open": "🗳 open",
    "ev.status.closed": "📊 closed",
    "ev.status.void": "⚠️ void",
    "ev.status.cancelled": "cancelled",
    "ev.show": (
        "[{org}] mass evaluation ({status})\n"
        "Evaluated: {kind}\n"
        "Voted: {voted} / {total}, quorum {quorum}\n"
        "Closes: {closes}"
    ),
    "ev.btn.non_voters": "📋 Who has not voted",
    "ev.btn.close": "⏹ Close now",
    "ev.btn.close_yes": "Close and count",
    "ev.btn.close_no": "Not yet",
    "ev.btn.results": "📊 Results",
    "ev.confirm_close": "Close the [{org}] mass evaluation now? {voted} of {total} voted so far (quorum {quorum}). Nobody can vote afterwards.",
    "ev.closed_now": "Closed and counted; the results have been sent.",
    "ev.close_kept": "All right, the evaluation goes on.",
    "ev.non_voters.title": "[{org}]: {count:# has|# have} not voted (whether, never how):",
    "ev.non_voters.held": "{count:# person voted but has|# people voted but have} not confirmed their phone yet (a vote counts once the phone is; remind them to send /phone):",
    "ev.non_voters.unconfirmed": " (phone not confirmed)",
    "ev.non_voters.none": "[{org}]: every participant has voted.",
    "ev.non_voters.unbound": "(not joined)",
    "ev.results.not_yet": "The evaluation is still open; results (totals only) come after it closes.",
}
