#!/bin/sh
# Stand-in for the voting app's postgres health check (the real one is bash with arrays
# and psql): log in over the container's own address with the server's credentials.
host="$(hostname -i || echo '127.0.0.1')"
exec db-check "$host" 5432 "${POSTGRES_USER:-postgres}" "${POSTGRES_PASSWORD:-}" 1
