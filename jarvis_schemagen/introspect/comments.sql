-- Comments on the inspected objects, keyed by kind and the object's name parts.
select 'table' as kind, n.nspname as schema, c.relname as parent, null::text as name, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_class as c on d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass and c.oid = d.objoid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where d.objsubid = 0 and c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
union all
select 'column', n.nspname, c.relname, a.attname, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_class as c on d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass and c.oid = d.objoid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attnum = d.objsubid
 where d.objsubid > 0 and c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
union all
select 'index', n.nspname, c.relname, ic.relname, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_class as ic on d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass and ic.oid = d.objoid
  join pg_catalog.pg_index as i on i.indexrelid = ic.oid
  join pg_catalog.pg_class as c on c.oid = i.indrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where ic.relkind in ('i', 'I') and n.nspname = any(%(schemas)s)
union all
select 'constraint', n.nspname, c.relname, con.conname, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_constraint as con
    on d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass and con.oid = d.objoid
  join pg_catalog.pg_class as c on c.oid = con.conrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where n.nspname = any(%(schemas)s)
union all
select 'policy', n.nspname, c.relname, p.polname, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_policy as p on d.classoid = 'pg_catalog.pg_policy'::pg_catalog.regclass and p.oid = d.objoid
  join pg_catalog.pg_class as c on c.oid = p.polrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where n.nspname = any(%(schemas)s)
union all
select 'trigger', n.nspname, c.relname, t.tgname, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_trigger as t on d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass and t.oid = d.objoid
  join pg_catalog.pg_class as c on c.oid = t.tgrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where n.nspname = any(%(schemas)s)
union all
select 'function', n.nspname, null, p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')', d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_proc as p on d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass and p.oid = d.objoid
  join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
 where n.nspname = any(%(schemas)s)
union all
select case c.relkind when 'm' then 'materialized view' else 'view' end, n.nspname, c.relname, null, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_class as c on d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass and c.oid = d.objoid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where d.objsubid = 0 and c.relkind in ('v', 'm') and n.nspname = any(%(schemas)s)
union all
select 'sequence', n.nspname, c.relname, null, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_class as c on d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass and c.oid = d.objoid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where d.objsubid = 0 and c.relkind = 'S' and n.nspname = any(%(schemas)s)
union all
select case t.typtype when 'd' then 'domain' else 'type' end, n.nspname, t.typname, null, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_type as t on d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass and t.oid = d.objoid
  join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
 where t.typtype in ('e', 'd') and n.nspname = any(%(schemas)s)
union all
select 'schema', n.nspname, null, null, d.description
  from pg_catalog.pg_description as d
  join pg_catalog.pg_namespace as n
    on d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass and n.oid = d.objoid
 where n.nspname = any(%(schemas)s)
