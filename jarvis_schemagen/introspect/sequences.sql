-- Sequences that belong to a column (identity or serial) of an inspected table, with that
-- table: their ACL is compared as part of the table's (a grant on the sequence of an identity
-- column lets a role setval() it and break every insert).
select s.nspname || '.' || sc.relname as sequence,
       tn.nspname || '.' || t.relname as "table"
  from pg_catalog.pg_depend as d
  join pg_catalog.pg_class as sc on sc.oid = d.objid and sc.relkind = 'S'
  join pg_catalog.pg_namespace as s on s.oid = sc.relnamespace
  join pg_catalog.pg_class as t on t.oid = d.refobjid
  join pg_catalog.pg_namespace as tn on tn.oid = t.relnamespace
 where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
   and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
   and d.deptype in ('a', 'i') and d.refobjsubid > 0
   and tn.nspname = any(%(schemas)s)
 order by 1
