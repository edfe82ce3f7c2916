"""The channel-neutral chat contract between the core and the channel adapters.

The domain (``bot/domain``) and the dialogs (``handlers/``) speak only these terms: an
:class:`~bot.chat.actor.Actor` (the person acting, never a channel id), an
:class:`~bot.chat.actions.Action` carried by a :class:`~bot.chat.actions.Button` (feature,
action, arguments), and the inbound events and outbound intents defined beside them. Each
channel (``bot/channels/<name>/``) turns what arrives into these terms and renders them back
within its own limits. Nothing here imports a channel library.
"""
