-- Domains in the inspected schemas, without extension-owned ones: base type, not null, default and
-- the check constraints (name, expression with VALUE) as PostgreSQL prints them.
select n.nspname as schema,
       t.typname as name,
       pg_catalog.format_type(t.typbasetype, t.typtypmod) as type,
       not t.typnotnull as nullable,
       t.typdefault as "default",
       array(select c.conname from pg_catalog.pg_constraint as c
              where c.contypid = t.oid and c.contype = 'c' order by c.conname) as check_names,
       array(select pg_catalog.pg_get_expr(c.conbin, 0) from pg_catalog.pg_constraint as c
              where c.contypid = t.oid and c.contype = 'c' order by c.conname) as check_expressions
  from pg_catalog.pg_type as t
  join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
 where t.typtype = 'd'
   and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                      and d.objid = t.oid and d.deptype = 'e')
 order by n.nspname, t.typname
