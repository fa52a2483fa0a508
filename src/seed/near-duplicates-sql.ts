import { sql, type RawBuilder } from 'kysely';
import type { SeedPlan } from './seed-plan.js';

/**
 * The `near-duplicates` scenario: realistic names and e-mails for every
 * person, then people who fill the form again with the typos people make,
 * and relatives who share a household phone. Every row carries the person
 * it belongs to (true_person_id), the ground truth `suspects --truth-column`
 * is measured against.
 */

/** A draw in [0, 1) for row `x` and `salt` (seed-sql.ts's, with the random state folded in). */
export type Draw = (x: RawBuilder<unknown>, salt: number) => RawBuilder<number>;

/** Display spelling, then the same name without accents (what a person typing on a plain keyboard writes). */
const FIRST_NAMES: readonly (readonly [string, string])[] = [
  ['José', 'Jose'],
  ['María', 'Maria'],
  ['Ahmad', 'Ahmad'],
  ['Siti', 'Siti'],
  ['Wei Ling', 'Wei Ling'],
  ['Kumar', 'Kumar'],
  ['Zoë', 'Zoe'],
  ['Renée', 'Renee'],
  ['Søren', 'Soren'],
  ['François', 'Francois'],
  ['Łukasz', 'Lukasz'],
  ['Nurul', 'Nurul'],
  ['Michael', 'Michael'],
  ['Sarah', 'Sarah'],
  ['Mohd', 'Mohd'],
  ['Priya', 'Priya'],
  ['Jürgen', 'Jurgen'],
  ['Hélène', 'Helene'],
  ['Daniel', 'Daniel'],
  ['Aisyah', 'Aisyah'],
  ['Chong', 'Chong'],
  ['Mei', 'Mei'],
  ['Rajesh', 'Rajesh'],
  ['Ana', 'Ana'],
  ['João', 'Joao'],
  ['Björn', 'Bjorn'],
  ['Noémie', 'Noemie'],
  ['Farah', 'Farah'],
  ['Hafiz', 'Hafiz'],
  ['Grace', 'Grace'],
  ['Kevin', 'Kevin'],
  ['Lakshmi', 'Lakshmi'],
  ['Ming', 'Ming'],
  ['Íñigo', 'Inigo'],
  ['Chloé', 'Chloe'],
  ['Amir', 'Amir'],
  ['Hannah', 'Hannah'],
  ['Faizal', 'Faizal'],
  ['Yuki', 'Yuki'],
  ['Olga', 'Olga'],
  ['Tomás', 'Tomas'],
  ['Azlan', 'Azlan'],
  ['Emily', 'Emily'],
  ['Vikram', 'Vikram'],
  ['Jia Hui', 'Jia Hui'],
  ['Zainab', 'Zainab'],
  ['Lucas', 'Lucas'],
  ['Irène', 'Irene'],
];
const LAST_NAMES: readonly (readonly [string, string])[] = [
  ['García', 'Garcia'],
  ['Müller', 'Muller'],
  ['Tan', 'Tan'],
  ['Lim', 'Lim'],
  ['Wong', 'Wong'],
  ['Abdullah', 'Abdullah'],
  ['Nguyễn', 'Nguyen'],
  ['Rahman', 'Rahman'],
  ['Lee', 'Lee'],
  ['Pereira', 'Pereira'],
  ['Ibrahim', 'Ibrahim'],
  ['Chen', 'Chen'],
  ['Smith', 'Smith'],
  ['Fernández', 'Fernandez'],
  ['Ong', 'Ong'],
  ['Krishnan', 'Krishnan'],
  ['Schäfer', 'Schafer'],
  ['Yusof', 'Yusof'],
  ['Ramírez', 'Ramirez'],
  ['Goh', 'Goh'],
  ['Ismail', 'Ismail'],
  ['Nowak', 'Nowak'],
  ['Dubois', 'Dubois'],
  ['Hassan', 'Hassan'],
  ['Lefèvre', 'Lefevre'],
  ['Teo', 'Teo'],
  ['Subramaniam', 'Subramaniam'],
  ['Jensen', 'Jensen'],
  ['Ahmad', 'Ahmad'],
  ['Ng', 'Ng'],
  ['Brown', 'Brown'],
  ['Öztürk', 'Ozturk'],
  ['Chua', 'Chua'],
  ['Salleh', 'Salleh'],
  ['Gonçalves', 'Goncalves'],
  ['Koh', 'Koh'],
  ['Williams', 'Williams'],
  ['Osman', 'Osman'],
  ['Yeo', 'Yeo'],
  ['Nair', 'Nair'],
  ['Šimić', 'Simic'],
  ['Tay', 'Tay'],
  ['Kowalski', 'Kowalski'],
  ['Hamid', 'Hamid'],
  ['Low', 'Low'],
  ['Pillai', 'Pillai'],
  ['Sánchez', 'Sanchez'],
  ['Ho', 'Ho'],
  ['Martin', 'Martin'],
  ['Zulkifli', 'Zulkifli'],
  ['Chan', 'Chan'],
  ['Mohamed', 'Mohamed'],
  ['Leong', 'Leong'],
  ['Das', 'Das'],
];
const DOMAINS = ['gmail.com', 'gmail.com', 'gmail.com', 'gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'example.com'];
const TAGS = ['promo', 'fb', 'leads', '2026'];

function names(list: readonly (readonly [string, string])[], column: 0 | 1): RawBuilder<string[]> {
  return sql<string[]>`array[${sql.join(list.map((name) => sql.lit(name[column])))}]`;
}

/**
 * Per person k: first and last name indexes (1-based), the display name, its
 * unaccented spelling, and a unique e-mail (k makes it unique: two people do
 * not share an address here).
 */
export function personColumns(k: RawBuilder<unknown>, d: Draw): RawBuilder<unknown> {
  return sql`1 + floor(${d(k, 31)} * ${sql.lit(FIRST_NAMES.length)})::int as first_no, 1 + floor(${d(k, 32)} * ${sql.lit(LAST_NAMES.length)})::int as last_no,
         1 + floor(${d(k, 33)} * ${sql.lit(DOMAINS.length)})::int as domain_no`;
}

export function personName(alias: string, column: 0 | 1): RawBuilder<string> {
  return sql<string>`(${names(FIRST_NAMES, column)})[${sql.ref(`${alias}.first_no`)}] || ' ' || (${names(LAST_NAMES, column)})[${sql.ref(`${alias}.last_no`)}]`;
}

export function personEmail(alias: string, k: RawBuilder<unknown>): RawBuilder<string> {
  const first = sql`(${names(FIRST_NAMES, 1)})[${sql.ref(`${alias}.first_no`)}]`;
  const last = sql`(${names(LAST_NAMES, 1)})[${sql.ref(`${alias}.last_no`)}]`;
  const domain = sql`(array[${sql.join(DOMAINS.map((v) => sql.lit(v)))}])[${sql.ref(`${alias}.domain_no`)}]`;
  return sql<string>`lower(replace(${first}, ' ', '') || '.' || ${last}) || ${k} || '@' || ${domain}`;
}

/** Where each extra row's numbers start: after the production rows (seed-sql.ts numbers rows k * 64 + copy). */
function firstBlock(plan: SeedPlan): number {
  return plan.baseKeys + 2 * plan.formatVariants + plan.nullPhones / 2;
}

/** A device of the same user (as the sibling reuses take). */
function siblingDevice(plan: SeedPlan): RawBuilder<number> {
  return sql<number>`case when p.device_id + ${sql.lit(plan.users)} <= ${sql.lit(plan.devices)} then p.device_id + ${sql.lit(plan.users)} else p.device_id - ${sql.lit(plan.users)} end`;
}

/**
 * One resubmission per j, of person 1 + (j·7919 + state) mod baseKeys (some twice), with typos:
 * phone 30% one digit replaced, 12% one inserted, 12% one dropped, 20% two neighbours swapped,
 * 26% as before but on another device of the user; e-mail 15% other case, 8% spaces around,
 * 12% a +tag, 15% Gmail dots dropped (case on other domains), 8% left out; name 20% a letter
 * dropped or doubled, 15% without accents, 12% surname first, 10% lower case; 20% on another
 * device; 1 hour to 10 days after the person's first row.
 */
export function nearDuplicateRows(plan: SeedPlan, d: Draw): RawBuilder<unknown> {
  const x = sql`x`;
  const phone = sql`p.phone`;
  const at = sql`(4 + floor(${d(x, 42)} * 8)::int)`;
  const swapAt = sql`(4 + floor(${d(x, 42)} * 7)::int)`;
  const email = sql`p.email`;
  const local = sql`split_part(${email}, '@', 1)`;
  const domain = sql`split_part(${email}, '@', 2)`;
  const name = personName('p', 0);
  const letter = sql`(2 + floor(${d(x, 52)} * greatest(length(${name}) - 2, 1))::int)`;
  return sql`select ${sql.lit(firstBlock(plan))}::int8 * 64 + j * 64 + 1 as x,
       case when phone_kind = 'same' or ${d(x, 40)} < 0.2 then ${siblingDevice(plan)} else p.device_id end,
       p.user_id,
       case phone_kind
         when 'replace' then overlay(${phone} placing ((substr(${phone}, ${at}, 1)::int + 1 + floor(${d(x, 43)} * 9)::int) % 10)::text from ${at} for 1)
         when 'insert' then overlay(${phone} placing floor(${d(x, 43)} * 10)::int::text from ${at} for 0)
         when 'drop' then overlay(${phone} placing '' from ${at} for 1)
         when 'swap' then overlay(${phone} placing substr(${phone}, ${swapAt} + 1, 1) || substr(${phone}, ${swapAt}, 1) from ${swapAt} for 2)
         else ${phone} end,
       p.niche,
       case when ${d(x, 50)} < 0.20 then overlay(${name} placing case when ${d(x, 53)} < 0.5 then '' else substr(${name}, ${letter}, 1) end from ${letter} for ${sql`case when ${d(x, 53)} < 0.5 then 1 else 0 end`})
            when ${d(x, 50)} < 0.35 then ${personName('p', 1)}
            when ${d(x, 50)} < 0.47 then (${names(LAST_NAMES, 0)})[p.last_no] || ' ' || (${names(FIRST_NAMES, 0)})[p.first_no]
            when ${d(x, 50)} < 0.57 then lower(${name})
            else ${name} end,
       case when ${d(x, 60)} < 0.15 then initcap(${email})
            when ${d(x, 60)} < 0.23 then ' ' || ${email} || ' '
            when ${d(x, 60)} < 0.35 then ${local} || '+' || (array[${sql.join(TAGS.map((t) => sql.lit(t)))}])[1 + floor(${d(x, 61)} * ${sql.lit(TAGS.length)})::int] || '@' || ${domain}
            when ${d(x, 60)} < 0.50 then case when ${domain} = 'gmail.com' then replace(${local}, '.', '') || '@' || ${domain} else upper(${email}) end
            when ${d(x, 60)} < 0.58 then null
            else ${email} end,
       'new', 'form', p.created_at + interval '1 hour' * 240 ^ ${d(x, 44)}, null::timestamptz, p.k
from (select j, ${sql.lit(firstBlock(plan))}::int8 * 64 + j * 64 + 1 as x from generate_series(1, ${sql.lit(plan.nearDuplicates)}) as j) as numbered
join keys as p on p.k = 1 + (numbered.j * 7919 + ${sql.lit(plan.randomState)}) % ${sql.lit(plan.baseKeys)},
lateral (select case when ${d(x, 41)} < 0.30 then 'replace' when ${d(x, 41)} < 0.42 then 'insert' when ${d(x, 41)} < 0.54 then 'drop'
                     when ${d(x, 41)} < 0.74 then 'swap' else 'same' end as phone_kind) as kind`;
}

/** Another person of person k's household: same phone and surname, another first name and e-mail, on another device, days later. */
export function relativeRows(plan: SeedPlan, d: Draw): RawBuilder<unknown> {
  const x = sql`x`;
  const first = sql`(1 + (p.first_no + 6) % ${sql.lit(FIRST_NAMES.length)})`;
  return sql`select x, ${siblingDevice(plan)}, p.user_id, p.phone, p.niche,
       (${names(FIRST_NAMES, 0)})[${first}] || ' ' || (${names(LAST_NAMES, 0)})[p.last_no],
       lower(replace((${names(FIRST_NAMES, 1)})[${first}], ' ', '') || '.' || (${names(LAST_NAMES, 1)})[p.last_no]) || p.k || 'r@gmail.com',
       'new', 'form', p.created_at + interval '1 day' * (1 + 29 * ${d(x, 70)}), null::timestamptz, 10000000000 + r
from (select r, ${sql.lit(firstBlock(plan) + plan.nearDuplicates)}::int8 * 64 + r * 64 + 1 as x from generate_series(1, ${sql.lit(plan.relatives)}) as r) as numbered
join keys as p on p.k = 1 + (numbered.r * 104729 + ${sql.lit(plan.randomState)}) % ${sql.lit(plan.baseKeys)}`;
}
