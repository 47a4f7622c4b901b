-- What the spec cannot express about the objects of the inspected schemas, one row per finding:
-- (schema, object: the table or function, what, detail). `schemagen inspect` leaves the object
-- out or names the lost property on stderr, depending on `what`.
select n.nspname as schema, c.relname as object, 'partitioned table' as what,
       pg_catalog.pg_get_partkeydef(c.oid) as detail
  from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relkind = 'p' and n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname, 'partition', pg_catalog.pg_get_expr(c.relpartbound, c.oid)
  from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relispartition and c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname, 'inherits', pn.nspname || '.' || pc.relname
  from pg_catalog.pg_inherits as i
  join pg_catalog.pg_class as c on c.oid = i.inhrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  join pg_catalog.pg_class as pc on pc.oid = i.inhparent
  join pg_catalog.pg_namespace as pn on pn.oid = pc.relnamespace
 where not c.relispartition and c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname, 'unlogged', null
  from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relpersistence = 'u' and c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname, 'storage parameters', pg_catalog.array_to_string(c.reloptions, ', ')
  from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.reloptions is not null and c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname, 'replica identity',
       case c.relreplident when 'f' then 'full' when 'n' then 'nothing' else 'using index' end
  from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where c.relreplident <> 'd' and c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname, 'publication', p.pubname
  from pg_catalog.pg_publication_rel as pr
  join pg_catalog.pg_publication as p on p.oid = pr.prpubid
  join pg_catalog.pg_class as c on c.oid = pr.prrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname, 'column collation', a.attname || ' collate ' || coll.collname
  from pg_catalog.pg_attribute as a
  join pg_catalog.pg_class as c on c.oid = a.attrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  join pg_catalog.pg_type as t on t.oid = a.atttypid
  join pg_catalog.pg_collation as coll on coll.oid = a.attcollation
 where a.attnum > 0 and not a.attisdropped and a.attcollation <> t.typcollation
   and c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname,
       case when t.tgnargs > 0 then 'trigger arguments'
            when t.tgoldtable is not null or t.tgnewtable is not null then 'trigger transition tables'
            else 'constraint trigger' end,
       t.tgname
  from pg_catalog.pg_trigger as t
  join pg_catalog.pg_class as c on c.oid = t.tgrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where not t.tgisinternal and (t.tgnargs > 0 or t.tgoldtable is not null or t.tgnewtable is not null
                               or t.tgconstraint <> 0)
   and n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname,
       case when con.condeferred then 'initially deferred' when not con.convalidated then 'not valid'
            when con.confmatchtype = 'f' then 'match full' else 'no inherit' end,
       con.conname
  from pg_catalog.pg_constraint as con
  join pg_catalog.pg_class as c on c.oid = con.conrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where (con.condeferred or not con.convalidated or con.confmatchtype = 'f'
        or con.connoinherit and con.contype = 'c')
   and c.relkind in ('r', 'p') and n.nspname = any(%(schemas)s)
