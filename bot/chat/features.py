"""The features buttons name (an Action's first part), kept in one place so none collide.

They are short because channels carry them in small keys (Telegram's callback data holds 64
bytes), and they never change: buttons already sent carry them.
"""

from __future__ import annotations

DRAFT = "pd"  # drafting a pledge (定诺)
REVIEW = "rv"  # reviewing a pledge (审诺)
LANG = "lg"  # /lang
LEADER_REVIEW = "lr"  # leader review (领导点评) and the rectification statement
RESIDENT_PHONE = "rp"  # a resident asks for the share-contact keyboard
EVALUATION = "ev"  # mass evaluation (群众评议)
RECTIFY = "rc"  # rectification (整改)
RANKING = "rk"  # rankings (上评下议)
AWARDS = "aw"  # organisational selection (组织评选)
ASSESS = "as"  # year-end assessment (年度考评)
STATS = "st"  # statistics and charts (/stats): st:o:<org id> picks an organisation
EXPORTS = "ex"  # exports (/export): tables, ledger, letters, statistics form
SUGGEST = "sg"  # residents' suggestions (调研提诺): /suggest and /suggestions
PROGRESS = "pg"  # fulfilment progress (践诺): pg:<action>:<id>
LEDGER = "ld"  # the ledger (台账): ld:b:<org>:<page>[:<district page>] and ld:d:<page>
BROADCAST = "bc"  # broadcast notices (通知): bc:<action>:<args>
