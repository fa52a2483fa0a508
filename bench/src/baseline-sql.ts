/**
 * The hand-written SQL each case is compared with: what a DBA would type in
 * psql. The statements of the measured baseline (bench/README.md) where it has one.
 */

/** Baseline (b): one key's duplicate summary. */
export function summarySql(columns: string, table = 'leads'): string {
  return `select count(*) as dup_groups, sum(n) - count(*) as extra_rows, max(n) as max_group
from (select count(*) as n from ${table} group by ${columns} having count(*) > 1) g;`;
}

export const PRESET_COLUMNS = ['device_id, phone', 'device_id, phone, niche', 'device_id, user_id, phone, niche', 'user_id, phone', 'phone'];

/** The e164 rule for Malaysia, written out by hand. */
const E164_PHONE = `case when regexp_replace(phone, '[^0-9]', '', 'g') = '' then null
  when phone ~ '^[[:space:]]*[+]' then '+' || regexp_replace(phone, '[^0-9]', '', 'g')
  when regexp_replace(phone, '[^0-9]', '', 'g') like '00%' then '+' || substr(regexp_replace(phone, '[^0-9]', '', 'g'), 3)
  when regexp_replace(phone, '[^0-9]', '', 'g') like '0%' then '+60' || substr(regexp_replace(phone, '[^0-9]', '', 'g'), 2)
  when regexp_replace(phone, '[^0-9]', '', 'g') like '60%' then '+' || regexp_replace(phone, '[^0-9]', '', 'g')
  else '+60' || regexp_replace(phone, '[^0-9]', '', 'g') end`;

export const normalisedSummarySql = `select count(*) as dup_groups, sum(n) - count(*) as extra_rows, max(n) as max_group
from (select count(*) as n from leads group by device_id, ${E164_PHONE} having count(*) > 1) g;`;

/** Baseline (h): every duplicate row with its group number, to CSV. */
export function detailsCopy(file: string): string {
  const query = `with d as (select device_id, phone, count(*) as n from leads group by device_id, phone having count(*) > 1),
g as (select row_number() over (order by device_id, phone) as group_no, device_id, phone, n from d)
select g.group_no, g.n as group_size, row_number() over (partition by g.group_no order by l.created_at, l.id) as rank_in_group,
l.id, l.device_id, l.user_id, l.phone, l.niche, l.name, l.email, l.status, l.source, l.created_at, l.updated_at
from leads l join g using (device_id, phone) order by g.group_no, rank_in_group`;
  return `\\copy (${query.replace(/\n/g, ' ')}) to '${file}' csv header`;
}

/**
 * The work `clean --mode delete --execute` does, written by hand as one
 * transaction (the fair baseline of issue 15): rank every row of the
 * (device_id, phone) groups, oldest kept, then copy each removed row into an
 * archive table as jsonb (keyed by its id, as the tool's archive is), record
 * every re-pointed child row as jsonb, re-point the child rows to the keeper
 * and delete. What it does not do and the tool does: batches (row locks held
 * for the whole run here), a run record, a restore path.
 */
export function cleanSql(schema: string): string {
  const archive = `${schema}_hand_archive`;
  return `begin;
create schema ${archive};
create table ${archive}.removed (keeper_id bigint not null, row_id bigint primary key, row_data jsonb not null);
create table ${archive}.moved (child_pk jsonb not null, old_value jsonb not null, new_value jsonb not null);
create temp table victims on commit drop as
select id, keeper from (select id, first_value(id) over w as keeper, row_number() over w as rn
                        from ${schema}.leads where device_id is not null and phone is not null
                        window w as (partition by device_id, phone order by created_at, id)) k
where rn > 1;
insert into ${archive}.removed select v.keeper, l.id, to_jsonb(l) from ${schema}.leads l join victims v on v.id = l.id;
insert into ${archive}.moved select jsonb_build_object('id', a.id), to_jsonb(a.lead_id), to_jsonb(v.keeper)
from ${schema}.lead_activities a join victims v on v.id = a.lead_id;
update ${schema}.lead_activities a set lead_id = v.keeper from victims v where a.lead_id = v.id;
delete from ${schema}.leads l using victims v where l.id = v.id;
commit;`;
}

