"""What nodes claim on an engine that only one can have: a host port, an object's name.

Pure functions over what the blueprint plans (``PortClaim``, ``NameClaim``)
and what an engine's host already holds (``Holder``, found by
``resources.host_ports``); each returns the ``Mistake`` it finds, naming the
node and the field. Validation (``tasks/validation.py``) runs them before
anything is made, so a clash is reported at once instead of by the engine
(``port is already allocated``) after other nodes were built.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping

from docker_plugin import records
from docker_plugin.errors import Mistake

WILDCARDS = ('', '0.0.0.0', '::')  # a binding on every address of the host


@records.record(frozen=True)
class PortClaim:
    """A host port (or range) a node's containers publish on, for one container port."""

    node: str
    field: str          # 'container_config.port_bindings.8080'
    engine: str         # the engine's address: claims on two engines never clash
    instances: int
    proto: str
    ip: str             # '': every address of the host
    first: int
    last: int           # == first: one port; above it: a range the engine picks from

    @property
    def fixed(self) -> bool:
        return self.first == self.last

    @property
    def shown(self) -> str:
        return str(self.first) if self.fixed else f'{self.first}-{self.last}'


@records.record(frozen=True)
class Holder:
    """A host port in use on an engine's host, and by what."""

    ip: str
    port: int
    proto: str
    by: str                 # 'container web-1 of deployment d', 'a process (127.0.0.1:80)'
    deployment: str = ''    # the Cloudify deployment whose container holds it


@records.record(frozen=True)
class NameClaim:
    """A name a node gives the object it makes (containers, networks, volumes)."""

    node: str
    field: str
    engine: str
    what: str               # 'container'
    name: str
    creates: bool           # it makes the object (it does not adopt one of that name)


def overlap(one: str, other: str) -> bool:
    """Whether bindings on these two host addresses contend for a port."""
    return one in WILDCARDS or other in WILDCARDS or one == other


def port_claims(node: str, field: str, engine: str, instances: int,
                bindings: Mapping[str, Any]) -> list[PortClaim]:
    """The host ports ``bindings`` (``options.ports.port_bindings``' result) fix or
    range over; a binding the engine gives any free port claims nothing."""
    found = []
    for key, listed in bindings.items():
        proto = key.partition('/')[2] or 'tcp'
        for binding in listed if isinstance(listed, list) else [listed]:
            if isinstance(binding, tuple):
                ip, host = binding[0], binding[1] if len(binding) > 1 else None
            else:
                ip, host = '', binding
            if host in (None, 0, ''):
                continue
            low, _, high = str(host).partition('-')
            found.append(PortClaim(node, field, engine, instances, proto, ip or '',
                                   int(low), int(high or low)))
    return found


def scaled(claims: Iterable[PortClaim]) -> list[Mistake]:
    """A fixed host port, or a range narrower than the instances, on a node with several
    instances: the engine lets one bind it, the others fail."""
    found = []
    for claim in claims:
        if claim.instances < 2:
            continue
        if claim.fixed:
            found.append(Mistake(claim.node, claim.field, (
                f'host port {claim.first} is fixed, but the node has {claim.instances} '
                f'instances and only one can bind it: give a range the instances take '
                f"('{claim.first}-{claim.first + claim.instances - 1}'), or null for any "
                'free port (each instance records its own in host_ports)')))
        elif claim.last - claim.first + 1 < claim.instances:
            found.append(Mistake(claim.node, claim.field, (
                f'the range {claim.shown} has {claim.last - claim.first + 1} ports for '
                f'{claim.instances} instances: give a wider one, or null for any free port')))
    return found


def shared(claims: Iterable[PortClaim]) -> list[Mistake]:
    """One fixed host port claimed by two nodes on one engine."""
    by_port: dict[tuple[str, str, int], list[PortClaim]] = defaultdict(list)
    for claim in claims:
        if claim.fixed:
            by_port[(claim.engine, claim.proto, claim.first)].append(claim)
    found = []
    for group in by_port.values():
        for claim in group:
            others = [o for o in group if o.node != claim.node and overlap(o.ip, claim.ip)]
            if others:
                named = ', '.join(sorted({f'{o.node}.{o.field}' for o in others}))
                found.append(Mistake(claim.node, claim.field, (
                    f'host port {claim.first} is claimed by {named} too, on the same engine: '
                    'only one can bind it')))
    return found


def taken(claims: Iterable[PortClaim], holders: Iterable[Holder], deployment: str,
          engine: str) -> list[Mistake]:
    """Host ports the engine's host already holds for something else than this
    deployment: a fixed one taken, or a range with fewer free ports than instances."""
    foreign = [h for h in holders if h.deployment != deployment]
    found = []
    for claim in claims:
        if claim.engine != engine:
            continue
        busy = {h.port: h for h in foreign if h.proto == claim.proto and
                claim.first <= h.port <= claim.last and overlap(h.ip, claim.ip)}
        if claim.fixed and busy:
            found.append(Mistake(claim.node, claim.field, (
                f'host port {claim.first}/{claim.proto} is already taken on the host of '
                f'engine {engine}: {busy[claim.first].by}')))
        elif not claim.fixed:
            free = claim.last - claim.first + 1 - len(busy)
            if free < max(claim.instances, 1):
                some = ', '.join(f'{port} by {holder.by}' for port, holder in
                                 sorted(busy.items())[:3])
                found.append(Mistake(claim.node, claim.field, (
                    f'{free} of the ports {claim.shown}/{claim.proto} are free on the host '
                    f'of engine {engine}, for {claim.instances} instance'
                    f'{"s" if claim.instances != 1 else ""} (taken: {some})')))
    return found


def shared_names(claims: Iterable[NameClaim]) -> list[Mistake]:
    """One name on one engine that two nodes would each make an object of."""
    by_name: dict[tuple[str, str, str], list[NameClaim]] = defaultdict(list)
    for claim in claims:
        by_name[(claim.engine, claim.what, claim.name)].append(claim)
    found = []
    for group in by_name.values():
        makers = [claim for claim in group if claim.creates]
        if len({claim.node for claim in makers}) < 2:
            continue
        for claim in makers:
            others = ', '.join(sorted({o.node for o in makers if o.node != claim.node}))
            found.append(Mistake(claim.node, claim.field, (
                f'{claim.what} name {claim.name!r} is given by node {others} too, on the same '
                f'engine: the second {claim.what} made would find the first there. Give '
                'each its own name, or set use_if_exists on all but one of them')))
    return found
