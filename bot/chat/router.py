"""The router: which handler takes an inbound event (commands, actions by feature, dialog steps).

Handlers (``handlers/<feature>.py``) register on a :class:`Router`; the channel adapter hands
it every event with a :class:`Turn` (the services, the reply port, the person's dialogs as
read for this event). What every dialog shares is decided here once:

- ``/cancel`` ends the first open dialog (its ``cancel`` answers what is kept).
- Any other command, or a button of another feature, ends an open dialog and says so
  (``dialog.left.<name>``: what is kept, how to come back), then goes on to its feature; the
  dialog's own way back in (``resume``) and its own buttons end nothing. A dialog whose
  answers are stored as they come (``stays_open``) stays open underneath instead.
- A dialog left waiting past its expiry is ended, with a message that says what is kept.
- A message a step cannot use gets an answer that says what the step needs (``off_topic``).
- A refused action (DomainError) is told in the person's language; the step's dialog change
  is dropped with it, so the dialog stays where it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.chat.actions import Keyboard
from bot.chat.dialogs import DialogMoved, Dialogs, DialogState
from bot.chat.events import Command, Event, Joined, Pressed, Text
from bot.chat.replies import Replies
from bot.domain.enums import Role
from bot.domain.errors import DomainError
from bot.i18n import t

if TYPE_CHECKING:  # the services' wiring (bot/context.py); no channel term reaches here
    from bot.context import Services

NOTICE_LIMIT = 200  # a press's notice longer than this is also sent as a message
ANY_STEP = "*"
_WORDS = Text(
    channel="", account="", conversation="", private=True, update_key="", actor=None, text=""
)  # a sample, to ask a step whether it takes words

Handler = Callable[[Any, "Turn"], Awaitable[object]]


@dataclass
class Turn:
    """One event in hand: the services, how to answer, the sender's dialogs (None: an account
    bound to nobody), the moment it is handled and the language to answer in. While a handler
    runs, whatever it says goes out only after its dialog changes are stored: a crash never
    loses a step the person was told about."""

    svc: Services
    out: Replies
    dialogs: Dialogs | None
    now: datetime
    locale: str
    # Writes the dialog changes no effect has carried yet (the adapter's; None: nothing to do).
    save: Callable[[], Awaitable[None]] | None = None

    def dialog(self, spec: DialogSpec) -> Conversation:
        """The sender's dialog of this kind (open or not)."""
        if self.dialogs is None:
            raise DomainError("auth.not_registered")
        return Conversation(spec, self.dialogs)


class Conversation:
    """One dialog of the sender, as a step handler sees it."""

    def __init__(self, spec: DialogSpec, dialogs: Dialogs) -> None:
        self.spec = spec
        self._dialogs = dialogs

    @property
    def state(self) -> DialogState | None:
        """Where it stands (this event's changes included); None if it is not open."""
        return self._dialogs.get(self.spec.name)

    @property
    def step(self) -> str | None:
        """The step it waits at, None if it is not open."""
        state = self.state
        return state.step if state is not None else None

    @property
    def data(self) -> Mapping[str, Any]:
        """What it has gathered (empty if it is not open)."""
        state = self.state
        return state.data if state is not None else {}

    def go(self, step: str, **data: Any) -> None:
        """Open it or move it to ``step``, with ``data`` replacing what it had gathered. Written
        with the next writing unit of work of this event (the step's effect), or at its end."""
        self._dialogs.go(self.spec.name, step, data, self.spec.ttl)

    def end(self) -> None:
        """Close it."""
        self._dialogs.end(self.spec.name)


