// The web page's TypeScript (web/: DOM and worker code, built by Vite, which strips types without
// checking them) type-checks under its own tsconfig (DOM library, bundler resolution) together with
// the src/ modules it imports. The root `tsc --noEmit` leaves web/ out: its Node-only library set
// must not admit DOM globals into src/.
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

describe('web/ type-checks', () => {
  it('web/tsconfig.json: no diagnostics', () => {
    const file = path.resolve('web/tsconfig.json');
    const parsed = ts.getParsedCommandLineOfConfigFile(file, { noEmit: true }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
    expect(parsed).toBeDefined();
    expect(parsed!.fileNames.some((f) => f.endsWith('web/main.ts'))).toBe(true);
    const program = ts.createProgram({ rootNames: parsed!.fileNames, options: parsed!.options });
    const diagnostics = [...parsed!.errors, ...ts.getPreEmitDiagnostics(program)];
    const text = ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' });
    expect(text).toBe('');
  });
});
