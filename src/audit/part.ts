// The worker thread of a split read (read/split.ts), built as
// dist/audit-part.mjs: reads the second part of the file it is given and
// posts what it found. It writes nothing: the parent prints the answer.
import { parentPort, workerData } from 'node:worker_threads';
import { runPart, type PartRequest } from './read/split.js';

void runPart(workerData as PartRequest, (message, transfer) => parentPort!.postMessage(message, transfer));
