-- statement 1
select count(*) as groups from (select "device_id" as "ld_k1", "phone" as "ld_k2", count(*) as n
from "public"."leads"
where "device_id" is not null and "phone" is not null
group by 1, 2
having count(*) > 1) as dg;

-- statement 2
drop table if exists "pg_temp"."ld_stage", "pg_temp"."ld_chunk_keepers", "pg_temp"."ld_group_rows";

-- statement 3
select set_config('parallel_tuple_cost', '0.01', false);

-- statement 4
create temporary table ld_stage as
select row_id, group_no, group_id, chunked, (dense_rank() over (order by row_window, group_window, alone, chunk) - 1)::int4 as batch_no
from (select "l"."id" as row_id, b.group_no, b.group_id, b.n > 1000 as chunked, b.row_window, b.group_window, b.alone,
             case when b.n > 1000 then (row_number() over (partition by b.group_no order by "l"."id") - 1) / 999 else 0 end as chunk
      from (select g.*, md5(jsonb_build_array("g"."ld_k1", "g"."ld_k2")::text) as group_id, case when g.n > 500 then g.group_no else 0 end as alone,
                   coalesce(sum(case when g.n > 500 then 0 else g.n end) over (order by g.group_no rows between unbounded preceding and 1 preceding), 0)::int8
                     / (1000 + 1 - max(case when g.n > 500 then 0 else g.n end) over ()) as row_window,
                   (g.group_no - 1) / 100 as group_window
            from (select dg.*, row_number() over (order by "ld_k1", "ld_k2") as group_no
                  from (select "device_id" as "ld_k1", "phone" as "ld_k2", count(*) as n
from "public"."leads"
where "device_id" is not null and "phone" is not null
group by 1, 2
having count(*) > 1) as dg
                  order by "ld_k1", "ld_k2"
                  limit 50) as g) as b
      join "public"."leads" as l on "l"."device_id" = "b"."ld_k1" and "l"."phone" = "b"."ld_k2") as x;

-- statement 5
reset parallel_tuple_cost;

-- statement 6
create index on "pg_temp"."ld_stage" (batch_no);

-- statement 7
create index on "pg_temp"."ld_stage" (row_id);

-- statement 8
analyze "pg_temp"."ld_stage";

-- statement 9
create temporary table ld_chunk_keepers as select row_id as keeper_id, group_no, 0::int4 as first_batch from "pg_temp"."ld_stage" limit 0;

-- statement 10
select max(group_no) as groups, count(*) as rows, max(batch_no) + 1 as batches from "pg_temp"."ld_stage";

-- statement 11
update "lead_dedupe"."lead_dedupe_runs"
set groups_planned = $1, groups_done = $2, rows_removed = $3,
    rows_merged = $4, groups_skipped = $5,
    child_rows_moved = $6::jsonb, batches_done = $7
where id = $8;
-- parameters: [4,0,0,0,0,"{\"public.notes\":0,\"public.activities\":0}",0,7]

-- statement 12
begin;

-- statement 13
select set_config('lock_timeout', $1, $2), set_config('statement_timeout', $3, $4);
-- parameters: ["2000ms",true,"30000ms",true]

-- statement 14
set local citus.propagate_set_commands = 'local';

-- statement 15
set local lock_timeout = '2000ms';

-- statement 16
set local statement_timeout = '30000ms';

-- statement 17
insert into "pg_temp"."ld_chunk_keepers" (keeper_id, group_no, first_batch)
select distinct on (group_no) row_id, group_no, 3::int4
from (select "l"."id" as row_id, s.group_no, "l"."created_at" as created, (select count(*) from jsonb_each_text(to_jsonb("l")) as e(name, value) where e.value is not null and btrim(e.value) <> '') as filled
      from (select * from "pg_temp"."ld_stage"
            where group_no in (select group_no from "pg_temp"."ld_stage" where batch_no = 3 and chunked)
              and group_no not in (select group_no from "pg_temp"."ld_chunk_keepers")) as s
      join "public"."leads" as l on "l"."id" = s.row_id
      where md5(jsonb_build_array("l"."device_id", "l"."phone")::text) = s.group_id and "l"."device_id" is not null and "l"."phone" is not null) as r