@dataclass
class DialogSpec:
    """A dialog's rules (see the module's docstring) and its step handlers.

    ``features``: the features whose buttons belong to it (it stays open); ``finishing``: the
    features whose buttons end it without a word (a decision made another way, or asked
    again); ``resume``: the command that comes back to it (without "/"); ``expired``: the
    catalog key said when it expired (default ``dialog.expired``); ``left``: said when
    another command ends it (default ``dialog.left.<name>``).
    """

    name: str
    resume: str
    ttl: timedelta
    features: frozenset[str] = frozenset()
    stays_open: bool = False
    finishing: frozenset[str] = frozenset()
    expired: str = ""
    left: str = ""
    steps: dict[tuple[str, type[Event]], Handler] = field(default_factory=dict)
    cancel_handler: Handler | None = None
    off_topic_handler: Handler | None = None

    def on(self, kind: type[Event], step: str = ANY_STEP) -> Callable[[Handler], Handler]:
        """Register the handler of ``kind`` (Text, FileSent, …) at ``step`` (default: any)."""

        def register(handler: Handler) -> Handler:
            self.steps[(step, kind)] = handler
            return handler

        return register

    def cancel(self, handler: Handler) -> Handler:
        """Register what /cancel answers (the router ends the dialog after it)."""
        self.cancel_handler = handler
        return handler

    def off_topic(self, handler: Handler) -> Handler:
        """Register the answer to a message no step handler takes."""
        self.off_topic_handler = handler
        return handler

    def handler_for(self, step: str, event: Event) -> Handler | None:
        """The handler of this event at this step."""
        for kind in type(event).__mro__:
            for key in ((step, kind), (ANY_STEP, kind)):
                if key in self.steps:
                    return self.steps[key]
        return None


@dataclass(frozen=True)
class Route:
    """A command's handler; ``private``: only in a one-to-one chat; ``unbound``: also for an
    account bound to nobody yet."""

    handler: Handler
    private: bool
    unbound: bool


class Router:
    """Commands, actions by feature and dialogs, registered by the handler modules."""

    def __init__(self) -> None:
        self.commands: dict[str, Route] = {}
        # (feature, action name) → handler; name None: every other action of the feature.
        self.actions: dict[tuple[str, str | None], Handler] = {}
        self.dialogs: list[DialogSpec] = []

    def command(
        self, name: str, *, private: bool = True, unbound: bool = False
    ) -> Callable[[Handler], Handler]:
        """Register the handler of ``/name``."""

        def register(handler: Handler) -> Handler:
            if name in self.commands:
                raise ValueError(f"/{name} is routed twice")
            self.commands[name] = Route(handler, private, unbound)
            return handler

        return register

    def action(self, feature: str, *names: str) -> Callable[[Handler], Handler]:
        """Register the handler of the actions ``names`` of ``feature`` (a pressed button);
        without names, of every action of the feature that has no handler of its own."""

        def register(handler: Handler) -> Handler:
            keys: list[tuple[str, str | None]] = [(feature, name) for name in names]
            for key in keys or [(feature, None)]:
                if key in self.actions:
                    raise ValueError(f"action {key} is routed twice")
                self.actions[key] = handler
            return handler

        return register

    def dialog(
        self,
        name: str,
        *,
        resume: str,
        ttl: timedelta,
        features: frozenset[str] = frozenset(),
        stays_open: bool = False,
        finishing: frozenset[str] = frozenset(),
        expired: str = "",
        left: str = "",
    ) -> DialogSpec:
        """Register a dialog; dialogs registered first take a message first."""
        spec = DialogSpec(
            name,
            resume,
            ttl,
            features,
            stays_open,
            finishing,
            expired or "dialog.expired",
            left or f"dialog.left.{name}",
        )
        self.dialogs.append(spec)
        return spec

    def include(self, other: Router) -> None:
        """Take another router's routes (one router per handler module)."""
        for name, route in other.commands.items():
            self.command(name, private=route.private, unbound=route.unbound)(route.handler)
        for (feature, action_name), handler in other.actions.items():
            self.action(feature, *([action_name] if action_name else []))(handler)
        self.dialogs.extend(other.dialogs)

    # ---- dispatch -----------------------------------------------------------------------

    async def before(self, event: Event, turn: Turn) -> None:
        """First, whoever takes the event: end expired dialogs (saying so), and the dialogs
        that a command or another feature's button leaves (saying what is kept)."""
        dialogs = turn.dialogs
        if dialogs is None:
            return
        command = _command_of(event)
        for spec in self._open(turn):
            state = dialogs.get(spec.name)
            if state is not None and state.expired(turn.now):
                dialogs.end(spec.name)
                if command != spec.resume:  # coming back to it says enough
                    await turn.out.reply(t(turn.locale, spec.expired))
        feature = event.action.feature if isinstance(event, Pressed) and event.action else None
        if command in (None, "cancel") and feature is None:
            return
        for spec in self._open(turn):
            if spec.stays_open or command == spec.resume or feature in spec.features:
                continue
            dialogs.end(spec.name)
            if feature not in spec.finishing:
                await turn.out.reply(t(turn.locale, spec.left))

    async def dispatch(self, event: Event, turn: Turn) -> bool:
        """Hand the event to its handler; False if nothing here takes it."""
        handler = self._handler_for(event, turn)
        if handler is None:
            return False
        if turn.dialogs is not None:
            turn.dialogs.checkpoint()  # what the event left (before) stays left
        said = turn.out
        if turn.save is not None:
            turn.out = _SavedFirst(said, turn.save)
        try:
            await handler(event, turn)
            if isinstance(event, Pressed):
                await turn.out.notice()  # every press is acknowledged (nothing if it was)
        except DomainError as exc:
            if turn.dialogs is not None:
                turn.dialogs.discard()
            await _refuse(event, turn, exc.render(turn.locale))
        except DialogMoved:  # another delivery answered this step first: that answer stands
            if turn.dialogs is not None:
                turn.dialogs.discard()
            await _refuse(event, turn, t(turn.locale, "dialog.moved"))
        except BaseException:
            if turn.dialogs is not None:
                turn.dialogs.discard()
            raise
        finally:
            turn.out = said
        return True

    def _handler_for(self, event: Event, turn: Turn) -> Handler | None:
        command = _command_of(event)
        if command == "cancel":
            open_ = self._open(turn)
            return _cancelling(open_[0]) if open_ else None
        if command is not None:
            route = self.commands.get(command)
            if route is None or (route.private and not event.private):
                return None
            return route.handler if (event.actor is not None or route.unbound) else _unbound
        if isinstance(event, Pressed):
            if event.action is None:
                return None
            feature, name = event.action.feature, event.action.name
            return self.actions.get((feature, name)) or self.actions.get((feature, None))
        for spec in self._open(turn):
            state = turn.dialogs.get(spec.name) if turn.dialogs else None
            if state is None or not event.private:
                continue
            found = spec.handler_for(state.step, event) or spec.off_topic_handler
            return found or _asking_for(Text if spec.handler_for(state.step, _WORDS) else None)
        return None

    def _open(self, turn: Turn) -> list[DialogSpec]:
        if turn.dialogs is None:
            return []
        names = set(turn.dialogs.open_names())
        return [spec for spec in self.dialogs if spec.name in names]


