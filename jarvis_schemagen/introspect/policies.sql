-- Row level security policies of the inspected tables. polroles = {0} means PUBLIC.
select p.polrelid as table_oid,
       p.polname as name,
       case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                     when 'd' then 'delete' else 'all' end as command,
       array(select case when r.oid = 0 then 'public' else g.rolname end
               from unnest(p.polroles) as r(oid)
               left join pg_catalog.pg_roles as g on g.oid = r.oid
              order by 1) as roles,
       p.polpermissive as permissive,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) as "using",
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) as with_check
  from pg_catalog.pg_policy as p
  join pg_catalog.pg_class as c on c.oid = p.polrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where n.nspname = any(%(schemas)s)
 order by p.polrelid, p.polname
