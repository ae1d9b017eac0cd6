// The remote `doctor` off the daemon's event loop (see remoteDoctor in doctor.ts): one report, then the thread ends.
import { parentPort, workerData } from 'node:worker_threads';
import { doctorReport } from './doctor.js';

const { configFile } = workerData as { configFile: string };
parentPort!.postMessage(await doctorReport(configFile));