order by group_no, filled desc, created asc nulls last, row_id asc;

-- statement 18
create temporary table ld_batch_stage on commit drop as
select s.*, coalesce(k.keeper_id = s.row_id, false) as forced, k.first_batch
from (select * from "pg_temp"."ld_stage" where batch_no = 3
      union all
      select * from "pg_temp"."ld_stage"
      where row_id in (select keeper_id from "pg_temp"."ld_chunk_keepers" where group_no in (select group_no from "pg_temp"."ld_stage" where batch_no = 3))
        and batch_no <> 3) as s
left join "pg_temp"."ld_chunk_keepers" as k on k.group_no = s.group_no;

-- statement 19
create temporary table ld_lock_targets on commit drop as
select "l"."id" as dist, "l"."id" as row_id, null::int8 as shard
from "public"."leads" as l
where "l"."id" in (select row_id from "pg_temp"."ld_batch_stage");

-- statement 20
select pg_catalog.set_config('lead_dedupe.lock_table', $1, true),
       pg_catalog.set_config('lead_dedupe.lock_columns', $2, true);
-- parameters: ["1","[\"id\",\"id\"]"]

-- statement 21
do $lock$
declare
  target regclass := current_setting('lead_dedupe.lock_table')::oid::regclass;
  columns jsonb := current_setting('lead_dedupe.lock_columns')::jsonb;
  this_shard bigint;
begin
  update pg_temp.ld_lock_targets set shard = pg_catalog.get_shard_id_for_distribution_column(target, dist);
  for this_shard in select distinct t.shard from pg_temp.ld_lock_targets as t order by 1 loop
    execute format('select 1 from %s where %I = any($1) and %I = any($2) order by %I for update', target, columns->>0, columns->>1, columns->>1)
      using array(select t.dist from pg_temp.ld_lock_targets as t where t.shard = this_shard),
            array(select t.row_id from pg_temp.ld_lock_targets as t where t.shard = this_shard);
  end loop;
end
$lock$;

-- statement 22
create temporary table ld_locked on commit drop as
select "l"."id" as row_id, jsonb_build_array("l"."device_id", "l"."phone") as key_values, md5(jsonb_build_array("l"."device_id", "l"."phone")::text) as group_id,
       "l"."created_at" as created, (select count(*) from jsonb_each_text(to_jsonb("l")) as e(name, value) where e.value is not null and btrim(e.value) <> '') as filled,
       s.batch_no, s.chunked, s.forced, case when s.first_batch = 3 then 'first' when s.first_batch < 3 then 'continued' end as chunk_state
from "public"."leads" as l
join "pg_temp"."ld_batch_stage" as s on s.row_id = "l"."id"
where "l"."device_id" is not null and "l"."phone" is not null
order by "l"."id";

-- statement 23
create temporary table ld_members on commit drop as
select row_id, group_id, key_values, batch_no, chunk_state,
       first_value(row_id) over w as keeper_id,
       row_number() over w as rank_in_group
from (select *, count(*) over (partition by group_id) as group_size,
             bool_or(chunk_state is not null) over (partition by group_id) as chunk_keeper_chosen,
             bool_or(forced) over (partition by group_id) as has_chunk_keeper
      from "pg_temp"."ld_locked") as r
where group_size > 1 and (not chunk_keeper_chosen or has_chunk_keeper)
window w as (partition by group_id order by forced desc, filled desc, created asc nulls last, row_id asc);

-- statement 24
create temporary table ld_skipped (group_id text not null, reason text not null) on commit drop;

-- statement 25
insert into "pg_temp"."ld_skipped" (group_id, reason)
select distinct x.group_id, $1::text
from (select m.group_id
      from "public"."notes" as c
      join "pg_temp"."ld_members" as m on "c"."lead_id" = m.row_id
      where true and "c"."kind" is not null
      group by m.group_id, "c"."kind"
      having count(*) > 1) as x
where not exists (select 1 from "pg_temp"."ld_skipped" as s where s.group_id = x.group_id);
-- parameters: ["unique index notes_uq on public.notes (lead_id, kind)"]

