-- Extensions installed into one of the inspected schemas.
select e.extname as name, n.nspname as schema
  from pg_catalog.pg_extension as e
  join pg_catalog.pg_namespace as n on n.oid = e.extnamespace
 where n.nspname = any(%(schemas)s)
 order by e.extname
