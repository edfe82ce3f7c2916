"""Strings of a resident confirming their phone by sharing their contact."""

ZH: dict[str, str] = {
    "cmd.phone": "确认手机号（参加群众评议）",
    "resphone.ask": "📱 请确认您的手机号：点下面的“发送我的手机号”按钮即可。确认后才能参加群众评议投票。",
    "resphone.btn.share": "📱 发送我的手机号",
    "resphone.btn.confirm": "📱 确认手机号",
    "resphone.evaluation": "🗳 本支部正在进行群众评议。请先确认您的手机号，确认后就能收到投票。",
    "resphone.placeholder": "点下面的按钮发送手机号",
    "resphone.confirmed": "✅ 手机号已确认，谢谢！群众评议开始时，您会收到投票。",
    "resphone.already": "您的手机号已经确认过了。",
    "resphone.not_own": "请点“发送我的手机号”按钮发送您本人的号码，不要转发别人的名片。",
    "resphone.mismatch": "您发送的号码（{phone}）和支部登记的不一致。请联系支部书记核对名单上的手机号，改好后再点按钮发送。",
}

EN: dict[str, str] = {
    "cmd.phone": "confirm my phone (to vote)",
    "resphone.ask": "📱 Please confirm your phone number: tap “share my phone number” below. You can vote in mass evaluations once it is confirmed.",
    "resphone.btn.share": "📱 share my phone number",
    "resphone.btn.confirm": "📱 confirm my phone",
    "resphone.evaluation": "🗳 Your branch is holding a mass evaluation. Please confirm your phone number first; then you will get the ballot.",
    "resphone.placeholder": "tap the button below",
    "resphone.confirmed": "✅ Your phone number is confirmed, thank you! You will get the ballot when a mass evaluation opens.",
    "resphone.already": "Your phone number is already confirmed.",
    "resphone.not_own": "Please tap “share my phone number” to send your own number, not someone else's contact.",
    "resphone.mismatch": "The number you sent ({phone}) is not the one your branch registered. Ask your branch secretary to check the roster, then tap the button again.",
}