class _SavedFirst:
    """The reply port, storing the staged dialog changes before anything is said."""

    def __init__(self, out: Replies, save: Callable[[], Awaitable[None]]) -> None:
        self._out = out
        self._save = save

    async def reply(self, text: str, buttons: Keyboard | None = None) -> None:
        await self._save()
        await self._out.reply(text, buttons)

    async def edit(self, text: str, buttons: Keyboard | None = None) -> None:
        await self._save()
        await self._out.edit(text, buttons)

    async def notice(self, text: str | None = None, *, alert: bool = False) -> None:
        await self._save()
        await self._out.notice(text, alert=alert)

    async def send_file(
        self, name: str, data: bytes, *, caption: str | None = None, photo: bool = False
    ) -> None:
        await self._save()
        await self._out.send_file(name, data, caption=caption, photo=photo)

    async def ask_contact(self, text: str, label: str, placeholder: str | None = None) -> None:
        await self._save()
        await self._out.ask_contact(text, label, placeholder)

    async def show_commands(self, role: Role | None, locale: str) -> None:
        await self._out.show_commands(role, locale)


def _command_of(event: Event) -> str | None:
    if isinstance(event, Command):
        return event.name
    if isinstance(event, Joined):
        return "start"
    return None


def _cancelling(spec: DialogSpec) -> Handler:
    async def cancel(event: Event, turn: Turn) -> None:
        if spec.cancel_handler is not None:
            await spec.cancel_handler(event, turn)
        turn.dialog(spec).end()

    return cancel


async def _unbound(event: Event, turn: Turn) -> None:
    """A command of bound people from an account bound to nobody: say how to join."""
    await turn.out.reply(t(turn.locale, "auth.not_registered"))


def _asking_for(wanted: type[Event] | None) -> Handler:
    """A message the step cannot use: say whether it wants words or a button."""
    key = "dialog.wants_words" if wanted is Text else "dialog.wants_button"

    async def ask(event: Event, turn: Turn) -> None:
        await turn.out.reply(t(turn.locale, key))

    return ask


async def _refuse(event: Event, turn: Turn, text: str) -> None:
    """A refusal: as a press's notice (and a message if it is long), else as a message."""
    if isinstance(event, Pressed):
        await turn.out.notice(text, alert=True)
        if len(text) > NOTICE_LIMIT:
            await turn.out.reply(text)
    else:
        await turn.out.reply(text)
