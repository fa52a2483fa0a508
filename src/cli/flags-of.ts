import type { InferOptions, Option } from '@commander-js/extra-typings';

/**
 * Any declared option. commander's typed Option carries its usage text (`--batch-size <groups>`), default,
 * parser and choices as type parameters (@commander-js/extra-typings), so the flags a command receives follow
 * from its declarations.
 */
export type AnyOption = Option<string, unknown, unknown, unknown, boolean, unknown>;

/**
 * The flags object commander hands a command for these declarations, derived with commander's own inference:
 * `--batch-size <groups>` gives `batchSize?: string`, `--execute` gives `execute?: true`, a parser's return type
 * or a choice list types the value, a default makes it always present. A flag the code reads and no declaration
 * has, or reads as the wrong type, fails to compile.
 */
export type FlagsOf<Options extends readonly AnyOption[]> = { [Name in keyof Inferred<Options>]: Switch<Inferred<Options>[Name]> };

type Inferred<Options extends readonly AnyOption[], Flags = object> = Options extends readonly [
  infer First extends AnyOption,
  ...infer Rest extends readonly AnyOption[],
]
  ? Inferred<Rest, OptionFlags<Flags, First>>
  : Flags;

/** A switch (`--execute`) is `true` from the command line, and may be `false` from the config file (command-config.ts). */
type Switch<Value> = Value extends true ? boolean : Value;

type OptionFlags<Flags, Declared> =
  Declared extends Option<infer Usage, infer Preset, infer Default, infer Coerce, infer Mandatory, infer Choices>
    ? InferOptions<Flags, Usage, Default, Coerce, Mandatory, Preset, Choices>
    : never;
