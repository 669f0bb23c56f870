"""Whether to create an object or adopt an existing one: Cloudify's vocabulary, and who
made what exists.

``use_external_resource`` says the object should already exist;
``create_if_missing`` lets it be created when it does not; ``use_if_exists``
lets a new object's name match an existing one, which is then adopted. What this
deployment made carries its labels, so an existing object is also told apart by its
maker (``Maker``): this very node instance (a retried or resumed create: reused), an
earlier run of this deployment's node that no instance of the deployment holds any more
(an install run again: claimed, it is this deployment's), or something the deployment
holds elsewhere (another node, a live instance: never taken). One pure function
decides, so the rule is read and tested in one place.
"""

from __future__ import annotations

import enum

from docker_plugin import records


class Choice(enum.Enum):
    CREATE = 'create'  # make it; it belongs to the deployment and is removed on uninstall
    ADOPT = 'adopt'    # use what exists; it is kept on uninstall unless told otherwise
    REUSE = 'reuse'    # it exists and this very node instance made it earlier
    CLAIM = 'claim'    # an earlier run of this deployment's node made it and no instance
    #                    holds it: this instance takes it as made (removed on uninstall)


class Maker(enum.Enum):
    """Who made an existing object, by its labels."""

    NONE = 'not this deployment'
    INSTANCE = 'this node instance'
    EARLIER_RUN = 'an earlier run of this node'  # no live instance of the deployment holds it
    HELD = 'held in this deployment'             # another node, or a live instance, holds it


@records.record(frozen=True)
class Decision:
    choice: Choice | None
    problem: str = ''  # set when neither creating nor adopting is allowed


def decide(use_external_resource: bool, create_if_missing: bool, use_if_exists: bool,
           exists: bool, made_by: Maker = Maker.NONE, holder: str = '') -> Decision:
    """The one rule for creating versus adopting.

    Args:
        use_external_resource: the user says the object exists already.
        create_if_missing: with use_external_resource, create it if it does not.
        use_if_exists: without use_external_resource, adopt a same-named object.
        exists: an object with the name exists now.
        made_by: who made that object, by its labels. This very node instance: it is
            reused. An earlier run of this deployment's node (an install run again
            after a failure, an interruption, or state that was lost): it is claimed,
            whatever the flags say, as this deployment made it. Held elsewhere in the
            deployment: the flags decide as for a stranger's object, and the problem
            says who holds it.
        holder: who holds it (for the problem's words), e.g. 'node instance web_x1y2'.
    """
    if exists and made_by is Maker.INSTANCE:
        return Decision(Choice.REUSE)
    if exists and made_by is Maker.EARLIER_RUN:
        return Decision(Choice.CLAIM)
    if use_external_resource:
        if exists:
            return Decision(Choice.ADOPT)
        if create_if_missing:
            return Decision(Choice.CREATE)
        return Decision(None, 'does not exist, and use_external_resource is set without '
                              'create_if_missing')
    if not exists:
        return Decision(Choice.CREATE)
    if use_if_exists:
        return Decision(Choice.ADOPT)
    if made_by is Maker.HELD:
        return Decision(None, f'already exists and {holder or "another node"} of this '
                              'deployment holds it: give each node its own name (or set '
                              'use_if_exists to share it, kept by this node on uninstall)')
    return Decision(None, 'already exists and was not made by this deployment; set '
                          'use_if_exists (or use_external_resource) to adopt it')


def removes(adopted: bool, delete_adopted: bool, retain: bool) -> tuple[bool, str]:
    """Whether uninstall removes the object, and if not, why."""
    if adopted and not delete_adopted:
        return False, 'it was adopted, not created (set delete_adopted to remove it)'
    if retain:
        return False, 'retain is set'
    return True, ''