-- statement 26
create temporary table ld_members_keepers on commit drop as
(select m.*, "k"."device_id" as "ld_keeper_device_id" from "pg_temp"."ld_members" as m join "public"."leads" as k on "k"."id" = m.keeper_id);

-- statement 27
create index on "pg_temp"."ld_members_keepers" (row_id);

-- statement 28
insert into "pg_temp"."ld_skipped" (group_id, reason)
select distinct x.group_id, $1::text
from (select distinct m.group_id
      from "public"."activities" as c
      join "pg_temp"."ld_members_keepers" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null
      where m."ld_keeper_device_id" is null) as x
where not exists (select 1 from "pg_temp"."ld_skipped" as s where s.group_id = x.group_id);
-- parameters: ["its keeper has no device_id for activities (activities_fk): a moved row would reference nothing"]

-- statement 29
select group_id, reason from "pg_temp"."ld_skipped" order by group_id;

-- statement 30
delete from "pg_temp"."ld_members" where group_id in (select group_id from "pg_temp"."ld_skipped");

-- statement 31
delete from "pg_temp"."ld_members_keepers" where group_id in (select group_id from "pg_temp"."ld_skipped");

-- statement 32
select count(distinct group_id) filter (where chunk_state is distinct from 'continued') as groups,
       count(*) filter (where rank_in_group > 1) as victims, (select count(*) from "pg_temp"."ld_locked") as locked
from "pg_temp"."ld_members";

-- statement 33
insert into "lead_dedupe"."lead_dedupe_skipped" (run_id, batch_no, group_id, reason)
select $1::int8, $2::int4, group_id, reason from "pg_temp"."ld_skipped";
-- parameters: [7,3]

-- statement 34
insert into "lead_dedupe"."lead_dedupe_removed" (run_id, batch_no, group_id, keeper_id, row_id, row_data)
select $1::int8, $2::int4, m.group_id, m.keeper_id::text, m.row_id::text, to_jsonb(l)
from "public"."leads" as l
join "pg_temp"."ld_members" as m on "l"."id" = m.row_id
where m.rank_in_group > 1;
-- parameters: [7,3]

-- statement 35
create temporary table ld_donors on commit drop as
select keeper_id, group_id, row_id from "pg_temp"."ld_members" where rank_in_group > 1 and chunk_state is null
union all
select s.keeper_id, s.group_id, s.row_id
from (select k.keeper_id, s.group_id, s.row_id
      from "pg_temp"."ld_chunk_keepers" as k join "pg_temp"."ld_stage" as s on s.group_no = k.group_no
      where k.first_batch = 3 and s.row_id <> k.keeper_id
        and exists (select 1 from "pg_temp"."ld_members" as m where m.row_id = k.keeper_id)) as s
join "public"."leads" as d on "d"."id" = s.row_id
where md5(jsonb_build_array("d"."device_id", "d"."phone")::text) = s.group_id and "d"."device_id" is not null and "d"."phone" is not null;

-- statement 36
create temporary table ld_merge on commit drop as
select m.keeper_id as ld_keeper_id, m.group_id, (array_agg("d"."email" order by "d"."created_at" desc nulls last, "d"."id" desc) filter (where not ("d"."email" is null or btrim("d"."email") = '')))[1] as "ld_m1"
from "pg_temp"."ld_donors" as m
join "public"."leads" as d on "d"."id" = m.row_id
group by m.keeper_id, m.group_id;

