#!/bin/sh
# Serves $GREETING over HTTP on $PORT and records what it saw in /data.
# It ignores SIGTERM on purpose (like many real services), so the stop timeout
# decides how long a stop takes; it notes the signal in /data/signals.
trap 'echo TERM >> /data/signals' TERM
echo "$GREETING" > /www/index.html
echo "started as $(hostname) with GREETING=$GREETING" > /data/started
httpd -f -p "${PORT:-8080}" -h /www &
while true; do sleep 1; done
