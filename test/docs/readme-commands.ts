/**
 * The commands of README.md's `sh` blocks, for test/docs/readme.test.ts.
 *
 * A block line is a command; a trailing `\` continues it on the next line and
 * a heredoc (`<<'EOF'`) runs to its terminator line. Lines below a command:
 * `#> TEXT` (its output, stdout and stderr, must contain TEXT; a command
 * without one must print nothing), `# docs-test:
 * exit N` (expected exit status, default 0), `# docs-test: skip (REASON)`.
 * Other `#` lines are comments. Commands are run as a user would after
 * `npm ci`, except that a leading `npm ci && ` is dropped and `npx viommu` /
 * `npx viommu-system` run the built dist/ files directly.
 */
export interface ReadmeCommand {
  /** The command as README shows it. */
  readonly text: string;
  /** 1-based line in README.md. */
  readonly line: number;
  readonly expect: string[];
  exit: number;
  skip?: string;
}

/** Every command of the `sh` blocks of a markdown text. */
export function readmeCommands(markdown: string): ReadmeCommand[] {
  const lines = markdown.split('\n');
  const out: ReadmeCommand[] = [];
  let inSh = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!inSh) {
      inSh = /^```sh\s*$/.test(l);
      continue;
    }
    if (/^```\s*$/.test(l)) {
      inSh = false;
      continue;
    }
    const last = out[out.length - 1];
    const expect = /^#> ?(.*)$/.exec(l);
    const directive = /^# docs-test: (skip|exit)\s*(.*)$/.exec(l);
    if (expect || directive) {
      if (!last) throw new Error(`README.md:${i + 1}: '${l}' before any command`);
      if (expect) last.expect.push(expect[1]!);
      else if (directive![1] === 'skip') last.skip = directive![2] || 'no reason given';
      else last.exit = Number(directive![2]);
      continue;
    }
    if (l.trim() === '' || l.startsWith('#')) continue;
    const start = i;
    let text = l;
    while (text.endsWith('\\') && i + 1 < lines.length) text += `\n${lines[++i]!}`;
    const heredoc = /<<-?\s*'?([A-Za-z_]+)'?/.exec(text);
    if (heredoc) {
      while (i + 1 < lines.length && lines[i + 1] !== heredoc[1]) text += `\n${lines[++i]!}`;
      text += `\n${lines[++i] ?? ''}`;
    }
    out.push({ text, line: start + 1, expect: [], exit: 0 });
  }
  return out;
}

/** The shell command the docs test runs for a README command. */
export function runnable(text: string): string {
  return text
    .replace(/^npm ci && /, '')
    .replace(/\bnpx viommu-system\b/g, 'node dist/viommu-system.js')
    .replace(/\bnpx viommu\b(?!-)/g, 'node dist/viommu.js');
}
