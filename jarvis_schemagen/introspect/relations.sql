-- Tables (plain and partitioned) in the inspected schemas, without extension-owned ones and without
-- partitions (they belong to their partitioned table: partitions.sql).
select c.oid,
       n.nspname as schema,
       c.relname as name,
       c.relrowsecurity as rls_enabled,
       c.relforcerowsecurity as rls_forced,
       pg_catalog.pg_get_userbyid(c.relowner) as owner,
       case c.relreplident when 'f' then 'full' when 'n' then 'nothing'
            when 'i' then 'index ' || (select ic.relname from pg_catalog.pg_index as i
                                        join pg_catalog.pg_class as ic on ic.oid = i.indexrelid
                                       where i.indrelid = c.oid and i.indisreplident) end as replica_identity,
       case when c.relkind = 'p' then pg_catalog.pg_get_partkeydef(c.oid) end as partition_by
  from pg_catalog.pg_class as c
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p')
   and not c.relispartition
   and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      and d.objid = c.oid and d.deptype = 'e')
 order by n.nspname, c.relname
