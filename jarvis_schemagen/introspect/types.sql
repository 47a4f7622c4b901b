-- Enum types in the inspected schemas, without extension-owned ones; values in their sort order.
select n.nspname as schema,
       t.typname as name,
       array(select e.enumlabel from pg_catalog.pg_enum as e where e.enumtypid = t.oid
              order by e.enumsortorder) as "values"
  from pg_catalog.pg_type as t
  join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
 where t.typtype = 'e'
   and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                      and d.objid = t.oid and d.deptype = 'e')
 order by n.nspname, t.typname