union all
-- what a partition has of its own (not its partitioned table's copy): the spec declares a partition
-- by its bound only, so these are named
select pn.nspname, pc.relname, 'partition-only', o.what || ' on ' || n.nspname || '.' || c.relname
  from (select con.conrelid as rel,
               case con.contype when 'f' then 'foreign key' when 'c' then 'check' when 'p' then 'primary key'
                                when 'u' then 'unique constraint' else 'constraint' end || ' ' || con.conname as what
          from pg_catalog.pg_constraint as con
         where con.conparentid = 0 and con.conislocal and con.coninhcount = 0
        union all
        select i.indrelid, 'index ' || ic.relname
          from pg_catalog.pg_index as i join pg_catalog.pg_class as ic on ic.oid = i.indexrelid
         where not exists (select 1 from pg_catalog.pg_inherits as ii where ii.inhrelid = i.indexrelid)
           and not exists (select 1 from pg_catalog.pg_constraint as k where k.conindid = i.indexrelid
                                                                          and k.conrelid = i.indrelid)
        union all
        select t.tgrelid, 'trigger ' || t.tgname
          from pg_catalog.pg_trigger as t where not t.tgisinternal and t.tgparentid = 0) as o
  join pg_catalog.pg_class as c on c.oid = o.rel and c.relispartition
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
  join pg_catalog.pg_inherits as inh on inh.inhrelid = c.oid
  join pg_catalog.pg_class as pc on pc.oid = inh.inhparent
  join pg_catalog.pg_namespace as pn on pn.oid = pc.relnamespace
 where pn.nspname = any(%(schemas)s)
union all
-- options of the sequence of an identity or serial column that are not PostgreSQL's defaults: the spec
-- writes the column (identity: by default, type: serial) and cannot say them
select tn.nspname, t.relname, 'column sequence options', a.attname || ': ' || pg_catalog.concat_ws(', ',
           case when s.seqstart <> case when s.seqincrement > 0 then s.seqmin else s.seqmax end
                then 'start ' || s.seqstart end,
           case when s.seqincrement <> 1 then 'increment ' || s.seqincrement end,
           case when s.seqmin <> case when s.seqincrement > 0 then 1 else -r.top - 1 end then 'min ' || s.seqmin end,
           case when s.seqmax <> case when s.seqincrement > 0 then r.top else -1 end then 'max ' || s.seqmax end,
           case when s.seqcache <> 1 then 'cache ' || s.seqcache end,
           case when s.seqcycle then 'cycle' end)
  from pg_catalog.pg_depend as d
  join pg_catalog.pg_sequence as s on s.seqrelid = d.objid
  join pg_catalog.pg_class as t on t.oid = d.refobjid
  join pg_catalog.pg_namespace as tn on tn.oid = t.relnamespace
  join pg_catalog.pg_attribute as a on a.attrelid = t.oid and a.attnum = d.refobjsubid
  cross join lateral (select case s.seqtypid when 'pg_catalog.int2'::pg_catalog.regtype then 32767::bigint
                                             when 'pg_catalog.int4'::pg_catalog.regtype then 2147483647::bigint
                                             else 9223372036854775807 end as top) as r
 where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
   and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
   and d.deptype in ('a', 'i') and d.refobjsubid > 0 and tn.nspname = any(%(schemas)s)
   and (s.seqstart <> case when s.seqincrement > 0 then s.seqmin else s.seqmax end or s.seqincrement <> 1
        or s.seqmin <> case when s.seqincrement > 0 then 1 else -r.top - 1 end
        or s.seqmax <> case when s.seqincrement > 0 then r.top else -1 end or s.seqcache <> 1 or s.seqcycle)
union all
-- a sequence that belongs to a column (`alter sequence ... owned by`) its default does not draw from: the spec
-- has no place for it (serial is a sequence owned by the column whose default it is)
select tn.nspname, t.relname, 'owned sequence', a.attname || ': ' || sn.nspname || '.' || sc.relname
  from pg_catalog.pg_depend as d
  join pg_catalog.pg_class as sc on sc.oid = d.objid and sc.relkind = 'S'
  join pg_catalog.pg_namespace as sn on sn.oid = sc.relnamespace
  join pg_catalog.pg_class as t on t.oid = d.refobjid
  join pg_catalog.pg_namespace as tn on tn.oid = t.relnamespace
  join pg_catalog.pg_attribute as a on a.attrelid = t.oid and a.attnum = d.refobjsubid
 where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
   and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
   and d.deptype = 'a' and d.refobjsubid > 0 and tn.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_attrdef as ad
                     join pg_catalog.pg_depend as dd on dd.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
                      and dd.objid = ad.oid and dd.refobjid = sc.oid
                    where ad.adrelid = t.oid and ad.adnum = a.attnum)
union all
select n.nspname, c.relname, 'materialized view index', ic.relname
  from pg_catalog.pg_index as i
  join pg_catalog.pg_class as ic on ic.oid = i.indexrelid
  join pg_catalog.pg_class as c on c.oid = i.indrelid and c.relkind = 'm'
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname, 'index storage parameters',
       ic.relname || ' (' || pg_catalog.array_to_string(ic.reloptions, ', ') || ')'
  from pg_catalog.pg_index as i
  join pg_catalog.pg_class as ic on ic.oid = i.indexrelid
  join pg_catalog.pg_class as c on c.oid = i.indrelid
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where ic.reloptions is not null and n.nspname = any(%(schemas)s)
union all
select n.nspname, c.relname, 'rule', r.rulename
  from pg_catalog.pg_rewrite as r
  join pg_catalog.pg_class as c on c.oid = r.ev_class
  join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
 where r.rulename <> '_RETURN' and n.nspname = any(%(schemas)s)
union all
select n.nspname, p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
       case p.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'window function' end, null
  from pg_catalog.pg_proc as p join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
 where p.prokind <> 'f' and n.nspname = any(%(schemas)s)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                      and d.objid = p.oid and d.deptype = 'e')
union all
select n.nspname, p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')', 'function options',
       pg_catalog.concat_ws(', ', case when p.proleakproof then 'leakproof' end,
                            case p.proparallel when 's' then 'parallel safe' when 'r' then 'parallel restricted' end,
                            case when p.procost <> (case when l.lanname in ('c', 'internal') then 1 else 100 end)
                                 then 'cost ' || p.procost end,
                            case when p.proretset and p.prorows <> 1000 then 'rows ' || p.prorows end)
  from pg_catalog.pg_proc as p
  join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
  join pg_catalog.pg_language as l on l.oid = p.prolang
 where p.prokind = 'f' and n.nspname = any(%(schemas)s)
   and (p.proleakproof or p.proparallel <> 'u'
        or p.procost <> (case when l.lanname in ('c', 'internal') then 1 else 100 end)
        or p.proretset and p.prorows <> 1000)
   and not exists (select 1 from pg_catalog.pg_depend as d
                    where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                      and d.objid = p.oid and d.deptype = 'e')
 order by 1, 2, 3, 4
