// The format check: every JavaScript file of the project (tracked by git: *.js, *.mjs, *.cjs)
// is as Prettier (the version package.json pins, the options in .prettierrc.json) prints it.
// Runner contract of tests/lib/runner.sh: "TESTS N", then one PASS or FAIL line per file, and
// first one test that the check can fail (a misformatted snippet is caught). Exits non-zero
// when anything failed. With --write it formats the files instead (npm run format).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const write = process.argv.includes('--write');
const files = execFileSync('git', ['ls-files', '--', '*.js', '*.mjs', '*.cjs'], { cwd: root })
  .toString()
  .split('\n')
  .filter(Boolean);

/** The options Prettier uses for file: .prettierrc.json's (null when it is not found). */
const optionsFor = async (file) => {
  const config = await prettier.resolveConfig(path.join(root, file), { editorconfig: false });
  return config && { ...config, filepath: path.join(root, file) };
};

if (write) {
  for (const file of files) {
    const options = await optionsFor(file);
    if (!options) throw new Error(`${file}: no Prettier configuration (.prettierrc.json) applies`);
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const formatted = await prettier.format(text, options);
    if (formatted !== text) {
      fs.writeFileSync(path.join(root, file), formatted);
      console.log(`formatted ${file}`);
    }
  }
} else {
  console.log(`TESTS ${files.length + 1}`);
  let failed = 0;
  const report = (ok, name, why) => {
    if (!ok) failed++;
    console.log(ok ? `PASS ${name}` : `FAIL ${name}: ${why}`);
  };
  const sample = await optionsFor(files[0] || 'web/main.js');
  const caught = sample && !(await prettier.check('const a = {b:1}\n', { ...sample, filepath: 'sample.js' }));
  report(caught, 'format: the check refuses a misformatted snippet', 'a misformatted snippet passed the check');
  for (const file of files) {
    try {
      const options = await optionsFor(file);
      if (!options) {
        report(false, `format ${file}`, 'no Prettier configuration (.prettierrc.json) applies');
        continue;
      }
      const ok = await prettier.check(fs.readFileSync(path.join(root, file), 'utf8'), options);
      report(ok, `format ${file}`, 'not formatted as Prettier prints it (npm run format rewrites it)');
    } catch (e) {
      report(false, `format ${file}`, String(e.message).split('\n')[0]);
    }
  }
  process.exitCode = failed ? 1 : 0;
}
