import { allCommands, type CliCommand, type CliProgram } from './cli-tree.js';

/** A word list as one bash single-quoted string. */
function quoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function candidates(command: { options: CliCommand['options']; subcommands?: CliCommand['subcommands']; arguments?: CliCommand['arguments'] }): string {
  const words = [
    ...(command.subcommands ?? []).map((sub) => sub.words[sub.words.length - 1] ?? ''),
    ...(command.arguments ?? []).flatMap((argument) => argument.choices ?? []),
    ...command.options.flatMap((option) => [option.long, option.short].filter((flag) => flag !== undefined)),
  ];
  return quoted(words.join(' '));
}

/**
 * bash completion generated from the command tree: subcommands, then each command's flags, a flag's
 * choices (`--format`), file names for other flag values. Works in zsh too, through bashcompinit.
 */
export function bashCompletion(program: CliProgram): string {
  const commands = allCommands(program.commands);
  const fn = `_${program.name.replace(/\W/g, '_')}`;
  const wordCases = [`    '') echo ${candidates({ options: program.options, subcommands: program.commands })} ;;`];
  const valueCases: string[] = [];
  for (const command of commands) {
    const path = command.words.join(' ');
    wordCases.push(`    ${quoted(path)}) echo ${candidates(command)} ;;`);
    for (const option of command.options.filter((candidate) => candidate.takesValue)) {
      const flags = [option.long, option.short].filter((flag) => flag !== undefined).map((flag) => quoted(`${path} ${flag}`));
      valueCases.push(`    ${flags.join('|')}) echo ${quoted(option.choices?.join(' ') ?? '')}; return 0 ;;`);
    }
  }
  return `# bash completion for ${program.name} ${program.version}, generated from its commands (${program.name} completion bash).
# Load it now:     source <(${program.name} completion bash)
# or for good:     ${program.name} completion bash > ~/.local/share/bash-completion/completions/${program.name}

# The words that may follow a command path: subcommands, argument choices and flags.
${fn}_words() {
  case "$1" in
${wordCases.join('\n')}
  esac
}

# Succeeds when "<path> <flag>" takes a value, printing its choices (nothing: any value, e.g. a file).
${fn}_value() {
  case "$1" in
${valueCases.join('\n')}
  esac
  return 1
}

${fn}() {
  # under zsh's bashcompinit: arrays from 0, as in bash
  [[ -n \${ZSH_VERSION-} ]] && setopt localoptions ksharrays
  # cmdpath, not path: zsh (bashcompinit) ties path to PATH
  local cur=\${COMP_WORDS[COMP_CWORD]} cmdpath='' word i skip=0 choices
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if ((skip)); then skip=0; continue; fi
    if [[ $word == -* ]]; then
      ${fn}_value "$cmdpath $word" >/dev/null && skip=1
      continue
    fi
    if [[ " $(${fn}_words "$cmdpath") " == *" $word "* ]]; then cmdpath=\${cmdpath:+$cmdpath }$word; fi
  done
  if ((COMP_CWORD > 1)) && choices=$(${fn}_value "$cmdpath \${COMP_WORDS[COMP_CWORD - 1]}"); then
    if [[ -n $choices ]]; then
      COMPREPLY=($(compgen -W "$choices" -- "$cur"))
    else
      local IFS=$'\\n'
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
  fi
  COMPREPLY=($(compgen -W "$(${fn}_words "$cmdpath")" -- "$cur"))
}
complete -o filenames -F ${fn} ${program.name}
`;
}
