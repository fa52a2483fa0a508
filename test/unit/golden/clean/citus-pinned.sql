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
create temporary table ld_group_rows as
select * from (select "l"."id" as row_id, "l"."device_id" as "ld_k1", "l"."phone" as "ld_k2", count(*) over (partition by "l"."device_id", "l"."phone") as n
from "public"."leads" as l
where "l"."device_id" is not null and "l"."phone" is not null) as r
where n > 1;

-- statement 5
create temporary table ld_stage as
select row_id, group_no, group_id, chunked, pin_value, (dense_rank() over (order by shard, row_window, group_window, alone, chunk) - 1)::int4 as batch_no
from (select row_id, group_no, group_id, n > 1000 as chunked, shard, pin_value,
             case when n > 500 then group_no else 0 end as alone,
             (sum(case when n > 500 then 0 else 1 end) over (partition by shard order by group_no range between unbounded preceding and current row)
               - case when n > 500 then 0 else n end)::int8
               / (1000 + 1 - max(case when n > 500 then 0 else n end) over ()) as row_window,
             (dense_rank() over (partition by shard order by group_no) - 1) / 100 as group_window,
             case when n > 1000 then (row_number() over (partition by group_no order by row_id) - 1) / 999 else 0 end as chunk
      from (select r.row_id, r.n, s.shard, r."ld_k1"::text as pin_value, md5(jsonb_build_array("r"."ld_k1", "r"."ld_k2")::text) as group_id,
                   dense_rank() over (order by s.shard, "r"."ld_k1", "r"."ld_k2") as group_no
            from "pg_temp"."ld_group_rows" as r
            join (select d."ld_k1", pg_catalog.get_shard_id_for_distribution_column((pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2))::regclass, "d"."ld_k1") as shard
                  from (select distinct "ld_k1" from "pg_temp"."ld_group_rows") as d) as s on s."ld_k1" = r."ld_k1") as g
      where g.group_no <= 50) as b;
-- parameters: ["public","leads"]

-- statement 6
drop table "pg_temp"."ld_group_rows";

-- statement 7
reset parallel_tuple_cost;

-- statement 8
create index on "pg_temp"."ld_stage" (batch_no);

-- statement 9
create index on "pg_temp"."ld_stage" (row_id);

-- statement 10
analyze "pg_temp"."ld_stage";

-- statement 11
create temporary table ld_chunk_keepers as select row_id as keeper_id, group_no, 0::int4 as first_batch from "pg_temp"."ld_stage" limit 0;

-- statement 12
select max(group_no) as groups, count(*) as rows, max(batch_no) + 1 as batches from "pg_temp"."ld_stage";

-- statement 13
update "lead_dedupe"."lead_dedupe_runs"
set groups_planned = $1, groups_done = $2, rows_removed = $3,
    rows_merged = $4, groups_skipped = $5,
    child_rows_moved = $6::jsonb, batches_done = $7
where id = $8;
-- parameters: [4,0,0,0,0,"{\"public.notes\":0,\"public.activities\":0}",0,7]

-- statement 14
begin;

-- statement 15
select set_config('lock_timeout', $1, $2), set_config('statement_timeout', $3, $4);
-- parameters: ["2000ms",true,"30000ms",true]

-- statement 16
set local citus.propagate_set_commands = 'local';

-- statement 17
set local lock_timeout = '2000ms';

-- statement 18
set local statement_timeout = '30000ms';

-- statement 19
select array_agg(distinct pin_value) as pin_values, bool_or(chunked) as holds_chunks from "pg_temp"."ld_stage" where batch_no = 3;

-- statement 20
insert into "pg_temp"."ld_chunk_keepers" (keeper_id, group_no, first_batch)
select distinct on (group_no) row_id, group_no, 3::int4
from (select "l"."id" as row_id, s.group_no, "l"."created_at" as created, (select count(*) from jsonb_each_text(to_jsonb("l")) as e(name, value) where e.value is not null and btrim(e.value) <> '') as filled
      from (select * from "pg_temp"."ld_stage"
            where group_no in (select group_no from "pg_temp"."ld_stage" where batch_no = 3 and chunked)
              and group_no not in (select group_no from "pg_temp"."ld_chunk_keepers")) as s
      join "public"."leads" as l on "l"."id" = s.row_id
      where md5(jsonb_build_array("l"."device_id", "l"."phone")::text) = s.group_id and "l"."device_id" is not null and "l"."phone" is not null and "l"."device_id" = any($1)) as r
order by group_no, filled desc, created asc nulls last, row_id asc;
-- parameters: [["dev-1","dev-2"]]

-- statement 21
create temporary table ld_batch_stage on commit drop as
select s.*, coalesce(k.keeper_id = s.row_id, false) as forced, k.first_batch
from (select * from "pg_temp"."ld_stage" where batch_no = 3
      union all
      select * from "pg_temp"."ld_stage"
      where row_id in (select keeper_id from "pg_temp"."ld_chunk_keepers" where group_no in (select group_no from "pg_temp"."ld_stage" where batch_no = 3))
        and batch_no <> 3) as s
