-- statement 1
begin;

-- statement 2
select set_config('lock_timeout', $1, $2), set_config('statement_timeout', $3, $4);
-- parameters: ["2000ms",true,"30000ms",true]

-- statement 3
select set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
       set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true), set_config('bytea_output', 'hex', true);

-- statement 4
create temporary table ld_locked on commit drop as
select "l"."id" as row_id, md5("l"::text) as fingerprint,
       case when "l"."device_id" is not null and "l"."phone" is not null then md5(jsonb_build_array("l"."device_id", "l"."phone")::text) end as key_group
from "public"."leads" as l
where "l"."id" in (select row_id from "pg_temp"."ld_stage" where batch_no = 3)
order by "l"."id" for update of l;

-- statement 5
create temporary table ld_skipped (group_id text not null, reason text not null) on commit drop;

-- statement 6
insert into "pg_temp"."ld_skipped" (group_id, reason)
select distinct on (s.group_id) s.group_id,
       coalesce(case when "k"."row_id" is null then $1 || ': id ' || "s"."row_id"::text
            when "k"."fingerprint" <> "s"."fingerprint" then $2 || ': id ' || "s"."row_id"::text end, $3 || ': id ' || s.row_id::text || $4)
from "pg_temp"."ld_stage" as s
left join "pg_temp"."ld_locked" as k on k.row_id = s.row_id
where s.batch_no = 3 and (k.row_id is null or k.fingerprint <> s.fingerprint or (k.key_group is distinct from s.group_id and not s.reviewed))
order by s.group_id, (k.row_id is null) desc, (k.key_group is distinct from s.group_id and not s.reviewed) desc, s.row_id;
-- parameters: ["stale (a row is gone since the plan)","stale (a row changed since the plan)","stale (a row changed since the plan)"," no longer carries the group's key"]

-- statement 7
create temporary table ld_members on commit drop as
select s.row_id, s.group_id, s.key_values, s.batch_no, null::text as chunk_state, s.keeper_id,
       row_number() over (partition by s.group_id order by s.keeper desc, s.row_id) as rank_in_group
from "pg_temp"."ld_stage" as s
where s.batch_no = 3 and s.group_id not in (select group_id from "pg_temp"."ld_skipped");

-- statement 8
create index on "pg_temp"."ld_members" (row_id);

-- statement 9
analyze "pg_temp"."ld_members";

-- statement 10
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

-- statement 11
select group_id, reason from "pg_temp"."ld_skipped" order by group_id;

-- statement 12
delete from "pg_temp"."ld_members" where group_id in (select group_id from "pg_temp"."ld_skipped");

-- statement 13
select count(distinct group_id) filter (where chunk_state is distinct from 'continued') as groups,
       count(*) filter (where rank_in_group > 1) as victims, (select count(*) from "pg_temp"."ld_locked") as locked
from "pg_temp"."ld_members";

-- statement 14
insert into "lead_dedupe"."lead_dedupe_skipped" (run_id, batch_no, group_id, reason)
select $1::int8, $2::int4, group_id, reason from "pg_temp"."ld_skipped";
-- parameters: [7,3]

-- statement 15
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

-- statement 16
create temporary table ld_merge on commit drop as
select m.keeper_id as ld_keeper_id, m.group_id, (array_agg("d"."email" order by "d"."created_at" desc nulls last, "d"."id" desc) filter (where not ("d"."email" is null or btrim("d"."email") = '')))[1] as "ld_m1"
from "pg_temp"."ld_donors" as m
join "public"."leads" as d on "d"."id" = m.row_id
group by m.keeper_id, m.group_id;

-- statement 17
insert into "lead_dedupe"."lead_dedupe_keepers" (run_id, batch_no, group_id, row_id, merged_columns, row_data)
select $1::int8, $2::int4, g.group_id, "t"."id"::text,
       array_remove(array[case when (("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null) then $3::text end], null), to_jsonb(t)
from "public"."leads" as t
join "pg_temp"."ld_merge" as g on "t"."id" = g.ld_keeper_id
where ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null));
-- parameters: [7,3,"email"]

-- statement 18
update "public"."leads" as t
set "email" = case when (("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null) then g."ld_m1" else "t"."email" end
from (select * from "pg_temp"."ld_merge") as g
where "t"."id" = g.ld_keeper_id and ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null));

-- statement 19
create temporary table ld_merged_rows on commit drop as
select g.ld_keeper_id, to_jsonb(l) as row_data
from "pg_temp"."ld_merge" as g
join "public"."leads" as l on "l"."id" = g.ld_keeper_id;

-- statement 20
update "lead_dedupe"."lead_dedupe_keepers" as k
set merged_data = (select jsonb_object_agg(e.key, e.value) from jsonb_each(t.row_data) as e where e.key = any(k.merged_columns))
from pg_temp.ld_merged_rows as t
where k.run_id = $1::int8 and k.row_id = any(array(select ld_keeper_id::text from pg_temp.ld_merged_rows))
  and k.row_id = t.ld_keeper_id::text;
-- parameters: [7]

-- statement 21
with moved as (
  update "public"."notes" as c
  set "lead_id" = m.keeper_id
  from "pg_temp"."ld_members" as m
  where "c"."lead_id" = m.row_id and m.rank_in_group > 1
  returning "c"."id" as "ld_pk_0", m.row_id as ld_old_value, "c"."lead_id" as ld_new_value)
insert into "lead_dedupe"."lead_dedupe_moved"
  (run_id, batch_no, child_schema, child_table, constraint_name, column_name, pk_columns, child_pk, old_value, new_value)
select $1::int8, $2::int4, $3::text, $4::text, $5::text,
       $6::text, $7::text[], jsonb_build_array("moved"."ld_pk_0"), to_jsonb(moved.ld_old_value),
       coalesce(to_jsonb(moved.ld_new_value), 'null'::jsonb)
from moved;
-- parameters: [7,3,"public","notes","notes_fk","lead_id",["id"]]

-- statement 22
with removed as (
  delete from "public"."leads" as l
  using "pg_temp"."ld_members" as m
  where "l"."id" = m.row_id and m.rank_in_group > 1
  returning m.group_id, m.keeper_id, m.row_id, to_jsonb(l) as row_data)
insert into "lead_dedupe"."lead_dedupe_removed" (run_id, batch_no, group_id, keeper_id, row_id, row_data)
select $1::int8, $2::int4, group_id, keeper_id::text, row_id::text, row_data
from removed;
-- parameters: [7,3]

-- statement 23
update "lead_dedupe"."lead_dedupe_runs"
set groups_planned = $1, groups_done = $2, rows_removed = $3,
    rows_merged = $4, groups_skipped = $5,
    child_rows_moved = $6::jsonb, batches_done = $7
where id = $8;
-- parameters: [0,2,3,3,1,"{\"public.notes\":3}",1,7]

-- statement 24
commit;
