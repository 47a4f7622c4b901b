-- Views and materialized views in the inspected schemas, without extension-owned ones: the query
-- as PostgreSQL prints it, the options, the output columns (name, type) and the owner.
select n.nspname as schema,
       c.relname as name,
       c.relkind = 'm' as materialized,
       pg_catalog.pg_get_viewdef(c.oid) as query,
       coalesce(c.reloptions, '{}') as options,
       array(select a.attname from pg_catalog.pg_attribute as a
              where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as column_names,
       array(select pg_catalog.format_type(a.atttypid, a.atttypmod) from pg_catalog.pg_attribute as a
              where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as column_types,
       pg_catalog.pg_get_userbyid(c.relowner) as owner
  from pg_catalog.pg_class as c
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relkind in ('v', 'm')
   and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      and d.objid = c.oid and d.deptype = 'e')
 order by n.nspname, c.relname
