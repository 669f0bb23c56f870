"""No secret in a generated blueprint: every occurrence is an input, and the blueprint
evaluated with the inputs gives back exactly what compose would run.

Secrets sit in environment values of secret-named keys, URL passwords, secret
flags and assignments in command lines and healthchecks, labels, build
arguments, volume options and ``x-`` blocks (``importer/secret_spans.py``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_importer_shared import import_file

from docker_plugin.importer import cli, secret_spans
from docker_plugin.resources.compose.binary import find_binary

REPO = Path(__file__).resolve().parents[2]
PASSWORD = 'J5brHrAXFLQSif0K'  # distinctive: looked for everywhere
REDIS = 'H733Kdjndks81'
XBLOCK = 's3cr3t-xyz-42'
CIFS = 'Zk82hd-cifs'
TOKEN = 'npm_tok3n_value'
HTPASSWD = 'admin:$$apr1$$x1$$y'


def evaluate(value: Any, given: dict[str, str]) -> Any:
    """get_input, get_secret and concat, as Cloudify evaluates them."""
    if isinstance(value, dict) and set(value) == {'get_input'}:
        return given[value['get_input']]
    if isinstance(value, dict) and set(value) == {'get_secret'}:
        return given[value['get_secret']]
    if isinstance(value, dict) and set(value) == {'concat'}:
        return ''.join(str(evaluate(v, given)) for v in value['concat'])
    if isinstance(value, dict):
        return {k: evaluate(v, given) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, given) for v in value]
    return value


SHOP = {
    'name': 'shop',
    'x-db': {'password': XBLOCK, 'url': f'mysql://root:{PASSWORD}@db/shop'},
    'services': {
        'app': {
            'image': 'shop/app:1',
            'environment': {
                'DB_PASSWORD': PASSWORD,  # the same value as db's: one input
                'DATABASE_URL': f'postgresql://shop:{PASSWORD}@db/shop',
                'CACHE_URL': 'redis://:@cache:6379/0',  # an empty password: nothing secret
                'FERNET_KEY': '',  # empty: not secret, written as it is
                'TLS_ENABLED': 'true',
                'DB_PASSWORD_FILE': '/run/secrets/db',  # a path: not the secret
                'AIRFLOW__API__AUTH_BACKENDS': 'basic_auth,session',  # not a secret name
                'API_TOKEN': '${API_TOKEN}',  # a secret variable
                'GREETING': '${GREETING:-hello}',
            },
            'command': ['serve', '--db-password', PASSWORD, f'--cache-password={REDIS}',
                        '--mode', 'prod'],
            'healthcheck': {'test': ['CMD-SHELL', f'PGPASSWORD={PASSWORD} psql -c "select 1" '
                                                  f'&& echo {XBLOCK}']},
            'labels': {'traefik.http.middlewares.auth.basicauth.users': HTPASSWD,
                       'tier': 'web'},
            'volumes': [{'type': 'volume', 'source': 'media', 'target': '/media'}],
        },
        'db': {'image': 'postgres:16', 'environment': {'POSTGRES_PASSWORD': PASSWORD,
                                                       'POSTGRES_USER': 'shop'}},
        'cache': {'image': 'redis:7',
                  'command': ['sh', '-c', f'redis-server --requirepass {REDIS} '
                                          '--appendonly yes'],
                  'healthcheck': {'test': ['CMD', 'redis-cli', '--pass', REDIS, 'ping']}},
        'builder': {'build': {'context': '.', 'args': {'NPM_TOKEN': TOKEN, 'FLAVOUR': 'x'}},
                    'environment': {'REDIS_PASSWORD': '$$REDIS_PASSWORD'}},
        'worker': {'image': 'shop/app:1', 'command': ['sh', '-c', 'valkey-cli --pass '
                                                            '"$$REDIS_PASSWORD" ping']},
    },
    'volumes': {'media': {'driver_opts': {'type': 'cifs',
                                          'o': f'addr=files,username=u,password={CIFS}'}}},
}
SECRETS = (PASSWORD, REDIS, XBLOCK, CIFS, TOKEN, 'from-the-environment')


def _compose_model(tmp_path: Path) -> dict[str, Any]:
    """What compose itself would run (``config``), to compare the evaluated blueprint with."""
    result = subprocess.run([find_binary(), '-f', str(tmp_path / 'compose.yaml'), 'config',
                             '--format', 'json'], capture_output=True, text=True, timeout=60,
                            env={'API_TOKEN': 'from-the-environment', 'PATH': '/usr/bin'},
                            check=True)
    return json.loads(result.stdout.replace('$$', '$'))


@pytest.mark.compose
def test_every_secret_is_an_input_and_evaluates_back_to_what_compose_runs(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('API_TOKEN', 'from-the-environment')
    plan, text, err = import_file(tmp_path, SHOP, capsys, files={'Dockerfile': 'FROM x\n'})
    for value in SECRETS:
        assert value not in text
    assert 'apr1' not in text  # the htpasswd label, by its key's name
    inputs = plan['inputs']
    secret_inputs = {name for name, entry in inputs.items()
                     if entry.get('description', '').startswith('secret')}
    assert secret_inputs == {'API_TOKEN', 'app_DB_PASSWORD',
                             'app_labels_traefik_http_middlewares_auth_basicauth_users',
                             'builder_build_args_NPM_TOKEN', 'app_cache-password',
                             'media_password', 'x-db_password'}
    assert not any('default' in inputs[name] for name in secret_inputs)
    given = {'API_TOKEN': 'from-the-environment', 'app_DB_PASSWORD': PASSWORD,
             'app_labels_traefik_http_middlewares_auth_basicauth_users':
                 HTPASSWD.replace('$$', '$'),
             'builder_build_args_NPM_TOKEN': TOKEN, 'app_cache-password': REDIS,
             'media_password': CIFS, 'x-db_password': XBLOCK,
             **{k: v.get('default') for k, v in inputs.items() if k not in secret_inputs}}
    nodes = evaluate(plan['node_templates'], given)
    model = _compose_model(tmp_path)
    for name in ('app', 'cache', 'db', 'worker', 'builder'):
        config = nodes[name]['properties']['container_config']
        service = model['services'][name]
        environment = {**config.get('environment', {}), **config.get('secret_environment', {})}
        assert environment == {k: v for k, v in (service.get('environment') or {}).items()
                               if v is not None}, name
        for key in ('command', 'labels'):
            assert config.get(key) == service.get(key), f'{name}.{key}'
        assert (config.get('healthcheck') or {}).get('test') == \
            (service.get('healthcheck') or {}).get('test'), name
    # Where the secret is a whole environment value it is in secret_environment; where it
    # is part of one, secret_environment holds a concat around the input.
    app = plan['node_templates']['app']['properties']['container_config']
    assert app['secret_environment']['DB_PASSWORD'] == {'get_input': 'app_DB_PASSWORD'}
    assert app['secret_environment']['DATABASE_URL'] == {'concat': [
        'postgresql://shop:', {'get_input': 'app_DB_PASSWORD'}, '@db/shop']}
    assert app['secret_environment']['API_TOKEN'] == {'get_input': 'API_TOKEN'}
    assert app['environment']['FERNET_KEY'] == '' and \
        app['environment']['DB_PASSWORD_FILE'] == '/run/secrets/db'
    assert plan['node_templates']['db']['properties']['container_config'][
        'secret_environment'] == {'POSTGRES_PASSWORD': {'get_input': 'app_DB_PASSWORD'}}
    build = evaluate(plan['node_templates']['builder_image']['properties'], given)
    assert build['image_build']['buildargs'] == {'NPM_TOKEN': TOKEN, 'FLAVOUR': 'x'}
    volume = evaluate(plan['node_templates']['volume_media']['properties'], given)
    assert volume['volume_config']['driver_opts']['o'] == f'addr=files,username=u,password={CIFS}'
    assert 'input app_DB_PASSWORD: one secret value written in' in err


@pytest.mark.compose
def test_get_secret_mode_names_every_secret(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('API_TOKEN', 'from-the-environment')
    plan, text, _ = import_file(tmp_path, SHOP, capsys, '--secrets', 'get_secret',
                                files={'Dockerfile': 'FROM x\n'})
    for value in SECRETS:
        assert value not in text
    assert not {'API_TOKEN', 'app_DB_PASSWORD', 'app_cache-password'} & set(plan['inputs'])
    db = plan['node_templates']['db']['properties']['container_config']
    assert db['secret_environment'] == {'POSTGRES_PASSWORD': {'get_secret': 'app_db_password'}}


@pytest.mark.compose
def test_a_plain_word_secret_is_an_input_where_it_is_a_secret_and_a_name_elsewhere(
        tmp_path, capsys):
    compose = {'name': 'af', 'services': {
        'postgres': {'image': 'postgres:13', 'environment': {
            'POSTGRES_USER': 'airflow', 'POSTGRES_PASSWORD': 'airflow', 'POSTGRES_DB': 'airflow'},
            'healthcheck': {'test': ['CMD', 'pg_isready', '-U', 'airflow']}},
        'web': {'image': 'apache/airflow:2.10.3', 'environment': {
            'SQL_ALCHEMY_CONN': 'postgresql+psycopg2://airflow:airflow@postgres/airflow'}}}}
    plan, _, err = import_file(tmp_path, compose, capsys)
    nodes = plan['node_templates']
    postgres = nodes['postgres']['properties']['container_config']
    assert postgres['environment'] == {'POSTGRES_DB': 'airflow', 'POSTGRES_USER': 'airflow'}
    assert postgres['secret_environment'] == {
        'POSTGRES_PASSWORD': {'get_input': 'postgres_POSTGRES_PASSWORD'}}
    assert postgres['healthcheck']['test'] == ['CMD', 'pg_isready', '-U', 'airflow']
    assert nodes['web']['properties']['container_config']['secret_environment'] == {
        'SQL_ALCHEMY_CONN': {'concat': ['postgresql+psycopg2://airflow:',
                                        {'get_input': 'postgres_POSTGRES_PASSWORD'},
                                        '@postgres/airflow']}}
    assert nodes['postgres_image']['properties']['image_pull']['repository'] == 'postgres:13'
    assert ('input postgres_POSTGRES_PASSWORD: a plain word also written as a name, left as '
            'it is there: postgres.container_config.environment.POSTGRES_DB') in err
    assert 'postgres.container_config.healthcheck.test[3]' in err


@pytest.mark.compose
def test_a_secret_in_a_key_is_refused_in_one_line(tmp_path, capsys):
    compose = {'services': {'app': {'image': 'a:1', 'environment': {'API_KEY': PASSWORD},
                                    'labels': {f'acl.{PASSWORD}': 'allow'}}}}
    (tmp_path / 'compose.yaml').write_text(yaml.safe_dump(compose))
    out = tmp_path / 'blueprint.yaml'
    code = cli.main(['-f', str(tmp_path / 'compose.yaml'), '-o', str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count('\n') == 1 and PASSWORD not in err
    assert err.startswith('compose-to-blueprint: a secret is part of the key '
                          'app.properties.container_config.labels.acl.')


@pytest.mark.compose
def test_a_variable_that_holds_a_secret_loses_its_default(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('BACKEND', f'postgres://u:{PASSWORD}@db/x')
    compose = {'services': {'app': {'image': 'a:1', 'environment': {
        'BACKEND': '${BACKEND}', 'MODE': '${MODE:-fast}'}}}}
    plan, text, _ = import_file(tmp_path, compose, capsys)
    assert PASSWORD not in text
    assert 'default' not in plan['inputs']['BACKEND']
    assert plan['inputs']['MODE']['default'] == 'fast'
    config = plan['node_templates']['app']['properties']['container_config']
    assert config['secret_environment'] == {'BACKEND': {'get_input': 'BACKEND'}}


@pytest.mark.parametrize(('name', 'secret'), [
    ('POSTGRES_PASSWORD', True), ('SECRET_KEY', True), ('AIRFLOW__CORE__FERNET_KEY', True),
    ('API_TOKEN', True), ('DB_PASSWD', True), ('PGPASSWORD', True), ('requirepass', True),
    ('TS_AUTHKEY', True), ('client-secret', True), ('db.password', True),
    ('AWS_ACCESS_KEY_ID', False), ('AIRFLOW__API__AUTH_BACKENDS', False), ('TOKEN_TTL', False),
    ('MYSQL_ROOT_PASSWORD_FILE', False), ('PASSWORD_LENGTH', False), ('PWD', False),
    ('POSTGRES_USER', False), ('REDIS_KEY_PREFIX', False), ('MONITOR', False),
])
def test_secret_names(name, secret):
    assert secret_spans.secret_name(name) is secret


@pytest.mark.parametrize(('text', 'command', 'found'), [
    ('postgresql+psycopg2://airflow:pw@postgres/airflow', False, ['pw']),
    ('redis://:@redis:6379/0', False, []),
    ('a=1,password=p2,b=2', False, ['p2']),
    ('jdbc:mysql://db/x?user=a&password=b&ssl=1', False, ['b']),
    ('PGPASSWORD=abc psql', True, ['abc']),
    ('redis-server --requirepass s3 --port 1', True, ['s3']),
    ('redis-server --requirepass s3 --port 1', False, []),
    ('valkey-server --requirepass $REDIS_PASSWORD', True, []),
    ('mysqladmin ping --password="$(cat /run/secrets/db)" --silent', True, []),
    ('--password-file /run/x', True, []),
])
def test_secrets_in_text(text, command, found):
    assert [text[a:b] for a, b in secret_spans.in_text(text, command)] == found


def test_secrets_in_a_command_list_and_what_is_distinctive():
    items = ['redis-cli', '-a', 'pw', '--pass', 'zz', '--password', '$X', 'ping']
    assert secret_spans.in_command(items) == [(4, [(0, 2, 'pass')])]
    assert [secret_spans.distinctive(v) for v in ('airflow', 'my-app', 'somewordpress',
                                                  'admin123', PASSWORD, 'db-q5n2g')] == \
        [False, False, False, True, True, True]
    assert secret_spans.occurrences('airflow:airflow@x/airflow2', 'airflow') == [(0, 7), (8, 15)]
