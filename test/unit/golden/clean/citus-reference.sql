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
-- parameters: [4,0,0,0,0,"{\"public.notes\":0,\"public.leads\":0,\"public.activities\":0}",0,7]

-- statement 12
begin;

-- statement 13
select set_config('lock_timeout', $1, $2), set_config('statement_timeout', $3, $4);
-- parameters: ["2000ms",true,"30000ms",true]

-- statement 14
insert into "pg_temp"."ld_chunk_keepers" (keeper_id, group_no, first_batch)
select distinct on (group_no) row_id, group_no, 3::int4
from (select "l"."id" as row_id, s.group_no, "l"."created_at" as created, (select count(*) from jsonb_each_text(to_jsonb("l")) as e(name, value) where e.value is not null and btrim(e.value) <> '') as filled
      from (select * from "pg_temp"."ld_stage"
            where group_no in (select group_no from "pg_temp"."ld_stage" where batch_no = 3 and chunked)
              and group_no not in (select group_no from "pg_temp"."ld_chunk_keepers")) as s
      join "public"."leads" as l on "l"."id" = s.row_id
      where md5(jsonb_build_array("l"."device_id", "l"."phone")::text) = s.group_id and "l"."device_id" is not null and "l"."phone" is not null) as r
order by group_no, filled desc, created asc nulls last, row_id asc;

-- statement 15
create temporary table ld_locked on commit drop as
select "l"."id" as row_id, jsonb_build_array("l"."device_id", "l"."phone") as key_values, md5(jsonb_build_array("l"."device_id", "l"."phone")::text) as group_id,
       "l"."created_at" as created, (select count(*) from jsonb_each_text(to_jsonb("l")) as e(name, value) where e.value is not null and btrim(e.value) <> '') as filled,
       s.batch_no, s.chunked, coalesce(k.keeper_id = "l"."id", false) as forced,
       case when k.first_batch = 3 then 'first' when k.first_batch < 3 then 'continued' end as chunk_state
from "public"."leads" as l
join "pg_temp"."ld_stage" as s on s.row_id = "l"."id"
left join "pg_temp"."ld_chunk_keepers" as k on k.group_no = s.group_no
where "l"."id" in (select row_id from "pg_temp"."ld_stage" where batch_no = 3
                union all select keeper_id from "pg_temp"."ld_chunk_keepers" where group_no in (select group_no from "pg_temp"."ld_stage" where batch_no = 3))
  and "l"."device_id" is not null and "l"."phone" is not null
order by "l"."id" for update of l;

-- statement 16
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

-- statement 17
create index on "pg_temp"."ld_members" (row_id);

-- statement 18
analyze "pg_temp"."ld_members" (row_id, group_id, keeper_id, rank_in_group, chunk_state);

-- statement 19
create temporary table ld_skipped (group_id text not null, reason text not null) on commit drop;

-- statement 20
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

-- statement 21
insert into "pg_temp"."ld_skipped" (group_id, reason)
select distinct x.group_id, $1::text
from (select m.group_id
      from "public"."leads" as c
      join "pg_temp"."ld_members" as m on "c"."parent_id" = m.row_id
      where m.rank_in_group > 1 and "c"."id" = m.keeper_id) as x
where not exists (select 1 from "pg_temp"."ld_skipped" as s where s.group_id = x.group_id);
-- parameters: ["its keeper references a copy of itself through leads.parent_id, which is NOT NULL: it would become its own parent"]

-- statement 22
create temporary table ld_members_keepers on commit drop as
(select m.*, "k"."device_id" as "ld_keeper_device_id" from "pg_temp"."ld_members" as m join "public"."leads" as k on "k"."id" = m.keeper_id);

-- statement 23
create index on "pg_temp"."ld_members_keepers" (row_id);

-- statement 24
insert into "pg_temp"."ld_skipped" (group_id, reason)
select distinct x.group_id, $1::text
from (select distinct m.group_id
      from "public"."activities" as c
      join "pg_temp"."ld_members_keepers" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null
      where m."ld_keeper_device_id" is null) as x
where not exists (select 1 from "pg_temp"."ld_skipped" as s where s.group_id = x.group_id);
-- parameters: ["its keeper has no device_id for activities (activities_fk): a moved row would reference nothing"]

-- statement 25
select group_id, reason from "pg_temp"."ld_skipped" order by group_id;

-- statement 26
delete from "pg_temp"."ld_members" where group_id in (select group_id from "pg_temp"."ld_skipped");

-- statement 27
delete from "pg_temp"."ld_members_keepers" where group_id in (select group_id from "pg_temp"."ld_skipped");

-- statement 28
select count(distinct group_id) filter (where chunk_state is distinct from 'continued') as groups,
       count(*) filter (where rank_in_group > 1) as victims, (select count(*) from "pg_temp"."ld_locked") as locked
from "pg_temp"."ld_members";

-- statement 29
insert into "lead_dedupe"."lead_dedupe_skipped" (run_id, batch_no, group_id, reason)
select $1::int8, $2::int4, group_id, reason from "pg_temp"."ld_skipped";
-- parameters: [7,3]

-- statement 30
insert into "lead_dedupe"."lead_dedupe_removed" (run_id, batch_no, group_id, keeper_id, row_id, row_data)
select $1::int8, $2::int4, m.group_id, m.keeper_id::text, m.row_id::text, to_jsonb(l)
from "public"."leads" as l
join "pg_temp"."ld_members" as m on "l"."id" = m.row_id
where m.rank_in_group > 1;
-- parameters: [7,3]

-- statement 31
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