/**
 * cleanSql on a Citus cluster, where leads and lead_activities are
 * distributed by device_id and co-located, with the composite foreign key
 * (device_id, lead_id) → leads (device_id, id): the same work in one
 * transaction, every join on (device_id, id) so each one stays inside a
 * shard. The victims are a temp table on the coordinator, which Citus sends
 * to the workers for each join; the archive tables are local to the
 * coordinator, which receives the rows. Two psql commands: the archive's
 * schema is created first, on its own, because Citus propagates CREATE
 * SCHEMA to the workers and, inside a transaction block, then runs the rest
 * of the block one shard at a time (sequential mode).
 */
export function citusCleanSql(schema: string): string[] {
  const archive = `${schema}_hand_archive`;
  return [
    `create schema ${archive};`,
    `begin;
create table ${archive}.removed (keeper_id bigint not null, row_id bigint primary key, row_data jsonb not null);
create table ${archive}.moved (child_pk jsonb not null, old_value jsonb not null, new_value jsonb not null);
create temp table victims on commit drop as
select device_id, id, keeper from (select device_id, id, first_value(id) over w as keeper, row_number() over w as rn
                                   from ${schema}.leads where phone is not null
                                   window w as (partition by device_id, phone order by created_at, id)) k
where rn > 1;
insert into ${archive}.removed select v.keeper, l.id, to_jsonb(l) from ${schema}.leads l join victims v on v.device_id = l.device_id and v.id = l.id;
insert into ${archive}.moved select jsonb_build_object('device_id', a.device_id, 'id', a.id), to_jsonb(a.lead_id), to_jsonb(v.keeper)
from ${schema}.lead_activities a join victims v on v.device_id = a.device_id and v.id = a.lead_id;
update ${schema}.lead_activities a set lead_id = v.keeper from victims v where a.device_id = v.device_id and a.lead_id = v.id;
delete from ${schema}.leads l using victims v where l.device_id = v.device_id and l.id = v.id;
commit;`,
  ];
}

/** Baseline (g1, g2). CONCURRENTLY cannot run inside a transaction block, so these are two psql commands. */
export function constraintSql(schema: string): string[] {
  return [
    `create unique index concurrently leads_device_id_phone_key on ${schema}.leads (device_id, phone)`,
    `alter table ${schema}.leads add constraint leads_device_id_phone_key unique using index leads_device_id_phone_key`,
  ];
}

/**
 * What a DBA would type for the core of `diagnose`: the gap of every copy to
 * the previous one of its (device_id, phone) group, split into race, retry
 * and resubmission, and how many copies differ from the oldest in niche,
 * name or email. One window pass over the groups' rows, like the tool.
 */
export const diagnoseSql = `with g as (select device_id, phone from leads where device_id is not null and phone is not null group by 1, 2 having count(*) > 1),
m as (select l.created_at - lag(l.created_at) over w as gap, row_number() over w as pos,
             l.niche is distinct from first_value(l.niche) over w as niche_differs,
             l.name is distinct from first_value(l.name) over w as name_differs,
             l.email is distinct from first_value(l.email) over w as email_differs
      from leads l join g using (device_id, phone)
      window w as (partition by l.device_id, l.phone order by l.created_at, l.id))
select count(*) filter (where gap <= interval '1 second') as race,
       count(*) filter (where gap > interval '1 second' and gap <= interval '10 minutes') as retry,
       count(*) filter (where gap > interval '10 minutes') as resubmission,
       count(*) filter (where niche_differs) as niche, count(*) filter (where name_differs) as name, count(*) filter (where email_differs) as email
from m where pos > 1;`;
