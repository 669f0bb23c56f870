#!/bin/sh
# CGI: what the web front end reaches by service name.
printf 'Content-Type: text/plain\r\n\r\n'
echo "greeting: $(cat /www/index.html)"
echo "db: $(timeout 5 wget -q -O - "$DB_URL" 2>&1)"
echo "cache: $(timeout 5 wget -q -O - "$CACHE_URL" 2>&1)"
echo "token: $(wc -c < /run/secrets/api_token) bytes"
