#!/bin/bash
# Parley's role and database on the stack's PostgreSQL, beside Synapse's. Mounted into
# /docker-entrypoint-initdb.d by docker-compose.yml, so the postgres image runs it once, when it
# initialises an empty data volume. On a volume that already exists, run it by hand
# (deploy/README.md): `docker compose exec postgres bash /docker-entrypoint-initdb.d/10-parley.sh`.
#
# The role `parley` owns the database `parley` and nothing else: Parley never holds the password of
# `synapse` (the superuser here). Its password is PARLEY_DB_PASSWORD from .env, which
# docker-compose.yml passes to this service; deploy/postgres-url holds the same one. Parley makes
# its tables itself when it starts.
# No `set -u`: the image sources a script that lost its executable bit, in its own shell.
set -eo pipefail
: "${PARLEY_DB_PASSWORD:?PARLEY_DB_PASSWORD is not set (see deploy/README.md)}"

# Over the Unix socket, as the image's own init does. The password goes in as a psql variable,
# quoted by psql (:'password'), never pasted into the SQL text.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$PARLEY_DB_PASSWORD" <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'parley') AS create_role \gset
\if :create_role
  CREATE ROLE parley LOGIN PASSWORD :'password';
\else
  ALTER ROLE parley LOGIN PASSWORD :'password';
\endif
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'parley') AS create_database \gset
\if :create_database
  CREATE DATABASE parley OWNER parley ENCODING 'UTF8';
\endif
SQL
