import { bashCompletion } from './completion-bash.js';
import type { CliProgram } from './cli-tree.js';

/** zsh completion: the bash completion through zsh's own bashcompinit (same words, one generator to keep right). */
export function zshCompletion(program: CliProgram): string {
  return `#compdef ${program.name}
# zsh completion for ${program.name} ${program.version} (${program.name} completion zsh).
# Load it now:     source <(${program.name} completion zsh)
# or for good:     ${program.name} completion zsh > "\${fpath[1]}/_${program.name}"
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program)}`;
}
