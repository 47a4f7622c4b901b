-- Standalone sequences of the inspected schemas: not owned by a column (identity, serial: see
-- sequences.sql) and not extension-owned; their options from pg_sequence.
select n.nspname as schema,
       c.relname as name,
       pg_catalog.format_type(s.seqtypid, null) as type,
       s.seqstart as start,
       s.seqincrement as increment,
       s.seqmin as min_value,
       s.seqmax as max_value,
       s.seqcache as cache,
       s.seqcycle as cycle
  from pg_catalog.pg_sequence as s
  join pg_catalog.pg_class as c on c.oid = s.seqrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = c.oid
                      and (d.deptype = 'e' or d.deptype in ('a', 'i') and d.refobjsubid > 0))
 order by n.nspname, c.relname
