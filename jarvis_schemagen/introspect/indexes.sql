-- Indexes of the inspected tables, except those backing a primary key, unique or exclusion
-- constraint (they are the constraint). indkey holds column numbers (0: an expression, whose
-- text PostgreSQL prints per key with pg_get_indexdef); the caller maps numbers to names.
-- indoption bit 1 = DESC, bit 2 = NULLS FIRST. Operator classes only when not the default.
select i.indrelid as table_oid,
       ic.relname as name,
       am.amname as method,
       i.indisunique as "unique",
       i.indnkeyatts as nkeys,
       i.indkey::pg_catalog.int2[] as attnums,
       case when 0 = any(i.indkey::pg_catalog.int2[]) then
            array(select case when (i.indkey::pg_catalog.int2[])[k - 1] = 0
                              then pg_catalog.pg_get_indexdef(i.indexrelid, k, true) end
                    from generate_series(1, i.indnatts) as k order by k) end as exprs,
       i.indoption::pg_catalog.int2[] as options,
       case when exists (select 1 from pg_catalog.pg_opclass as oc
                          where oc.oid = any(i.indclass::pg_catalog.oid[]) and not oc.opcdefault) then
            array(select case when oc.opcdefault then null
                              when ocn.nspname = 'pg_catalog' then oc.opcname
                              else ocn.nspname || '.' || oc.opcname end
                    from generate_series(1, i.indnkeyatts) as k
                    join pg_catalog.pg_opclass as oc on oc.oid = (i.indclass::pg_catalog.oid[])[k - 1]
                    join pg_catalog.pg_namespace as ocn on ocn.oid = oc.opcnamespace
                   order by k) end as opclasses,
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