-- statement 32
create temporary table ld_merge on commit drop as
select m.keeper_id as ld_keeper_id, m.group_id, (array_agg("d"."email" order by "d"."created_at" desc nulls last, "d"."id" desc) filter (where not ("d"."email" is null or btrim("d"."email") = '')))[1] as "ld_m1"
from "pg_temp"."ld_donors" as m
join "public"."leads" as d on "d"."id" = m.row_id
group by m.keeper_id, m.group_id;

-- statement 33
insert into "lead_dedupe"."lead_dedupe_keepers" (run_id, batch_no, group_id, row_id, merged_columns, row_data)
select $1::int8, $2::int4, g.group_id, "t"."id"::text,
       array_remove(array[case when (("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null) then $3::text end], null), to_jsonb(t)
from "public"."leads" as t
join "pg_temp"."ld_merge" as g on "t"."id" = g.ld_keeper_id
where ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null));
-- parameters: [7,3,"email"]

-- statement 34
update "public"."leads" as t
set "email" = case when (("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null) then g."ld_m1" else "t"."email" end
from (select * from "pg_temp"."ld_merge") as g
where "t"."id" = g.ld_keeper_id and ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null));

-- statement 35
create temporary table ld_merged_rows on commit drop as
select g.ld_keeper_id, to_jsonb(l) as row_data
from "pg_temp"."ld_merge" as g
join "public"."leads" as l on "l"."id" = g.ld_keeper_id;

-- statement 36
update "lead_dedupe"."lead_dedupe_keepers" as k
set merged_data = (select jsonb_object_agg(e.key, e.value) from jsonb_each(t.row_data) as e where e.key = any(k.merged_columns))
from pg_temp.ld_merged_rows as t
where k.run_id = $1::int8 and k.row_id = any(array(select ld_keeper_id::text from pg_temp.ld_merged_rows))
  and k.row_id = t.ld_keeper_id::text;
-- parameters: [7]

-- statement 37
insert into "lead_dedupe"."lead_dedupe_moved"
  (run_id, batch_no, child_schema, child_table, constraint_name, column_name, pk_columns, child_pk, old_value, new_value)
select $1::int8, $2::int4, $3::text, $4::text, $5::text,
       $6::text, $7::text[], jsonb_build_array("c"."id"), to_jsonb("c"."lead_id"),
       coalesce(to_jsonb(m.keeper_id), 'null'::jsonb)
from "public"."notes" as c
join "pg_temp"."ld_members" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1;
-- parameters: [7,3,"public","notes","notes_fk","lead_id",["id"]]

-- statement 38
update "public"."notes" as c
set "lead_id" = m.keeper_id
from (select * from "pg_temp"."ld_members") as m
where "c"."lead_id" = m.row_id and m.rank_in_group > 1;

-- statement 39
insert into "lead_dedupe"."lead_dedupe_moved"
  (run_id, batch_no, child_schema, child_table, constraint_name, column_name, pk_columns, child_pk, old_value, new_value)
select $1::int8, $2::int4, $3::text, $4::text, $5::text,
       $6::text, $7::text[], jsonb_build_array("c"."id"), to_jsonb("c"."parent_id"),
       coalesce(to_jsonb(case when "c"."id" = m.keeper_id then null else m.keeper_id end), 'null'::jsonb)
from "public"."leads" as c
join "pg_temp"."ld_members" as m on "c"."parent_id" = m.row_id and m.rank_in_group > 1
  and not exists (select 1 from "pg_temp"."ld_members" as v where v.row_id = "c"."id" and v.rank_in_group > 1);
-- parameters: [7,3,"public","leads","leads_parent_fk","parent_id",["id"]]

-- statement 40
update "public"."leads" as c
set "parent_id" = case when "c"."id" = m.keeper_id then null else m.keeper_id end
from (select * from "pg_temp"."ld_members") as m
where "c"."parent_id" = m.row_id and m.rank_in_group > 1
  and not exists (select 1 from "pg_temp"."ld_members" as v where v.row_id = "c"."id" and v.rank_in_group > 1);

-- statement 41
insert into "lead_dedupe"."lead_dedupe_moved"
  (run_id, batch_no, child_schema, child_table, constraint_name, column_name, pk_columns, child_pk, old_value, new_value)
select $1::int8, $2::int4, $3::text, $4::text, $5::text,
       v.column_name, $6::text[], jsonb_build_array(m."ld_keeper_device_id", "c"."id"), v.old_value, v.new_value
from "public"."activities" as c
join "pg_temp"."ld_members_keepers" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null
cross join lateral unnest(array[$7::text, $8::text], array[to_jsonb("c"."lead_id"), to_jsonb("c"."device_id")], array[coalesce(to_jsonb(m.keeper_id), 'null'::jsonb), coalesce(to_jsonb(m."ld_keeper_device_id"), 'null'::jsonb)]) as v(column_name, old_value, new_value);
-- parameters: [7,3,"public","activities","activities_fk",["device_id","id"],"lead_id","device_id"]

-- statement 42
update "public"."activities" as c
set "lead_id" = m.keeper_id, "device_id" = m."ld_keeper_device_id"
from (select * from "pg_temp"."ld_members_keepers") as m
where "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null;

-- statement 43
delete from "public"."leads" as l
using (select * from "pg_temp"."ld_members") as m
where "l"."id" = m.row_id and m.rank_in_group > 1;

-- statement 44
update "lead_dedupe"."lead_dedupe_runs"
set groups_planned = $1, groups_done = $2, rows_removed = $3,
    rows_merged = $4, groups_skipped = $5,
    child_rows_moved = $6::jsonb, batches_done = $7
where id = $8;
-- parameters: [4,2,3,3,1,"{\"public.notes\":3,\"public.leads\":3,\"public.activities\":3}",1,7]

-- statement 45
commit;
