-- Partitions of the inspected partitioned tables, with their bound as PostgreSQL prints it.
select i.inhparent as table_oid,
       n.nspname || '.' || c.relname as name,
       pg_catalog.pg_get_expr(c.relpartbound, c.oid) as bound
  from pg_catalog.pg_inherits as i
  join pg_catalog.pg_class as c on c.oid = i.inhrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relispartition
   and n.nspname = any(%(schemas)s)
 order by 1, 2