-- statement 37
insert into "lead_dedupe"."lead_dedupe_keepers" (run_id, batch_no, group_id, row_id, merged_columns, row_data)
select $1::int8, $2::int4, g.group_id, "t"."id"::text,
       array_remove(array[case when (("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null) then $3::text end], null), to_jsonb(t)
from "public"."leads" as t
join "pg_temp"."ld_merge" as g on "t"."id" = g.ld_keeper_id
where ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null));
-- parameters: [7,3,"email"]

-- statement 38
update "public"."leads" as t
set "email" = case when (("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null) then g."ld_m1" else "t"."email" end
from (select * from "pg_temp"."ld_merge") as g
where "t"."id" = g.ld_keeper_id and ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null));

-- statement 39
create temporary table ld_merged_rows on commit drop as
select g.ld_keeper_id, to_jsonb(l) as row_data
from "pg_temp"."ld_merge" as g
join "public"."leads" as l on "l"."id" = g.ld_keeper_id;

-- statement 40
update "lead_dedupe"."lead_dedupe_keepers" as k
set merged_data = (select jsonb_object_agg(e.key, e.value) from jsonb_each(t.row_data) as e where e.key = any(k.merged_columns))
from pg_temp.ld_merged_rows as t
where k.run_id = $1::int8 and k.row_id = any(array(select ld_keeper_id::text from pg_temp.ld_merged_rows))
  and k.row_id = t.ld_keeper_id::text;
-- parameters: [7]

-- statement 41
insert into "lead_dedupe"."lead_dedupe_moved"
  (run_id, batch_no, child_schema, child_table, constraint_name, column_name, pk_columns, child_pk, old_value, new_value)
select $1::int8, $2::int4, $3::text, $4::text, $5::text,
       $6::text, $7::text[], jsonb_build_array("c"."id"), to_jsonb("c"."lead_id"),
       coalesce(to_jsonb(m.keeper_id), 'null'::jsonb)
from "public"."notes" as c
join "pg_temp"."ld_members" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1;
-- parameters: [7,3,"public","notes","notes_fk","lead_id",["id"]]

-- statement 42
with moved as (
  delete from "public"."notes" as c
  using "pg_temp"."ld_members" as m
  where "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."lead_id" is distinct from m.keeper_id
  returning c.*, m.keeper_id as "ld_new_0")
insert into "public"."notes" overriding system value
select (jsonb_populate_record(null::"public"."notes", to_jsonb(moved) || jsonb_build_object($1::text, moved."ld_new_0"))).*
from moved;
-- parameters: ["lead_id"]

-- statement 43
insert into "lead_dedupe"."lead_dedupe_moved"
  (run_id, batch_no, child_schema, child_table, constraint_name, column_name, pk_columns, child_pk, old_value, new_value)
select $1::int8, $2::int4, $3::text, $4::text, $5::text,
       v.column_name, $6::text[], jsonb_build_array(m."ld_keeper_device_id", "c"."id"), v.old_value, v.new_value
from "public"."activities" as c
join "pg_temp"."ld_members_keepers" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null
cross join lateral unnest(array[$7::text, $8::text], array[to_jsonb("c"."lead_id"), to_jsonb("c"."device_id")], array[coalesce(to_jsonb(m.keeper_id), 'null'::jsonb), coalesce(to_jsonb(m."ld_keeper_device_id"), 'null'::jsonb)]) as v(column_name, old_value, new_value);
-- parameters: [7,3,"public","activities","activities_fk",["device_id","id"],"lead_id","device_id"]

-- statement 44
with moved as (
  delete from "public"."activities" as c
  using "pg_temp"."ld_members_keepers" as m
  where "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null and "c"."device_id" is distinct from m."ld_keeper_device_id"
  returning c.*, m.keeper_id as "ld_new_0", m."ld_keeper_device_id" as "ld_new_1")
insert into "public"."activities" overriding system value
select (jsonb_populate_record(null::"public"."activities", to_jsonb(moved) || jsonb_build_object($1::text, moved."ld_new_0", $2::text, moved."ld_new_1"))).*
from moved;
-- parameters: ["lead_id","device_id"]

-- statement 45
update "public"."activities" as c
set "lead_id" = m.keeper_id
from "pg_temp"."ld_members_keepers" as m
where "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null;

-- statement 46
delete from "public"."leads" as l
using (select * from "pg_temp"."ld_members") as m
where "l"."id" = m.row_id and m.rank_in_group > 1;

-- statement 47
update "lead_dedupe"."lead_dedupe_runs"
set groups_planned = $1, groups_done = $2, rows_removed = $3,
    rows_merged = $4, groups_skipped = $5,
    child_rows_moved = $6::jsonb, batches_done = $7
where id = $8;
-- parameters: [4,2,3,3,1,"{\"public.notes\":3,\"public.activities\":6}",1,7]

-- statement 48
commit;
