-- Primary key, unique, foreign key, check and exclusion constraints of the inspected tables.
-- Column numbers (conkey, confkey) are mapped to names by the caller from the columns query;
-- only a foreign key to a table outside the inspected schemas gets its column names here.
select con.conrelid as table_oid,
       con.conname as name,
       con.contype as type,
       con.conkey as columns,
       case when con.contype = 'c' then pg_catalog.pg_get_expr(con.conbin, con.conrelid)
            when con.contype = 'x' then pg_catalog.pg_get_constraintdef(con.oid) end as expression,
       rn.nspname || '.' || rc.relname as ref_table,
       con.confrelid as ref_oid,
       con.confkey as ref_columns,
       case when con.contype = 'f' and rn.nspname <> all(%(schemas)s) then
            array(select a.attname
                    from unnest(con.confkey) with ordinality as k(attnum, ord)
                    join pg_catalog.pg_attribute as a on a.attrelid = con.confrelid and a.attnum = k.attnum
                   order by k.ord) end as ref_column_names,
       con.confdeltype as on_delete,
       con.confupdtype as on_update,
       con.condeferrable as deferrable
  from pg_catalog.pg_constraint as con
  join pg_catalog.pg_class as c on c.oid = con.conrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  left join pg_catalog.pg_class as rc on rc.oid = con.confrelid
  left join pg_catalog.pg_namespace as rn on rn.oid = rc.relnamespace
 where con.contype in ('p', 'u', 'f', 'c', 'x')
   and c.relkind in ('r', 'p')
   and n.nspname = any(%(schemas)s)
 order by con.conrelid, con.conname
