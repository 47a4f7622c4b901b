-- Functions and types that belong to an extension (any schema), with the extension: which
-- extension a column type or a function call in an expression needs.
select 'function' as kind, n.nspname || '.' || p.proname as name, e.extname as extension
  from pg_catalog.pg_depend as d
  join pg_catalog.pg_proc as p on d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and p.oid = d.objid
  join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
  join pg_catalog.pg_extension as e on d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                                   and e.oid = d.refobjid
 where d.deptype = 'e' and n.nspname <> 'pg_catalog'
union
select 'type', n.nspname || '.' || t.typname, e.extname
  from pg_catalog.pg_depend as d
  join pg_catalog.pg_type as t on d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass and t.oid = d.objid
  join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
  join pg_catalog.pg_extension as e on d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                                   and e.oid = d.refobjid
 where d.deptype = 'e' and n.nspname <> 'pg_catalog'
 order by 1, 2, 3