left join "pg_temp"."ld_chunk_keepers" as k on k.group_no = s.group_no;

-- statement 22
create temporary table ld_locked on commit drop as
select "l"."id" as row_id, jsonb_build_array("l"."device_id", "l"."phone") as key_values, md5(jsonb_build_array("l"."device_id", "l"."phone")::text) as group_id,
       "l"."created_at" as created, (select count(*) from jsonb_each_text(to_jsonb("l")) as e(name, value) where e.value is not null and btrim(e.value) <> '') as filled,
       s.batch_no, s.chunked, s.forced, case when s.first_batch = 3 then 'first' when s.first_batch < 3 then 'continued' end as chunk_state
from "public"."leads" as l
join "pg_temp"."ld_batch_stage" as s on s.row_id = "l"."id"
where "l"."device_id" is not null and "l"."phone" is not null and "l"."device_id" = any($1)
order by "l"."id" for update of l;
-- parameters: [["dev-1","dev-2"]]

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
select group_id, reason from "pg_temp"."ld_skipped" order by group_id;

-- statement 27
delete from "pg_temp"."ld_members" where group_id in (select group_id from "pg_temp"."ld_skipped");

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
where m.rank_in_group > 1 and "l"."device_id" = any($3);
-- parameters: [7,3,["dev-1","dev-2"]]

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
where md5(jsonb_build_array("d"."device_id", "d"."phone")::text) = s.group_id and "d"."device_id" is not null and "d"."phone" is not null and "d"."device_id" = any($1);
-- parameters: [["dev-1","dev-2"]]

-- statement 32
create temporary table ld_merge on commit drop as
select m.keeper_id as ld_keeper_id, m.group_id, (array_agg("d"."email" order by "d"."created_at" desc nulls last, "d"."id" desc) filter (where not ("d"."email" is null or btrim("d"."email") = '')))[1] as "ld_m1"
from "pg_temp"."ld_donors" as m
join "public"."leads" as d on "d"."id" = m.row_id and "d"."device_id" = any($1)
group by m.keeper_id, m.group_id;
-- parameters: [["dev-1","dev-2"]]

-- statement 33
insert into "lead_dedupe"."lead_dedupe_keepers" (run_id, batch_no, group_id, row_id, merged_columns, row_data)
select $1::int8, $2::int4, g.group_id, "t"."id"::text,
       array_remove(array[case when (("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null) then $3::text end], null), to_jsonb(t)
from "public"."leads" as t
join "pg_temp"."ld_merge" as g on "t"."id" = g.ld_keeper_id
where ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null)) and "t"."device_id" = any($4);
-- parameters: [7,3,"email",["dev-1","dev-2"]]

-- statement 34
update "public"."leads" as t
set "email" = case when (("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null) then g."ld_m1" else "t"."email" end
from (select * from "pg_temp"."ld_merge") as g
where "t"."id" = g.ld_keeper_id and ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null)) and "t"."device_id" = any($1);
-- parameters: [["dev-1","dev-2"]]

-- statement 35
create temporary table ld_merged_rows on commit drop as
select g.ld_keeper_id, to_jsonb(l) as row_data
from "pg_temp"."ld_merge" as g
join "public"."leads" as l on "l"."id" = g.ld_keeper_id and "l"."device_id" = any($1);
-- parameters: [["dev-1","dev-2"]]

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
       $6::text, $7::text[], jsonb_build_array("c"."device_id", "c"."id"), to_jsonb("c"."lead_id"),
       coalesce(to_jsonb(m.keeper_id), 'null'::jsonb)
from "public"."activities" as c
join "pg_temp"."ld_members" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null and "c"."device_id" = any($8);
-- parameters: [7,3,"public","activities","activities_fk","lead_id",["device_id","id"],["dev-1","dev-2"]]

-- statement 40
update "public"."activities" as c
set "lead_id" = m.keeper_id
from (select * from "pg_temp"."ld_members") as m
where "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null and "c"."device_id" = any($1);
-- parameters: [["dev-1","dev-2"]]

-- statement 41
delete from "public"."leads" as l
using (select * from "pg_temp"."ld_members") as m
where "l"."id" = m.row_id and m.rank_in_group > 1 and "l"."device_id" = any($1);
-- parameters: [["dev-1","dev-2"]]

-- statement 42
update "lead_dedupe"."lead_dedupe_runs"
set groups_planned = $1, groups_done = $2, rows_removed = $3,
    rows_merged = $4, groups_skipped = $5,
    child_rows_moved = $6::jsonb, batches_done = $7
where id = $8;
-- parameters: [4,2,3,3,1,"{\"public.notes\":3,\"public.activities\":3}",1,7]

-- statement 43
commit;
