-- Columns of every inspected table, in attribute order. Types and expressions as PostgreSQL prints them.
select a.attrelid as table_oid,
       a.attname as name,
       a.attnum,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
       not a.attnotnull as nullable,
       case when a.attgenerated = '' then pg_catalog.pg_get_expr(d.adbin, d.adrelid) end as "default",
       case a.attidentity when 'a' then 'always' when 'd' then 'by default' end as identity,
       case when a.attgenerated <> '' then pg_catalog.pg_get_expr(d.adbin, d.adrelid) end as generated,
       (select cn.nspname || '.' || co.collname
          from pg_catalog.pg_collation as co
          join pg_catalog.pg_namespace as cn on cn.oid = co.collnamespace
         where co.oid = a.attcollation
           and a.attcollation <> (select t.typcollation from pg_catalog.pg_type as t where t.oid = a.atttypid)
       ) as collation,
       -- whether the sequence the default draws from belongs to the column (`owned by`, as serial makes it):
       -- what tells a serial column from one taking its default from a sequence created on its own
       a.attidentity = '' and exists (
           select from pg_catalog.pg_depend as dd
             join pg_catalog.pg_class as s on s.oid = dd.objid and s.relkind = 'S'
             join pg_catalog.pg_depend as used on used.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
                                              and used.objid = d.oid and used.refobjid = s.oid
            where dd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
              and dd.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
              and dd.refobjid = a.attrelid and dd.refobjsubid = a.attnum and dd.deptype = 'a'
       ) as owns_sequence
  from pg_catalog.pg_attribute as a
  join pg_catalog.pg_class as c on c.oid = a.attrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  left join pg_catalog.pg_attrdef as d on d.adrelid = a.attrelid and d.adnum = a.attnum
 where c.relkind in ('r', 'p')
   and n.nspname = any(%(schemas)s)
   and a.attnum > 0
   and not a.attisdropped
 order by a.attrelid, a.attnum
