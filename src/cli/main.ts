// The `hrm` command line: dispatches to one module per subcommand (src/cli/commands/<name>.ts),
// each exporting `run(argv): Promise<number>`. This is the only layer that turns errors into exit
// codes and messages; the library code throws (an InputError, an unusable input, exits with 2).

import { InputError } from '../io/codec.ts';

export interface CommandModule {
  readonly summary: string;
  run(argv: readonly string[]): Promise<number>;
}

const COMMANDS: Record<string, string> = {
  build: 'generate or import a dataset (sudoku, maze, arc) in the original on-disk format',
  train: 'train HRM with deep supervision and ACT',
  eval: 'evaluate a checkpoint (exact accuracy, inference-time scaling, ARC voting)',
  solve: 'solve one puzzle with a checkpoint, optionally tracing every segment',
  export: 'write a checkpoint for the original implementation (PyTorch checkpoint or safetensors + all_config.yaml)',
  trace: 'run the official-parity trace procedure on a fixture-shaped folder',
  verify: 'check accelerated backends against the reference on this machine',
  bench: 'benchmark kernels and training steps per backend',
  analyze: 'hierarchical convergence and dimensionality (participation ratio) of a checkpoint',
};

const usage = (): string =>
  [
    'usage: hrm <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, text]) => `  ${name.padEnd(8)} ${text}`),
    '',
    'Run `hrm <command> --help` for the options of a command.',
  ].join('\n');

/** A closed pipe (`hrm build … | head`) ends the command quietly instead of with an unhandled EPIPE. */
const quietOnClosedPipe = (): void => {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
};

export const main = async (argv: readonly string[]): Promise<number> => {
  quietOnClosedPipe();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (!(name in COMMANDS)) {
    console.error(`hrm: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let mod: CommandModule;
  try {
    mod = (await import(`./commands/${name}.ts`)) as CommandModule;
  } catch (e) {
    console.error(`hrm: command '${name}' could not be loaded: ${(e as Error).message}`);
    return 1;
  }
  try {
    return await mod.run(rest);
  } catch (e) {
    const err = e as Error;
    console.error(`hrm ${name}: ${err.message}`);
    if (process.env.HRM_DEBUG) console.error(err.stack);
    return e instanceof InputError ? 2 : 1;
  }
};
