-- A read-only login for Grafana's "Pagesmith tracker" datasource. Run it once, after the tracker
-- has started (its migrations create the schema), as the role that owns the tracker's tables:
--   psql "$TRACKER_DATABASE_URL" -v reader=pagesmith_grafana -v password='…' -f deploy/grafana/tracker-reader.sql
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
-- Even a grant added by mistake later cannot write: every transaction starts read-only.
ALTER ROLE :"reader" SET default_transaction_read_only = on;
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'reader') \gexec
GRANT USAGE ON SCHEMA tracker TO :"reader";
GRANT SELECT ON ALL TABLES IN SCHEMA tracker TO :"reader";
-- Tables that later migrations add are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA tracker GRANT SELECT ON TABLES TO :"reader";
