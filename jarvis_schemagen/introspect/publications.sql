-- Publications of the database, each with its tables in the inspected schemas.
select p.pubname as name,
       array(select pt.schemaname || '.' || pt.tablename
               from pg_catalog.pg_publication_tables as pt
              where pt.pubname = p.pubname and pt.schemaname = any(%(schemas)s)
              order by 1) as tables
  from pg_catalog.pg_publication as p
 order by 1
