"""Strings of a resident confirming their phone by sharing their contact."""

ZH: dict[str, str] = {
    "cmd.phone": "确认手机号（参加群众评议）",
    "resphone.ask": "📱 请确认您的手机号：点下面的“发送我的手机号”按钮即可。群众评议时，您的投票在手机号确认后才计入结果（先投了票的，确认后自动计入，不用重投）。",
    "resphone.btn.share": "📱 发送我的手机号",
    "resphone.btn.confirm": "📱 确认手机号",
    "resphone.evaluation": "🗳 本支部正在进行群众评议。请确认您的手机号：确认后您的投票才计入结果（已经投了的不用重投）。",
    "resphone.placeholder": "点下面的按钮发送手机号",
    "resphone.confirmed": "✅ 手机号已确认，谢谢！群众评议开始时，您会收到选票，您的投票会计入结果。",
    "resphone.confirmed.now": "✅ 手机号已确认，谢谢！",
    "resphone.ongoing.voted": "🗳 您在【{org}】群众评议中投的票，现在已经计入结果（{closes} 截止前还可以改选）。",
    "resphone.ongoing.vote": "🗳 【{org}】群众评议正在进行，{closes} 截止：请在机器人发给您的选票上投票。",
    "resphone.already": "您的手机号已经确认过了。",
    "resphone.not_resident": "只有群众代表参加评议投票前要确认手机号；党员和书记不需要确认手机号。",
    "resphone.not_own": "请点“发送我的手机号”按钮发送您本人的号码，不要转发别人的名片。",
    "resphone.mismatch": "您发送的号码（{phone}）和支部登记的不一致。请联系支部书记核对名单上的手机号，改好后再点按钮发送。",
}

EN: dict[str, str] = {
    "cmd.phone": "confirm my phone (to vote)",
    "resphone.ask": "📱 Please confirm your phone number: tap “share my phone number” below. In a mass evaluation your vote counts once your phone is confirmed (a vote cast before counts then; no need to vote again).",
    "resphone.btn.share": "📱 share my phone number",
    "resphone.btn.confirm": "📱 confirm my phone",
    "resphone.evaluation": "🗳 Your branch is holding a mass evaluation. Please confirm your phone number: your vote counts once it is confirmed (no need to vote again if you already have).",
    "resphone.placeholder": "tap the button below",
    "resphone.confirmed": "✅ Your phone number is confirmed, thank you! When a mass evaluation opens you get the ballot, and your vote counts.",
    "resphone.confirmed.now": "✅ Your phone number is confirmed, thank you!",
    "resphone.ongoing.voted": "🗳 Your vote in the [{org}] mass evaluation counts now (you may change it until {closes}).",
    "resphone.ongoing.vote": "🗳 The [{org}] mass evaluation is under way until {closes}: please vote on the ballot the bot sent you.",
    "resphone.already": "Your phone number is already confirmed.",
    "resphone.not_resident": "Only resident representatives confirm their phone number before voting; members and secretaries do not need to.",
    "resphone.not_own": "Please tap “share my phone number” to send your own number, not someone else's contact.",
    "resphone.mismatch": "The number you sent ({phone}) is not the one your branch registered. Ask your branch secretary to check the roster, then tap the button again.",
}
