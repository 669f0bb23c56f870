#!/bin/sh
# Stand-in for the voting app's redis health check: redis answers PONG on its own address.
host="$(hostname -i || echo '127.0.0.1')"
[ "$(redis-cli -h "$host" ping)" = 'PONG' ]
