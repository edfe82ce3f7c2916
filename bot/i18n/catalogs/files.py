"""Strings of files people send (photos and documents kept by Jiannuo)."""

ZH: dict[str, str] = {
    "files.receive_failed": "😕 这个文件没能收下来（网络或 Telegram 暂时出了问题），没有保存。请稍后重新发送一次。",
}

EN: dict[str, str] = {
    "files.receive_failed": "😕 This file could not be received (a network or Telegram problem) and was not kept. Please send it again in a moment.",
}
