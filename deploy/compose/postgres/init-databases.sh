#!/bin/bash
# One database and one owner role per service: no service can read another's tables.
# Runs once, when the PostgreSQL container starts on an empty data directory.
set -euo pipefail

create_database() {
  local name="$1" password="$2"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v name="$name" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
}

create_database registry "${FMC_REGISTRY_DB_PASSWORD:?}"
create_database inference_gateway "${FMC_GATEWAY_DB_PASSWORD:?}"
create_database scoring "${FMC_SCORING_DB_PASSWORD:?}"
create_database grievance "${FMC_GRIEVANCE_DB_PASSWORD:?}"
