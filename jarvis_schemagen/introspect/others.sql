-- Objects the model has no place for (foreign tables, range and composite types) in the
-- inspected schemas, without extension-owned ones. Diff lists them as unmanaged.
-- (Enum types, domains, views, materialized views and sequences are modelled: types.sql,
-- domains.sql, views.sql, standalone_sequences.sql.)
select 'foreign table' as kind,
       n.nspname as schema,
       c.relname as name
  from pg_catalog.pg_class as c
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relkind = 'f'
   and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.objid = c.oid
                      and (d.deptype = 'e' or d.deptype in ('a', 'i') and d.refobjsubid > 0))
union all
select 'type',
       n.nspname,
       t.typname
  from pg_catalog.pg_type as t
  join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
 where (t.typtype = 'r'
        or t.typtype = 'c' and (select c.relkind from pg_catalog.pg_class as c where c.oid = t.typrelid) = 'c')
   and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass and d.objid = t.oid
                      and d.deptype = 'e')
 order by 1, 2, 3
