"""Telegram (python-telegram-bot): everything that knows Telegram lives under here."""
