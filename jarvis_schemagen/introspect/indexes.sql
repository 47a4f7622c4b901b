-- Indexes of the inspected tables, except those backing a primary key, unique or exclusion
-- constraint (they are the constraint). One text per key column, as PostgreSQL prints it;
-- indoption bit 1 = DESC, bit 2 = NULLS FIRST. Operator classes only when not the default.
select i.indrelid as table_oid,
       ic.relname as name,
       am.amname as method,
       i.indisunique as "unique",
       i.indnkeyatts as nkeys,
       array(select pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
               from generate_series(1, i.indnatts) as k order by k) as defs,
       array(select a.attname
               from generate_series(1, i.indnatts) as k
               left join pg_catalog.pg_attribute as a
                      on a.attrelid = i.indrelid and a.attnum = (i.indkey::pg_catalog.int2[])[k - 1]
                     and a.attnum > 0
              order by k) as attnames,
       array(select (i.indoption::pg_catalog.int2[])[k - 1]
               from generate_series(1, i.indnkeyatts) as k order by k) as options,
       array(select case when oc.opcdefault then null
                         when ocn.nspname = 'pg_catalog' then oc.opcname
                         else ocn.nspname || '.' || oc.opcname end
               from generate_series(1, i.indnkeyatts) as k
               join pg_catalog.pg_opclass as oc on oc.oid = (i.indclass::pg_catalog.oid[])[k - 1]
               join pg_catalog.pg_namespace as ocn on ocn.oid = oc.opcnamespace
              order by k) as opclasses,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid) as "where"
  from pg_catalog.pg_index as i
  join pg_catalog.pg_class as ic on ic.oid = i.indexrelid
  join pg_catalog.pg_class as c on c.oid = i.indrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  join pg_catalog.pg_am as am on am.oid = ic.relam
 where c.relkind in ('r', 'p')
   and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_constraint as con
                    where con.conindid = i.indexrelid and con.conrelid = i.indrelid
                      and con.contype in ('p', 'u', 'x'))
 order by i.indrelid, ic.relname
