// Public surface of recording (tcpcopy --record): the rotation policy, the files, the recorder.
export { RotationPolicy, recordingFileName } from './rotation.js';
export type { RotationLimits } from './rotation.js';
export type { RecordConfig } from './config.js';
export { RecordingFiles } from './files.js';
export type { RecordedFile, RecordingFilesOptions } from './files.js';
export { Recorder, RECORD_BLOCK_TIMEOUT_MS } from './recorder.js';
export type { RecordCounters, RecorderOptions } from './recorder.js';
