-- User triggers of the inspected tables (not the internal ones behind foreign keys).
-- tgtype bits: 1 ROW, 2 BEFORE, 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE, 64 INSTEAD.
-- The WHEN condition is taken from pg_get_triggerdef (pg_get_expr cannot print tgqual).
select t.tgrelid as table_oid,
       t.tgname as name,
       t.tgtype as type,
       fn.nspname || '.' || p.proname as function,
       array(select a.attname
               from unnest(t.tgattr::pg_catalog.int2[]) with ordinality as k(attnum, ord)
               join pg_catalog.pg_attribute as a on a.attrelid = t.tgrelid and a.attnum = k.attnum
              order by k.ord) as update_columns,
       substring(pg_catalog.pg_get_triggerdef(t.oid, true)
                 from ' WHEN \((.*)\) EXECUTE (?:FUNCTION|PROCEDURE) ') as "when",
       t.tgenabled as enabled
  from pg_catalog.pg_trigger as t
  join pg_catalog.pg_class as c on c.oid = t.tgrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  join pg_catalog.pg_proc as p on p.oid = t.tgfoid
  join pg_catalog.pg_namespace as fn on fn.oid = p.pronamespace
 where not t.tgisinternal
   and c.relkind in ('r', 'p')
   and n.nspname = any(%(schemas)s)
 order by t.tgrelid, t.tgname
