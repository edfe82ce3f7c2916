"""Channel adapters: each turns what arrives into bot/chat events and renders what goes out."""
