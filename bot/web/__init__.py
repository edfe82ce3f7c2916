"""The public web board (网上晒): read-only pages served by the bot process."""
