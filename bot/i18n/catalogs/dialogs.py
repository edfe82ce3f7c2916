"""Strings every dialog shares (handlers/dialog.py) and the answers when no dialog is open."""

ZH: dict[str, str] = {
    # a command or another feature's button ended an open dialog: what is kept, how to go on
    "dialog.left.progress": "ℹ️ 已离开“记录进展”。已记下的进展都已保存；还没写完、没有发送的内容没有记录。要继续，请再发送 /progress。",
    "dialog.left.review_comment": "ℹ️ 已离开“退回修改”。这份承诺没有退回，仍在待审核；要退回，请在 /review 中再点“退回修改”。",
    "dialog.left.broadcast": "ℹ️ 已离开“发布通知”。通知没有发出；要发布，请重新发送 /broadcast。",
    "dialog.left.evaluation": "ℹ️ 已离开群众评议的设置。评议没有发起，截止时间也没有改动；要继续，请重新发送 /evaluate。",
    "dialog.left.rectify": "ℹ️ 已离开整改方案。没有写完的方案没有提交，退回意见也没有发出；发送 /rectify 可以重新开始。",
    "dialog.left.leader_review": "ℹ️ 已离开领导点评。没有确认发送的点评没有保存，没有写完的整改表态也没有发出；发送 /comment 或 /comments 可以重新开始。",
    "dialog.left.suggest": "ℹ️ 已离开“提建议”。建议没有提交；要提建议，请重新发送 /suggest。",
    # a dialog left waiting past its expiry (a dialog may say more: what of it is kept)
    "dialog.expired": "ℹ️ 您有一段时间没有操作，刚才的操作已经结束。已经保存的内容都还在；要继续，请重新发送命令。",
    # a step answered twice at once (two taps, two devices): the first answer stands
    "dialog.moved": "这一步刚刚已经回答过了，以先收到的回答为准。请看最新的消息继续。",
    # a message a step cannot use
    "dialog.wants_words": "这一步需要文字回答，我没法使用这条消息。请直接输入文字，或发送 /cancel 退出。",
    "dialog.wants_button": "这一步请点上面消息里的按钮选择，或发送 /cancel 退出。",
    # /pledge: an annual pledge outside the pledge window
    "draft.annual_closed": "⚠️ 现在不在公开承诺期内：下一个公开承诺期是 {start} 至 {end}，年度承诺只能在公开承诺期内提交。草稿可以先保存；现在就要提交，请选长期承诺或即时承诺（已写的事项都会保留，可随时点“更改承诺类型”）。",
    "draft.btn.change_horizon": "🔄 更改承诺类型",
    # /progress: a photo or file before the words
    "progress.evidence.kept_first": "📎 收到，这会作为证据附在这条进展上（已收到 {count} 个）。请再用文字写下做了什么、效果怎样。",
    # no dialog open
    "fallback.not_text": "现在没有需要这条消息的操作，它没有被保存。要给承诺事项附上照片或文件，请先发送 /progress 选择事项；其他操作请发送 /help 查看。",
    "fallback.group_command": "/{command} 请在与我的私聊中使用：点我的头像，再点“发消息”。",
}

EN: dict[str, str] = {
    "dialog.left.progress": "ℹ️ You left “record progress”. Progress already saved stays saved; anything not yet sent was not recorded. Send /progress to continue.",
    "dialog.left.review_comment": "ℹ️ You left “return for revision”. The pledge was not returned and still waits for review; to return it, tap “Return for revision” again in /review.",
    "dialog.left.broadcast": "ℹ️ You left “send a notice”. Nothing was sent; send /broadcast to start again.",
    "dialog.left.evaluation": "ℹ️ You left the evaluation set-up. No evaluation was opened and no closing time changed; send /evaluate to start again.",
    "dialog.left.rectify": "ℹ️ You left the rectification plan. An unfinished plan was not submitted and no send-back comment was sent; send /rectify to start again.",
    "dialog.left.leader_review": "ℹ️ You left the leader review. A review not confirmed was not saved and an unfinished statement was not sent; send /comment or /comments to start again.",
    "dialog.left.suggest": "ℹ️ You left “make a suggestion”. Nothing was submitted; send /suggest to start again.",
    "dialog.expired": "ℹ️ You have been away for a while, so what you were doing has ended. Everything already saved is kept; send the command again to go on.",
    "dialog.moved": "This step was just answered already; the first answer stands. Please go on from the latest message.",
    "dialog.wants_words": "This step needs a written answer; I cannot use this message. Please type your answer, or send /cancel to leave.",
    "dialog.wants_button": "Please tap one of the buttons in the message above, or send /cancel to leave.",
    "draft.annual_closed": "⚠️ This is outside the pledge period: the next pledge period runs from {start} to {end}, and annual pledges can only be submitted during it. The draft can be kept; to submit now, choose a long-term or instant pledge (the items you wrote stay; tap “Change the type” at any time).",
    "draft.btn.change_horizon": "🔄 Change the type",
    "progress.evidence.kept_first": "📎 Received; it will be attached to this progress entry as evidence ({count} so far). Now please write in words what was done and with what result.",
    "fallback.not_text": "Nothing in progress needs this message, so it was not kept. To add a photo or file to a pledge item, first send /progress and pick the item; send /help for everything else.",
    "fallback.group_command": "Please use /{command} in your private chat with me: tap my name, then “Send message”.",
}
