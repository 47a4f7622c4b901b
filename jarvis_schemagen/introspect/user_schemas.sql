-- Schemas holding user objects (tables, views, sequences, functions, procedures, types), for
-- `schemagen inspect` without --schema. Extension-owned objects and schemas do not count.
select n.nspname as name
  from pg_catalog.pg_namespace as n
 where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                      and d.objid = n.oid and d.deptype = 'e')
   and (exists (select 1 from pg_catalog.pg_class as c
                 where c.relnamespace = n.oid and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
                   and not exists (select 1 from pg_catalog.pg_depend as d
                                    where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                      and d.objid = c.oid and d.deptype = 'e'))
        or exists (select 1 from pg_catalog.pg_proc as p
                    where p.pronamespace = n.oid
                      and not exists (select 1 from pg_catalog.pg_depend as d
                                       where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                         and d.objid = p.oid and d.deptype = 'e'))
        or exists (select 1 from pg_catalog.pg_type as t
                    where t.typnamespace = n.oid and t.typtype in ('e', 'd', 'r')
                      and not exists (select 1 from pg_catalog.pg_depend as d
                                       where d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                                         and d.objid = t.oid and d.deptype = 'e')))
 order by n.nspname
