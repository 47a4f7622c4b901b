-- Effective ACLs (NULL = the built-in default, via acldefault) of tables (and views), their (and views') columns,
-- sequences, functions and schemas, one row per (object, grantee, privilege, grantor) with whether
-- it is held WITH GRANT OPTION. The owner's own privileges are left out: they follow ownership,
-- which differs between servers.
-- Grantee 0 is PUBLIC.
with acl as (
    select 'table' as "on", n.nspname || '.' || c.relname as object, c.relowner as owner,
           pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) as a
      from pg_catalog.pg_class as c
      join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p', 'v', 'm') and n.nspname = any(%(schemas)s)
       and not exists (select 1 from pg_catalog.pg_depend as d
                        where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                          and d.objid = c.oid and d.deptype = 'e')
    union all
    select 'column', n.nspname || '.' || c.relname || '.' || att.attname, c.relowner,
           pg_catalog.aclexplode(att.attacl)
      from pg_catalog.pg_attribute as att
      join pg_catalog.pg_class as c on c.oid = att.attrelid
      join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p', 'v', 'm') and n.nspname = any(%(schemas)s)
       and att.attnum > 0 and not att.attisdropped and att.attacl is not null
    union all
    select 'sequence', n.nspname || '.' || c.relname, c.relowner,
           pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('s', c.relowner)))
      from pg_catalog.pg_class as c
      join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
     where c.relkind = 'S' and n.nspname = any(%(schemas)s)
       and not exists (select 1 from pg_catalog.pg_depend as d
                        where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                          and d.objid = c.oid and d.deptype = 'e')
    union all
    select 'function', n.nspname || '.' || p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
           p.proowner, pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner)))
      from pg_catalog.pg_proc as p
      join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
     where p.prokind = 'f' and n.nspname = any(%(schemas)s)
       and not exists (select 1 from pg_catalog.pg_depend as d
                        where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                          and d.objid = p.oid and d.deptype = 'e')
    union all
    select 'schema', n.nspname, n.nspowner,
           pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner)))
      from pg_catalog.pg_namespace as n
     where n.nspname = any(%(schemas)s)
)
select acl."on",
       acl.object,
       case when (acl.a).grantee = 0 then 'public' else r.rolname end as role,
       lower((acl.a).privilege_type) as privilege,
       (acl.a).is_grantable as grantable
  from acl
  left join pg_catalog.pg_roles as r on r.oid = (acl.a).grantee
 where (acl.a).grantee <> acl.owner
   and ((acl.a).grantee = 0 or r.rolname is not null)
 order by 1, 2, 3, 4, 5
