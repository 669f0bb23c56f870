"""Whether to create an object or adopt an existing one: Cloudify's vocabulary.

``use_external_resource`` says the object should already exist;
``create_if_missing`` lets it be created when it does not; ``use_if_exists``
lets a new object's name match an existing one, which is then adopted. One
pure function decides, so the rule is read and tested in one place.
"""

from __future__ import annotations

import dataclasses
import enum


class Choice(enum.Enum):
    CREATE = 'create'  # make it; it belongs to the deployment and is removed on uninstall
    ADOPT = 'adopt'    # use what exists; it is kept on uninstall unless told otherwise
    REUSE = 'reuse'    # it exists and this very node instance made it earlier


@dataclasses.dataclass(frozen=True)
class Decision:
    choice: Choice | None
    problem: str = ''  # set when neither creating nor adopting is allowed


def decide(use_external_resource: bool, create_if_missing: bool, use_if_exists: bool,
           exists: bool, made_by_this_instance: bool = False) -> Decision:
    """The one rule for creating versus adopting.

    Args:
        use_external_resource: the user says the object exists already.
        create_if_missing: with use_external_resource, create it if it does not.
        use_if_exists: without use_external_resource, adopt a same-named object.
        exists: an object with the name exists now.
        made_by_this_instance: that object carries this node instance's labels
            (a retried or resumed create): it is simply reused.
    """
    if exists and made_by_this_instance:
        return Decision(Choice.REUSE)
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
    return Decision(None, 'already exists and was not made by this deployment; set '
                          'use_if_exists (or use_external_resource) to adopt it')


def removes(adopted: bool, delete_adopted: bool, retain: bool) -> tuple[bool, str]:
    """Whether uninstall removes the object, and if not, why."""
    if adopted and not delete_adopted:
        return False, 'it was adopted, not created (set delete_adopted to remove it)'
    if retain:
        return False, 'retain is set'
    return True, ''
