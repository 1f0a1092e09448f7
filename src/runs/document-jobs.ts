import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface DocumentJobFile {
  pipelineToken: string;
  stagingPath: string;
  filename: string;
}

/**
 * A document tap makes one job per document (DESIGN section 2), so the run's staging file is
 * split into one staging file per document, named by the job's pipelineToken.
 */
export async function splitDocuments(stagingPath: string): Promise<DocumentJobFile[]> {
  const files: DocumentJobFile[] = [];
  const lines = createInterface({ input: createReadStream(stagingPath), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length === 0) continue;
    const pipelineToken = randomUUID();
    const document = JSON.parse(line) as { filename?: unknown; uri?: unknown };
    const file = path.join(path.dirname(stagingPath), `${pipelineToken}.ndjson`);
    await writeFile(file, line + '\n', { flush: true });
    const filename =
      typeof document.filename === 'string' ? document.filename : String(document.uri ?? '');
    files.push({ pipelineToken, stagingPath: file, filename });
  }
  await rm(stagingPath, { force: true });
  return files;
}
