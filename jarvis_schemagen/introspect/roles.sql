-- Roles are cluster-global: every role except PostgreSQL's own pg_* roles.
select r.rolname as name,
       r.rolcanlogin as login,
       r.rolbypassrls as bypassrls,
       array(select g.rolname
               from pg_catalog.pg_auth_members as m
               join pg_catalog.pg_roles as g on g.oid = m.roleid
              where m.member = r.oid
              order by g.rolname) as member_of
  from pg_catalog.pg_roles as r
 where r.rolname !~ '^pg_'
 order by r.rolname
