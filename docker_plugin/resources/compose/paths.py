"""The local files a compose project makes Docker Compose read, found without running it.

Compose reads files of the host it runs on at two moments:

* while it reads the project (``config``, and every command): ``include``
  (its files, ``env_file`` and ``project_directory``), a service's
  ``extends.file``, ``env_file`` and ``label_file``: ``config_reads`` finds
  them in a document as written, before compose runs;
* when it builds and runs it: a service's build ``context``, its
  ``dockerfile``, ``additional_contexts`` and ``ssh`` keys, and the ``file``
  of top-level ``secrets`` and ``configs``: ``model_reads`` finds them in the
  project ``config --format json`` printed (paths absolute, variables
  interpolated).

Bind mounts are not among them: the engine reads those, on its own host.
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping

# What a path is to compose: a compose file read in turn, a file of data, a directory.
FILE, DATA, DIRECTORY = 'file', 'data', 'directory'
REMOTE_MARKS = ('://', 'git@', 'github.com/')


def load(text: str) -> Any:
    """A compose document as data (compose's own tags such as ``!reset`` are read as
    plain values); None when it is not YAML (compose says what is wrong then)."""
    import yaml  # only when a document is read

    class Loader(yaml.SafeLoader):
        pass

    def untagged(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor('!', untagged)
    try:
        return yaml.load(text, Loader=Loader)  # a SafeLoader that keeps unknown tags plain
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


def is_remote(value: str) -> bool:
    return any(mark in value for mark in REMOTE_MARKS)


def _strings(value: Any, key: str | None = None) -> Iterator[tuple[str, str]]:
    """(index suffix, text) of a string or a list of strings (or of ``{key: text}``)."""
    if isinstance(value, str):
        yield '', value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            text = item.get(key) if key and isinstance(item, dict) else item
            if isinstance(text, str):
                yield f'[{index}]', text


def config_reads(document: Any) -> Iterator[tuple[str, str, str]]:
    """(where in the document, kind, path as written) for every file compose reads
    while it reads the project."""
    if not isinstance(document, dict):
        return
    includes = document.get('include')
    for index, item in enumerate(includes if isinstance(includes, list) else []):
        where = f'include[{index}]'
        if isinstance(item, str):
            yield where, FILE, item
            continue
        if not isinstance(item, dict):
            continue
        for suffix, text in _strings(item.get('path')):
            yield f'{where}.path{suffix}', FILE, text
        for suffix, text in _strings(item.get('env_file')):
            yield f'{where}.env_file{suffix}', DATA, text
        if isinstance(item.get('project_directory'), str):
            yield f'{where}.project_directory', DIRECTORY, item['project_directory']
    services = document.get('services')
    for name, service in (services.items() if isinstance(services, dict) else ()):
        if not isinstance(service, dict):
            continue
        where = f'services.{name}'
        for suffix, text in _strings(service.get('env_file'), 'path'):
            yield f'{where}.env_file{suffix}', DATA, text
        for suffix, text in _strings(service.get('label_file')):
            yield f'{where}.label_file{suffix}', DATA, text
        extends = service.get('extends')
        if isinstance(extends, dict) and isinstance(extends.get('file'), str):
            yield f'{where}.extends.file', FILE, extends['file']


def model_reads(model: Mapping[str, Any], directory: str) -> Iterator[tuple[str, str]]:
    """(where in the project, absolute path) for every local file or directory compose
    reads to build and run the project ``config`` printed (``directory``: the
    project's, for a path compose left relative)."""
    services = model.get('services')
    for name, service in (services.items() if isinstance(services, dict) else ()):
        build = service.get('build') if isinstance(service, dict) else None
        if not isinstance(build, dict):
            continue
        where = f'services.{name}.build'
        context = build.get('context')
        local = isinstance(context, str) and not is_remote(context)
        if isinstance(context, str) and local:
            context = os.path.join(directory, context)
            yield f'{where}.context', context
            dockerfile = build.get('dockerfile')
            if isinstance(dockerfile, str) and dockerfile:
                yield f'{where}.dockerfile', os.path.join(context, dockerfile)
        for key, value in _pairs(build.get('additional_contexts')):
            value = value[len('oci-layout://'):] if value.startswith('oci-layout://') else value
            if os.path.isabs(value):
                yield f'{where}.additional_contexts.{key}', value
        for key, value in _pairs(build.get('ssh')):
            for part in filter(None, value.split(',')):
                yield f'{where}.ssh.{key}', os.path.join(directory, part)
    for kind in ('secrets', 'configs'):
        items = model.get(kind)
        for name, item in (items.items() if isinstance(items, dict) else ()):
            if isinstance(item, dict) and isinstance(item.get('file'), str):
                yield f'{kind}.{name}.file', os.path.join(directory, item['file'])


def _pairs(value: Any) -> Iterator[tuple[str, str]]:
    """A compose mapping given as a dict or as ``key=value`` strings."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield str(key), item
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str) and '=' in item:
                key, _, text = item.partition('=')
                yield key, text
