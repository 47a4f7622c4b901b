-- Schemas (namespaces) among the inspected ones; extension-owned schemas are left out.
select n.nspname as name
  from pg_catalog.pg_namespace as n
 where n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                      and d.objid = n.oid and d.deptype = 'e')
 order by n.nspname
