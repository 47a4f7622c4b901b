-- Tables (plain and partitioned) in the inspected schemas, without extension-owned ones.
select c.oid,
       n.nspname as schema,
       c.relname as name,
       c.relrowsecurity as rls_enabled,
       c.relforcerowsecurity as rls_forced,
       pg_catalog.pg_get_userbyid(c.relowner) as owner
  from pg_catalog.pg_class as c
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p')
   and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      and d.objid = c.oid and d.deptype = 'e')
 order by n.nspname, c.relname
