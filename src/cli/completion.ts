import { Argument, type Command, type Option } from 'commander';
import { action } from './command';

/**
 * `tracklane completion bash|zsh`: a completion script generated from commander's command
 * tree, so a new command or flag completes without editing a script. For every command path
 * ('' for the top, 'stack', 'stack up', ...) the words that may follow it; after a flag that
 * takes a value, file names.
 */
interface Tree { paths: Map<string, string[]>; valueFlags: Set<string> }

function walk(cmd: Command, prefix: string, tree: Tree): void {
  const flags = (cmd.options as readonly Option[]).flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
  for (const o of cmd.options as readonly Option[]) {
    if (o.required || o.optional) for (const f of [o.short, o.long]) if (f) tree.valueFlags.add(f);
  }
  const subs = cmd.commands.map((c) => c.name());
  const choices = cmd.registeredArguments.flatMap((a) => a.argChoices ?? []);
  tree.paths.set(prefix, [...new Set([...subs, ...choices, ...flags, '--help'])]);
  for (const sub of cmd.commands) walk(sub, prefix ? `${prefix} ${sub.name()}` : sub.name(), tree);
}

function treeOf(program: Command): Tree {
  const tree: Tree = { paths: new Map(), valueFlags: new Set() };
  walk(program, '', tree);
  return tree;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashCompletion(program: Command): string {
  const { paths, valueFlags } = treeOf(program);
  const name = program.name();
  const fn = `_${name.replace(/\W/g, '_')}`;
  return `# ${name} completion for bash: source <(${name} completion bash)
${fn}() {
  local -A next=(${[...paths].map(([p, w]) => `[${q(p || '_')}]=${q(w.join(' '))}`).join(' ')})
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} at=_ i key
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ $at == _ ]] && key=\${COMP_WORDS[i]} || key="$at \${COMP_WORDS[i]}"
    [[ -n \${next[$key]+set} ]] && at=$key
  done
  case $prev in
    ${[...valueFlags].join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  COMPREPLY=($(compgen -W "\${next[$at]}" -- "$cur"))
}
complete -o default -F ${fn} ${name}
`;
}

export function zshCompletion(program: Command): string {
  const { paths, valueFlags } = treeOf(program);
  const name = program.name();
  const fn = `_${name.replace(/\W/g, '_')}`;
  // zsh's own completion system (compinit); \`words\` and \`CURRENT\` are set by it, arrays count from 1.
  return `#compdef ${name}
# ${name} completion for zsh: source <(${name} completion zsh)   (after compinit)
${fn}() {
  local -A next
  next=(${[...paths].map(([p, w]) => `${q(p || '_')} ${q(w.join(' '))}`).join(' ')})
  local at=_ key i
  for ((i = 2; i < CURRENT; i++)); do
    [[ $at == _ ]] && key=\${words[i]} || key="$at \${words[i]}"
    (( \${+next[$key]} )) && at=$key
  done
  case \${words[CURRENT-1]} in
    ${[...valueFlags].join('|')}) _files; return ;;
  esac
  compadd -- \${=next[$at]}
}
compdef ${fn} ${name}
`;
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(tracklane completion bash), or zsh')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .action(
      action(async (shell: string) => {
        process.stdout.write(shell === 'zsh' ? zshCompletion(program) : bashCompletion(program));
      }),
    );
}
