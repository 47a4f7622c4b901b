-- User triggers of the inspected tables (not the internal ones behind foreign keys).
-- tgtype bits: 1 ROW, 2 BEFORE, 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE, 64 INSTEAD.
-- The WHEN condition is taken from pg_get_triggerdef (pg_get_expr cannot print tgqual).
-- tgattr (UPDATE OF columns) holds column numbers, mapped to names by the caller; tgargs holds the
-- arguments, each terminated by a NUL byte (split by the caller).
select t.tgrelid as table_oid,
       t.tgname as name,
       t.tgtype as type,
       fn.nspname || '.' || p.proname as function,
       t.tgattr::pg_catalog.int2[] as update_columns,
       case when t.tgqual is not null then
            substring(pg_catalog.pg_get_triggerdef(t.oid, true)
                      from ' WHEN \((.*)\) EXECUTE (?:FUNCTION|PROCEDURE) ') end as "when",
       t.tgenabled as enabled,
       t.tgnargs as nargs,
       t.tgargs as args
  from pg_catalog.pg_trigger as t
  join pg_catalog.pg_class as c on c.oid = t.tgrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  join pg_catalog.pg_proc as p on p.oid = t.tgfoid
  join pg_catalog.pg_namespace as fn on fn.oid = p.pronamespace
 where not t.tgisinternal
   and c.relkind in ('r', 'p')
   and n.nspname = any(%(schemas)s)
 order by t.tgrelid, t.tgname
