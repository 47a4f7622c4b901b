-- Every extension of the database, with its schema. Extensions are database-wide, and a
-- declared one may sit in a schema that is not inspected, so this list is not filtered:
-- compare decides which ones matter (declared, or installed into a managed schema).
select e.extname as name, n.nspname as schema
  from pg_catalog.pg_extension as e
  join pg_catalog.pg_namespace as n on n.oid = e.extnamespace
 order by e.extname
