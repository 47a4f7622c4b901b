-- Default privileges (ALTER DEFAULT PRIVILEGES), one row per (creating role, schema, object
-- type, grantee, privilege). schema is NULL for entries that apply in every schema. Object
-- types: r tables, S sequences, f functions, T types, n schemas. Grantee 'public' is PUBLIC.
select pg_catalog.pg_get_userbyid(d.defaclrole) as role,
       n.nspname as schema,
       d.defaclobjtype::text as objtype,
       case when (d.a).grantee = 0 then 'public' else r.rolname end as grantee,
       lower((d.a).privilege_type) as privilege
  from (select defaclrole, defaclnamespace, defaclobjtype, pg_catalog.aclexplode(defaclacl) as a
          from pg_catalog.pg_default_acl) as d
  left join pg_catalog.pg_namespace as n on n.oid = d.defaclnamespace
  left join pg_catalog.pg_roles as r on r.oid = (d.a).grantee
 where (d.a).grantee = 0 or r.rolname is not null
 order by 1, 2 nulls first, 3, 4, 5
