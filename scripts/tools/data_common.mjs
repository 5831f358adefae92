// Helpers shared by the data-set tools that scripts/fetch_data.sh runs (data_*.mjs).
//
// Every tool writes its outputs under data/builtin/ and, for each set, a record
// data/builtin/.fetch/<name>.json that is that set's manifest entry (data_manifest.mjs joins
// them). Files are written to a temporary name and renamed, so an interrupted run never
// leaves a partial file under a final name. A tool prints the paths it wrote (relative to
// data/builtin) on stdout, one a line; fetch_data.sh keeps them in the source's stamp.
// Problems go to stderr: `skip()` for a missing input (the set is left out, exit 0),
// `DataError` for content that contradicts the documented shape (a bug: exit 1).

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const RECORD_DIR = '.fetch';

/* Thrown when a source's content does not match what its documentation promises. */
export class DataError extends Error {}

export function fail(set, message) {
  throw new DataError(`${set}: ${message}`);
}

export function skip(set, message) {
  process.stderr.write(`[fetch_data] ${set}: ${message}; skipped\n`);
}

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/* Writes bytes to outDir/rel through a temporary file; returns the SHA-256 of the bytes. */
export function writeOutput(outDir, rel, bytes) {
  const path = join(outDir, rel);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  process.stdout.write(`${rel}\n`);
  return sha256(bytes);
}

/* Writes the manifest entry of one set to data/builtin/.fetch/<name>.json. */
export function writeRecord(outDir, entry) {
  const text = `${JSON.stringify(entry, null, 2)}\n`;
  writeOutput(outDir, join(RECORD_DIR, `${entry.name}.json`), text);
}

/* Removes a set's files and record, so a failed or vanished set is not listed. */
export function removeSet(outDir, name, files) {
  for (const rel of [...files, join(RECORD_DIR, `${name}.json`)]) {
    rmSync(join(outDir, rel), { force: true });
  }
}

// ---- CSV (RFC 4180 with LF line endings) ----

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/* Returns the token unchanged if it is a plain decimal number, else throws. */
export function numberToken(set, where, token) {
  if (!NUMBER.test(token)) fail(set, `${where}: '${token}' is not a number`);
  return token;
}

function csvField(value) {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/* header: (C) names; rows: (N,C) cells. Returns the CSV text, every line ending in LF. */
export function csvText(header, rows) {
  const lines = [header.map(csvField).join(',')];
  for (const row of rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

// ---- IDX (big-endian header: 0, 0, type, ndims, then ndims uint32 sizes, then the data) ----

export const IDX_UBYTE = 0x08;

/* Returns the header of an IDX file holding unsigned bytes with the given dims. */
export function idxHeader(dims) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE((IDX_UBYTE << 8) | dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return header;
}

/* Parses an unsigned-byte IDX buffer; checks the magic, and that the size matches the dims. */
export function parseIdx(set, where, bytes) {
  if (bytes.length < 4) fail(set, `${where}: ${bytes.length} bytes, too short for IDX`);
  const magic = bytes.readUInt32BE(0);
  const ndims = magic & 0xff;
  if (magic >>> 8 !== IDX_UBYTE || ndims < 1) {
    fail(set, `${where}: magic 0x${magic.toString(16).padStart(8, '0')} is not unsigned-byte IDX`);
  }
  const offset = 4 + 4 * ndims;
  if (bytes.length < offset) fail(set, `${where}: header cut short`);
  const dims = [];
  for (let i = 0; i < ndims; i++) dims.push(bytes.readUInt32BE(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== offset + count) {
    fail(set, `${where}: ${bytes.length - offset} data bytes, dims [${dims}] need ${count}`);
  }
  return { magic, dims, data: bytes.subarray(offset) };
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}
