import { Argument } from 'commander';
import type { CommandSpec, RunContext } from '../cli/command-spec.js';
import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { bashCompletion } from '../render/cli-reference/completion-bash.js';
import { fishCompletion } from '../render/cli-reference/completion-fish.js';
import { zshCompletion } from '../render/cli-reference/completion-zsh.js';
import { ExitCode } from '../errors.js';

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

export const completionCommand: CommandSpec = {
  name: 'completion',
  description: 'print the shell completion script for bash, zsh or fish (generated from the commands)',
  arguments: [new Argument('<shell>', 'the shell to complete in').choices(Object.keys(SHELLS))],
  examples: [
    'lead-dedupe completion bash > /etc/bash_completion.d/lead-dedupe   # bash, every user',
    'source <(lead-dedupe completion bash)   # bash, this shell only',
    'lead-dedupe completion fish > ~/.config/fish/completions/lead-dedupe.fish',
  ],
  exitCodes: { [ExitCode.ok]: COMMON_EXIT_CODES[ExitCode.ok], [ExitCode.usage]: 'not one of bash, zsh, fish' },
  run: async (_flags: never, [shell]: string[], context: RunContext) => {
    process.stdout.write(SHELLS[shell as keyof typeof SHELLS](context.program()));
    return ExitCode.ok;
  },
};
