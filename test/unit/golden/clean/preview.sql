-- statement 1
with "ld_stage" as materialized (select row_id, group_no, group_id, chunked, (dense_rank() over (order by row_window, group_window, alone, chunk) - 1)::int4 as batch_no, "ld_row_key_values", "ld_row_group_id", "ld_row_created", "ld_row_filled", "ld_row_groupable"
from (select "l"."id" as row_id, b.group_no, b.group_id, b.n > 1000 as chunked, b.row_window, b.group_window, b.alone,
             case when b.n > 1000 then (row_number() over (partition by b.group_no order by "l"."id") - 1) / 999 else 0 end as chunk,
             jsonb_build_array("l"."device_id", "l"."phone") as "ld_row_key_values",
             md5(jsonb_build_array("l"."device_id", "l"."phone")::text) as "ld_row_group_id",
             "l"."created_at" as "ld_row_created",
             (select count(*) from jsonb_each_text(to_jsonb("l")) as e(name, value) where e.value is not null and btrim(e.value) <> '') as "ld_row_filled",
             "l"."device_id" is not null and "l"."phone" is not null as "ld_row_groupable"
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
      join "public"."leads" as l on "l"."device_id" = "b"."ld_k1" and "l"."phone" = "b"."ld_k2") as x),
"ld_locked" as materialized (select s.row_id, s.ld_row_key_values as key_values, s.ld_row_group_id as group_id, s.ld_row_created as created, s.ld_row_filled as filled,
       s.batch_no, s.chunked, false as forced, null::text as chunk_state
from "ld_stage" as s
where s.ld_row_groupable),
"ld_ranked" as materialized (select row_id, group_id, key_values, batch_no, chunk_state,
       first_value(row_id) over w as keeper_id,
       row_number() over w as rank_in_group
from (select *, count(*) over (partition by group_id) as group_size,
             bool_or(chunk_state is not null) over (partition by group_id) as chunk_keeper_chosen,
             bool_or(forced) over (partition by group_id) as has_chunk_keeper
      from "ld_locked") as r
where group_size > 1 and (not chunk_keeper_chosen or has_chunk_keeper)
window w as (partition by group_id order by forced desc, filled desc, created asc nulls last, row_id asc)),
"ld_skipped" as materialized (select distinct on (group_id) group_id, reason from (select 0 as ld_order, s.group_id, s.reason from (select distinct x.group_id, $1::text
from (select m.group_id
      from "public"."notes" as c
      join "ld_ranked" as m on "c"."lead_id" = m.row_id
      where true and "c"."kind" is not null
      group by m.group_id, "c"."kind"
      having count(*) > 1) as x) as s(group_id, reason) union all select 1 as ld_order, s.group_id, s.reason from (select distinct x.group_id, $2::text
from (select m.group_id
      from "public"."leads" as c
      join "ld_ranked" as m on "c"."parent_id" = m.row_id
      where m.rank_in_group > 1 and "c"."id" = m.keeper_id) as x) as s(group_id, reason) union all select 2 as ld_order, s.group_id, s.reason from (select distinct x.group_id, $3::text
from (select distinct m.group_id
      from "public"."activities" as c
      join (select m.*, "k"."device_id" as "ld_keeper_device_id" from "ld_ranked" as m join "public"."leads" as k on "k"."id" = m.keeper_id) as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null
      where m."ld_keeper_device_id" is null) as x) as s(group_id, reason)) as c order by group_id, ld_order),
"ld_members" as materialized (select * from "ld_ranked" where group_id not in (select group_id from "ld_skipped")),
"ld_donors" as materialized (select keeper_id, group_id, row_id from "ld_members" where rank_in_group > 1 and chunk_state is null),
"ld_merge" as materialized (select m.keeper_id as ld_keeper_id, m.group_id, (array_agg("d"."email" order by "d"."created_at" desc nulls last, "d"."id" desc) filter (where not ("d"."email" is null or btrim("d"."email") = '')))[1] as "ld_m1"
from "ld_donors" as m
join "public"."leads" as d on "d"."id" = m.row_id
group by m.keeper_id, m.group_id)
select (select max(batch_no) + 1 from "ld_stage") as batches,
       (select count(distinct group_id) from "ld_members") as groups,
       (select count(*) from "ld_members" where rank_in_group > 1) as victims,
       (select count(*) from "ld_skipped") as skipped_groups,
       (select coalesce(jsonb_agg(jsonb_build_object('groupId', group_id, 'reason', reason)), '[]'::jsonb)
        from (select group_id, reason from "ld_skipped" order by group_id limit 20) as s) as skipped,
       (select count(*) as n
from "public"."leads" as t
join "ld_merge" as g on "t"."id" = g.ld_keeper_id
where ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null))) as keepers_to_merge,
       jsonb_build_array((select count(*) as n
from "public"."notes" as c
join "ld_members" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1), (select count(*) as n
from "public"."leads" as c
join "ld_members" as m on "c"."parent_id" = m.row_id and m.rank_in_group > 1
  and not exists (select 1 from "ld_members" as v where v.row_id = "c"."id" and v.rank_in_group > 1 and v.batch_no <= m.batch_no)), (select count(*) as n
from "public"."activities" as c
join "ld_members" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null)) as child_rows,
       (select coalesce(jsonb_agg(to_jsonb(s)), '[]'::jsonb) from (select group_id, key_values, keeper_id::text as keeper,
       array_agg(row_id::text order by rank_in_group) filter (where rank_in_group > 1) as losers
from "ld_members"
group by group_id, key_values, keeper_id
order by count(*) desc, group_id
limit 5) as s) as sample;
-- parameters: ["unique index notes_uq on public.notes (lead_id, kind)","its keeper references a copy of itself through leads.parent_id, which is NOT NULL: it would become its own parent","its keeper has no device_id for activities (activities_fk): a moved row would reference nothing"]
