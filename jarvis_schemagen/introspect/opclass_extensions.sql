-- Extensions whose operator classes the indexes of the inspected tables use, the indexes behind
-- constraints included (btree_gist for an exclusion constraint on an integer column, pg_trgm for
-- a trigram index): creating the table needs the extension, though no expression names it.
select distinct n.nspname || '.' || c.relname as "table",
       e.extname as extension
  from pg_catalog.pg_index as i
  join pg_catalog.pg_class as c on c.oid = i.indrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  join pg_catalog.pg_depend as d on d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                and d.objid = i.indexrelid
                                and d.refclassid = 'pg_catalog.pg_opclass'::pg_catalog.regclass
  join pg_catalog.pg_depend as x on x.classid = 'pg_catalog.pg_opclass'::pg_catalog.regclass
                                and x.objid = d.refobjid and x.deptype = 'e'
                                and x.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
  join pg_catalog.pg_extension as e on e.oid = x.refobjid
 where n.nspname = any(%(schemas)s)
 order by 1, 2
