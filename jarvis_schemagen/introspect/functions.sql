-- Functions (not procedures, aggregates or window functions) in the inspected schemas,
-- without extension-owned ones. Arguments: name, type, mode (i o b v t), default per argument.
select n.nspname as schema,
       p.proname as name,
       pg_catalog.oidvectortypes(p.proargtypes) as identity,
       array(select coalesce(p.proargnames[k], '')
               from generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) as k
              order by k) as arg_names,
       array(select pg_catalog.format_type(coalesce(p.proallargtypes[k],
                                                    (p.proargtypes::pg_catalog.oid[])[k - 1]), null)
               from generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) as k
              order by k) as arg_types,
       array(select coalesce(p.proargmodes[k], 'i')
               from generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) as k
              order by k) as arg_modes,
       array(select pg_catalog.pg_get_function_arg_default(p.oid, k)
               from generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) as k
              order by k) as arg_defaults,
       pg_catalog.pg_get_function_result(p.oid) as returns,
       l.lanname as language,
       p.prosrc as body,
       case p.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end as volatility,
       p.prosecdef as security_definer,
       p.proisstrict as strict,
       p.proconfig as config,
       pg_catalog.pg_get_userbyid(p.proowner) as owner
  from pg_catalog.pg_proc as p
  join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
  join pg_catalog.pg_language as l on l.oid = p.prolang
 where p.prokind = 'f'
   and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                      and d.objid = p.oid and d.deptype = 'e')
 order by n.nspname, p.proname, 3
