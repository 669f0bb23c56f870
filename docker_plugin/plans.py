"""What ``update`` does with each drift entry: in place, recreate, or refuse, and why.

Pure: a plan follows from the kind's update strategy (``kinds.UpdateStrategy``,
in the registry) and the option's update mode (``options.base.Update``, in its
table); a kind's drift code may give a difference a plan of its own where it
knows better (compose's services and networks). Then what holds for the whole
object: an adopted object is not changed without ``modify_external_resource``,
a network with containers on it is not made again, and where ``update`` goes all
or nothing (a container, a service) one refusal refuses every entry, since
nothing is applied then. ``check_drift`` records the plans with the entries;
``update`` refuses with the very reasons its plans give, and its preview shows
them without changing anything.

A refusal fails ``update``; in a manager's deployment update, an ``update``
that fails is followed by a reinstall of the node instance (the plans say so).
"""

from __future__ import annotations

import enum
from typing import Iterable

from docker_plugin import records
from docker_plugin.kinds import UpdateStrategy
from docker_plugin.options.base import Update

REINSTALL = 'a deployment update reinstalls the node; locally, reinstall it'


class Action(enum.Enum):
    IN_PLACE = 'in_place'   # changed on the existing object
    RECREATE = 'recreate'   # the object (or its part) is made again
    REFUSE = 'refuse'       # update does not change it (and fails, when it is asked to)


@records.record(frozen=True)
class Plan:
    """What ``update`` does with one difference.

    Attributes:
        action: in place, recreate or refuse.
        how: what update does (in place, recreate), or would do were it not refused.
        why: for a refusal, why, and what to do instead.
        blocked: refused for a reason not its own (the object's, or another entry's):
            on its own, update would do ``how``.
        fails: a refusal fails update (False: update leaves it and goes on with the rest,
            as compose up leaves containers it is not asked to remove).
    """

    action: Action
    how: str
    why: str = ''
    blocked: bool = False
    fails: bool = True

    def sentence(self) -> str:
        if self.action is Action.IN_PLACE:
            return f'update changes it in place: {self.how}'
        if self.action is Action.RECREATE:
            return f'update makes it again: {self.how}'
        alone = f' (on its own: {self.how})' if self.how else ''
        verb = 'update refuses' if self.fails else 'update leaves it'
        return f'{verb}: {self.why}{alone}'

    def as_dict(self) -> dict[str, str]:
        return {'action': self.action.value, 'plan': self.sentence()}

    def refused(self, why: str) -> Plan:
        """This plan refused for ``why`` (its own refusal's reason stays first)."""
        if self.action is Action.REFUSE:
            return self
        return Plan(Action.REFUSE, self._doing(), why, blocked=True)

    def _doing(self) -> str:
        return f'in place, {self.how}' if self.action is Action.IN_PLACE else self.how


# How each update mode changes an option in place (or, a new version, makes it again).
IN_PLACE = {
    Update.UPDATE_CALL: "the engine's update call",
    Update.RENAME: 'a rename',
    Update.PAUSE: 'pausing or unpausing it',
    Update.RECONNECT: 'connecting it to the network again with the declared settings',
    Update.SERVICE: 'a rolling update of its tasks, waited for',
    Update.SWARM: "the swarm's update call",
}
NEW_VERSION = ('a new version, the services using it moved to it (a rolling update, waited '
               'for), the old one removed')
# What each strategy does with an option only a new object can have.
RECREATED = {
    UpdateStrategy.RECREATE_UNUSED: 'the {word} made again with its declared options '
                                    '(while nothing is attached to it)',
    UpdateStrategy.COMPOSE_UP: "compose up makes the service's containers again",
    UpdateStrategy.REFRESH: 'the image got again from its source and its names put back',
    UpdateStrategy.NEW_VERSION: NEW_VERSION,
}
REFUSED = {
    UpdateStrategy.REFUSE: 'a {word} made again would lose its data: give the changed options '
                           'to a new {word} node (or reinstall, if the data may go)',
    UpdateStrategy.NONE: 'the {word} only describes what is there',
}
# Strategies where update applies every entry or none: one refusal refuses them all.
ALL_OR_NOTHING = (UpdateStrategy.IN_PLACE, UpdateStrategy.ROLLING)


def of(strategy: UpdateStrategy, update: Update, word: str) -> Plan:
    """The plan for an option whose update mode is ``update``, in a kind whose update
    strategy is ``strategy`` (``word``: the kind in messages)."""
    if update is Update.NEW_VERSION:
        return Plan(Action.RECREATE, NEW_VERSION)
    if update in IN_PLACE and strategy not in REFUSED:
        return Plan(Action.IN_PLACE, IN_PLACE[update])
    if strategy in RECREATED:
        return Plan(Action.RECREATE, RECREATED[strategy].format(word=word))
    if strategy in REFUSED:
        return Plan(Action.REFUSE, '', REFUSED[strategy].format(word=word))
    return Plan(Action.REFUSE, '', f'only a new {word} can take it ({REINSTALL})')


LABELS = ('in place', 'made again', 'refused', 'left as they are')


def label(plan: Plan) -> str:
    """How a preview counts a plan (one of ``LABELS``)."""
    if plan.action is Action.REFUSE:
        return LABELS[2] if plan.fails else LABELS[3]
    return LABELS[0] if plan.action is Action.IN_PLACE else LABELS[1]


def when_clean(strategy: UpdateStrategy, word: str) -> str:
    """What update does when nothing drifted."""
    if strategy is UpdateStrategy.REFRESH:
        return f'no drift; update gets the {word} again from its source all the same'
    return 'no drift; update changes nothing'


def refusal(plans: Iterable[tuple[str, Plan]]) -> str:
    """What a refused update says: each reason with the options it holds back (the
    entries refused for reasons of their own; those only held back by them are left
    out); '' when nothing fails it."""
    refused = [(name, plan) for name, plan in plans
               if plan.action is Action.REFUSE and plan.fails]
    own = [(name, plan) for name, plan in refused if not plan.blocked] or refused
    reasons: dict[str, list[str]] = {}
    for name, plan in own:
        reasons.setdefault(plan.why, []).append(name)
    return '; '.join(f'{", ".join(sorted(set(names)))} changed: {why}'
                     for why, names in reasons.items())


def all_or_nothing(strategy: UpdateStrategy, plans: Iterable[Plan], names: Iterable[str],
                   word: str) -> str:
    """Why every entry is refused when update goes all or nothing and some are refused
    (``names``: the options, in the order of ``plans``); '' otherwise."""
    refused = sorted({name for plan, name in zip(plans, names)
                      if plan.action is Action.REFUSE and plan.fails})
    if strategy not in ALL_OR_NOTHING or not refused:
        return ''
    return f'{", ".join(refused)} cannot change on this {word}, so update changes nothing'

